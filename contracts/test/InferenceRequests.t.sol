// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {GameBase} from "./GameBase.t.sol";
import {IDisputeGame} from "../src/interfaces/IDisputeGame.sol";
import {InferenceRequests} from "../src/requests/InferenceRequests.sol";
import {Merkle} from "../src/lib/Merkle.sol";

/// @dev Just enough of the game for the request contract: claims, validity, published inputs.
contract GameStub {
    mapping(uint256 => IDisputeGame.Claim) internal claims;
    mapping(uint256 => bool) public valid;

    function setClaim(uint256 id, address claimant, uint64 modelId, bytes32 g0, IDisputeGame.ClaimStatus st)
        external
    {
        claims[id].claimant = claimant;
        claims[id].modelId = modelId;
        claims[id].graphState0 = g0;
        claims[id].finalGraphState = keccak256(abi.encode("final", g0));
        claims[id].status = st;
        valid[id] = st == IDisputeGame.ClaimStatus.Finalized;
    }

    function setStatus(uint256 id, IDisputeGame.ClaimStatus st) external {
        claims[id].status = st;
        valid[id] = st == IDisputeGame.ClaimStatus.Finalized;
    }

    function claimOf(uint256 id) external view returns (IDisputeGame.Claim memory) {
        return claims[id];
    }

    function isValid(uint256 id) external view returns (bool) {
        return valid[id];
    }

    /// @dev The graph state the stub assigns to input roots (kept for the pre-fix request contract,
    /// which computed roots itself; the fixed one publishes through publishInputs).
    function computeGraphState0(uint256 modelId, bytes32[] calldata roots) external pure returns (bytes32) {
        return keccak256(abi.encode(modelId, roots));
    }

    function publishInputs(uint256 modelId, bytes[] calldata inputs) external pure returns (bytes32) {
        bytes32[] memory roots = new bytes32[](inputs.length);
        for (uint256 i; i < inputs.length; ++i) {
            roots[i] = Merkle.bytesRootCalldata(inputs[i]);
        }
        return keccak256(abi.encode(modelId, roots));
    }
}

