// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {Registry} from "../src/game/Registry.sol";
import {IRegistry} from "../src/interfaces/IRegistry.sol";

contract GameRegistryTest is Test {
    Registry internal r;
    address internal alice = makeAddr("alice");

    function setUp() public {
        r = new Registry();
    }

    function test_registerProgram() public {
        vm.expectEmit(true, true, false, true, address(r));
        emit IRegistry.ProgramRegistered(1, keccak256("c"), 13, 3916, keccak256("g"), alice);
        vm.prank(alice);
        uint256 id = r.registerProgram(keccak256("c"), 13, 3916, keccak256("g"));
        assertEq(id, 1);
        assertEq(r.programCount(), 1);
        IRegistry.Program memory p = r.program(1);
        assertEq(p.codeRoot, keccak256("c"));
        assertEq(p.globalsRoot, keccak256("g"));
        assertEq(p.codeDepth, 13);
        assertEq(p.entryPc, 3916);
        assertEq(p.registrant, alice);
        assertEq(r.registerProgram(keccak256("c"), 13, 3916, keccak256("g")), 2); // same content, new id
    }

    function test_registerProgram_rejectsBadValues() public {
        vm.expectRevert(IRegistry.BadProgram.selector);
        r.registerProgram(0, 33, 0, 0);
        vm.expectRevert(IRegistry.BadProgram.selector);
        r.registerProgram(0, 3, 8, 0); // pc 8 is outside a code tree of depth 3
        vm.expectRevert(abi.encodeWithSelector(IRegistry.UnknownProgram.selector, 1));
        r.program(1);
        vm.expectRevert(abi.encodeWithSelector(IRegistry.UnknownProgram.selector, 0));
        r.program(0);
    }

    function test_registerModel() public {
        uint256 p = r.registerProgram(keccak256("c"), 13, 3916, keccak256("g"));
        vm.expectEmit(true, true, true, true, address(r));
        emit IRegistry.ModelRegistered(
            1, p, keccak256("m"), keccak256("n"), 10, 4, 3, 1, 10, keccak256("manifest"), "ipfs://w", alice
        );
        vm.prank(alice);
        uint256 id = r.registerModel(
            p, keccak256("m"), keccak256("n"), 10, 4, 3, 1, 10, keccak256("manifest"), "ipfs://w"
        );
        assertEq(id, 1);
        assertEq(r.modelCount(), 1);
        IRegistry.Model memory m = r.model(id);
        assertEq(m.modelRoot, keccak256("m"));
        assertEq(m.nodesRoot, keccak256("n"));
        assertEq(m.manifestHash, keccak256("manifest"));
        assertEq(m.programId, p);
        assertEq(m.nNodes, 10);
        assertEq(m.tableDepth, 4);
        assertEq(m.weightsDepth, 3);
        assertEq(m.nInputs, 1);
        assertEq(m.outputSlot, 10);
        assertEq(m.registrant, alice);
        assertEq(m.weightsURI, "ipfs://w");
    }

    function test_registerModel_rejectsBadValues() public {
        vm.expectRevert(abi.encodeWithSelector(IRegistry.UnknownProgram.selector, 1));
        r.registerModel(1, 0, 0, 1, 1, 0, 1, 1, 0, "");
        uint256 p = r.registerProgram(0, 1, 0, 0);
        vm.expectRevert(IRegistry.BadModel.selector);
        r.registerModel(p, 0, 0, 0, 1, 0, 1, 1, 0, ""); // no nodes
        vm.expectRevert(IRegistry.BadModel.selector);
        r.registerModel(p, 0, 0, 1, 1, 0, 0, 1, 0, ""); // no inputs
        vm.expectRevert(IRegistry.BadModel.selector);
        r.registerModel(p, 0, 0, 1, 1, 0, 3, 1, 0, ""); // 3 inputs in a 2-slot table
        vm.expectRevert(IRegistry.BadModel.selector);
        r.registerModel(p, 0, 0, 1, 1, 0, 1, 2, 0, ""); // output slot outside the table
        vm.expectRevert(IRegistry.BadModel.selector);
        r.registerModel(p, 0, 0, 1, 33, 0, 1, 1, 0, "");
        vm.expectRevert(IRegistry.BadModel.selector);
        r.registerModel(p, 0, 0, 1, 1, 33, 1, 1, 0, "");
        vm.expectRevert(abi.encodeWithSelector(IRegistry.UnknownModel.selector, 1));
        r.model(1);
    }
}
