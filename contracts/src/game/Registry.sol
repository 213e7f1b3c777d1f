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
/// a preimage.
contract Registry is IRegistry {
    /// @dev Deepest tree a registered root may have (code, activation table, weights, nodes).
    uint256 internal constant MAX_TREE_DEPTH = 32;
    /// @dev Deepest region a node may have: the VM memory tree (vm/isa.ts LIMITS.MEMORY_DEPTH).
    uint256 internal constant MEMORY_DEPTH = VmLimits.MEMORY_DEPTH;

    mapping(uint256 => Program) internal _programs;
    mapping(uint256 => Model) internal _models;
    uint256 internal _programCount;
    uint256 internal _modelCount;

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
        if (s.programId == 0 || s.programId > _programCount) revert UnknownProgram(s.programId);
        uint256 nIn = s.inputBytes.length;
        uint256 nNodes = nodes.length;
        if (
            nIn == 0 || nNodes == 0 || nNodes >> 32 != 0 || s.tableDepth > MAX_TREE_DEPTH
                || s.weightsDepth > MAX_TREE_DEPTH || s.maxSteps == 0 || s.maxSteps > type(uint64).max
        ) revert BadModel();
        uint256 nSlots = nIn;
        for (uint256 k; k < nNodes; ++k) {
            nSlots += nodes[k].outSlots.length;
        }
        // The table is exactly as deep as its slots need (so the registrant cannot pick a depth
        // the agents do not expect), and the claimed output is some node's output, not an input.
        if (Merkle.depthFor(nSlots) != s.tableDepth || s.outputSlot < nIn || s.outputSlot >= nSlots) {
            revert BadModel();
        }
        bytes32 nodesRoot = _validate(s, nodes, nSlots);

        modelId = ++_modelCount;
        Model storage m = _models[modelId];
        // The casts below are exact by the checks above: nSlots ≤ 2^tableDepth ≤ 2^32 bounds nIn and
        // outputSlot, depths ≤ 32, maxSteps < 2^64 (ids count from 1 and stay far below 2^64).
        m.modelRoot = s.modelRoot;
        m.nodesRoot = nodesRoot;
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
        m.nInputs = uint32(nIn);
        // forge-lint: disable-next-line(unsafe-typecast)
        m.outputSlot = uint32(s.outputSlot);
        // forge-lint: disable-next-line(unsafe-typecast)
        m.maxSteps = uint64(s.maxSteps);
        m.registrant = msg.sender;
        m.inputBytes = s.inputBytes;
        m.weightsURI = s.weightsURI;
        _emitModel(modelId, m);
    }

    /// @dev Checks the graph rules of §5.1 and returns the root of the node leaves. Single
    /// assignment in canonical order: slots 0 … nIn − 1 are the inputs, node k writes the next free
    /// slots in order, so every slot is written once and never in place. A read is of an input or
    /// an earlier output at that slot's height. These rules are what makes every link state have a
    /// preimage: an unwritten slot's empty leaf or a root at the wrong height has none, and a
    /// write into a filled slot cannot pass the link's empty-slot check, so a model breaking them
    /// could make true claims indefensible or false ones irrefutable.
    function _validate(ModelSpec calldata s, INodeVmLink.NodeDesc[] calldata nodes, uint256 nSlots)
        private
        pure
        returns (bytes32)
    {
        uint256 nIn = s.inputBytes.length;
        uint256[] memory height = new uint256[](nSlots);
        for (uint256 i; i < nIn; ++i) {
            uint256 b = s.inputBytes[i];
            if (b == 0 || b % 4 != 0) revert BadModel();
            // ≤ 27 since b < 2^32.
            height[i] = Merkle.byteDepth(b);
        }
        uint256 next = nIn;
        bytes32[] memory leaves = new bytes32[](nodes.length);
        for (uint256 k; k < nodes.length; ++k) {
            INodeVmLink.NodeDesc calldata n = nodes[k];
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
                    if (h != height[idx]) revert BadGraph(k, GraphFault.HeightMismatch);
                } else if (n.inKinds[j] == 1) {
                    if (idx >> s.weightsDepth != 0) revert BadGraph(k, GraphFault.WeightIndex);
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
                height[next++] = h;
            }
            leaves[k] = NodeLeaf.hashCalldata(n);
        }
        return Merkle.leavesRoot(leaves);
    }

    /// @dev Split out of registerModel to keep its stack small.
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
