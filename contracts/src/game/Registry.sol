// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IRegistry} from "../interfaces/IRegistry.sol";

/// @title Registry
/// @notice Registers VM programs and models (docs/PROTOCOL.md §5.1). Permissionless and append-only:
/// an entry never changes, so a claim's meaning is fixed by its model id. Anyone may register the
/// same content twice; the ids differ and a watchtower compares contents, not ids.
contract Registry is IRegistry {
    /// @dev Deepest tree a registered root may have (code, activation table, weights, nodes).
    uint256 internal constant MAX_TREE_DEPTH = 32;

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
    ) external returns (uint256 modelId) {
        if (programId == 0 || programId > _programCount) {
            revert UnknownProgram(programId);
        }
        // nNodes and nInputs below 2^32, nInputs ≤ 2^tableDepth, outputSlot < 2^tableDepth ≤ 2^32.
        if (
            tableDepth > MAX_TREE_DEPTH || weightsDepth > MAX_TREE_DEPTH || nNodes == 0 || nNodes >> 32 != 0
                || nInputs == 0 || nInputs >> 32 != 0 || (nInputs - 1) >> tableDepth != 0
                || outputSlot >> tableDepth != 0
        ) revert BadModel();
        modelId = ++_modelCount;
        Model storage m = _models[modelId];
        // The casts below are exact by the checks above (ids count from 1 and stay far below 2^64).
        m.modelRoot = modelRoot;
        m.nodesRoot = nodesRoot;
        m.manifestHash = manifestHash;
        // forge-lint: disable-next-line(unsafe-typecast)
        m.programId = uint64(programId);
        // forge-lint: disable-next-line(unsafe-typecast)
        m.nNodes = uint32(nNodes);
        // forge-lint: disable-next-line(unsafe-typecast)
        m.tableDepth = uint8(tableDepth);
        // forge-lint: disable-next-line(unsafe-typecast)
        m.weightsDepth = uint8(weightsDepth);
        // forge-lint: disable-next-line(unsafe-typecast)
        m.nInputs = uint32(nInputs);
        // forge-lint: disable-next-line(unsafe-typecast)
        m.outputSlot = uint32(outputSlot);
        m.registrant = msg.sender;
        m.weightsURI = weightsURI;
        _emitModel(modelId, m);
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
            m.nInputs,
            m.outputSlot,
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
