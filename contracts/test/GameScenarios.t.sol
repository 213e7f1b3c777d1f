// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Vm} from "forge-std/Vm.sol";
import {GameBase, MockLink} from "./GameBase.t.sol";
import {IDisputeGame} from "../src/interfaces/IDisputeGame.sol";

/// @notice Whole games in the scripted world (GameBase): whoever tells the truth wins, whatever the
/// other side does: lie at the output, at a middle node, at one VM step, with made-up roots, by
/// silence, or with an invalid step proof.
contract GameScenariosTest is GameBase {
    address[] internal accounts;

    function setUp() public {
        _deploy(2, 6, 12);
        lie = [uint256(3), 5, 0, 0];
    }

    function _accounts(uint256 n) internal returns (address[] memory a) {
        a = new address[](n + 1);
        a[0] = claimant;
        for (uint256 i; i < n; ++i) {
            a[i + 1] = makeAddr(string.concat("x", vm.toString(i)));
        }
    }

    /// (A helper: decoding the whole Claim inside a long test runs out of stack slots.)
    function _rewardShare(uint256 c) internal view returns (uint256) {
        return game.claimOf(c).rewardShare;
    }

    function _assertConserved(uint256 nChallengers) internal {
        assertEq(address(game).balance, _lockedPlusCredit(_accounts(nChallengers)), "ETH conserved");
    }

    // ---------------------------------------------------------------------------------------------
    // Honest claimant
    // ---------------------------------------------------------------------------------------------

    function _honestClaimantWins(XKind x, uint256 seed) internal {
        uint256 c = _post(CKind.Honest);
        Script memory s = _script(CKind.Honest, x);
        s.seed = seed;
        s.steer = seed % nNodes;
        uint256 id = _challenge(c, "x0", s);
        assertEq(uint8(_play(id)), uint8(IDisputeGame.GameStatus.ClaimantWon));
        assertEq(game.credit(claimant), CHALLENGER_BOND);
        _assertConserved(1);
        _wait(WINDOW);
        game.finalize(c);
        assertTrue(game.isValid(c));
        assertEq(game.credit(claimant), CHALLENGER_BOND + MIN_BOND);
    }

    function test_honestClaimant_vs_alwaysDisagree() public {
        _honestClaimantWins(XKind.AlwaysDisagree, 0);
    }

    function test_honestClaimant_vs_alwaysAgree() public {
        _honestClaimantWins(XKind.AlwaysAgree, 0);
    }

    /// An "honest" challenger of a true claim agrees with everything and loses at the last step.
    function test_honestClaimant_vs_honestChallenger() public {
        _honestClaimantWins(XKind.Honest, 0);
    }

    function testFuzz_honestClaimant_vs_randomChallenger(uint256 seed) public {
        _honestClaimantWins(XKind.Random, seed);
    }

    function testFuzz_honestClaimant_vs_steeringChallenger(uint256 seed) public {
        _honestClaimantWins(XKind.Steer, seed);
    }

    /// The lying challenger reaches the final step and submits an invalid proof: it reverts and
    /// changes nothing; the challenger's clock then runs out.
    function test_lyingChallenger_invalidProof_thenTimeout() public {
        uint256 c = _post(CKind.Honest);
        Script memory s = _script(CKind.Honest, XKind.AlwaysDisagree);
        s.badProofFirst = true;
        uint256 id = _challenge(c, "x0", s);
        vm.recordLogs();
        assertEq(uint8(_play(id)), uint8(IDisputeGame.GameStatus.ClaimantWon));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 timeouts;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics[0] == IDisputeGame.Timeout.selector) {
                ++timeouts;
                assertEq(logs[i].topics[2], bytes32(uint256(uint160(makeAddr("x0")))), "the challenger lost");
            }
            assertTrue(logs[i].topics[0] != IDisputeGame.StepProven.selector, "no step was proven");
        }
        assertEq(timeouts, 1);
    }

    /// The claimant need not wait for the challenger's clock: it submits the step proof itself.
    function test_honestClaimant_provesFinalStepItself() public {
        uint256 c = _post(CKind.Honest);
        Script memory s = _script(CKind.Honest, XKind.Random);
        s.claimantProves = true;
        uint256 id = _challenge(c, "x0", s);
        assertEq(uint8(_play(id)), uint8(IDisputeGame.GameStatus.ClaimantWon));
    }

    function test_silentChallenger_loses() public {
        uint256 c = _post(CKind.Honest);
        Script memory s = _script(CKind.Honest, XKind.Honest);
        s.challengerMoves = 2;
        uint256 id = _challenge(c, "x0", s);
        assertEq(uint8(_play(id)), uint8(IDisputeGame.GameStatus.ClaimantWon));
    }

    // ---------------------------------------------------------------------------------------------
    // Lying claimant
    // ---------------------------------------------------------------------------------------------

    function _challengerWins(Script memory s) internal returns (uint256 id) {
        uint256 c = _post(s.claimant);
        id = _challenge(c, "x0", s);
        assertEq(uint8(_play(id)), uint8(IDisputeGame.GameStatus.ChallengerWon));
        IDisputeGame.Claim memory cl = game.claimOf(c);
        assertEq(uint8(cl.status), uint8(IDisputeGame.ClaimStatus.Rejected));
        assertEq(cl.rejectedBy, id);
        assertEq(game.credit(game.gameOf(id).challenger), CHALLENGER_BOND + MIN_BOND / 2);
        assertEq(game.totalBurned(), MIN_BOND / 2);
        assertEq(game.credit(claimant), 0);
        _assertConserved(1);
        _wait(WINDOW);
        vm.expectRevert(IDisputeGame.AlreadyResolved.selector);
        game.finalize(c);
        assertFalse(game.isValid(c));
    }

    function test_lieAtTheOutput() public {
        lie = [nNodes - 1, NEVER, 0, 0]; // last node, last VM step
        _challengerWins(_script(CKind.Liar, XKind.Honest));
    }

    function test_lieAtAMiddleNode() public {
        lie = [nNodes / 2, 0, 0, 0]; // node 3 wrong from its first VM step, later nodes consistent
        _challengerWins(_script(CKind.Liar, XKind.Honest));
    }

    function testFuzz_lieAtOneVmStep(uint256 node, uint256 step) public {
        lie = [node % nNodes, step, 0, 0];
        _challengerWins(_script(CKind.Liar, XKind.Honest));
    }

    function test_madeUpRoots_cannotLink() public {
        _challengerWins(_script(CKind.Garbage, XKind.Honest));
    }

    function test_silentClaimant_loses() public {
        Script memory s = _script(CKind.Liar, XKind.Honest);
        s.claimantMoves = 0;
        _challengerWins(s);
    }

    function test_claimantSilentAfterDescending() public {
        Script memory s = _script(CKind.Liar, XKind.Honest);
        s.claimantMoves = 4; // 3 graph bisections (6 nodes) + enterVm, then nothing
        _challengerWins(s);
    }

    /// The honest challenger's first proof is invalid (reverts); it then proves the step correctly.
    function test_honestChallenger_invalidProofFirst_thenWins() public {
        Script memory s = _script(CKind.Liar, XKind.Honest);
        s.badProofFirst = true;
        _challengerWins(s);
    }

    // ---------------------------------------------------------------------------------------------
    // Several challengers
    // ---------------------------------------------------------------------------------------------

    /// A lying claimant challenges itself (to lose on purpose) and so do lying accomplices; one
    /// honest challenger is enough: it wins, the claim is rejected, every other game still open is
    /// voided with its bond and an equal share of the unburned half of the claim bond.
    function test_selfChallengeCannotProtectALie() public {
        lie = [2, 7, 0, 0];
        uint256 c = _post(CKind.Liar);
        uint256[] memory ids = new uint256[](3);
        // The claimant's own challenge: agrees with everything (to lose).
        Script memory own = _script(CKind.Liar, XKind.AlwaysAgree);
        vm.deal(claimant, 100 ether);
        vm.prank(claimant);
        ids[0] = game.challenge{value: CHALLENGER_BOND}(c);
        scripts[ids[0]] = own;
        levelStart[ids[0]][0] = game.gameOf(ids[0]).loRoot;
        levelLen[ids[0]][0] = nNodes;
        lying[ids[0]][0] = true;
        ids[1] = _challenge(c, "x0", _script(CKind.Liar, XKind.AlwaysAgree));
        ids[2] = _challenge(c, "x1", _script(CKind.Liar, XKind.Honest));
        _playAll(ids);
        assertEq(uint8(game.gameOf(ids[2]).status), uint8(IDisputeGame.GameStatus.ChallengerWon));
        assertEq(uint8(game.claimOf(c).status), uint8(IDisputeGame.ClaimStatus.Rejected));
        assertEq(game.claimOf(c).openGames, 0);
        // The honest challenger: its bond and a share of the claimant's. Others: the same (if their
        // games were still open) or lost to the claimant (if they ended first).
        uint256 share = _rewardShare(c);
        assertGt(share, 0);
        assertEq(game.credit(makeAddr("x1")), CHALLENGER_BOND + share);
        _assertConserved(2);
        _wait(WINDOW);
        vm.expectRevert(IDisputeGame.AlreadyResolved.selector);
        game.finalize(c);
    }

    function test_voidedGamesRefundTheirChallengers() public {
        lie = [1, 0, 0, 0];
        uint256 c = _post(CKind.Liar);
        uint256 honest = _challenge(c, "x0", _script(CKind.Liar, XKind.Honest));
        uint256 other = _challenge(c, "x1", _script(CKind.Liar, XKind.Honest));
        assertEq(uint8(_play(honest)), uint8(IDisputeGame.GameStatus.ChallengerWon));
        // The other game cannot move any more; anyone voids it.
        IDisputeGame.Game memory g = game.gameOf(other);
        vm.prank(g.claimant);
        vm.expectRevert(IDisputeGame.ClaimAlreadyRejected.selector);
        game.bisect(other, bytes32(0));
        vm.expectRevert(IDisputeGame.ClaimAlreadyRejected.selector);
        game.timeout(other);
        vm.expectEmit(true, true, true, true, address(game));
        emit IDisputeGame.GameVoided(other, c, makeAddr("x1"), CHALLENGER_BOND + MIN_BOND / 4);
        game.voidGame(other);
        // Two games were open at the rejection: each gets a quarter of the claim bond.
        assertEq(game.credit(makeAddr("x1")), CHALLENGER_BOND + MIN_BOND / 4);
        assertEq(game.credit(makeAddr("x0")), CHALLENGER_BOND + MIN_BOND / 4);
        vm.expectRevert(IDisputeGame.AlreadyResolved.selector);
        game.voidGame(other);
        _assertConserved(2);
    }

    /// An honest claimant beats every challenger; it collects every bond and the claim finalizes
    /// after the last game.
    function test_honestClaimant_vs_manyChallengers() public {
        uint256 c = _post(CKind.Honest);
        uint256[] memory ids = new uint256[](4);
        ids[0] = _challenge(c, "x0", _script(CKind.Honest, XKind.AlwaysAgree));
        ids[1] = _challenge(c, "x1", _script(CKind.Honest, XKind.AlwaysDisagree));
        Script memory r = _script(CKind.Honest, XKind.Random);
        r.seed = 42;
        ids[2] = _challenge(c, "x2", r);
        ids[3] = _challenge(c, "x3", _script(CKind.Honest, XKind.Honest));
        vm.expectRevert(IDisputeGame.WindowOpen.selector);
        game.finalize(c);
        _playAll(ids);
        for (uint256 i; i < 4; ++i) {
            assertEq(uint8(game.gameOf(ids[i]).status), uint8(IDisputeGame.GameStatus.ClaimantWon));
        }
        assertEq(game.credit(claimant), 4 * CHALLENGER_BOND);
        _wait(WINDOW);
        game.finalize(c);
        assertEq(game.credit(claimant), 4 * CHALLENGER_BOND + MIN_BOND);
        _assertConserved(4);
        uint256 before = claimant.balance;
        vm.prank(claimant);
        game.withdraw();
        assertEq(claimant.balance, before + 4 * CHALLENGER_BOND + MIN_BOND);
        assertEq(address(game).balance, 0);
    }
}

