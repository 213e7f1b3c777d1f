// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {INodeVmLink} from "./INodeVmLink.sol";

/// @title IRegistry
/// @notice Programs (a VM program: the DNN library, docs/PROTOCOL.md §4.2) and models (a package,
/// §3, bound to a program) that claims refer to. Entries are immutable once registered; ids count
/// from 1. Everything the dispute game and the phase link need to recompute commitments onchain is
/// here; the rest of the package (weights, shapes beyond the input sizes) stays offchain behind
/// `manifestHash` and `weightsURI`. A model's node list is validated at registration (§5.1), so every
/// registered model is a runnable single-assignment graph.
interface IRegistry {
    /// @notice The constants a program contributes to every initial VM state (game/registry.ts `programInfo`).
    struct Program {
        bytes32 codeRoot;
        bytes32 globalsRoot;
        uint32 codeDepth;
        /// @dev pc of the `exec` export's first instruction.
        uint32 entryPc;
        address registrant;
    }

    /// @notice What the game knows about a model (game/registry.ts `modelRecord`).
    struct Model {
        /// @dev §1.3, the Merkle root of the weight tensor roots (depth `weightsDepth`).
        bytes32 modelRoot;
        /// @dev Merkle root of the node leaves (NodeLeaf), depth ⌈log2 nNodes⌉, computed here.
        bytes32 nodesRoot;
        /// @dev keccak256 of manifest.json as published, for offchain lookup only.
        bytes32 manifestHash;
        uint64 programId;
        uint32 nNodes;
        /// @dev Depth of the activation table, ⌈log2 (nInputs + Σ outputs)⌉.
        uint8 tableDepth;
        /// @dev Depth of the model root's tree, ⌈log2 #weights⌉.
        uint8 weightsDepth;
        /// @dev Graph inputs are activation slots 0 … nInputs − 1 (= inputBytes.length).
        uint32 nInputs;
        /// @dev The activation slot a claim's output root refers to (written by some node).
        uint32 outputSlot;
        /// @dev Most VM steps one node may take: the bound on T at the VM level (§5.8).
        uint64 maxSteps;
        address registrant;
        /// @dev Byte length of each graph input (numel · 4); claims must publish exactly these.
        uint32[] inputBytes;
        string weightsURI;
    }

    /// @notice What a registrant supplies; the registry derives nNodes and nodesRoot from the nodes.
    struct ModelSpec {
        uint256 programId;
        bytes32 modelRoot;
        /// @dev Must equal depthFor(inputBytes.length + Σ outSlots.length).
        uint256 tableDepth;
        uint256 weightsDepth;
        /// @dev nInputs = inputBytes.length ≥ 1; each > 0 and a multiple of 4.
        uint32[] inputBytes;
        /// @dev Must be written by some node (≥ nInputs).
        uint256 outputSlot;
        /// @dev 1 … 2^64 − 1.
        uint256 maxSteps;
        bytes32 manifestHash;
        string weightsURI;
    }

    /// @notice Why a node list was refused (BadGraph).
    enum GraphFault {
        /// @dev inKinds/inIndex/inHeights or outSlots/outHeights differ in length.
        Lengths,
        /// @dev An input kind other than 0 (activation) or 1 (weight).
        InKind,
        /// @dev An activation read of a slot no input or earlier node wrote.
        ReadUnwritten,
        /// @dev An activation read at a height other than its slot's (input: byteDepth of its size;
        /// output: its producer's outHeight).
        HeightMismatch,
        /// @dev A weight index outside the model root (≥ 2^weightsDepth).
        WeightIndex,
        /// @dev A write of a slot already written (an input, in place, or twice).
        SlotWritten,
        /// @dev A write that skips the next free slot.
        OutOfOrder,
        /// @dev A region height above the memory depth (27).
        BadHeight
    }

    event ProgramRegistered(
        uint256 indexed programId,
        bytes32 codeRoot,
        uint256 codeDepth,
        uint256 entryPc,
        bytes32 globalsRoot,
        address indexed registrant
    );

    /// @dev The whole record: a watchtower identifies a model by all of it, never by modelRoot alone.
    event ModelRegistered(
        uint256 indexed modelId,
        uint256 indexed programId,
        bytes32 modelRoot,
        bytes32 nodesRoot,
        uint256 nNodes,
        uint256 tableDepth,
        uint256 weightsDepth,
        uint32[] inputBytes,
        uint256 outputSlot,
        uint256 maxSteps,
        bytes32 manifestHash,
        string weightsURI,
        address indexed registrant
    );

    /// @notice A paged registration was begun (beginModel); its nodes follow in addNodes pages.
    event ModelDraftBegun(uint256 indexed draftId, address indexed owner, uint256 nNodes, uint256 nSlots);

    error UnknownProgram(uint256 programId);
    error UnknownModel(uint256 modelId);
    /// @dev A tree depth above 32, or an entry pc outside the code tree.
    error BadProgram();
    /// @dev No nodes or inputs, an input size not a positive multiple of 4, a depth above 32, a
    /// tableDepth other than depthFor(#slots), an output slot no node writes, or maxSteps out of range.
    error BadModel();
    /// @dev Node `node` breaks the graph rules (§5.1) as `fault` says.
    error BadGraph(uint256 node, GraphFault fault);
    /// @dev No draft `draftId` is open: never begun, or already finished.
    error UnknownDraft(uint256 draftId);
    /// @dev Only the account that began draft `draftId` may add to or finish it.
    error NotDraftOwner(uint256 draftId);
    /// @dev A page would take draft `draftId` past the nNodes nodes or nSlots slots it declared.
    error DraftOverflow(uint256 draftId);
    /// @dev Draft `draftId` has `nodes` nodes and `slots` slots (inputs included), not the declared ones.
    error DraftIncomplete(uint256 draftId, uint256 nodes, uint256 slots);

    function registerProgram(bytes32 codeRoot, uint256 codeDepth, uint256 entryPc, bytes32 globalsRoot)
        external
        returns (uint256 programId);

    /// @notice Registers a model after validating its node list; nodesRoot is computed from `nodes`.
    function registerModel(ModelSpec calldata s, INodeVmLink.NodeDesc[] calldata nodes)
        external
        returns (uint256 modelId);

    /// @notice Paged registration, for node lists too large for one transaction (§5.1): checks the
    /// spec as registerModel does, with the node and slot counts (inputs included) declared up
    /// front, and opens a draft owned by the caller. The record, event and nodesRoot that
    /// finishModel produces are exactly those registerModel gives for the same spec and nodes.
    function beginModel(ModelSpec calldata s, uint256 nNodes, uint256 nSlots)
        external
        returns (uint256 draftId);

    /// @notice Appends the next nodes (in order) to the caller's draft, validating each as
    /// registerModel does; BadGraph names a node by its index in the whole list.
    function addNodes(uint256 draftId, INodeVmLink.NodeDesc[] calldata nodes) external;

    /// @notice Registers the caller's draft as a model once it holds exactly the declared nodes and
    /// slots, and closes the draft.
    function finishModel(uint256 draftId) external returns (uint256 modelId);

    /// @notice An open draft's owner and progress (nodes and slots so far, and as declared).
    function draft(uint256 draftId)
        external
        view
        returns (address owner, uint256 nodesAdded, uint256 nNodes, uint256 slots, uint256 nSlots);

    function program(uint256 programId) external view returns (Program memory);

    function model(uint256 modelId) external view returns (Model memory);

    function programCount() external view returns (uint256);

    function modelCount() external view returns (uint256);
}