/// @notice Commit–reveal answers, ranking, payment and refund (docs/PROTOCOL.md §5.6). Issue 8,
/// finding 8.
contract InferenceRequestsTest is Test {
    uint256 internal constant WINDOW = 1 days;
    GameStub stub;
    InferenceRequests req;
    address user = address(0xA11CE);
    address honest = address(0xB0B);
    address liar = address(0xBAD);
    address copier = address(0xC0C);
    bytes32 constant SALT = keccak256("salt");

    function setUp() public {
        stub = new GameStub();
        req = new InferenceRequests(IDisputeGame(address(stub)), WINDOW);
        vm.deal(user, 10 ether);
    }

    function _request() internal returns (uint256 id, bytes32 g0) {
        bytes[] memory inputs = new bytes[](1);
        inputs[0] = hex"0100000002000000";
        vm.prank(user);
        id = req.request{value: 1 ether}(7, inputs);
        g0 = stub.publishInputs(7, inputs);
    }

    function _commitFor(uint256 id, uint256 claimId, bytes32 salt) internal {
        IDisputeGame.Claim memory c = stub.claimOf(claimId);
        vm.prank(c.claimant);
        req.commit(id, keccak256(abi.encode(id, c.claimant, c.finalGraphState, salt)));
    }

    function _nextBlock() internal {
        vm.roll(vm.getBlockNumber() + 1);
        vm.warp(vm.getBlockTimestamp() + 12);
    }

    function test_request_recordsTheDeadline() public {
        (uint256 id, bytes32 g0) = _request();
        InferenceRequests.Request memory r = req.requestOf(id);
        assertEq(r.requester, user);
        assertEq(r.reward, 1 ether);
        assertEq(r.graphState0, g0);
        assertEq(r.deadline, block.timestamp + WINDOW);
        vm.expectRevert(InferenceRequests.BadConfig.selector);
        new InferenceRequests(IDisputeGame(address(stub)), 0);
    }

    /// Finding 8: the worker commits, then posts its claim; a copier reposts the same result from
    /// its own address and answers first. Before the fix the first answer held the request and the
    /// copier was paid; now the worker's earlier commit outranks it.
    function test_copiedAnswer_cannotTakeTheReward() public {
        (uint256 id, bytes32 g0) = _request();
        stub.setClaim(1, honest, 7, g0, IDisputeGame.ClaimStatus.Pending);
        _commitFor(id, 1, SALT);
        _nextBlock();
        // The claim is posted; the copier sees it, posts the same content, commits and answers.
        stub.setClaim(2, copier, 7, g0, IDisputeGame.ClaimStatus.Pending);
        _commitFor(id, 2, keccak256("copier salt"));
        req.answer(id, 2, keccak256("copier salt"));
        _nextBlock();
        req.answer(id, 1, SALT);
        assertEq(req.requestOf(id).claimId, 1);
        // The copier cannot take it back.
        vm.expectRevert(InferenceRequests.Outranked.selector);
        req.answer(id, 2, keccak256("copier salt"));
        stub.setStatus(1, IDisputeGame.ClaimStatus.Finalized);
        stub.setStatus(2, IDisputeGame.ClaimStatus.Finalized);
        req.collect(id);
        assertEq(honest.balance, 1 ether);
        assertEq(copier.balance, 0);
    }

    /// An answer needs its claimant's commit, with the right salt and result.
    function test_answer_needsTheCommit() public {
        (uint256 id, bytes32 g0) = _request();
        stub.setClaim(1, honest, 7, g0, IDisputeGame.ClaimStatus.Pending);
        vm.expectRevert(InferenceRequests.NotCommitted.selector);
        req.answer(id, 1, SALT);
        _commitFor(id, 1, SALT);
        vm.expectRevert(InferenceRequests.NotCommitted.selector);
        req.answer(id, 1, keccak256("other"));
        // Someone else's commit of the same hash does not help a different claimant.
        stub.setClaim(2, copier, 7, g0, IDisputeGame.ClaimStatus.Pending);
        vm.expectRevert(InferenceRequests.NotCommitted.selector);
        req.answer(id, 2, SALT);
        req.answer(id, 1, SALT);
        vm.expectRevert(InferenceRequests.AlreadyAnswered.selector);
        req.answer(id, 1, SALT);
    }

    /// A rejected holder yields to any valid answer, even a later-committed one.
    function test_rewardGoesToTheValidAnswer_afterARejectedOne() public {
        (uint256 id, bytes32 g0) = _request();
        stub.setClaim(1, liar, 7, g0, IDisputeGame.ClaimStatus.Pending);
        _commitFor(id, 1, SALT);
        req.answer(id, 1, SALT);
        _nextBlock();
        stub.setClaim(2, honest, 7, g0, IDisputeGame.ClaimStatus.Pending);
        _commitFor(id, 2, SALT);
        vm.expectRevert(InferenceRequests.Outranked.selector);
        req.answer(id, 2, SALT);
        vm.expectRevert(InferenceRequests.ClaimNotValid.selector);
        req.collect(id);
        stub.setStatus(1, IDisputeGame.ClaimStatus.Rejected);
        vm.expectRevert(InferenceRequests.ClaimRejected.selector);
        req.answer(id, 1, SALT);
        req.answer(id, 2, SALT);
        stub.setStatus(2, IDisputeGame.ClaimStatus.Finalized);
        req.collect(id);
        assertEq(honest.balance, 1 ether);
        vm.expectRevert(InferenceRequests.Closed.selector);
        req.collect(id);
        vm.expectRevert(InferenceRequests.Closed.selector);
        req.refund(id);
    }

    function test_answerMustMatchModelAndInputs() public {
        (uint256 id, bytes32 g0) = _request();
        stub.setClaim(3, honest, 8, g0, IDisputeGame.ClaimStatus.Pending);
        vm.expectRevert(InferenceRequests.WrongModel.selector);
        req.answer(id, 3, SALT);
        stub.setClaim(4, honest, 7, bytes32(uint256(1)), IDisputeGame.ClaimStatus.Pending);
        vm.expectRevert(InferenceRequests.WrongInputs.selector);
        req.answer(id, 4, SALT);
        vm.expectRevert(InferenceRequests.UnknownRequest.selector);
        req.answer(99, 4, SALT);
    }

    /// Finding 8: a request nobody validly answers is refundable after its deadline, not before,
    /// and only once; no commit or answer is taken after it.
    function test_unansweredRequest_refundableAfterTheDeadline_once() public {
        (uint256 id, bytes32 g0) = _request();
        vm.expectRevert(InferenceRequests.DeadlineNotReached.selector);
        req.refund(id);
        vm.warp(vm.getBlockTimestamp() + WINDOW - 1);
        vm.expectRevert(InferenceRequests.DeadlineNotReached.selector);
        req.refund(id);
        vm.warp(vm.getBlockTimestamp() + 1);
        stub.setClaim(1, honest, 7, g0, IDisputeGame.ClaimStatus.Pending);
        vm.expectRevert(InferenceRequests.DeadlinePassed.selector);
        req.commit(id, keccak256("late"));
        vm.expectRevert(InferenceRequests.DeadlinePassed.selector);
        req.answer(id, 1, SALT);
        uint256 before = user.balance;
        vm.expectEmit(true, true, false, true, address(req));
        emit InferenceRequests.Refunded(id, user, 1 ether);
        req.refund(id);
        assertEq(user.balance, before + 1 ether);
        vm.expectRevert(InferenceRequests.Closed.selector);
        req.refund(id);
        assertEq(address(req).balance, 0);
    }

    /// A holder still pending (or valid) at the deadline keeps the reward; a rejected one does not.
    function test_refund_onlyWhenTheHolderIsRejected() public {
        (uint256 id, bytes32 g0) = _request();
        stub.setClaim(1, liar, 7, g0, IDisputeGame.ClaimStatus.Pending);
        _commitFor(id, 1, SALT);
        req.answer(id, 1, SALT);
        vm.warp(vm.getBlockTimestamp() + WINDOW);
        vm.expectRevert(InferenceRequests.NotRefundable.selector);
        req.refund(id);
        stub.setStatus(1, IDisputeGame.ClaimStatus.Rejected);
        req.refund(id);
        assertEq(user.balance, 10 ether);
        vm.expectRevert(InferenceRequests.Closed.selector);
        req.collect(id);
    }
}

