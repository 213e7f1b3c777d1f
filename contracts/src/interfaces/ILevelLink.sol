// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ILevelLink
/// @notice The link from one level of the dispute game to the next, finer one (docs/PROTOCOL.md §5).
/// A level bisects a run of `steps` transitions between an agreed start root and a disputed end root.
/// When the dispute is narrowed to one transition `index` (pre → post) of a level that is not the
/// last, the claimant refines that transition into a run of the next level: the link checks, from
/// `data`, that a child run ending in `endRoot` produces `post` from `pre`, and computes the child's
/// start root itself, so the challenger cannot be made to "agree" to a wrong start.
/// @dev Must be side-effect free (it is called with STATICCALL) and revert on any mismatch.
/// `context` is what the parent level knows about the run (level 0: bytes32(modelId)); the link
/// returns the child's context, so a chain of links can carry identifiers down (e.g. model → node →
/// tile) without the game contract knowing their meaning.
interface ILevelLink {
    function link(bytes32 context, uint256 index, bytes32 preRoot, bytes32 postRoot, bytes calldata data)
        external
        view
        returns (bytes32 childContext, bytes32 startRoot, bytes32 endRoot, uint256 steps);
}
