// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {console2} from "forge-std/console2.sol";
import {PhaseLinkBase} from "./PhaseLinkBase.t.sol";
import {DisputeGame} from "../src/game/DisputeGame.sol";
import {IDisputeGame} from "../src/interfaces/IDisputeGame.sol";
import {INodeVmLink} from "../src/interfaces/INodeVmLink.sol";
import {IStepVerifier} from "../src/interfaces/IStepVerifier.sol";
import {ILevelLink} from "../src/interfaces/ILevelLink.sol";

/// @dev Stands in for OneStepProver when its artifact is not built: answers exactly the step proofs
/// listed in the vectors (computed by vm/prove.ts and checked by the TypeScript verifier).
contract OracleStepVerifier is IStepVerifier {
    error UnknownProof();

    mapping(bytes32 => bytes32) internal _post;

    function add(bytes32 pre, bytes calldata proof, bytes32 post) external {
        _post[keccak256(abi.encode(pre, keccak256(proof)))] = post;
    }

    function verifyStep(bytes32 preRoot, bytes calldata proof) external view returns (bytes32 post) {
        post = _post[keccak256(abi.encode(preRoot, keccak256(proof)))];
        if (post == bytes32(0)) revert UnknownProof();
    }
}

/// @notice Whole games on real data: the mnist_cnn claim on fixtures/inputs/mnist_0.json, real
/// graph states, NodeVmLink on the real node descriptors, the real VM state roots of node 8 (the
/// Relu on 64 values, 799 steps) and real step proofs, judged by OneStepProver when its artifact is
/// built (else by OracleStepVerifier on the same proofs).
contract GameIntegrationTest is PhaseLinkBase {
    uint256 internal constant BOND = 1 ether;
    uint256 internal constant CLOCK = 1 days;

    DisputeGame internal game;
    IStepVerifier internal verifier;
    bool internal realProver;
    address internal claimant = makeAddr("claimant");
    address internal challenger = makeAddr("challenger");
    uint256 internal vmNode;
    uint256 internal vmSteps;

    function setUp() public {
        _loadVectors();
        vmNode = vm.parseJsonUint(json, ".vmGame.node");
        vmSteps = vm.parseJsonUint(json, ".vmGame.steps");
        verifier = _prover();
        ILevelLink[] memory links = new ILevelLink[](1);
        links[0] = nodeLink;
        game = new DisputeGame(registry, verifier, links, BOND, BOND, 7 days, CLOCK);
        game.publishInputs(modelId, _claimInputs());
        vm.deal(claimant, 10 ether);
        vm.deal(challenger, 10 ether);
    }

    function _prover() internal returns (IStepVerifier) {
        try vm.deployCode("OneStepProver.sol:OneStepProver") returns (address a) {
            realProver = true;
            console2.log("step verifier: OneStepProver");
            return IStepVerifier(a);
        } catch {
            OracleStepVerifier o = new OracleStepVerifier();
            o.add(
                _b32(".vmGame.first.preRoot"), _bytes(".vmGame.first.proof"), _b32(".vmGame.first.postRoot")
            );
            o.add(_b32(".vmGame.last.preRoot"), _bytes(".vmGame.last.proof"), _b32(".vmGame.last.postRoot"));
            console2.log("step verifier: OracleStepVerifier (OneStepProver artifact not built)");
            return o;
        }
    }

    function _b32(string memory key) internal view returns (bytes32) {
        return vm.parseJsonBytes32(json, key);
    }

    function _bytes(string memory key) internal view returns (bytes memory) {
        return vm.parseJsonBytes(json, key);
    }

    function _idx(string memory key, uint256 i) internal pure returns (string memory) {
        return string.concat(key, "[", vm.toString(i), "]");
    }

    /// The true claim, with the input as raw bytes (its root computed onchain).
    function _postTrueClaim() internal returns (uint256 c) {
        bytes[] memory inputs = new bytes[](1);
        inputs[0] = _bytes(".claim.inputBytes[0]");
        vm.prank(claimant);
        c = game.postClaimWithInputs{value: BOND}(
            modelId,
            inputs,
            _b32(".claim.outputRoot"),
            _b32(".claim.finalGraphState"),
            _b32(".claim.finalTableRoot"),
            vm.parseJsonBytes32Array(json, ".claim.outputPath")
        );
        assertEq(game.claimOf(c).graphState0, _b32(".claim.graphState0"));
    }

    /// Node 8's output replaced by a made-up root, carried consistently to the final claim.
    function _postLie() internal returns (uint256 c) {
        bytes32[] memory roots = vm.parseJsonBytes32Array(json, ".claim.inputRoots");
        bytes32 tableRoot = _b32(".vmGame.lie.claimFinalTableRoot");
        bytes32[] memory lies = vm.parseJsonBytes32Array(json, ".vmGame.lie.graphStates");
        vm.prank(claimant);
        c = game.postClaim{value: BOND}(
            modelId,
            roots,
            _b32(".vmGame.lie.claimOutputRoot"),
            lies[lies.length - 1],
            tableRoot,
            vm.parseJsonBytes32Array(json, ".vmGame.lie.claimOutputPath")
        );
    }

    function _challenge(uint256 c) internal returns (uint256 id) {
        vm.prank(challenger);
        id = game.challenge{value: BOND}(c);
    }

    /// The claimant's graph state after `i` nodes (true, or the lie from node vmNode on).
    function _graphRoot(bool lying, uint256 i) internal view returns (bytes32) {
        if (lying && i > vmNode) return _b32(_idx(".vmGame.lie.graphStates", i - vmNode - 1));
        return _b32(_idx(".graphStates", i));
    }

    function _vmRoot(bool lying, uint256 j) internal view returns (bytes32) {
        if (lying && j == vmSteps) return _b32(".vmGame.lie.finalRoot");
        return _b32(_idx(".vmGame.roots", j));
    }

    /// Level 0: the challenger steers to node `target` (agree iff mid ≤ target) or answers
    /// honestly; the claimant answers from its own graph states.
    function _bisectGraph(uint256 id, bool lying, bool honestChallenger, uint256 target) internal {
        while (game.gameOf(id).phase == IDisputeGame.Phase.Bisect) {
            IDisputeGame.Game memory g = game.gameOf(id);
            uint256 mid = (uint256(g.lo) + g.hi) / 2;
            bytes32 root = _graphRoot(lying, mid);
            vm.prank(claimant);
            game.bisect(id, root);
            bool agree = honestChallenger ? root == _b32(_idx(".graphStates", mid)) : mid <= target;
            vm.prank(challenger);
            game.respond(id, agree);
        }
        assertEq(uint8(game.gameOf(id).phase), uint8(IDisputeGame.Phase.Descend));
        assertEq(game.gameOf(id).lo, target);
    }

    function _bisectVm(uint256 id, bool lying, bool honestChallenger) internal {
        while (game.gameOf(id).phase == IDisputeGame.Phase.Bisect) {
            IDisputeGame.Game memory g = game.gameOf(id);
            uint256 mid = (uint256(g.lo) + g.hi) / 2;
            bytes32 root = _vmRoot(lying, mid);
            vm.prank(claimant);
            game.bisect(id, root);
            bool agree = honestChallenger && root == _b32(_idx(".vmGame.roots", mid));
            vm.prank(challenger);
            game.respond(id, agree);
        }
        assertEq(uint8(game.gameOf(id).phase), uint8(IDisputeGame.Phase.Step));
    }

    /// An honest claimant against a challenger that disputes node 8 and then every VM step: the
    /// dispute ends at step 0 → 1, whose real proof gives the claimant's root.
    function test_honestClaimant_realData() public {
        uint256 c = _postTrueClaim();
        uint256 id = _challenge(c);
        _bisectGraph(id, false, false, vmNode);
        NodeCase memory n = _node(vmNode);
        vm.prank(claimant);
        game.enterVm(id, n.d);
        IDisputeGame.Game memory g = game.gameOf(id);
        assertEq(g.level, 1);
        assertEq(g.loRoot, n.initialRoot);
        assertEq(g.loRoot, _b32(".vmGame.roots[0]"));
        assertEq(g.hiRoot, n.finalRoot);
        assertEq(g.hi, vmSteps);
        _bisectVm(id, false, false);
        assertEq(game.gameOf(id).lo, 0);
        vm.prank(claimant); // the claimant may end it itself
        game.proveStep(id, _bytes(".vmGame.first.proof"));
        assertEq(uint8(game.gameOf(id).status), uint8(IDisputeGame.GameStatus.ClaimantWon));
        vm.warp(vm.getBlockTimestamp() + 7 days);
        game.finalize(c);
        assertTrue(game.isValid(c));
    }

    /// A lying claimant (node 8's output made up, the rest consistent with it) against an honest
    /// challenger: the link accepts the lie's final state, the VM bisection ends at the last step,
    /// and its real proof shows the claimant's final root is not what the VM computes.
    function test_lyingClaimant_realData() public {
        uint256 c = _postLie();
        uint256 id = _challenge(c);
        _bisectGraph(id, true, true, vmNode);
        INodeVmLink.LinkData memory d = _node(vmNode).d;
        d.finalState = _words12(".vmGame.lie.finalState");
        d.outputRoots[0] = _b32(".vmGame.lie.outputRoot");
        vm.prank(claimant);
        game.enterVm(id, d);
        assertEq(game.gameOf(id).hiRoot, _b32(".vmGame.lie.finalRoot"));
        _bisectVm(id, true, true);
        assertEq(game.gameOf(id).lo, vmSteps - 1);
        vm.prank(challenger);
        game.proveStep(id, _bytes(".vmGame.last.proof"));
        assertEq(uint8(game.gameOf(id).status), uint8(IDisputeGame.GameStatus.ChallengerWon));
        assertEq(uint8(game.claimOf(c).status), uint8(IDisputeGame.ClaimStatus.Rejected));
        assertEq(game.credit(challenger), BOND + BOND / 2);
    }

    /// The liar cannot enter the VM with the true final state (it does not produce its graph state).
    function test_lyingClaimant_cannotLinkTheTruth() public {
        uint256 c = _postLie();
        uint256 id = _challenge(c);
        _bisectGraph(id, true, true, vmNode);
        NodeCase memory n = _node(vmNode);
        vm.prank(claimant);
        vm.expectRevert(INodeVmLink.PostStateMismatch.selector);
        game.enterVm(id, n.d);
    }

    /// Every node's link is accepted through the game, and the VM level starts at the S_0 the
    /// contract computed.
    function test_enterVmAtEveryNode() public {
        uint256 c = _postTrueClaim();
        for (uint256 k; k < nNodes; ++k) {
            uint256 id = _challenge(c);
            _bisectGraph(id, false, false, k);
            NodeCase memory n = _node(k);
            vm.expectEmit(true, false, false, true, address(game));
            emit IDisputeGame.PhaseEntered(
                id, 1, k, keccak256(abi.encode(bytes32(modelId), k)), n.initialRoot, n.finalRoot, n.d.steps
            );
            vm.prank(claimant);
            game.enterVm(id, n.d);
        }
    }

    /// OneStepProver agrees with the vectors (skipped until its artifact is built).
    function test_realProverAgreesWithVectors() public {
        if (!realProver) vm.skip(true);
        assertEq(
            verifier.verifyStep(_b32(".vmGame.first.preRoot"), _bytes(".vmGame.first.proof")),
            _b32(".vmGame.first.postRoot")
        );
        assertEq(
            verifier.verifyStep(_b32(".vmGame.last.preRoot"), _bytes(".vmGame.last.proof")),
            _b32(".vmGame.last.postRoot")
        );
        assertEq(_b32(".vmGame.first.postRoot"), _b32(".vmGame.roots[1]"));
        assertEq(_b32(".vmGame.last.postRoot"), _b32(_idx(".vmGame.roots", vmSteps)));
    }
}