/// @notice Requests on the real game: sizes are checked, inputs published (finding 10).
contract InferenceRequestsGameTest is GameBase {
    InferenceRequests internal req;

    function setUp() public {
        _deploy(2, 6, 12);
        req = new InferenceRequests(game, 2 * WINDOW);
    }

    function test_request_rejectsInputsOfTheWrongSize() public {
        bytes[] memory ins = new bytes[](1);
        ins[0] = new bytes(28); // the model's input is 32 bytes
        vm.expectRevert(abi.encodeWithSelector(IDisputeGame.BadInputBytes.selector, 0));
        req.request{value: 1}(modelId, ins);
        ins[0] = new bytes(36);
        vm.expectRevert(abi.encodeWithSelector(IDisputeGame.BadInputBytes.selector, 0));
        req.request{value: 1}(modelId, ins);
        vm.expectRevert(abi.encodeWithSelector(IDisputeGame.InputCountMismatch.selector, 1));
        req.request{value: 1}(modelId, new bytes[](2));
    }

    function test_request_publishesItsInputs() public {
        bytes[] memory ins = new bytes[](1);
        ins[0] = abi.encodePacked(keccak256("another input"));
        bytes32 g0 = Merkle.hashPair(MODEL, Merkle.hashPair(keccak256("another input"), bytes32(0)));
        assertFalse(game.inputsPublished(modelId, g0));
        vm.expectEmit(true, true, false, true, address(game));
        emit IDisputeGame.InputsPublished(g0, modelId, ins);
        uint256 id = req.request{value: 1}(modelId, ins);
        assertTrue(game.inputsPublished(modelId, g0));
        assertEq(req.requestOf(id).graphState0, g0);
    }
}
