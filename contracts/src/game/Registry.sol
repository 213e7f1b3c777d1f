// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Merkle} from "../lib/Merkle.sol";
import {NodeLeaf} from "../lib/NodeLeaf.sol";
import {VmLimits} from "../lib/VmConstants.sol";
import {IRegistry} from "../interfaces/IRegistry.sol";
import {INodeVmLink} from "../interfaces/INodeVmLink.sol";

/// @title Registry
/// @notice Registers VM programs and models (docs/PROTOCOL.md §5.1). Permissionless and append-only:
/// an entry never changes, so a claim's meaning is fixed by its model id. Anyone may register the
/// same content twice, or the same weights with another graph; the ids differ and a watchtower
/// acts on an id only if its whole record matches the package it holds. The node list is
/// validated here and nodesRoot computed from it, so no registered model has a link state without
/// a preimage: in one transaction (registerModel) or, for a list too large for one, in pages
/// (beginModel, addNodes …, finishModel) that run the same per-node check and fold the leaves into
/// an incremental Merkle frontier.
contract Registry is IRegistry {
    /// @dev Deepest tree a registered root may have (code, activation table, weights, nodes).
    uint256 internal constant MAX_TREE_DEPTH = 32;
    /// @dev Deepest region a node may have: the VM memory tree (vm/isa.ts LIMITS.MEMORY_DEPTH).
    uint256 internal constant MEMORY_DEPTH = VmLimits.MEMORY_DEPTH;

    /// @dev A paged registration (beginModel … finishModel): the record being built (nodesRoot
    /// still zero, registrant = the owner) and how far its node list has got.
    struct Draft {
        Model model;
        uint32 nodesAdded;
        /// @dev Slots written so far, inputs included: the next free slot.
        uint64 slots;
        /// @dev As declared at beginModel.
        uint64 nSlots;
    }

    /// @dev Where slot heights live while a node list is checked: `words` in memory (registerModel)
    /// or, when `draft` ≠ 0, that draft's storage words. 32 heights (≤ 27 each) per word, slot i in
    /// byte i % 32 of word i / 32.
    struct Heights {
        uint256 draft;
        uint256[] words;
    }

    mapping(uint256 => Program) internal _programs;
    mapping(uint256 => Model) internal _models;
    uint256 internal _programCount;
    uint256 internal _modelCount;
    mapping(uint256 => Draft) internal _drafts;
    /// @dev Per draft: the packed slot heights (see Heights).
    mapping(uint256 => mapping(uint256 => uint256)) internal _draftHeights;
    /// @dev Per draft: the incremental Merkle frontier of its node leaves (see _pushLeaf).
    mapping(uint256 => mapping(uint256 => bytes32)) internal _draftFrontier;
    uint256 internal _draftCount;

    /// @inheritdoc IRegistry
    function registerProgram(bytes32 codeRoot, uint256 codeDepth, uint256 entryPc, bytes32 globalsRoot)
        external
        returns (uint256 programId)
    {
        if (codeDepth > MAX_TREE_DEPTH || entryPc >> codeDepth != 0) revert BadProgram();
        programId = ++_programCount;
        // Both casts are exact: codeDepth ≤ 32 and entryPc < 2^codeDepth.
        _programs[programId] = Program({
            codeRoot: codeRoot,
            globalsRoot: globalsRoot,
            // forge-lint: disable-next-line(unsafe-typecast)
            codeDepth: uint32(codeDepth),
            // forge-lint: disable-next-line(unsafe-typecast)
            entryPc: uint32(entryPc),
            registrant: msg.sender
        });
        emit ProgramRegistered(programId, codeRoot, codeDepth, entryPc, globalsRoot, msg.sender);
    }

    /// @inheritdoc IRegistry
    function registerModel(ModelSpec calldata s, INodeVmLink.NodeDesc[] calldata nodes)
        external
        returns (uint256 modelId)
    {
        uint256 nNodes = nodes.length;
        uint256 nSlots = s.inputBytes.length;
        for (uint256 k; k < nNodes; ++k) {
            nSlots += nodes[k].outSlots.length;
        }
        _checkSpec(s, nNodes, nSlots);
        Heights memory t = Heights(0, new uint256[]((nSlots + 31) >> 5));
        uint256 next = _inputHeights(s, t);
        bytes32[] memory leaves = new bytes32[](nNodes);
        for (uint256 k; k < nNodes; ++k) {
            (next, leaves[k]) = _checkNode(k, nodes[k], next, s.weightsDepth, t);
        }
        modelId = ++_modelCount;
        Model storage m = _models[modelId];
        _writeRecord(m, s, nNodes);
        m.nodesRoot = Merkle.leavesRoot(leaves);
        _emitModel(modelId, m);
    }

    /// @inheritdoc IRegistry
    function beginModel(ModelSpec calldata s, uint256 nNodes, uint256 nSlots)
        external
        returns (uint256 draftId)
    {
        _checkSpec(s, nNodes, nSlots);
        draftId = ++_draftCount;
        Draft storage d = _drafts[draftId];
        _writeRecord(d.model, s, nNodes);
        // Both exact: nInputs < nSlots ≤ 2^tableDepth ≤ 2^32 by _checkSpec.
        // forge-lint: disable-next-line(unsafe-typecast)
        d.slots = uint64(s.inputBytes.length);
        // forge-lint: disable-next-line(unsafe-typecast)
        d.nSlots = uint64(nSlots);
        _inputHeights(s, Heights(draftId, new uint256[](0)));
        emit ModelDraftBegun(draftId, msg.sender, nNodes, nSlots);
    }

    /// @inheritdoc IRegistry
    function addNodes(uint256 draftId, INodeVmLink.NodeDesc[] calldata nodes) external {
        Draft storage d = _ownDraft(draftId);
        uint256 k0 = d.nodesAdded;
        uint256 end = k0 + nodes.length;
        if (end > d.model.nNodes) revert DraftOverflow(draftId);
        Heights memory t = Heights(draftId, new uint256[](0));
        uint256 next = d.slots;
        uint256 weightsDepth = d.model.weightsDepth;
        for (uint256 i; i < nodes.length; ++i) {
            bytes32 leaf;
            (next, leaf) = _checkNode(k0 + i, nodes[i], next, weightsDepth, t);
            _pushLeaf(draftId, k0 + i, leaf);
        }
        // Refused here rather than only at finish, so a page cannot run the slot count (and the
        // height words) past what the spec's tableDepth was checked against.
        if (next > d.nSlots) revert DraftOverflow(draftId);
        // Both exact: end ≤ nNodes < 2^32 and next ≤ nSlots ≤ 2^32.
        // forge-lint: disable-next-line(unsafe-typecast)
        d.nodesAdded = uint32(end);
        // forge-lint: disable-next-line(unsafe-typecast)
        d.slots = uint64(next);
    }

    /// @inheritdoc IRegistry
    function finishModel(uint256 draftId) external returns (uint256 modelId) {
        Draft storage d = _ownDraft(draftId);
        uint256 nNodes = d.model.nNodes;
        // The declared counts were what beginModel checked the spec against; a list that falls
        // short of either (e.g. no node writes outputSlot) never becomes a model.
        if (d.nodesAdded != nNodes || d.slots != d.nSlots) {
            revert DraftIncomplete(draftId, d.nodesAdded, d.slots);
        }
        modelId = ++_modelCount;
        _models[modelId] = d.model;
        Model storage m = _models[modelId];
        m.nodesRoot = _frontierRoot(draftId, nNodes);
        _emitModel(modelId, m);
        // Heights and frontier stay behind under a draft id that is never reused.
        delete _drafts[draftId];
    }

    /// @inheritdoc IRegistry
    function draft(uint256 draftId)
        external
        view
        returns (address owner, uint256 nodesAdded, uint256 nNodes, uint256 slots, uint256 nSlots)
    {
        Draft storage d = _drafts[draftId];
        owner = d.model.registrant;
        if (owner == address(0)) revert UnknownDraft(draftId);
        return (owner, d.nodesAdded, d.model.nNodes, d.slots, d.nSlots);
    }

    /// @dev The checks on the spec alone, given the node count and the slot count (inputs
    /// included): derived from the nodes by registerModel, declared by beginModel.
    function _checkSpec(ModelSpec calldata s, uint256 nNodes, uint256 nSlots) private view {
        if (s.programId == 0 || s.programId > _programCount) revert UnknownProgram(s.programId);
        uint256 nIn = s.inputBytes.length;
        if (
            nIn == 0 || nNodes == 0 || nNodes >> 32 != 0 || s.tableDepth > MAX_TREE_DEPTH
                || s.weightsDepth > MAX_TREE_DEPTH || s.maxSteps == 0 || s.maxSteps > type(uint64).max
        ) revert BadModel();
        // The table is exactly as deep as its slots need (so the registrant cannot pick a depth
        // the agents do not expect), and the claimed output is some node's output, not an input.
        if (Merkle.depthFor(nSlots) != s.tableDepth || s.outputSlot < nIn || s.outputSlot >= nSlots) {
            revert BadModel();
        }
        for (uint256 i; i < nIn; ++i) {
            uint256 b = s.inputBytes[i];
            if (b == 0 || b % 4 != 0) revert BadModel();
        }
    }

    /// @dev Everything of the record but nodesRoot. The casts are exact by _checkSpec: nSlots ≤
    /// 2^tableDepth ≤ 2^32 bounds nIn and outputSlot, depths ≤ 32, maxSteps < 2^64, nNodes < 2^32
    /// (ids count from 1 and stay far below 2^64).
    function _writeRecord(Model storage m, ModelSpec calldata s, uint256 nNodes) private {
        m.modelRoot = s.modelRoot;
        m.manifestHash = s.manifestHash;
        // forge-lint: disable-next-line(unsafe-typecast)
        m.programId = uint64(s.programId);
        // forge-lint: disable-next-line(unsafe-typecast)
        m.nNodes = uint32(nNodes);
        // forge-lint: disable-next-line(unsafe-typecast)
        m.tableDepth = uint8(s.tableDepth);
        // forge-lint: disable-next-line(unsafe-typecast)
        m.weightsDepth = uint8(s.weightsDepth);
        // forge-lint: disable-next-line(unsafe-typecast)
        m.nInputs = uint32(s.inputBytes.length);
        // forge-lint: disable-next-line(unsafe-typecast)
        m.outputSlot = uint32(s.outputSlot);
        // forge-lint: disable-next-line(unsafe-typecast)
        m.maxSteps = uint64(s.maxSteps);
        m.registrant = msg.sender;
        m.inputBytes = s.inputBytes;
        m.weightsURI = s.weightsURI;
    }

    /// @dev Records the graph inputs' heights (slots 0 … nIn − 1, byteDepth of their sizes, ≤ 27
    /// since a size is below 2^32) and returns nIn, the first slot a node writes.
    function _inputHeights(ModelSpec calldata s, Heights memory t) private returns (uint256 nIn) {
        nIn = s.inputBytes.length;
        for (uint256 i; i < nIn; ++i) {
            _setHeight(t, i, Merkle.byteDepth(s.inputBytes[i]));
        }
    }

    /// @dev Checks node `k` against the graph rules of §5.1, given `next`, the first slot not yet
    /// written, and records its outputs' heights; returns the next free slot after it and its leaf.
    /// Single assignment in canonical order: slots 0 … nIn − 1 are the inputs, node k writes the
    /// next free slots in order, so every slot is written once and never in place. A read is of an
    /// input or an earlier output at that slot's height. These rules are what makes every link
    /// state have a preimage: an unwritten slot's empty leaf or a root at the wrong height has
    /// none, and a write into a filled slot cannot pass the link's empty-slot check, so a model
    /// breaking them could make true claims indefensible or false ones irrefutable. The one check
    /// both registerModel and addNodes run.
    function _checkNode(
        uint256 k,
        INodeVmLink.NodeDesc calldata n,
        uint256 next,
        uint256 weightsDepth,
        Heights memory t
    ) private returns (uint256, bytes32) {
        uint256 nIns = n.inKinds.length;
        uint256 nOuts = n.outSlots.length;
        if (n.inIndex.length != nIns || n.inHeights.length != nIns || n.outHeights.length != nOuts) {
            revert BadGraph(k, GraphFault.Lengths);
        }
        for (uint256 j; j < nIns; ++j) {
            uint256 idx = n.inIndex[j];
            uint256 h = n.inHeights[j];
            if (h > MEMORY_DEPTH) revert BadGraph(k, GraphFault.BadHeight);
            if (n.inKinds[j] == 0) {
                if (idx >= next) revert BadGraph(k, GraphFault.ReadUnwritten);
                if (h != _height(t, idx)) revert BadGraph(k, GraphFault.HeightMismatch);
            } else if (n.inKinds[j] == 1) {
                if (idx >> weightsDepth != 0) revert BadGraph(k, GraphFault.WeightIndex);
            } else {
                revert BadGraph(k, GraphFault.InKind);
            }
        }
        for (uint256 j; j < nOuts; ++j) {
            uint256 slot = n.outSlots[j];
            if (slot < next) revert BadGraph(k, GraphFault.SlotWritten);
            if (slot > next) revert BadGraph(k, GraphFault.OutOfOrder);
            uint256 h = n.outHeights[j];
            if (h > MEMORY_DEPTH) revert BadGraph(k, GraphFault.BadHeight);
            _setHeight(t, next++, h);
        }
        return (next, NodeLeaf.hashCalldata(n));
    }

    /// @dev Height of `slot` (written before), one byte of a packed word.
    function _height(Heights memory t, uint256 slot) private view returns (uint256) {
        uint256 w = t.draft == 0 ? t.words[slot >> 5] : _draftHeights[t.draft][slot >> 5];
        return (w >> ((slot & 31) << 3)) & 0xff;
    }

    /// @dev Records the height (≤ 27) of `slot`, written exactly once, so its byte is still zero.
    function _setHeight(Heights memory t, uint256 slot, uint256 h) private {
        uint256 bits = h << ((slot & 31) << 3);
        if (t.draft == 0) t.words[slot >> 5] |= bits;
        else _draftHeights[t.draft][slot >> 5] |= bits;
    }

    /// @dev Folds leaf `index` into the draft's frontier (the deposit contract's incremental
    /// tree): with `index + 1` leaves, level h holds the root of the last full 2^h-leaf subtree
    /// when bit h of the count is set. One write and at most log2 n reads per leaf.
    function _pushLeaf(uint256 draftId, uint256 index, bytes32 leaf) private {
        mapping(uint256 => bytes32) storage f = _draftFrontier[draftId];
        uint256 size = index + 1;
        uint256 h;
        while (size & 1 == 0) {
            leaf = Merkle.hashPair(f[h], leaf);
            size >>= 1;
            ++h;
        }
        f[h] = leaf;
    }

    /// @dev Merkle.leavesRoot of the draft's `n` leaves, zero-padded to 2^depthFor(n), from the
    /// frontier: bottom-up, a set bit of n puts a full subtree left of the partial one, a clear bit
    /// puts the partial one left of ZERO[h].
    function _frontierRoot(uint256 draftId, uint256 n) private view returns (bytes32 node) {
        mapping(uint256 => bytes32) storage f = _draftFrontier[draftId];
        uint256 depth = Merkle.depthFor(n);
        // A full tree (n a power of two) has its root where its last leaf's push stored it.
        if (n & (n - 1) == 0) return f[depth];
        for (uint256 h; h < depth; ++h) {
            node = (n >> h) & 1 == 1 ? Merkle.hashPair(f[h], node) : Merkle.hashPair(node, Merkle.zeroHash(h));
        }
    }

    /// @dev The draft `draftId`, which the caller must own.
    function _ownDraft(uint256 draftId) private view returns (Draft storage d) {
        d = _drafts[draftId];
        address owner = d.model.registrant;
        if (owner == address(0)) revert UnknownDraft(draftId);
        if (owner != msg.sender) revert NotDraftOwner(draftId);
    }

    /// @dev Shared by registerModel and finishModel (and keeps their stacks small).
    function _emitModel(uint256 modelId, Model storage m) private {
        emit ModelRegistered(
            modelId,
            m.programId,
            m.modelRoot,
            m.nodesRoot,
            m.nNodes,
            m.tableDepth,
            m.weightsDepth,
            m.inputBytes,
            m.outputSlot,
            m.maxSteps,
            m.manifestHash,
            m.weightsURI,
            msg.sender
        );
    }

    /// @inheritdoc IRegistry
    function program(uint256 programId) external view returns (Program memory) {
        if (programId == 0 || programId > _programCount) revert UnknownProgram(programId);
        return _programs[programId];
    }

    /// @inheritdoc IRegistry
    function model(uint256 modelId) external view returns (Model memory) {
        if (modelId == 0 || modelId > _modelCount) revert UnknownModel(modelId);
        return _models[modelId];
    }

    /// @inheritdoc IRegistry
    function programCount() external view returns (uint256) {
        return _programCount;
    }

    /// @inheritdoc IRegistry
    function modelCount() external view returns (uint256) {
        return _modelCount;
    }
}
