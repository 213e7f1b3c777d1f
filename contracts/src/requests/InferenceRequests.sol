// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IDisputeGame} from "../interfaces/IDisputeGame.sol";

/// @title InferenceRequests
/// @notice Users ask for an inference (model id + input tensors, with a reward and a deadline); a
/// submitter answers with a claim in the dispute game on exactly these inputs; the reward is paid
/// once that claim has finalized as valid, or refunded if nobody validly answered by the deadline
/// (docs/PROTOCOL.md §5.6).
///
/// The reward goes to whoever did the work, not to whoever answers first. A posted claim reveals
/// its result, so a copier could post the same claim from another address and race the worker's
/// `answer`. Hence commit–reveal: before posting its claim, the worker commits
/// h = keccak256(abi.encode(requestId, claimant, finalGraphState, salt)); an answer reveals the salt
/// and ranks by the block of its commit (then the claim id). A copier learns finalGraphState only
/// from the posted claim, after the worker's commit was included, so its own commit is always
/// later and it can never outrank the worker.
contract InferenceRequests {
    struct Request {
        address requester;
        uint64 modelId;
        /// @dev Commits and answers are accepted while block.timestamp < deadline.
        uint64 deadline;
        /// @dev Paid to the submitter or refunded to the requester.
        bool closed;
        uint256 reward;
        bytes32 graphState0;
        /// @dev The answer holding the request (0 if none), its claimant and its commit block.
        uint256 claimId;
        address submitter;
        uint64 commitBlock;
    }

    IDisputeGame public immutable game;
    /// @notice Seconds from a request to its deadline.
    uint256 public immutable answerWindow;
    uint256 public requestCount;
    mapping(uint256 => Request) internal _requests;
    /// @notice The block of the first commit of each hash (0: never committed).
    mapping(bytes32 => uint256) public commitBlock;

    event InferenceRequested(
        uint256 indexed requestId,
        address indexed requester,
        uint256 indexed modelId,
        bytes[] inputs,
        uint256 reward,
        uint256 deadline
    );
    event Committed(uint256 indexed requestId, bytes32 indexed commitment, address indexed sender);
    event RequestAnswered(
        uint256 indexed requestId, uint256 indexed claimId, address indexed submitter, uint256 commitBlock
    );
    event RewardPaid(uint256 indexed requestId, address indexed submitter, uint256 amount);
    event Refunded(uint256 indexed requestId, address indexed requester, uint256 amount);

    error BadConfig();
    error UnknownRequest();
    error WrongModel();
    error WrongInputs();
    error ClaimRejected();
    /// @dev No commit of keccak256(abi.encode(requestId, claimant, finalGraphState, salt)).
    error NotCommitted();
    /// @dev The holding answer has an earlier commit (or the same block and a smaller claim id).
    error Outranked();
    error AlreadyAnswered();
    error DeadlinePassed();
    error DeadlineNotReached();
    error NotAnswered();
    error ClaimNotValid();
    /// @dev The holder's claim is not rejected: it will be paid, or can still be.
    error NotRefundable();
    error Closed();
    error TransferFailed();

    constructor(IDisputeGame game_, uint256 answerWindow_) {
        if (address(game_) == address(0) || answerWindow_ == 0 || answerWindow_ > type(uint32).max) {
            revert BadConfig();
        }
        game = game_;
        answerWindow = answerWindow_;
    }

    /// @notice Asks for inference on `inputs` (one byte string per graph input) with msg.value as
    /// reward. The inputs are published through the game (which checks their sizes), so every
    /// answering claim's inputs are available.
    function request(uint256 modelId, bytes[] calldata inputs) external payable returns (uint256 requestId) {
        bytes32 g0 = game.publishInputs(modelId, inputs);
        requestId = ++requestCount;
        uint256 deadline = block.timestamp + answerWindow;
        Request storage r = _requests[requestId];
        r.requester = msg.sender;
        // Exact: registry ids count from 1 (the game just read the model); timestamps fit 64 bits.
        // forge-lint: disable-next-line(unsafe-typecast)
        r.modelId = uint64(modelId);
        // forge-lint: disable-next-line(unsafe-typecast)
        r.deadline = uint64(deadline);
        r.reward = msg.value;
        r.graphState0 = g0;
        emit InferenceRequested(requestId, msg.sender, modelId, inputs, msg.value, deadline);
    }

    /// @notice Records `h` (see the contract notice); only its first commit counts.
    function commit(uint256 requestId, bytes32 h) external {
        _open(requestId);
        if (commitBlock[h] == 0) commitBlock[h] = block.number;
        emit Committed(requestId, h, msg.sender);
    }

    /// @notice Links claim `claimId` to the request, revealing the salt of its claimant's commit.
    /// The best-ranked answer (earliest commit block, then smallest claim id) holds the request; a
    /// holder whose claim was rejected yields to any valid answer.
    function answer(uint256 requestId, uint256 claimId, bytes32 salt) external {
        Request storage r = _open(requestId);
        IDisputeGame.Claim memory c = game.claimOf(claimId);
        if (c.modelId != r.modelId) revert WrongModel();
        if (c.graphState0 != r.graphState0) revert WrongInputs();
        if (c.status == IDisputeGame.ClaimStatus.Rejected) revert ClaimRejected();
        uint256 cb = commitBlock[keccak256(abi.encode(requestId, c.claimant, c.finalGraphState, salt))];
        if (cb == 0) revert NotCommitted();
        uint256 held = r.claimId;
        if (held == claimId) revert AlreadyAnswered();
        if (held != 0 && game.claimOf(held).status != IDisputeGame.ClaimStatus.Rejected) {
            if (r.commitBlock < cb || (r.commitBlock == cb && held < claimId)) revert Outranked();
        }
        r.claimId = claimId;
        r.submitter = c.claimant;
        // Exact: a block number.
        // forge-lint: disable-next-line(unsafe-typecast)
        r.commitBlock = uint64(cb);
        emit RequestAnswered(requestId, claimId, c.claimant, cb);
    }

    /// @notice Pays the reward to the holder's claimant once its claim finalized as valid.
    function collect(uint256 requestId) external {
        Request storage r = _known(requestId);
        if (r.closed) revert Closed();
        if (r.claimId == 0) revert NotAnswered();
        if (!game.isValid(r.claimId)) revert ClaimNotValid();
        r.closed = true;
        emit RewardPaid(requestId, r.submitter, r.reward);
        _pay(r.submitter, r.reward);
    }

    /// @notice After the deadline, returns the reward to the requester if no answer holds the
    /// request or the holder's claim was rejected.
    function refund(uint256 requestId) external {
        Request storage r = _known(requestId);
        if (r.closed) revert Closed();
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < r.deadline) revert DeadlineNotReached();
        if (r.claimId != 0 && game.claimOf(r.claimId).status != IDisputeGame.ClaimStatus.Rejected) {
            revert NotRefundable();
        }
        r.closed = true;
        emit Refunded(requestId, r.requester, r.reward);
        _pay(r.requester, r.reward);
    }

    function requestOf(uint256 requestId) external view returns (Request memory) {
        return _requests[requestId];
    }

    function _known(uint256 requestId) internal view returns (Request storage r) {
        r = _requests[requestId];
        if (r.requester == address(0)) revert UnknownRequest();
    }

    /// @dev A request still taking commits and answers: before its deadline and not closed.
    function _open(uint256 requestId) internal view returns (Request storage r) {
        r = _known(requestId);
        if (r.closed) revert Closed();
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp >= r.deadline) revert DeadlinePassed();
    }

    function _pay(address to, uint256 amount) internal {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed();
    }
}
