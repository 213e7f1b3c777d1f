// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ILevelLink} from "./ILevelLink.sol";

/// @title INodeVmLink
/// @notice The phase link from the graph level to the VM level (docs/PROTOCOL.md §4.6, §5.4): graph
/// transition `index` (graph state after `index` nodes → after `index + 1`) is node `index` run in
/// the VM from an initial state the contract computes itself to a claimed final state.
interface INodeVmLink is ILevelLink {
    /// @notice A node as committed in the model's `nodesRoot` (game/registry.ts `NodeDesc`); its leaf is
    /// keccak256(abi.encode(op, inKinds, inIndex, inHeights, outSlots, outHeights, params)).
    struct NodeDesc {
        uint256 op;
        /// @dev Per input: 0 = activation slot, 1 = weight index.
        uint256[] inKinds;
        /// @dev Per input: the slot or weight index.
        uint256[] inIndex;
        /// @dev Region heights (tensor depths, §1.2) of the inputs and outputs.
        uint256[] inHeights;
        uint256[] outSlots;
        uint256[] outHeights;
        /// @dev Kernel parameters (int32 values; written to the parameter block mod 2^32).
        int256[] params;
    }

    /// @notice Everything `enterVm` needs (abi-encoded as the `data` of `link`).
    struct LinkData {
        NodeDesc node;
        /// @dev Siblings of leaf `index` in `nodesRoot`, ⌈log2 nNodes⌉ of them.
        bytes32[] nodePath;
        /// @dev Root of the activation table of the pre graph state: keccak(modelRoot ‖ preTableRoot) = pre.
        bytes32 preTableRoot;
        /// @dev Per input, its tensor root and its path: in the pre table (activation, tableDepth
        /// siblings) or in the model root (weight, weightsDepth siblings).
        bytes32[] inputRoots;
        bytes32[][] inputPaths;
        /// @dev The claimed final VM state: its 12 words (§4.3); its keccak is the child's end root.
        bytes32[12] finalState;
        /// @dev The claimed number of VM steps to reach it (1 … the model's maxSteps).
        uint256 steps;
        /// @dev Per output, its tensor root, the path from its region (height outHeights[i]) to the
        /// final memoryRoot (27 − height siblings), and its path in the activation table with outputs
        /// 0 … i−1 already set (tableDepth siblings; the slot must be empty before).
        bytes32[] outputRoots;
        bytes32[][] outputPaths;
        bytes32[][] tablePaths;
    }

    /// @dev The node leaf is not at `index` of the model's nodesRoot.
    error BadNodeProof();
    /// @dev Array lengths in LinkData disagree with the node descriptor.
    error LengthMismatch();
    /// @dev A Merkle path has the wrong number of siblings.
    error BadPathLength();
    /// @dev keccak(modelRoot ‖ preTableRoot) is not the pre graph state.
    error PreStateMismatch();
    /// @dev Input `i` is not in the pre table / the model root, has an unknown kind, or is a root
    /// 0 at a height above 0 (an empty leaf: no tensor has that root).
    error BadInputProof(uint256 i);
    /// @dev Region heights over 27 or a layout larger than the 4 GiB memory.
    error BadLayout();
    /// @dev steps is 0 or above the model's maxSteps.
    error BadStepCount();
    /// @dev The final state is not `finished` with return code 0.
    error NotFinished();
    /// @dev Output `i` is not in the final memory at its region.
    error BadOutputProof(uint256 i);
    /// @dev Output slot `i` is not empty before the node, or its path is wrong.
    error BadGraphUpdate(uint256 i);
    /// @dev The table with the outputs set is not the post graph state.
    error PostStateMismatch();

    /// @notice Typed form of `link` for node `index` of model `modelId`.
    function linkNode(uint256 modelId, uint256 index, bytes32 preRoot, bytes32 postRoot, LinkData calldata d)
        external
        view
        returns (bytes32 startRoot, bytes32 endRoot, uint256 steps);

    /// @notice The initial VM state root S_0 of a node with the given input tensor roots (§4.6).
    function initialStateRoot(uint256 modelId, NodeDesc calldata node, bytes32[] calldata inputRoots)
        external
        view
        returns (bytes32);
}
