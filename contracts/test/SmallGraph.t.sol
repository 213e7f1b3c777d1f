// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IRegistry} from "../src/interfaces/IRegistry.sol";
import {INodeVmLink} from "../src/interfaces/INodeVmLink.sol";

/// @dev The three-node graph that both registry suites register (one shot in GameRegistry.t.sol,
/// in pages in RegistryPaged.t.sol), and the array helpers that spell it.
///   node 0 (op 5): reads slot 0 and weight 1, writes slot 2 (height 1)
///   node 1 (op 6): reads slots 2 and 1, writes slots 3 (height 0) and 4 (height 2)
///   node 2 (op 7): reads slot 4, writes slot 5 (height 0) — the output. 6 slots: tableDepth 3.
abstract contract SmallGraph {
    function _u(uint256 a) internal pure returns (uint256[] memory x) {
        x = new uint256[](1);
        x[0] = a;
    }

    function _u(uint256 a, uint256 b) internal pure returns (uint256[] memory x) {
        x = new uint256[](2);
        (x[0], x[1]) = (a, b);
    }

    function _smallSpec(uint256 programId) internal pure returns (IRegistry.ModelSpec memory s) {
        s.programId = programId;
        s.modelRoot = keccak256("m");
        s.tableDepth = 3;
        s.weightsDepth = 2;
        s.inputBytes = new uint32[](2);
        s.inputBytes[0] = 64;
        s.inputBytes[1] = 4;
        s.outputSlot = 5;
        s.maxSteps = 1000;
        s.manifestHash = keccak256("manifest");
        s.weightsURI = "ipfs://w";
    }

    function _nodes() internal pure returns (INodeVmLink.NodeDesc[] memory ns) {
        ns = new INodeVmLink.NodeDesc[](3);
        ns[0] = INodeVmLink.NodeDesc(5, _u(0, 1), _u(0, 2), _u(1, 0), _u(2), _u(1), new int256[](0));
        ns[1] = INodeVmLink.NodeDesc(6, _u(0, 0), _u(2, 1), _u(1, 0), _u(3, 4), _u(0, 2), new int256[](1));
        ns[2] = INodeVmLink.NodeDesc(7, _u(0), _u(4), _u(2), _u(5), _u(0), new int256[](0));
        ns[1].params[0] = -3;
    }
}
