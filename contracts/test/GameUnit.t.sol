// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {GameBase, MockLink, MockModels, MockStepVerifier, MockWorld} from "./GameBase.t.sol";
import {Merkle} from "../src/lib/Merkle.sol";
import {DisputeGame} from "../src/game/DisputeGame.sol";
import {IDisputeGame} from "../src/interfaces/IDisputeGame.sol";
import {IRegistry} from "../src/interfaces/IRegistry.sol";
import {IStepVerifier} from "../src/interfaces/IStepVerifier.sol";
import {ILevelLink} from "../src/interfaces/ILevelLink.sol";

/// @dev Tries to withdraw twice: once normally, once again from inside its receive().
contract Reenterer {
    DisputeGame internal immutable game;
    uint256 public reentries;
    bool public reentryFailed;

    constructor(DisputeGame game_) {
        game = game_;
    }

    function post(uint256 modelId, bytes32 input, bytes32 out, bytes32 model)
        external
        payable
        returns (uint256)
    {
        bytes32[] memory inputs = new bytes32[](1);
        inputs[0] = input;
        bytes32[] memory path = new bytes32[](1);
        path[0] = input;
        bytes32 table = Merkle.hashPair(input, out);
        return
            game.postClaim{value: msg.value}(modelId, inputs, out, Merkle.hashPair(model, table), table, path);
    }

    function withdraw() external {
        game.withdraw();
    }

    receive() external payable {
        if (reentries++ == 0) {
            try game.withdraw() {}
            catch {
                reentryFailed = true;
            }
        }
    }
}

/// @dev Refuses ETH.
contract Refuser {
    function challenge(DisputeGame game, uint256 claimId) external payable returns (uint256) {
        return game.challenge{value: msg.value}(claimId);
    }

    function withdraw(DisputeGame game) external {
        game.withdraw();
    }
}

