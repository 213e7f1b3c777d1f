// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {Registry} from "../src/game/Registry.sol";
import {NodeVmLink} from "../src/game/NodeVmLink.sol";
import {INodeVmLink} from "../src/interfaces/INodeVmLink.sol";
import {IRegistry} from "../src/interfaces/IRegistry.sol";

/// @notice Reads contracts/test/vectors/phase-link.json (tools/vectors/phase-link-vectors.ts: the
/// mnist_cnn package on fixtures/inputs/mnist_0.json, every node run in the VM) and registers its
/// program and model. Shared by PhaseLink.t.sol and GameIntegration.t.sol.
abstract contract PhaseLinkBase is Test {
    /// @dev One node's transition, as the game sees it.
    struct NodeCase {
        INodeVmLink.LinkData d;
        bytes32 pre;
        bytes32 post;
        bytes32 initialRoot;
        bytes32 finalRoot;
        uint256[] regionAddrs;
        uint256 memoryPages;
        bytes32[] initialState;
    }

    string internal json;
    Registry internal registry;
    NodeVmLink internal nodeLink;
    uint256 internal programId;
    uint256 internal modelId;
    uint256 internal nNodes;

    function _loadVectors() internal {
        json = vm.readFile(string.concat(vm.projectRoot(), "/contracts/test/vectors/phase-link.json"));
        registry = new Registry();
        nodeLink = new NodeVmLink(registry);
        programId = registry.registerProgram(
            vm.parseJsonBytes32(json, ".program.codeRoot"),
            vm.parseJsonUint(json, ".program.codeDepth"),
            vm.parseJsonUint(json, ".program.entryPc"),
            vm.parseJsonBytes32(json, ".program.globalsRoot")
        );
        nNodes = vm.parseJsonUint(json, ".model.nNodes");
        modelId = _registerModel(vm.parseJsonUint(json, ".model.maxSteps"));
        // The registry computes nodesRoot from the descriptors exactly as game/registry.ts does.
        assertEq(registry.model(modelId).nodesRoot, vm.parseJsonBytes32(json, ".model.nodesRoot"));
    }

    /// Registers the vectors' model (all of its node descriptors) with the given step bound.
    function _registerModel(uint256 maxSteps) internal returns (uint256) {
        return registry.registerModel(_modelSpec(maxSteps), _nodeDescs());
    }

    /// The vectors' model spec with the given step bound.
    function _modelSpec(uint256 maxSteps) internal view returns (IRegistry.ModelSpec memory s) {
        s.programId = programId;
        s.modelRoot = vm.parseJsonBytes32(json, ".model.modelRoot");
        s.tableDepth = vm.parseJsonUint(json, ".model.tableDepth");
        s.weightsDepth = vm.parseJsonUint(json, ".model.weightsDepth");
        uint256[] memory sizes = vm.parseJsonUintArray(json, ".model.inputBytes");
        s.inputBytes = new uint32[](sizes.length);
        for (uint256 i; i < sizes.length; ++i) {
            s.inputBytes[i] = uint32(sizes[i]);
        }
        s.outputSlot = vm.parseJsonUint(json, ".model.outputSlot");
        s.maxSteps = maxSteps;
        s.manifestHash = vm.parseJsonBytes32(json, ".model.manifestHash");
        s.weightsURI = "ipfs://mnist_cnn/weights.bin";
    }

    /// All of the vectors' node descriptors.
    function _nodeDescs() internal view returns (INodeVmLink.NodeDesc[] memory nodes) {
        nodes = new INodeVmLink.NodeDesc[](nNodes);
        for (uint256 k; k < nNodes; ++k) {
            nodes[k] = _nodeDesc(k);
        }
    }

    /// The claim's raw inputs (to publish them before posting by roots).
    function _claimInputs() internal view returns (bytes[] memory ins) {
        ins = new bytes[](vm.parseJsonUint(json, ".model.nInputs"));
        for (uint256 i; i < ins.length; ++i) {
            ins[i] = vm.parseJsonBytes(json, string.concat(".claim.inputBytes[", vm.toString(i), "]"));
        }
    }

    function _key(uint256 k, string memory field) internal pure returns (string memory) {
        return string.concat(".nodes[", vm.toString(k), "].", field);
    }

    function _words12(string memory key) internal view returns (bytes32[12] memory w) {
        bytes32[] memory a = vm.parseJsonBytes32Array(json, key);
        require(a.length == 12, "12 words");
        for (uint256 i; i < 12; ++i) {
            w[i] = a[i];
        }
    }

    function _paths(uint256 k, string memory field, uint256 n) internal view returns (bytes32[][] memory p) {
        p = new bytes32[][](n);
        for (uint256 i; i < n; ++i) {
            p[i] = vm.parseJsonBytes32Array(json, string.concat(_key(k, field), "[", vm.toString(i), "]"));
        }
    }

    function _nodeDesc(uint256 k) internal view returns (INodeVmLink.NodeDesc memory n) {
        n.op = vm.parseJsonUint(json, _key(k, "op"));
        n.inKinds = vm.parseJsonUintArray(json, _key(k, "inKinds"));
        n.inIndex = vm.parseJsonUintArray(json, _key(k, "inIndex"));
        n.inHeights = vm.parseJsonUintArray(json, _key(k, "inHeights"));
        n.outSlots = vm.parseJsonUintArray(json, _key(k, "outSlots"));
        n.outHeights = vm.parseJsonUintArray(json, _key(k, "outHeights"));
        n.params = vm.parseJsonIntArray(json, _key(k, "params"));
    }

    function _node(uint256 k) internal view returns (NodeCase memory c) {
        INodeVmLink.LinkData memory d;
        d.node = _nodeDesc(k);
        d.nodePath = vm.parseJsonBytes32Array(json, _key(k, "nodePath"));
        d.preTableRoot = vm.parseJsonBytes32(json, _key(k, "preTableRoot"));
        d.inputRoots = vm.parseJsonBytes32Array(json, _key(k, "inputRoots"));
        d.inputPaths = _paths(k, "inputPaths", d.inputRoots.length);
        d.finalState = _words12(_key(k, "finalState"));
        d.steps = vm.parseJsonUint(json, _key(k, "steps"));
        d.outputRoots = vm.parseJsonBytes32Array(json, _key(k, "outputRoots"));
        d.outputPaths = _paths(k, "outputPaths", d.outputRoots.length);
        d.tablePaths = _paths(k, "tablePaths", d.outputRoots.length);
        c.d = d;
        c.pre = vm.parseJsonBytes32(json, _key(k, "preState"));
        c.post = vm.parseJsonBytes32(json, _key(k, "postState"));
        c.initialRoot = vm.parseJsonBytes32(json, _key(k, "initialRoot"));
        c.finalRoot = vm.parseJsonBytes32(json, _key(k, "finalRoot"));
        c.regionAddrs = vm.parseJsonUintArray(json, _key(k, "regionAddrs"));
        c.memoryPages = vm.parseJsonUint(json, _key(k, "memoryPages"));
        c.initialState = vm.parseJsonBytes32Array(json, _key(k, "initialState"));
    }
}
