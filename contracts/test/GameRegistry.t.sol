// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {Registry} from "../src/game/Registry.sol";
import {IRegistry} from "../src/interfaces/IRegistry.sol";
import {INodeVmLink} from "../src/interfaces/INodeVmLink.sol";
import {SmallGraph} from "./SmallGraph.t.sol";
import {Merkle} from "../src/lib/Merkle.sol";

contract GameRegistryTest is Test, SmallGraph {
    Registry internal r;
    address internal alice = makeAddr("alice");
    uint256 internal p;

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
        IRegistry.Program memory prog = r.program(1);
        assertEq(prog.codeRoot, keccak256("c"));
        assertEq(prog.globalsRoot, keccak256("g"));
        assertEq(prog.codeDepth, 13);
        assertEq(prog.entryPc, 3916);
        assertEq(prog.registrant, alice);
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

    // ---------------------------------------------------------------------------------------------
    // A small valid graph: inputs 0 (64 bytes, height 1) and 1 (4 bytes, height 0);
    //   node 0 (op 5): reads slot 0 and weight 2, writes slot 2 (height 1)
    //   node 1 (op 6): reads slots 2 and 1, writes slots 3 (height 0) and 4 (height 2)
    //   node 2 (op 7): reads slot 4, writes slot 5 (height 0)  — the output
    // 6 slots: tableDepth 3.
    // ---------------------------------------------------------------------------------------------

    function _spec() internal view returns (IRegistry.ModelSpec memory) {
        return _smallSpec(p);
    }

    function _leaf(INodeVmLink.NodeDesc memory n) internal pure returns (bytes32) {
        return
            keccak256(abi.encode(n.op, n.inKinds, n.inIndex, n.inHeights, n.outSlots, n.outHeights, n.params));
    }

    function test_registerModel_validatesAndComputesNodesRoot() public {
        p = r.registerProgram(keccak256("c"), 13, 3916, keccak256("g"));
        INodeVmLink.NodeDesc[] memory ns = _nodes();
        bytes32[] memory leaves = new bytes32[](3);
        for (uint256 k; k < 3; ++k) {
            leaves[k] = _leaf(ns[k]);
        }
        bytes32 nodesRoot = Merkle.leavesRoot(leaves);
        IRegistry.ModelSpec memory s = _spec();
        vm.expectEmit(true, true, true, true, address(r));
        emit IRegistry.ModelRegistered(
            1, p, s.modelRoot, nodesRoot, 3, 3, 2, s.inputBytes, 5, 1000, s.manifestHash, "ipfs://w", alice
        );
        vm.prank(alice);
        uint256 id = r.registerModel(s, ns);
        assertEq(id, 1);
        assertEq(r.modelCount(), 1);
        IRegistry.Model memory m = r.model(id);
        assertEq(m.modelRoot, keccak256("m"));
        assertEq(m.nodesRoot, nodesRoot);
        assertEq(m.manifestHash, keccak256("manifest"));
        assertEq(m.programId, p);
        assertEq(m.nNodes, 3);
        assertEq(m.tableDepth, 3);
        assertEq(m.weightsDepth, 2);
        assertEq(m.nInputs, 2);
        assertEq(m.inputBytes.length, 2);
        assertEq(m.inputBytes[0], 64);
        assertEq(m.inputBytes[1], 4);
        assertEq(m.outputSlot, 5);
        assertEq(m.maxSteps, 1000);
        assertEq(m.registrant, alice);
        assertEq(m.weightsURI, "ipfs://w");
    }

    function test_registerModel_rejectsBadRecords() public {
        INodeVmLink.NodeDesc[] memory ns = _nodes();
        IRegistry.ModelSpec memory s = _spec();
        s.programId = 1;
        vm.expectRevert(abi.encodeWithSelector(IRegistry.UnknownProgram.selector, 1));
        r.registerModel(s, ns);
        p = r.registerProgram(0, 1, 0, 0);
        s = _spec();
        vm.expectRevert(IRegistry.BadModel.selector);
        r.registerModel(s, new INodeVmLink.NodeDesc[](0)); // no nodes
        s.inputBytes = new uint32[](0);
        vm.expectRevert(IRegistry.BadModel.selector);
        r.registerModel(s, ns); // no inputs
        s = _spec();
        s.inputBytes[1] = 6;
        vm.expectRevert(IRegistry.BadModel.selector);
        r.registerModel(s, ns); // not whole int32 words
        s.inputBytes[1] = 0;
        vm.expectRevert(IRegistry.BadModel.selector);
        r.registerModel(s, ns); // empty input
        s = _spec();
        s.tableDepth = 4;
        vm.expectRevert(IRegistry.BadModel.selector);
        r.registerModel(s, ns); // 6 slots need depth 3, not 4
        s.tableDepth = 2;
        vm.expectRevert(IRegistry.BadModel.selector);
        r.registerModel(s, ns);
        s = _spec();
        s.outputSlot = 6;
        vm.expectRevert(IRegistry.BadModel.selector);
        r.registerModel(s, ns); // no such slot
        s.outputSlot = 1;
        vm.expectRevert(IRegistry.BadModel.selector);
        r.registerModel(s, ns); // an input, written by no node
        s = _spec();
        s.maxSteps = 0;
        vm.expectRevert(IRegistry.BadModel.selector);
        r.registerModel(s, ns);
        s.maxSteps = uint256(type(uint64).max) + 1;
        vm.expectRevert(IRegistry.BadModel.selector);
        r.registerModel(s, ns);
        s = _spec();
        s.weightsDepth = 33;
        vm.expectRevert(IRegistry.BadModel.selector);
        r.registerModel(s, ns);
        vm.expectRevert(abi.encodeWithSelector(IRegistry.UnknownModel.selector, 1));
        r.model(1);
    }

    function _expectFault(INodeVmLink.NodeDesc[] memory ns, uint256 node, IRegistry.GraphFault f) internal {
        vm.expectRevert(abi.encodeWithSelector(IRegistry.BadGraph.selector, node, f));
        r.registerModel(_spec(), ns);
    }

    /// Finding 14: node lists that are not a runnable single-assignment graph were accepted.
    function test_registerModel_rejectsANodeWritingItsOwnInputSlot() public {
        p = r.registerProgram(0, 1, 0, 0);
        INodeVmLink.NodeDesc[] memory ns = _nodes();
        ns[2].outSlots[0] = 4; // reads slot 4 and writes it in place
        _expectFault(ns, 2, IRegistry.GraphFault.SlotWritten);
        ns = _nodes();
        ns[0].outSlots[0] = 0; // overwrites graph input 0
        _expectFault(ns, 0, IRegistry.GraphFault.SlotWritten);
    }

    function test_registerModel_rejectsASlotWrittenTwice() public {
        p = r.registerProgram(0, 1, 0, 0);
        INodeVmLink.NodeDesc[] memory ns = _nodes();
        ns[1].outSlots[1] = 2; // node 0 wrote slot 2 already
        _expectFault(ns, 1, IRegistry.GraphFault.SlotWritten);
        ns = _nodes();
        ns[1].outSlots[1] = 3; // twice in one node
        _expectFault(ns, 1, IRegistry.GraphFault.SlotWritten);
    }

    function test_registerModel_rejectsAReadBeforeTheWrite() public {
        p = r.registerProgram(0, 1, 0, 0);
        INodeVmLink.NodeDesc[] memory ns = _nodes();
        ns[0].inIndex[0] = 4; // slot 4 is written by node 1, later
        _expectFault(ns, 0, IRegistry.GraphFault.ReadUnwritten);
        ns = _nodes();
        ns[2].inIndex[0] = 5; // its own output
        _expectFault(ns, 2, IRegistry.GraphFault.ReadUnwritten);
    }

    function test_registerModel_rejectsAHeightMismatch() public {
        p = r.registerProgram(0, 1, 0, 0);
        INodeVmLink.NodeDesc[] memory ns = _nodes();
        ns[0].inHeights[0] = 0; // input 0 is 64 bytes: height 1
        _expectFault(ns, 0, IRegistry.GraphFault.HeightMismatch);
        ns = _nodes();
        ns[2].inHeights[0] = 1; // slot 4 was written at height 2
        _expectFault(ns, 2, IRegistry.GraphFault.HeightMismatch);
        ns = _nodes();
        ns[2].outHeights[0] = 28; // deeper than the memory
        _expectFault(ns, 2, IRegistry.GraphFault.BadHeight);
    }

    function test_registerModel_rejectsBadArrayLengths() public {
        p = r.registerProgram(0, 1, 0, 0);
        INodeVmLink.NodeDesc[] memory ns = _nodes();
        ns[1].inHeights = _u(1);
        _expectFault(ns, 1, IRegistry.GraphFault.Lengths);
        ns = _nodes();
        ns[0].inIndex = _u(0, 2, 3);
        _expectFault(ns, 0, IRegistry.GraphFault.Lengths);
        ns = _nodes();
        ns[1].outHeights = _u(0);
        _expectFault(ns, 1, IRegistry.GraphFault.Lengths);
    }

    function test_registerModel_rejectsOutOfOrderOutputs() public {
        p = r.registerProgram(0, 1, 0, 0);
        INodeVmLink.NodeDesc[] memory ns = _nodes();
        ns[1].outSlots = _u(4, 3);
        _expectFault(ns, 1, IRegistry.GraphFault.OutOfOrder);
        ns = _nodes();
        ns[0].outSlots[0] = 3; // skips slot 2
        _expectFault(ns, 0, IRegistry.GraphFault.OutOfOrder);
    }

    function test_registerModel_rejectsBadInputKindsAndWeights() public {
        p = r.registerProgram(0, 1, 0, 0);
        INodeVmLink.NodeDesc[] memory ns = _nodes();
        ns[0].inKinds[1] = 2;
        _expectFault(ns, 0, IRegistry.GraphFault.InKind);
        ns = _nodes();
        ns[0].inIndex[1] = 4; // weightsDepth 2: indices 0 … 3
        _expectFault(ns, 0, IRegistry.GraphFault.WeightIndex);
    }

    function _u(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory x) {
        x = new uint256[](3);
        (x[0], x[1], x[2]) = (a, b, c);
    }
}
