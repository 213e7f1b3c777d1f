// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {INodeVmLink} from "../interfaces/INodeVmLink.sol";

/// @title NodeLeaf
/// @notice The leaf of a node descriptor in a model's nodesRoot (game/registry.ts `nodeLeaf`):
/// keccak256(abi.encode(op, inKinds, inIndex, inHeights, outSlots, outHeights, params)). Shared by
/// the Registry (which computes nodesRoot at registration) and the NodeVmLink (which proves a
/// descriptor against it), so the two can never disagree on the encoding.
library NodeLeaf {
    function hash(INodeVmLink.NodeDesc memory n) internal pure returns (bytes32) {
        return
            keccak256(abi.encode(n.op, n.inKinds, n.inIndex, n.inHeights, n.outSlots, n.outHeights, n.params));
    }

    function hashCalldata(INodeVmLink.NodeDesc calldata n) internal pure returns (bytes32) {
        return
            keccak256(abi.encode(n.op, n.inKinds, n.inIndex, n.inHeights, n.outSlots, n.outHeights, n.params));
    }
}
