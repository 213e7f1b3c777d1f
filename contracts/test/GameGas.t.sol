// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {console2} from "forge-std/console2.sol";
import {PhaseLinkBase} from "./PhaseLinkBase.t.sol";
import {MockStepVerifier} from "./GameBase.t.sol";
import {DisputeGame} from "../src/game/DisputeGame.sol";
import {IDisputeGame} from "../src/interfaces/IDisputeGame.sol";
import {IStepVerifier} from "../src/interfaces/IStepVerifier.sol";
import {ILevelLink} from "../src/interfaces/ILevelLink.sol";

/// @notice Gas of each move on real data (mnist_cnn): claims, a bisection move, enterVm per node,
/// proveStep with the mock verifier and, when built, with OneStepProver. Logged (run with -vv) and
/// bounded so a regression shows. With `forge test --isolate` every call is its own transaction
/// (cold storage, 21000 intrinsic gas, calldata): the figures are what a real transaction costs.
contract GameGasTest is PhaseLinkBase {
    DisputeGame internal game;
    address internal claimant = makeAddr("claimant");
    address internal challenger = makeAddr("challenger");

    function setUp() public {
        _loadVectors();
        _deployGame(new MockStepVerifier());
        vm.deal(claimant, 100 ether);
        vm.deal(challenger, 100 ether);
    }

    function _deployGame(IStepVerifier v) internal {
        ILevelLink[] memory links = new ILevelLink[](1);
        links[0] = nodeLink;
        game = new DisputeGame(registry, v, links, 1 ether, 1 ether, 7 days, 1 days);
    }

    function _gas(string memory what, uint256 bound) internal view returns (uint256 used) {
        used = vm.lastCallGas().gasTotalUsed;
        console2.log(what, used);
        assertLt(used, bound, what);
    }

    function _claim() internal returns (uint256 c) {
        if (!game.inputsPublished(modelId, vm.parseJsonBytes32(json, ".claim.graphState0"))) {
            game.publishInputs(modelId, _claimInputs());
        }
        vm.prank(claimant);
        c = game.postClaim{value: 1 ether}(
            modelId,
            vm.parseJsonBytes32Array(json, ".claim.inputRoots"),
            vm.parseJsonBytes32(json, ".claim.outputRoot"),
            vm.parseJsonBytes32(json, ".claim.finalGraphState"),
            vm.parseJsonBytes32(json, ".claim.finalTableRoot"),
            vm.parseJsonBytes32Array(json, ".claim.outputPath")
        );
    }

    /// Steers the graph bisection to node k with the true graph states.
    function _toNode(uint256 id, uint256 k) internal {
        while (game.gameOf(id).phase == IDisputeGame.Phase.Bisect) {
            IDisputeGame.Game memory g = game.gameOf(id);
            uint256 mid = (uint256(g.lo) + g.hi) / 2;
            vm.prank(claimant);
            game.bisect(id, vm.parseJsonBytes32(json, string.concat(".graphStates[", vm.toString(mid), "]")));
            vm.prank(challenger);
            game.respond(id, mid <= k);
        }
    }

    function test_gas_claims() public {
        game.publishInputs(modelId, _claimInputs());
        _gas("publishInputs (784 int32 = 3136 bytes)", 250_000);
        _claim();
        _gas("postClaim (1 input root, published)", 250_000);
        bytes[] memory inputs = new bytes[](1);
        inputs[0] = vm.parseJsonBytes(json, ".claim.inputBytes[0]");
        bytes32[] memory path = vm.parseJsonBytes32Array(json, ".claim.outputPath");
        bytes32 out = vm.parseJsonBytes32(json, ".claim.outputRoot");
        bytes32 fin = vm.parseJsonBytes32(json, ".claim.finalGraphState");
        bytes32 table = vm.parseJsonBytes32(json, ".claim.finalTableRoot");
        vm.prank(claimant);
        game.postClaimWithInputs{value: 1 ether}(modelId, inputs, out, fin, table, path);
        _gas("postClaimWithInputs (784 int32 = 3136 bytes)", 400_000);
    }

    function test_gas_moves() public {
        uint256 c = _claim();
        vm.prank(challenger);
        uint256 id = game.challenge{value: 1 ether}(c);
        _gas("challenge", 250_000);
        vm.prank(claimant);
        game.bisect(id, vm.parseJsonBytes32(json, ".graphStates[5]"));
        _gas("bisect (first)", 60_000);
        vm.prank(challenger);
        game.respond(id, true);
        _gas("respond (agree)", 60_000);
        vm.prank(claimant);
        game.bisect(id, vm.parseJsonBytes32(json, ".graphStates[7]"));
        _gas("bisect", 60_000);
        vm.prank(challenger);
        game.respond(id, false);
        _gas("respond (disagree)", 60_000);
        _toNode(id, 5);

        NodeCase memory n = _node(5);
        vm.prank(claimant);
        game.enterVm(id, n.d);
        _gas("enterVm node 5 (MaxPool)", 600_000);

        vm.prank(claimant);
        game.bisect(id, keccak256("s"));
        vm.prank(challenger);
        game.respond(id, false);
        _gas("respond at VM level", 60_000);
        vm.warp(vm.getBlockTimestamp() + 2 days);
        game.timeout(id);
        // A challenger win: rejecting the claim writes its rewardShare and totalBurned (§5.7).
        _gas("timeout (rejects the claim)", 130_000);
    }

    function test_gas_enterVmEveryNode() public {
        uint256 c = _claim();
        for (uint256 k; k < nNodes; ++k) {
            vm.prank(challenger);
            uint256 id = game.challenge{value: 1 ether}(c);
            _toNode(id, k);
            NodeCase memory n = _node(k);
            vm.prank(claimant);
            game.enterVm(id, n.d);
            _gas(string.concat("enterVm node ", vm.toString(k)), 600_000);
        }
    }

    function test_gas_proveStep_mock() public {
        uint256 c = _claim();
        vm.prank(challenger);
        uint256 id = game.challenge{value: 1 ether}(c);
        _toNode(id, 8);
        vm.prank(claimant);
        game.enterVm(id, _node(8).d);
        while (game.gameOf(id).phase == IDisputeGame.Phase.Bisect) {
            vm.prank(claimant);
            game.bisect(id, keccak256("s"));
            vm.prank(challenger);
            game.respond(id, false);
        }
        vm.prank(challenger);
        game.proveStep(id, "ok");
        _gas("proveStep (mock verifier, rejects the claim)", 140_000);
        vm.warp(vm.getBlockTimestamp() + 7 days);
        vm.prank(challenger);
        game.withdraw();
        _gas("withdraw", 60_000);
    }

    /// proveStep with OneStepProver on the first step of node 8 (skipped until it is built).
    function test_gas_proveStep_real() public {
        address prover;
        try vm.deployCode("OneStepProver.sol:OneStepProver") returns (address a) {
            prover = a;
        } catch {
            vm.skip(true);
        }
        _deployGame(IStepVerifier(prover));
        uint256 c = _claim();
        vm.prank(challenger);
        uint256 id = game.challenge{value: 1 ether}(c);
        _toNode(id, 8);
        vm.prank(claimant);
        game.enterVm(id, _node(8).d);
        while (game.gameOf(id).phase == IDisputeGame.Phase.Bisect) {
            IDisputeGame.Game memory g = game.gameOf(id);
            uint256 mid = (uint256(g.lo) + g.hi) / 2;
            vm.prank(claimant);
            game.bisect(id, vm.parseJsonBytes32(json, string.concat(".vmGame.roots[", vm.toString(mid), "]")));
            vm.prank(challenger);
            game.respond(id, false);
        }
        vm.prank(challenger);
        game.proveStep(id, vm.parseJsonBytes(json, ".vmGame.first.proof"));
        _gas("proveStep (OneStepProver, node 8 step 0)", 500_000);
        assertEq(uint8(game.gameOf(id).status), uint8(IDisputeGame.GameStatus.ClaimantWon));
    }
}