/// @notice The game's state machine move by move: claims, turns, phases, clocks, bonds, single
/// resolution, payouts.
contract GameUnitTest is GameBase {
    address internal x = makeAddr("x0");

    function setUp() public {
        _deploy(2, 6, 12);
        vm.deal(x, 10 ether);
    }

    function _inputs() internal pure returns (bytes32[] memory a) {
        a = new bytes32[](1);
        a[0] = INPUT;
    }

    function _path() internal pure returns (bytes32[] memory a) {
        a = new bytes32[](1);
        a[0] = INPUT;
    }

    function _open() internal returns (uint256 claimId, uint256 gameId) {
        claimId = _post(CKind.Honest);
        vm.prank(x);
        gameId = game.challenge{value: CHALLENGER_BOND}(claimId);
        levelStart[gameId][0] = game.gameOf(gameId).loRoot;
        levelLen[gameId][0] = nNodes;
        scripts[gameId] = _script(CKind.Honest, XKind.Honest);
    }

    // ---------------------------------------------------------------------------------------------
    // Deployment and claims
    // ---------------------------------------------------------------------------------------------

    function test_constructorRejectsBadConfig() public {
        ILevelLink[] memory links = new ILevelLink[](1);
        links[0] = game.links(0);
        vm.expectRevert(IDisputeGame.BadConfig.selector);
        new DisputeGame(registry, IStepVerifier(address(0)), links, 1, 1, 1, 1);
        vm.expectRevert(IDisputeGame.BadConfig.selector);
        new DisputeGame(registry, verifier, links, 1, 1, 0, 1);
        vm.expectRevert(IDisputeGame.BadConfig.selector);
        new DisputeGame(registry, verifier, links, 1, 1, 1, 0);
        links[0] = ILevelLink(address(0));
        vm.expectRevert(IDisputeGame.BadConfig.selector);
        new DisputeGame(registry, verifier, links, 1, 1, 1, 1);
    }

    function test_postClaim_recordsEverythingAndEmits() public {
        bytes32 out = keccak256("y");
        bytes32 table = Merkle.hashPair(INPUT, out);
        bytes32 fin = Merkle.hashPair(MODEL, table);
        vm.expectEmit(true, true, true, true, address(game));
        emit IDisputeGame.ClaimPosted(
            1,
            claimant,
            modelId,
            _inputs(),
            out,
            _graphState0(),
            fin,
            table,
            MIN_BOND,
            block.timestamp + WINDOW
        );
        vm.prank(claimant);
        uint256 id = game.postClaim{value: MIN_BOND}(modelId, _inputs(), out, fin, table, _path());
        assertEq(id, 1);
        IDisputeGame.Claim memory c = game.claimOf(id);
        assertEq(c.claimant, claimant);
        assertEq(uint8(c.status), uint8(IDisputeGame.ClaimStatus.Pending));
        assertEq(c.bond, MIN_BOND);
        assertEq(c.graphState0, _graphState0());
        assertEq(c.finalGraphState, fin);
        assertEq(c.outputRoot, out);
        assertEq(c.deadline, block.timestamp + WINDOW);
        assertEq(game.computeGraphState0(modelId, _inputs()), _graphState0());
        assertEq(address(game).balance, MIN_BOND);
    }

    function test_postClaim_graphState0PadsTheTable() public {
        // 3 inputs in a table of depth 3: leaves [a, b, c, 0, 0, 0, 0, 0].
        uint256 m = MockModels.register(registry, 1, MODEL, 4, 3, 5);
        bytes32[] memory ins = new bytes32[](3);
        bytes32[] memory table = new bytes32[](8);
        for (uint256 i; i < 3; ++i) {
            ins[i] = keccak256(abi.encode(i));
            table[i] = ins[i];
        }
        assertEq(game.computeGraphState0(m, ins), Merkle.graphState(MODEL, table));
        vm.expectRevert(abi.encodeWithSelector(IDisputeGame.InputCountMismatch.selector, 3));
        game.computeGraphState0(m, _inputs());
    }

    function test_postClaim_rejectsBadClaims() public {
        bytes32 out = keccak256("y");
        bytes32 table = Merkle.hashPair(INPUT, out);
        bytes32 fin = Merkle.hashPair(MODEL, table);
        vm.startPrank(claimant);
        vm.expectRevert(abi.encodeWithSelector(IDisputeGame.BondTooSmall.selector, MIN_BOND));
        game.postClaim{value: MIN_BOND - 1}(modelId, _inputs(), out, fin, table, _path());
        vm.expectRevert(abi.encodeWithSelector(IRegistry.UnknownModel.selector, 7));
        game.postClaim{value: MIN_BOND}(7, _inputs(), out, fin, table, _path());
        vm.expectRevert(abi.encodeWithSelector(IDisputeGame.InputCountMismatch.selector, 1));
        game.postClaim{value: MIN_BOND}(modelId, new bytes32[](2), out, fin, table, _path());
        vm.expectRevert(IDisputeGame.FinalStateMismatch.selector);
        game.postClaim{value: MIN_BOND}(modelId, _inputs(), out, keccak256("other"), table, _path());
        vm.expectRevert(IDisputeGame.BadPathLength.selector);
        game.postClaim{value: MIN_BOND}(modelId, _inputs(), out, fin, table, new bytes32[](2));
        vm.expectRevert(IDisputeGame.OutputNotInTable.selector);
        game.postClaim{value: MIN_BOND}(modelId, _inputs(), keccak256("z"), fin, table, _path());
        // The output slot (1) is the right child: the input at slot 0 is not the output.
        bytes32[] memory p = new bytes32[](1);
        p[0] = out;
        vm.expectRevert(IDisputeGame.OutputNotInTable.selector);
        game.postClaim{value: MIN_BOND}(modelId, _inputs(), INPUT, fin, table, p);
        vm.stopPrank();
    }

    function test_postClaimWithInputs_computesTheTensorRoot() public {
        bytes memory raw = new bytes(3136); // an MNIST image: 784 int32 words
        for (uint256 i; i < raw.length; i += 7) {
            raw[i] = bytes1(uint8(i % 256));
        }
        bytes32 root = Merkle.bytesRoot(raw);
        bytes[] memory ins = new bytes[](1);
        ins[0] = raw;
        bytes32 out = keccak256("y");
        bytes32 table = Merkle.hashPair(root, out);
        bytes32[] memory p = new bytes32[](1);
        p[0] = root;
        uint256 m = _mnistSized();
        bytes32 g0 = Merkle.hashPair(MODEL, Merkle.hashPair(root, bytes32(0)));
        vm.expectEmit(true, true, false, true, address(game));
        emit IDisputeGame.InputsPublished(g0, m, ins);
        vm.prank(claimant);
        uint256 id =
            game.postClaimWithInputs{value: MIN_BOND}(m, ins, out, Merkle.hashPair(MODEL, table), table, p);
        assertEq(game.claimOf(id).graphState0, g0);
        assertTrue(game.inputsPublished(m, g0));
    }

    /// A model whose one input is an MNIST image: 784 int32 words = 3136 bytes (height 7).
    function _mnistSized() internal returns (uint256) {
        uint32[] memory sizes = new uint32[](1);
        sizes[0] = 3136;
        return MockModels.registerSized(registry, 1, MODEL, 2, sizes, 1, MockModels.ANY_STEPS);
    }

    /// Findings 10 and 13: inputs must have exactly the registered byte length. Before the fix any
    /// whole number of words was accepted, so a 256-word input (a depth-5 root) could be claimed on
    /// a model whose node reads a height-7 region: an initial VM state without preimage.
    function test_postClaimWithInputs_rejectsInputsOfTheWrongSize() public {
        uint256 m = _mnistSized();
        bytes32[] memory p = new bytes32[](1);
        bytes[] memory ins = new bytes[](1);
        uint256[5] memory bad = [uint256(1024), 3132, 3140, 6, 0];
        for (uint256 i; i < bad.length; ++i) {
            ins[0] = new bytes(bad[i]);
            bytes32 root = bad[i] % 4 == 0 && bad[i] > 0 ? Merkle.bytesRoot(ins[0]) : bytes32(0);
            bytes32 out = keccak256("y");
            bytes32 table = Merkle.hashPair(root, out);
            p[0] = root;
            vm.prank(claimant);
            vm.expectRevert(abi.encodeWithSelector(IDisputeGame.BadInputBytes.selector, 0));
            game.postClaimWithInputs{value: MIN_BOND}(m, ins, out, Merkle.hashPair(MODEL, table), table, p);
        }
    }

    /// Finding 10: publishInputs checks the count and each size, and publishes.
    function test_publishInputs_checksSizes() public {
        uint256 m = _mnistSized();
        bytes[] memory ins = new bytes[](1);
        ins[0] = new bytes(1024);
        vm.expectRevert(abi.encodeWithSelector(IDisputeGame.BadInputBytes.selector, 0));
        game.publishInputs(m, ins);
        vm.expectRevert(abi.encodeWithSelector(IDisputeGame.InputCountMismatch.selector, 1));
        game.publishInputs(m, new bytes[](2));
        ins[0] = new bytes(3136);
        bytes32 g0 = game.publishInputs(m, ins);
        assertEq(g0, Merkle.hashPair(MODEL, Merkle.hashPair(Merkle.bytesRoot(ins[0]), bytes32(0))));
        assertTrue(game.inputsPublished(m, g0));
        assertEq(game.publishInputs(m, ins), g0); // harmless to repeat
    }

    /// Finding 4 (data availability): a claim by roots alone needs its inputs published for that
    /// very model; inputs published for another model with the same weights do not count.
    function test_postClaim_needsPublishedInputs() public {
        bytes32 in2 = keccak256("unpublished");
        bytes32[] memory roots = new bytes32[](1);
        roots[0] = in2;
        bytes32 out = keccak256("y");
        bytes32 table = Merkle.hashPair(in2, out);
        bytes32 fin = Merkle.hashPair(MODEL, table);
        bytes32[] memory p = new bytes32[](1);
        p[0] = in2;
        vm.startPrank(claimant);
        vm.expectRevert(IDisputeGame.InputsNotPublished.selector);
        game.postClaim{value: MIN_BOND}(modelId, roots, out, fin, table, p);
        // Same modelRoot and table depth, another model: same graph state 0, other input rules.
        uint256 twin = MockModels.register(registry, 1, MODEL, 3, 1, 1);
        bytes[] memory ins = new bytes[](1);
        ins[0] = abi.encodePacked(in2);
        game.publishInputs(twin, ins);
        vm.expectRevert(IDisputeGame.InputsNotPublished.selector);
        game.postClaim{value: MIN_BOND}(modelId, roots, out, fin, table, p);
        game.publishInputs(modelId, ins);
        game.postClaim{value: MIN_BOND}(modelId, roots, out, fin, table, p);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------------------------------------
    // Challenges and the window
    // ---------------------------------------------------------------------------------------------

    function test_challenge_opensAGame() public {
        uint256 c = _post(CKind.Honest);
        IDisputeGame.Claim memory cl = game.claimOf(c);
        vm.expectEmit(true, true, true, true, address(game));
        emit IDisputeGame.GameStarted(
            1, c, x, CHALLENGER_BOND, nNodes, cl.graphState0, cl.finalGraphState, CLOCK
        );
        vm.prank(x);
        uint256 id = game.challenge{value: CHALLENGER_BOND}(c);
        IDisputeGame.Game memory g = game.gameOf(id);
        assertEq(g.challenger, x);
        assertEq(g.claimant, claimant);
        assertEq(g.claimId, c);
        assertEq(uint8(g.status), uint8(IDisputeGame.GameStatus.Open));
        assertEq(uint8(g.phase), uint8(IDisputeGame.Phase.Bisect));
        assertEq(g.level, 0);
        assertEq(g.lo, 0);
        assertEq(g.hi, nNodes);
        assertEq(g.loRoot, cl.graphState0);
        assertEq(g.hiRoot, cl.finalGraphState);
        assertEq(g.context, bytes32(modelId));
        assertEq(game.mover(id), claimant);
        assertEq(game.claimOf(c).openGames, 1);
        assertEq(address(game).balance, MIN_BOND + CHALLENGER_BOND);
    }

    function test_challenge_rules() public {
        vm.prank(x);
        vm.expectRevert(IDisputeGame.UnknownClaim.selector);
        game.challenge{value: CHALLENGER_BOND}(1);
        uint256 c = _post(CKind.Honest);
        vm.prank(x);
        vm.expectRevert(abi.encodeWithSelector(IDisputeGame.BondTooSmall.selector, CHALLENGER_BOND));
        game.challenge{value: CHALLENGER_BOND - 1}(c);
        _wait(WINDOW - 1);
        vm.prank(x);
        game.challenge{value: CHALLENGER_BOND}(c); // last second of the window
        _wait(1);
        vm.prank(x);
        vm.expectRevert(IDisputeGame.WindowClosed.selector);
        game.challenge{value: CHALLENGER_BOND}(c);
    }

    function test_finalize_rules() public {
        vm.expectRevert(IDisputeGame.UnknownClaim.selector);
        game.finalize(1);
        (uint256 c, uint256 id) = _open();
        vm.expectRevert(IDisputeGame.WindowOpen.selector);
        game.finalize(c);
        _wait(WINDOW);
        vm.expectRevert(IDisputeGame.GamesOpen.selector);
        game.finalize(c);
        vm.prank(anyone);
        game.timeout(id); // the claimant never moved: the challenger wins
        vm.expectRevert(IDisputeGame.AlreadyResolved.selector);
        game.finalize(c);

        uint256 c2 = _post(CKind.Honest);
        _wait(WINDOW);
        vm.expectEmit(true, true, false, true, address(game));
        emit IDisputeGame.ClaimFinalized(c2, claimant, game.claimOf(c2).outputRoot);
        vm.prank(anyone);
        game.finalize(c2);
        assertTrue(game.isValid(c2));
        vm.expectRevert(IDisputeGame.AlreadyResolved.selector);
        game.finalize(c2);
        vm.prank(x);
        vm.expectRevert(IDisputeGame.ClaimNotPending.selector);
        game.challenge{value: CHALLENGER_BOND}(c2);
    }

    // ---------------------------------------------------------------------------------------------
    // Turns and phases
    // ---------------------------------------------------------------------------------------------

    function test_turnsAndPhases() public {
        (, uint256 id) = _open();
        vm.prank(x);
        vm.expectRevert(IDisputeGame.NotYourTurn.selector);
        game.bisect(id, bytes32(0));
        vm.prank(claimant);
        vm.expectRevert(IDisputeGame.WrongPhase.selector);
        game.respond(id, true);
        vm.prank(claimant);
        vm.expectRevert(IDisputeGame.WrongPhase.selector);
        game.descend(id, "");
        vm.expectRevert(IDisputeGame.WrongPhase.selector);
        game.proveStep(id, "ok");
        vm.expectRevert(IDisputeGame.UnknownGame.selector);
        game.bisect(99, bytes32(0));

        bytes32 mid = keccak256("mid");
        vm.expectEmit(true, false, false, true, address(game));
        emit IDisputeGame.Bisected(id, 0, 0, 3, 6, mid);
        vm.prank(claimant);
        game.bisect(id, mid);
        assertEq(game.mover(id), x);
        assertEq(game.gameOf(id).midRoot, mid);
        vm.prank(claimant);
        vm.expectRevert(IDisputeGame.WrongPhase.selector);
        game.bisect(id, mid);
        vm.prank(claimant);
        vm.expectRevert(IDisputeGame.NotYourTurn.selector);
        game.respond(id, true);

        // Agree: lo moves up to mid and takes the root.
        vm.expectEmit(true, false, false, true, address(game));
        emit IDisputeGame.Responded(id, 0, true, 3, 6);
        vm.prank(x);
        game.respond(id, true);
        IDisputeGame.Game memory g = game.gameOf(id);
        assertEq(g.lo, 3);
        assertEq(g.hi, 6);
        assertEq(g.loRoot, mid);
        assertEq(uint8(g.phase), uint8(IDisputeGame.Phase.Bisect));

        // Disagree: hi moves down to mid and takes the root.
        bytes32 mid2 = keccak256("mid2");
        vm.prank(claimant);
        game.bisect(id, mid2);
        vm.prank(x);
        game.respond(id, false);
        g = game.gameOf(id);
        assertEq(g.lo, 3);
        assertEq(g.hi, 4);
        assertEq(g.hiRoot, mid2);
        assertEq(uint8(g.phase), uint8(IDisputeGame.Phase.Descend));
        assertEq(game.mover(id), claimant);
        vm.prank(claimant);
        vm.expectRevert(IDisputeGame.WrongPhase.selector);
        game.bisect(id, mid2);
        vm.prank(x);
        vm.expectRevert(IDisputeGame.NotYourTurn.selector);
        game.descend(id, abi.encode(bytes32(0), uint256(1)));
    }

    /// Descending: the link's result becomes the new level; a link that refuses reverts.
    function test_descend() public {
        (, uint256 id) = _open();
        _playTo(id, IDisputeGame.Phase.Descend);
        IDisputeGame.Game memory g = game.gameOf(id);
        vm.prank(claimant);
        vm.expectRevert(MockLink.LinkRejected.selector);
        game.descend(id, abi.encode(keccak256("not the end"), uint256(4)));
        bytes32 f = _run(1, MockWorld.startOf(0, g.loRoot), _stepsOf(0, g.loRoot));
        vm.prank(claimant);
        vm.expectRevert(IDisputeGame.BadStepCount.selector);
        game.descend(id, abi.encode(f, uint256(0)));
        vm.prank(claimant);
        vm.expectRevert(IDisputeGame.BadStepCount.selector);
        game.descend(id, abi.encode(f, uint256(1) << 64));

        vm.expectEmit(true, false, false, true, address(game));
        emit IDisputeGame.PhaseEntered(
            id, 1, g.lo, keccak256(abi.encode(g.context, uint256(g.lo))), MockWorld.startOf(0, g.loRoot), f, 9
        );
        vm.prank(claimant);
        game.descend(id, abi.encode(f, uint256(9)));
        IDisputeGame.Game memory h = game.gameOf(id);
        assertEq(h.level, 1);
        assertEq(h.lo, 0);
        assertEq(h.hi, 9);
        assertEq(h.loRoot, MockWorld.startOf(0, g.loRoot));
        assertEq(h.hiRoot, f);
        assertEq(uint8(h.phase), uint8(IDisputeGame.Phase.Bisect));
    }

    /// A one-step run goes straight to the step proof; a one-node model straight to descending.
    function test_shortRuns() public {
        _deploy(2, 1, 1);
        vm.deal(x, 10 ether);
        (, uint256 id) = _open();
        IDisputeGame.Game memory g = game.gameOf(id);
        assertEq(uint8(g.phase), uint8(IDisputeGame.Phase.Descend));
        bytes32 start = MockWorld.startOf(0, g.loRoot);
        vm.prank(claimant);
        game.descend(id, abi.encode(_run(1, start, 1), uint256(1)));
        assertEq(uint8(game.gameOf(id).phase), uint8(IDisputeGame.Phase.Step));
        assertEq(game.mover(id), x);
        vm.expectRevert(MockStepVerifier.BadProof.selector);
        game.proveStep(id, "bad");
        vm.expectEmit(true, false, false, true, address(game));
        emit IDisputeGame.StepProven(id, 0, start, keccak256(abi.encode(start)), true);
        vm.prank(anyone);
        game.proveStep(id, "ok");
        assertEq(uint8(game.gameOf(id).status), uint8(IDisputeGame.GameStatus.ClaimantWon));
    }

    // ---------------------------------------------------------------------------------------------
    // Clocks
    // ---------------------------------------------------------------------------------------------

    function test_clocksChargeOnlyTheMover() public {
        (, uint256 id) = _open();
        _wait(3 hours);
        (uint256 cl, uint256 xl) = game.clocks(id);
        assertEq(cl, CLOCK - 3 hours);
        assertEq(xl, CLOCK);
        vm.prank(claimant);
        game.bisect(id, bytes32(0));
        _wait(5 hours);
        (cl, xl) = game.clocks(id);
        assertEq(cl, CLOCK - 3 hours);
        assertEq(xl, CLOCK - 5 hours);
        vm.prank(x);
        game.respond(id, true);
        IDisputeGame.Game memory g = game.gameOf(id);
        assertEq(g.claimantClock, CLOCK - 3 hours);
        assertEq(g.challengerClock, CLOCK - 5 hours);
        assertEq(g.lastMoveAt, vm.getBlockTimestamp());
    }

    function test_timeoutBoundary() public {
        (uint256 c, uint256 id) = _open();
        _wait(CLOCK); // exactly the budget: still allowed to move, not yet expired
        vm.expectRevert(IDisputeGame.ClockNotExpired.selector);
        game.timeout(id);
        vm.prank(claimant);
        game.bisect(id, bytes32(0));
        (uint256 cl,) = game.clocks(id);
        assertEq(cl, 0);
        _wait(CLOCK + 1); // the challenger's budget is over by one second
        vm.prank(x);
        vm.expectRevert(IDisputeGame.ClockExpired.selector);
        game.respond(id, true);
        vm.expectEmit(true, true, false, false, address(game));
        emit IDisputeGame.Timeout(id, x);
        vm.expectEmit(true, true, false, true, address(game));
        emit IDisputeGame.GameResolved(id, c, true, claimant);
        vm.prank(anyone);
        game.timeout(id);
        assertEq(game.credit(claimant), CHALLENGER_BOND);
        assertEq(game.mover(id), address(0));
    }

    function test_moveAfterClockExpiredIsRefused() public {
        (, uint256 id) = _open();
        _wait(CLOCK + 1);
        vm.prank(claimant);
        vm.expectRevert(IDisputeGame.ClockExpired.selector);
        game.bisect(id, bytes32(0));
    }

    function test_stepProofAfterChallengerClockIsRefused() public {
        _deploy(2, 1, 1);
        vm.deal(x, 10 ether);
        (, uint256 id) = _open();
        bytes32 start = MockWorld.startOf(0, game.gameOf(id).loRoot);
        vm.prank(claimant);
        game.descend(id, abi.encode(keccak256(abi.encode(start)), uint256(1)));
        _wait(CLOCK + 1);
        vm.expectRevert(IDisputeGame.ClockExpired.selector);
        game.proveStep(id, "ok");
        game.timeout(id);
        assertEq(uint8(game.gameOf(id).status), uint8(IDisputeGame.GameStatus.ClaimantWon));
    }

    // ---------------------------------------------------------------------------------------------
    // Single resolution
    // ---------------------------------------------------------------------------------------------

    function test_resolvedGameCannotMove() public {
        (uint256 c, uint256 id) = _open();
        _wait(CLOCK + 1);
        game.timeout(id);
        assertEq(uint8(game.gameOf(id).status), uint8(IDisputeGame.GameStatus.ChallengerWon));
        assertEq(game.credit(x), CHALLENGER_BOND + MIN_BOND / 2);
        vm.expectRevert(IDisputeGame.AlreadyResolved.selector);
        game.timeout(id);
        vm.prank(claimant);
        vm.expectRevert(IDisputeGame.AlreadyResolved.selector);
        game.bisect(id, bytes32(0));
        vm.prank(x);
        vm.expectRevert(IDisputeGame.AlreadyResolved.selector);
        game.respond(id, true);
        vm.expectRevert(IDisputeGame.AlreadyResolved.selector);
        game.proveStep(id, "ok");
        vm.prank(claimant);
        vm.expectRevert(IDisputeGame.AlreadyResolved.selector);
        game.descend(id, "");
        vm.expectRevert(IDisputeGame.AlreadyResolved.selector);
        game.voidGame(id);
        assertEq(game.claimOf(c).openGames, 0);
        assertEq(game.credit(x), CHALLENGER_BOND + MIN_BOND / 2);
    }

    function test_voidGame_onlyAfterRejection() public {
        (, uint256 id) = _open();
        vm.expectRevert(IDisputeGame.UnknownGame.selector);
        game.voidGame(99);
        vm.expectRevert(IDisputeGame.ClaimNotRejected.selector);
        game.voidGame(id);
    }

    // ---------------------------------------------------------------------------------------------
    // Payments
    // ---------------------------------------------------------------------------------------------

    function test_withdraw() public {
        vm.prank(x);
        vm.expectRevert(IDisputeGame.NothingToWithdraw.selector);
        game.withdraw();
        (, uint256 id) = _open();
        _wait(CLOCK + 1);
        game.timeout(id);
        uint256 before = x.balance;
        vm.expectEmit(true, false, false, true, address(game));
        emit IDisputeGame.Withdrawn(x, CHALLENGER_BOND + MIN_BOND / 2);
        vm.prank(x);
        game.withdraw();
        assertEq(x.balance, before + CHALLENGER_BOND + MIN_BOND / 2);
        assertEq(game.credit(x), 0);
        assertEq(address(game).balance, MIN_BOND / 2, "the burned half stays");
    }

    function test_withdrawIsReentrancySafe() public {
        Reenterer r = new Reenterer(game);
        uint256 c = r.post{value: MIN_BOND}(modelId, INPUT, keccak256("y"), MODEL);
        uint256 c2 = r.post{value: MIN_BOND}(modelId, INPUT, keccak256("z"), MODEL);
        _wait(WINDOW);
        game.finalize(c);
        game.finalize(c2);
        assertEq(game.credit(address(r)), 2 * MIN_BOND);
        r.withdraw();
        assertEq(address(r).balance, 2 * MIN_BOND);
        assertEq(r.reentries(), 1);
        assertTrue(r.reentryFailed());
        assertEq(address(game).balance, 0);
    }

    function test_failedTransferKeepsTheCredit() public {
        Refuser r = new Refuser();
        uint256 c = _post(CKind.Honest);
        uint256 id = r.challenge{value: CHALLENGER_BOND}(game, c);
        _wait(CLOCK + 1);
        game.timeout(id);
        vm.expectRevert(IDisputeGame.TransferFailed.selector);
        r.withdraw(game);
        assertEq(game.credit(address(r)), CHALLENGER_BOND + MIN_BOND / 2);
    }

    // ---------------------------------------------------------------------------------------------

    /// Plays honestly (the scripted world) until the game reaches `phase`.
    function _playTo(uint256 id, IDisputeGame.Phase phase) internal {
        for (uint256 i; i < 100; ++i) {
            IDisputeGame.Game memory g = game.gameOf(id);
            if (g.phase == phase) return;
            _move(id, g);
        }
        revert("phase not reached");
    }
}
