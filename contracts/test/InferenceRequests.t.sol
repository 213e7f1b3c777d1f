// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IDisputeGame} from "../src/interfaces/IDisputeGame.sol";
import {InferenceRequests} from "../src/requests/InferenceRequests.sol";
import {Merkle} from "../src/lib/Merkle.sol";

/// @dev Just enough of the game for the request contract: claims, validity, graph state 0.
contract GameStub {
    mapping(uint256 => IDisputeGame.Claim) internal claims;
    mapping(uint256 => bool) public valid;

    function setClaim(uint256 id, address claimant, uint64 modelId, bytes32 g0, IDisputeGame.ClaimStatus st)
        external
    {
        claims[id].claimant = claimant;
        claims[id].modelId = modelId;
        claims[id].graphState0 = g0;
        claims[id].status = st;
        valid[id] = st == IDisputeGame.ClaimStatus.Finalized;
    }

    function claimOf(uint256 id) external view returns (IDisputeGame.Claim memory) {
        return claims[id];
    }

    function isValid(uint256 id) external view returns (bool) {
        return valid[id];
    }

    function computeGraphState0(uint256 modelId, bytes32[] calldata roots) external pure returns (bytes32) {
        return keccak256(abi.encode(modelId, roots));
    }
}

contract InferenceRequestsTest is Test {
    GameStub stub;
    InferenceRequests req;
    address user = address(0xA11CE);
    address honest = address(0xB0B);
    address liar = address(0xBAD);

    function setUp() public {
        stub = new GameStub();
        req = new InferenceRequests(IDisputeGame(address(stub)));
        vm.deal(user, 10 ether);
    }

    function _request() internal returns (uint256 id, bytes32 g0) {
        bytes[] memory inputs = new bytes[](1);
        inputs[0] = hex"0100000002000000";
        vm.prank(user);
        id = req.request{value: 1 ether}(7, inputs);
        bytes32[] memory roots = new bytes32[](1);
        roots[0] = Merkle.bytesRoot(inputs[0]);
        g0 = stub.computeGraphState0(7, roots);
    }

    function test_rewardGoesToTheValidAnswer_afterARejectedOne() public {
        (uint256 id, bytes32 g0) = _request();
        stub.setClaim(1, liar, 7, g0, IDisputeGame.ClaimStatus.Pending);
        req.answer(id, 1);
        stub.setClaim(2, honest, 7, g0, IDisputeGame.ClaimStatus.Pending);
        vm.expectRevert(InferenceRequests.AlreadyAnswered.selector);
        req.answer(id, 2);
        vm.expectRevert(InferenceRequests.ClaimNotValid.selector);
        req.collect(id);
        stub.setClaim(1, liar, 7, g0, IDisputeGame.ClaimStatus.Rejected);
        req.answer(id, 2);
        stub.setClaim(2, honest, 7, g0, IDisputeGame.ClaimStatus.Finalized);
        req.collect(id);
        assertEq(honest.balance, 1 ether);
        vm.expectRevert(InferenceRequests.AlreadyPaid.selector);
        req.collect(id);
    }

    function test_answerMustMatchModelAndInputs() public {
        (uint256 id, bytes32 g0) = _request();
        stub.setClaim(3, honest, 8, g0, IDisputeGame.ClaimStatus.Pending);
        vm.expectRevert(InferenceRequests.WrongModel.selector);
        req.answer(id, 3);
        stub.setClaim(4, honest, 7, bytes32(uint256(1)), IDisputeGame.ClaimStatus.Pending);
        vm.expectRevert(InferenceRequests.WrongInputs.selector);
        req.answer(id, 4);
        vm.expectRevert(InferenceRequests.UnknownRequest.selector);
        req.answer(99, 4);
    }
}
