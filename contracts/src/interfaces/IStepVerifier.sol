// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IStepVerifier
/// @notice The one-step verifier of the VM level (docs/PROTOCOL.md §4.5): given an agreed pre-state
/// root and a step proof, returns the post-state root of executing one instruction. Must revert on a
/// proof that does not open `preRoot` (so a valid proof always yields the unique correct post root).
/// Implemented by contracts/src/step/OneStepProver.sol.
interface IStepVerifier {
    function verifyStep(bytes32 preRoot, bytes calldata proof) external view returns (bytes32 postRoot);
}
