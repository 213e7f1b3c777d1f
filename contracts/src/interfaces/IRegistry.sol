// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IRegistry
/// @notice Programs (a VM program: the DNN library, docs/PROTOCOL.md §4.2) and models (a package,
/// §3, bound to a program) that claims refer to. Entries are immutable once registered; ids count
/// from 1. Everything the dispute game and the phase link need to recompute commitments onchain is
/// here; the rest of the package (shapes, weights) stays offchain behind `manifestHash` and
/// `weightsURI`.
interface IRegistry {
    /// @notice The constants a program contributes to every initial VM state (vm/onchain.ts `programInfo`).
    struct Program {
        bytes32 codeRoot;
        bytes32 globalsRoot;
        uint32 codeDepth;
        /// @dev pc of the `exec` export's first instruction.
        uint32 entryPc;
        address registrant;
    }

    /// @notice What the game knows about a model (vm/onchain.ts `modelInfo`).
    struct Model {
        /// @dev §1.3, the Merkle root of the weight tensor roots (depth `weightsDepth`).
        bytes32 modelRoot;
        /// @dev Merkle root of the node leaves (vm/onchain.ts `nodeLeaf`), depth ⌈log2 nNodes⌉.
        bytes32 nodesRoot;
        /// @dev keccak256 of manifest.json as published, for offchain lookup only.
        bytes32 manifestHash;
        uint64 programId;
        uint32 nNodes;
        /// @dev Depth of the activation table, ⌈log2 #activations⌉.
        uint8 tableDepth;
        /// @dev Depth of the model root's tree, ⌈log2 #weights⌉.
        uint8 weightsDepth;
        /// @dev Graph inputs are activation slots 0 … nInputs − 1.
        uint32 nInputs;
        /// @dev The activation slot a claim's output root refers to.
        uint32 outputSlot;
        address registrant;
        string weightsURI;
    }

    event ProgramRegistered(
        uint256 indexed programId,
        bytes32 codeRoot,
        uint256 codeDepth,
        uint256 entryPc,
        bytes32 globalsRoot,
        address indexed registrant
    );

    event ModelRegistered(
        uint256 indexed modelId,
        uint256 indexed programId,
        bytes32 modelRoot,
        bytes32 nodesRoot,
        uint256 nNodes,
        uint256 tableDepth,
        uint256 weightsDepth,
        uint256 nInputs,
        uint256 outputSlot,
        bytes32 manifestHash,
        string weightsURI,
        address indexed registrant
    );

    error UnknownProgram(uint256 programId);
    error UnknownModel(uint256 modelId);
    /// @dev A tree depth above 32, or an entry pc outside the code tree.
    error BadProgram();
    /// @dev nNodes, nInputs or outputSlot do not fit the depths, or a depth above 32.
    error BadModel();

    function registerProgram(bytes32 codeRoot, uint256 codeDepth, uint256 entryPc, bytes32 globalsRoot)
        external
        returns (uint256 programId);

    function registerModel(
        uint256 programId,
        bytes32 modelRoot,
        bytes32 nodesRoot,
        uint256 nNodes,
        uint256 tableDepth,
        uint256 weightsDepth,
        uint256 nInputs,
        uint256 outputSlot,
        bytes32 manifestHash,
        string calldata weightsURI
    ) external returns (uint256 modelId);

    function program(uint256 programId) external view returns (Program memory);

    function model(uint256 modelId) external view returns (Model memory);

    function programCount() external view returns (uint256);

    function modelCount() external view returns (uint256);
}
