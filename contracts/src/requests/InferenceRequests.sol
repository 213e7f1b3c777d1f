// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IDisputeGame} from "../interfaces/IDisputeGame.sol";
import {Merkle} from "../lib/Merkle.sol";

/// @title InferenceRequests
/// @notice Users ask for an inference (model id + input tensors, with a reward); a submitter answers
/// with a claim in the dispute game whose initial graph state commits to exactly these inputs; the
/// reward is paid once that claim has finalized as valid. Inputs are int32 little-endian tensor
/// bytes (docs/PROTOCOL.md §1.2), their roots computed here.
contract InferenceRequests {
    struct Request {
        address requester;
        uint64 modelId;
        bool paid;
        uint256 reward;
        uint256 claimId;
        address submitter;
        bytes32 graphState0;
    }

    IDisputeGame public immutable game;
    uint256 public requestCount;
    mapping(uint256 => Request) internal _requests;

    event InferenceRequested(
        uint256 indexed requestId,
        address indexed requester,
        uint256 indexed modelId,
        bytes[] inputs,
        uint256 reward
    );
    event RequestAnswered(uint256 indexed requestId, uint256 indexed claimId, address indexed submitter);
    event RewardPaid(uint256 indexed requestId, address indexed submitter, uint256 amount);

    error UnknownRequest();
    error AlreadyAnswered();
    error WrongModel();
    error WrongInputs();
    error NotAnswered();
    error ClaimNotValid();
    error AlreadyPaid();
    error TransferFailed();

    constructor(IDisputeGame game_) {
        game = game_;
    }

    /// @notice Asks for inference on `inputs` (one byte string per graph input) with msg.value as reward.
    function request(uint256 modelId, bytes[] calldata inputs) external payable returns (uint256 requestId) {
        bytes32[] memory roots = new bytes32[](inputs.length);
        for (uint256 i; i < inputs.length; ++i) {
            roots[i] = Merkle.bytesRootCalldata(inputs[i]);
        }
        requestId = ++requestCount;
        Request storage r = _requests[requestId];
        r.requester = msg.sender;
        r.modelId = uint64(modelId);
        r.reward = msg.value;
        r.graphState0 = game.computeGraphState0(modelId, roots);
        emit InferenceRequested(requestId, msg.sender, modelId, inputs, msg.value);
    }

    /// @notice Links a claim to the request. The first matching answer holds the slot unless its
    /// claim gets rejected, so a wrong answer cannot block an honest one.
    function answer(uint256 requestId, uint256 claimId) external {
        Request storage r = _requests[requestId];
        if (r.requester == address(0)) revert UnknownRequest();
        if (r.claimId != 0 && game.claimOf(r.claimId).status != IDisputeGame.ClaimStatus.Rejected) {
            revert AlreadyAnswered();
        }
        IDisputeGame.Claim memory c = game.claimOf(claimId);
        if (c.modelId != r.modelId) revert WrongModel();
        if (c.graphState0 != r.graphState0) revert WrongInputs();
        r.claimId = claimId;
        r.submitter = c.claimant;
        emit RequestAnswered(requestId, claimId, c.claimant);
    }

    /// @notice Pays the reward to the answering submitter once its claim finalized as valid.
    function collect(uint256 requestId) external {
        Request storage r = _requests[requestId];
        if (r.requester == address(0)) revert UnknownRequest();
        if (r.claimId == 0) revert NotAnswered();
        if (r.paid) revert AlreadyPaid();
        if (!game.isValid(r.claimId)) revert ClaimNotValid();
        r.paid = true;
        emit RewardPaid(requestId, r.submitter, r.reward);
        (bool ok,) = r.submitter.call{value: r.reward}("");
        if (!ok) revert TransferFailed();
    }

    function requestOf(uint256 requestId) external view returns (Request memory) {
        return _requests[requestId];
    }
}
