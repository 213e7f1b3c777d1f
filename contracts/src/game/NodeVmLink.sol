// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Merkle} from "../lib/Merkle.sol";
import {NodeLeaf} from "../lib/NodeLeaf.sol";
import {VmLimits} from "../lib/VmConstants.sol";
import {IRegistry} from "../interfaces/IRegistry.sol";
import {INodeVmLink} from "../interfaces/INodeVmLink.sol";

/// @title NodeVmLink
/// @notice The onchain phase link from the graph level to the VM level (docs/PROTOCOL.md §4.6, §5.4),
/// the twin of game/link.ts (`nodeLayout`, `regionsMemoryRoot`, `nodeInitialFields`, `verifyOutput`,
/// `verifyGraphUpdate`) and game/registry.ts (`nodeLeaf`, through the shared NodeLeaf library).
/// Graph transition `index` (graph state `pre` after `index` nodes → `post` after `index + 1`)
/// becomes a VM run of node `index`: this contract proves the node descriptor against the model's
/// nodesRoot and each input tensor root against the pre table (activations) or the model root
/// (weights), computes the initial VM state root S_0 from those alone, and checks that the claimed
/// final state is finished with return code 0, that each output's tensor root is its region of the
/// final memory, and that `post` is `pre`'s table with exactly the output slots filled.
/// Differential test: contracts/test/PhaseLink.t.sol against contracts/test/vectors/phase-link.json
/// (tools/vectors/phase-link-vectors.ts, from the real mnist_cnn package run in the VM).
contract NodeVmLink is INodeVmLink {
    /// @dev Memory tree depth: 2^27 leaves of 32 bytes (vm/isa.ts LIMITS.MEMORY_DEPTH).
    uint256 internal constant MEMORY_DEPTH = VmLimits.MEMORY_DEPTH;
    /// @dev Locals tree depth (LIMITS.LOCALS_DEPTH).
    uint256 internal constant LOCALS_DEPTH = VmLimits.LOCALS_DEPTH;
    /// @dev returnPc of the entry frame.
    uint256 internal constant HALT_PC = VmLimits.HALT_PC;
    /// @dev WASM page size.
    uint256 internal constant PAGE = VmLimits.PAGE;
    /// @dev Status word of a machine that returned from its entry frame.
    uint256 internal constant FINISHED = VmLimits.FINISHED;
    /// @dev Stack hash after `exec` returned 0: keccak(0x00…00 ‖ word(0)) = ZERO[1].
    bytes32 internal constant RETURNED_ZERO =
        0xad3228b676f7d3cd4284a5443f17f1962b36e491b30a40b2405849e597ba5fb5;

    IRegistry public immutable registry;

    constructor(IRegistry registry_) {
        registry = registry_;
    }

    // ---------------------------------------------------------------------------------------------
    // ILevelLink
    // ---------------------------------------------------------------------------------------------

    /// @notice `context` is bytes32(modelId); `data` is abi.encode(LinkData). The child context is
    /// keccak256(abi.encode(context, index)).
    function link(bytes32 context, uint256 index, bytes32 preRoot, bytes32 postRoot, bytes calldata data)
        external
        view
        returns (bytes32 childContext, bytes32 startRoot, bytes32 endRoot, uint256 steps)
    {
        LinkData memory d = abi.decode(data, (LinkData));
        (startRoot, endRoot, steps) = _link(uint256(context), index, preRoot, postRoot, d);
        childContext = keccak256(abi.encode(context, index));
    }

    /// @inheritdoc INodeVmLink
    function linkNode(uint256 modelId, uint256 index, bytes32 preRoot, bytes32 postRoot, LinkData calldata d)
        external
        view
        returns (bytes32 startRoot, bytes32 endRoot, uint256 steps)
    {
        return _link(modelId, index, preRoot, postRoot, d);
    }

    /// @inheritdoc INodeVmLink
    function initialStateRoot(uint256 modelId, NodeDesc calldata node, bytes32[] calldata inputRoots)
        external
        view
        returns (bytes32 root)
    {
        if (node.inHeights.length != inputRoots.length) revert LengthMismatch();
        IRegistry.Program memory p = registry.program(registry.model(modelId).programId);
        (root,) = _initialState(p, node, inputRoots);
    }

    /// @notice The region layout of a node (game/link.ts `nodeLayout`): `addrs[0]` is the parameter
    /// block, then the inputs, then the outputs; `heights` likewise; `pages` is the initial memory size.
    function nodeLayout(NodeDesc calldata node)
        external
        pure
        returns (uint256[] memory addrs, uint256[] memory heights, uint256 pages)
    {
        (addrs, heights, pages) = _layout(node);
    }

    /// @notice The parameter block bytes of a node (§2, int32 little-endian words).
    function paramBlockBytes(NodeDesc calldata node) external pure returns (bytes memory) {
        (uint256[] memory addrs,,) = _layout(node);
        return _paramBlock(node, addrs);
    }

    // ---------------------------------------------------------------------------------------------
    // The link
    // ---------------------------------------------------------------------------------------------

    function _link(uint256 modelId, uint256 index, bytes32 preRoot, bytes32 postRoot, LinkData memory d)
        internal
        view
        returns (bytes32 startRoot, bytes32 endRoot, uint256 steps)
    {
        IRegistry.Model memory m = registry.model(modelId);
        _checkShape(d);
        _checkNode(m, index, d);
        if (Merkle.hashPair(m.modelRoot, d.preTableRoot) != preRoot) revert PreStateMismatch();
        _checkInputs(m, d);

        uint256[] memory addrs;
        (startRoot, addrs) = _initialState(registry.program(m.programId), d.node, d.inputRoots);

        steps = d.steps;
        // The per-model bound keeps the VM level's bisection short (⌈log2 maxSteps⌉ rounds), so a
        // liar cannot force 64 rounds per game onto a watchtower playing many games at once.
        if (steps == 0 || steps > m.maxSteps) revert BadStepCount();
        if (uint256(d.finalState[0]) != FINISHED || d.finalState[2] != RETURNED_ZERO) revert NotFinished();
        _checkOutputs(d, addrs);
        _checkGraphUpdate(m, postRoot, d);
        bytes32[12] memory f = d.finalState;
        assembly ("memory-safe") {
            endRoot := keccak256(f, 384)
        }
    }

    function _checkShape(LinkData memory d) private pure {
        NodeDesc memory n = d.node;
        uint256 nIn = n.inKinds.length;
        uint256 nOut = n.outSlots.length;
        if (
            n.inIndex.length != nIn || n.inHeights.length != nIn || d.inputRoots.length != nIn
                || d.inputPaths.length != nIn || n.outHeights.length != nOut || d.outputRoots.length != nOut
                || d.outputPaths.length != nOut || d.tablePaths.length != nOut
        ) revert LengthMismatch();
    }

    /// @dev The descriptor is leaf `index` of nodesRoot (game/registry.ts `nodeLeaf`, `nodesTree`).
    function _checkNode(IRegistry.Model memory m, uint256 index, LinkData memory d) private pure {
        if (d.nodePath.length != Merkle.depthFor(m.nNodes)) revert BadPathLength();
        if (Merkle.rootFromProof(NodeLeaf.hash(d.node), index, d.nodePath) != m.nodesRoot) {
            revert BadNodeProof();
        }
    }

    /// @dev Activation inputs are leaves of the pre table, weights leaves of the model root.
    function _checkInputs(IRegistry.Model memory m, LinkData memory d) private pure {
        NodeDesc memory n = d.node;
        for (uint256 i; i < n.inKinds.length; ++i) {
            bytes32[] memory path = d.inputPaths[i];
            bytes32 expect;
            uint256 depth;
            // An empty leaf 0 (an unwritten slot, a padding leaf of the model root) is no tensor
            // root above height 0 (those are never 0), so the S_0 built on it would have no byte
            // preimage. The registry's graph rules rule out reading an unwritten slot; refusing
            // it here keeps the link sound on its own and also covers weight padding leaves.
            if (d.inputRoots[i] == 0 && n.inHeights[i] > 0) revert BadInputProof(i);
            if (n.inKinds[i] == 0) {
                (expect, depth) = (d.preTableRoot, m.tableDepth);
            } else if (n.inKinds[i] == 1) {
                (expect, depth) = (m.modelRoot, m.weightsDepth);
            } else {
                revert BadInputProof(i);
            }
            if (path.length != depth) revert BadPathLength();
            if (
                n.inIndex[i] >> depth != 0
                    || Merkle.rootFromProof(d.inputRoots[i], n.inIndex[i], path) != expect
            ) {
                revert BadInputProof(i);
            }
        }
    }

    /// @dev Output i's tensor root is the subtree of its region in the final memory (`verifyOutput`).
    function _checkOutputs(LinkData memory d, uint256[] memory addrs) private pure {
        NodeDesc memory n = d.node;
        bytes32 memoryRoot = d.finalState[8];
        uint256 first = 1 + n.inKinds.length;
        for (uint256 i; i < n.outSlots.length; ++i) {
            uint256 h = n.outHeights[i];
            bytes32[] memory path = d.outputPaths[i];
            if (path.length != MEMORY_DEPTH - h) revert BadPathLength();
            if (Merkle.rootFromProof(d.outputRoots[i], addrs[first + i] >> (5 + h), path) != memoryRoot) {
                revert BadOutputProof(i);
            }
        }
    }

    /// @dev post = pre's table with the output slots filled one by one, each empty before
    /// (`verifyGraphUpdate`, generalised to several outputs: path i is taken in the table with
    /// outputs 0 … i−1 already set).
    function _checkGraphUpdate(IRegistry.Model memory m, bytes32 postRoot, LinkData memory d) private pure {
        NodeDesc memory n = d.node;
        bytes32 table = d.preTableRoot;
        for (uint256 i; i < n.outSlots.length; ++i) {
            bytes32[] memory path = d.tablePaths[i];
            uint256 slot = n.outSlots[i];
            if (path.length != m.tableDepth) revert BadPathLength();
            if (slot >> path.length != 0 || Merkle.rootFromProof(bytes32(0), slot, path) != table) {
                revert BadGraphUpdate(i);
            }
            table = Merkle.rootFromProof(d.outputRoots[i], slot, path);
        }
        if (Merkle.hashPair(m.modelRoot, table) != postRoot) revert PostStateMismatch();
    }

    // ---------------------------------------------------------------------------------------------
    // The initial state (game/link.ts nodeInitialFields)
    // ---------------------------------------------------------------------------------------------

    /// @dev S_0 = keccak of the 12 words of §4.3: status 0, pc = entryPc, empty stack, locals
    /// [paramsAddr], returnPc HALT, no frames, the program's globals, the regions' memory root, the
    /// initial page count, the program's code. Also returns the region addresses.
    function _initialState(IRegistry.Program memory p, NodeDesc memory n, bytes32[] memory inputRoots)
        internal
        pure
        returns (bytes32 root, uint256[] memory addrs)
    {
        uint256[] memory heights;
        uint256 pages;
        (addrs, heights, pages) = _layout(n);
        bytes32 memoryRoot = _memoryRoot(n, addrs, heights, inputRoots);
        bytes32 localsRoot = bytes32(addrs[0]);
        for (uint256 d; d < LOCALS_DEPTH; ++d) {
            localsRoot = Merkle.hashPair(localsRoot, Merkle.zeroHash(d));
        }
        root = keccak256(
            abi.encode(
                uint256(0), // status: running
                uint256(p.entryPc),
                bytes32(0), // stackHash: empty
                localsRoot,
                HALT_PC,
                bytes32(0), // frameStackHash: no suspended frame
                uint256(0), // frameDepth
                p.globalsRoot,
                memoryRoot,
                pages,
                p.codeRoot,
                uint256(p.codeDepth)
            )
        );
    }

    /// @dev Regions params, inputs…, outputs… (heights: the parameter block's byte depth, then the
    /// descriptor's), sorted by height descending with ties in that order (a stable insertion
    /// sort), packed from address 0; each is aligned to its size 32·2^h.
    function _layout(NodeDesc memory n)
        internal
        pure
        returns (uint256[] memory addrs, uint256[] memory heights, uint256 pages)
    {
        uint256 nIn = n.inHeights.length;
        uint256 nOut = n.outHeights.length;
        uint256 count = 1 + nIn + nOut;
        heights = new uint256[](count);
        heights[0] = Merkle.byteDepth(4 * (4 + nIn + nOut + n.params.length));
        for (uint256 i; i < nIn; ++i) {
            heights[1 + i] = n.inHeights[i];
        }
        for (uint256 i; i < nOut; ++i) {
            heights[1 + nIn + i] = n.outHeights[i];
        }
        uint256[] memory order = _order(heights);
        addrs = new uint256[](count);
        uint256 end;
        uint256 leafBytes = Merkle.LEAF_BYTES;
        for (uint256 k; k < count; ++k) {
            uint256 i = order[k];
            if (heights[i] > MEMORY_DEPTH) revert BadLayout();
            addrs[i] = end;
            end += leafBytes << heights[i];
        }
        if (end > leafBytes << MEMORY_DEPTH) revert BadLayout();
        pages = (end + PAGE - 1) / PAGE;
        if (pages == 0) pages = 1;
    }

    /// @dev Indices sorted by height descending; equal heights keep index order.
    function _order(uint256[] memory heights) private pure returns (uint256[] memory order) {
        uint256 count = heights.length;
        order = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            uint256 j = i;
            while (j > 0 && heights[order[j - 1]] < heights[i]) {
                order[j] = order[j - 1];
                --j;
            }
            order[j] = i;
        }
    }

    /// @dev The parameter block (§2): op, nIn, nOut, nParams, input addresses, output addresses,
    /// params; each an int32 little-endian word (values taken mod 2^32, as Int32Array does).
    function _paramBlock(NodeDesc memory n, uint256[] memory addrs) internal pure returns (bytes memory pb) {
        uint256 nIn = n.inHeights.length;
        uint256 nOut = n.outHeights.length;
        uint256 nParams = n.params.length;
        pb = new bytes(4 * (4 + nIn + nOut + nParams));
        _putWord(pb, 0, n.op);
        _putWord(pb, 1, nIn);
        _putWord(pb, 2, nOut);
        _putWord(pb, 3, nParams);
        for (uint256 i; i < nIn + nOut; ++i) {
            _putWord(pb, 4 + i, addrs[1 + i]);
        }
        for (uint256 i; i < nParams; ++i) {
            _putWord(pb, 4 + nIn + nOut + i, uint256(n.params[i]));
        }
    }

    function _putWord(bytes memory b, uint256 i, uint256 w) private pure {
        assembly ("memory-safe") {
            let p := add(add(b, 0x20), shl(2, i))
            mstore8(p, w)
            mstore8(add(p, 1), shr(8, w))
            mstore8(add(p, 2), shr(16, w))
            mstore8(add(p, 3), shr(24, w))
        }
    }

    /// @dev Memory root of the regions (game/link.ts `regionsMemoryRoot`): the parameter block's
    /// bytes, the input tensor roots, zero outputs, zero everywhere else. The regions are contiguous
    /// from 0 with non-increasing sizes, so appending their subtrees left to right to a stack whose
    /// heights strictly decrease, merging equal heights (always siblings: every region starts at a
    /// multiple of the size of the one before it), and then closing the stack with zero subtrees on
    /// the right yields the root of the 2^27-leaf tree.
    function _memoryRoot(
        NodeDesc memory n,
        uint256[] memory addrs,
        uint256[] memory heights,
        bytes32[] memory inputRoots
    ) internal pure returns (bytes32 root) {
        uint256 nIn = n.inHeights.length;
        uint256 count = heights.length;
        uint256[] memory order = _order(heights);
        bytes32[] memory stackRoot = new bytes32[](count);
        uint256[] memory stackHeight = new uint256[](count);
        uint256 sp;
        for (uint256 k; k < count; ++k) {
            uint256 i = order[k];
            uint256 h = heights[i];
            bytes32 r;
            if (i == 0) r = Merkle.bytesRootAtDepth(_paramBlock(n, addrs), h);
            else if (i <= nIn) r = inputRoots[i - 1];
            else r = Merkle.zeroHash(h);
            while (sp > 0 && stackHeight[sp - 1] == h) {
                r = Merkle.hashPair(stackRoot[--sp], r);
                ++h;
            }
            stackRoot[sp] = r;
            stackHeight[sp++] = h;
        }
        root = stackRoot[--sp];
        for (uint256 h = stackHeight[sp]; h < MEMORY_DEPTH; ++h) {
            if (sp > 0 && stackHeight[sp - 1] == h) root = Merkle.hashPair(stackRoot[--sp], root);
            else root = Merkle.hashPair(root, Merkle.zeroHash(h));
        }
    }
}