/// @notice The same games with three levels (graph → an inserted middle phase → VM), to show the
/// level machinery is generic: the game contract is unchanged, only the links differ.
contract GameThreeLevelsTest is GameBase {
    function setUp() public {
        _deploy(3, 5, 5);
        assertEq(game.levels(), 3);
    }

    function testFuzz_honestClaimant(uint256 seed) public {
        uint256 c = _post(CKind.Honest);
        Script memory s = _script(CKind.Honest, XKind.Random);
        s.seed = seed;
        uint256 id = _challenge(c, "x0", s);
        assertEq(uint8(_play(id)), uint8(IDisputeGame.GameStatus.ClaimantWon));
        assertEq(game.gameOf(id).level, 2);
    }

    function testFuzz_liar(uint256 a, uint256 b, uint256 d) public {
        lie = [a % 5, b, d, 0];
        uint256 c = _post(CKind.Liar);
        uint256 id = _challenge(c, "x0", _script(CKind.Liar, XKind.Honest));
        assertEq(uint8(_play(id)), uint8(IDisputeGame.GameStatus.ChallengerWon));
        assertEq(game.gameOf(id).level, 2);
    }

    function _entered(bytes memory data)
        internal
        pure
        returns (uint256 level, uint256 parentIndex, bytes32 ctx)
    {
        (level, parentIndex, ctx,,,) =
            abi.decode(data, (uint256, uint256, bytes32, bytes32, bytes32, uint256));
    }

    /// Level 0's context is the model id; each link derives the child's from (parent context, index).
    function test_contextsChainThroughLevels() public {
        lie = [1, 2, 3, 0];
        uint256 c = _post(CKind.Liar);
        uint256 id = _challenge(c, "x0", _script(CKind.Liar, XKind.Honest));
        vm.recordLogs();
        _play(id);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bytes32 ctx = bytes32(modelId);
        uint256 entered;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics[0] != IDisputeGame.PhaseEntered.selector) continue;
            (uint256 level, uint256 parentIndex, bytes32 context) = _entered(logs[i].data);
            assertEq(level, ++entered);
            assertEq(context, keccak256(abi.encode(ctx, parentIndex)));
            ctx = context;
        }
        assertEq(entered, 2);
        assertEq(game.gameOf(id).context, ctx);
        assertEq(MockLink(address(game.links(1))).level(), 1);
    }
}
