// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PhaseLinkBase} from "./PhaseLinkBase.t.sol";
import {INodeVmLink} from "../src/interfaces/INodeVmLink.sol";
import {IRegistry} from "../src/interfaces/IRegistry.sol";
import {Merkle} from "../src/lib/Merkle.sol";

/// @notice NodeVmLink against the TypeScript phase link (game/link.ts) on every node of the real
/// mnist_cnn package: same layout, same initial VM state root S_0, every node's link accepted, and
/// every kind of tampering rejected with its own error.
contract PhaseLinkTest is PhaseLinkBase {
    function setUp() public {
        _loadVectors();
    }

    function test_vectorsCoverEveryNode() public view {
        assertEq(nNodes, 10);
        for (uint256 k; k < nNodes; ++k) {
            assertEq(vm.parseJsonUint(json, _key(k, "index")), k);
        }
    }

    function test_layoutMatchesEveryNode() public view {
        for (uint256 k; k < nNodes; ++k) {
            NodeCase memory c = _node(k);
            (uint256[] memory addrs,, uint256 pages) = nodeLink.nodeLayout(c.d.node);
            assertEq(addrs, c.regionAddrs, string.concat("layout of node ", vm.toString(k)));
            assertEq(pages, c.memoryPages, string.concat("pages of node ", vm.toString(k)));
        }
    }

    /// The memory root and the whole initial state (S_0) computed onchain from the descriptor and
    /// the input roots alone equal the real machine's (nodeInitialFields == nodeMachine's root).
    function test_initialStateRootMatchesEveryNode() public view {
        for (uint256 k; k < nNodes; ++k) {
            NodeCase memory c = _node(k);
            assertEq(keccak256(abi.encodePacked(c.initialState)), c.initialRoot);
            bytes32 s0 = nodeLink.initialStateRoot(modelId, c.d.node, c.d.inputRoots);
            assertEq(s0, c.initialRoot, string.concat("S_0 of node ", vm.toString(k)));
        }
    }

    function test_linkAcceptsEveryNode() public view {
        for (uint256 k; k < nNodes; ++k) {
            NodeCase memory c = _node(k);
            (bytes32 start, bytes32 end, uint256 steps) = nodeLink.linkNode(modelId, k, c.pre, c.post, c.d);
            assertEq(start, c.initialRoot, "start");
            assertEq(end, c.finalRoot, "end");
            assertEq(steps, c.d.steps, "steps");
            // The generic ILevelLink entry (what the game calls) agrees and derives the child context.
            (bytes32 ctx, bytes32 start2, bytes32 end2, uint256 steps2) =
                nodeLink.link(bytes32(modelId), k, c.pre, c.post, abi.encode(c.d));
            assertEq(ctx, keccak256(abi.encode(bytes32(modelId), k)));
            assertEq(start2, start);
            assertEq(end2, end);
            assertEq(steps2, steps);
        }
    }

    /// Graph states chain: node k's post is node k+1's pre, the first is graphState0 of the claim
    /// and the last the claim's final graph state.
    function test_graphStatesChain() public view {
        for (uint256 k; k + 1 < nNodes; ++k) {
            assertEq(
                vm.parseJsonBytes32(json, _key(k, "postState")),
                vm.parseJsonBytes32(json, _key(k + 1, "preState"))
            );
        }
        assertEq(
            vm.parseJsonBytes32(json, _key(0, "preState")), vm.parseJsonBytes32(json, ".claim.graphState0")
        );
        assertEq(
            vm.parseJsonBytes32(json, _key(nNodes - 1, "postState")),
            vm.parseJsonBytes32(json, ".claim.finalGraphState")
        );
    }

    function test_paramBlockWordsAreLittleEndianInt32() public view {
        NodeCase memory c = _node(0);
        bytes memory pb = nodeLink.paramBlockBytes(c.d.node);
        uint256 nIn = c.d.node.inKinds.length;
        uint256 nOut = c.d.node.outSlots.length;
        assertEq(pb.length, 4 * (4 + nIn + nOut + c.d.node.params.length));
        assertEq(_word(pb, 0), c.d.node.op);
        assertEq(_word(pb, 1), nIn);
        assertEq(_word(pb, 2), nOut);
        assertEq(_word(pb, 3), c.d.node.params.length);
        for (uint256 i; i < nIn + nOut; ++i) {
            assertEq(_word(pb, 4 + i), c.regionAddrs[1 + i]);
        }
        for (uint256 i; i < c.d.node.params.length; ++i) {
            assertEq(_word(pb, 4 + nIn + nOut + i), uint256(c.d.node.params[i]) & 0xffffffff);
        }
    }

    function _word(bytes memory b, uint256 i) private pure returns (uint256 w) {
        for (uint256 j; j < 4; ++j) {
            w |= uint256(uint8(b[4 * i + j])) << (8 * j);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Tampering: each rejected with its own error
    // ---------------------------------------------------------------------------------------------

    function _expectReject(NodeCase memory c, uint256 k, bytes memory err) internal {
        vm.expectRevert(err);
        nodeLink.linkNode(modelId, k, c.pre, c.post, c.d);
    }

    function test_rejectsWrongNodeIndex() public {
        NodeCase memory c = _node(3);
        _expectReject(c, 4, abi.encodeWithSelector(INodeVmLink.BadNodeProof.selector));
    }

    function test_rejectsTamperedParams() public {
        NodeCase memory c = _node(3);
        c.d.node.params[0] += 1;
        _expectReject(c, 3, abi.encodeWithSelector(INodeVmLink.BadNodeProof.selector));
    }

    function test_rejectsTamperedHeights() public {
        NodeCase memory c = _node(3);
        c.d.node.outHeights[0] += 1;
        _expectReject(c, 3, abi.encodeWithSelector(INodeVmLink.BadNodeProof.selector));
    }

    function test_rejectsNodePathOfWrongLength() public {
        NodeCase memory c = _node(3);
        bytes32[] memory p = new bytes32[](c.d.nodePath.length - 1);
        for (uint256 i; i < p.length; ++i) {
            p[i] = c.d.nodePath[i];
        }
        c.d.nodePath = p;
        _expectReject(c, 3, abi.encodeWithSelector(INodeVmLink.BadPathLength.selector));
    }

    function test_rejectsWrongPreTable() public {
        NodeCase memory c = _node(5);
        c.d.preTableRoot = vm.parseJsonBytes32(json, _key(4, "preTableRoot"));
        _expectReject(c, 5, abi.encodeWithSelector(INodeVmLink.PreStateMismatch.selector));
    }

    /// An activation input that is not the agreed one (e.g. the challenger's view of the previous
    /// node's output) cannot enter the VM.
    function test_rejectsTamperedActivationInput() public {
        NodeCase memory c = _node(3);
        c.d.inputRoots[0] = keccak256("another tensor");
        _expectReject(c, 3, abi.encodeWithSelector(INodeVmLink.BadInputProof.selector, 0));
    }

    function test_rejectsTamperedWeightInput() public {
        NodeCase memory c = _node(3);
        c.d.inputRoots[2] = bytes32(uint256(c.d.inputRoots[2]) ^ 1);
        _expectReject(c, 3, abi.encodeWithSelector(INodeVmLink.BadInputProof.selector, 2));
    }

    function test_rejectsUnknownInputKind() public {
        NodeCase memory c = _node(3);
        c.d.node.inKinds[1] = 2;
        // The descriptor no longer matches nodesRoot; and no model with such a node can be
        // registered (the registry's graph rules), so the link's own kind check is unreachable.
        _expectReject(c, 3, abi.encodeWithSelector(INodeVmLink.BadNodeProof.selector));
    }

    /// Finding 10: T is bounded per model. The same node on a model registered with a step bound
    /// just below its real step count is refused; at exactly its step count it links.
    function test_rejectsStepsAboveMaxSteps() public {
        NodeCase memory c = _node(3);
        uint256 tight = _registerModel(c.d.steps - 1);
        vm.expectRevert(INodeVmLink.BadStepCount.selector);
        nodeLink.linkNode(tight, 3, c.pre, c.post, c.d);
        uint256 exact = _registerModel(c.d.steps);
        (,, uint256 steps) = nodeLink.linkNode(exact, 3, c.pre, c.post, c.d);
        assertEq(steps, c.d.steps);
    }

    /// Finding 13/14, defence in depth: an activation input root 0 (an empty slot) at a height
    /// above 0 has no byte preimage, so the link refuses it even in a pre table that holds it.
    function test_rejectsEmptyActivationInputAboveHeight0() public {
        NodeCase memory c = _node(0);
        assertEq(c.d.node.inKinds[0], 0);
        assertGt(c.d.node.inHeights[0], 0);
        bytes32 table = Merkle.rootFromProof(bytes32(0), c.d.node.inIndex[0], c.d.inputPaths[0]);
        c.d.preTableRoot = table;
        c.d.inputRoots[0] = bytes32(0);
        bytes32 pre = Merkle.hashPair(registry.model(modelId).modelRoot, table);
        vm.expectRevert(abi.encodeWithSelector(INodeVmLink.BadInputProof.selector, 0));
        nodeLink.linkNode(modelId, 0, pre, c.post, c.d);
    }

    function test_rejectsInputPathOfWrongLength() public {
        NodeCase memory c = _node(3);
        c.d.inputPaths[1] = new bytes32[](4); // a weight path has weightsDepth = 3 siblings
        _expectReject(c, 3, abi.encodeWithSelector(INodeVmLink.BadPathLength.selector));
    }

    function test_rejectsZeroSteps() public {
        NodeCase memory c = _node(8);
        c.d.steps = 0;
        _expectReject(c, 8, abi.encodeWithSelector(INodeVmLink.BadStepCount.selector));
    }

    function test_rejectsUnfinishedFinalState() public {
        NodeCase memory c = _node(8);
        c.d.finalState[0] = bytes32(uint256(0)); // running
        _expectReject(c, 8, abi.encodeWithSelector(INodeVmLink.NotFinished.selector));
        c.d.finalState[0] = bytes32(uint256(2)); // trapped
        _expectReject(c, 8, abi.encodeWithSelector(INodeVmLink.NotFinished.selector));
    }

    function test_rejectsNonZeroReturnCode() public {
        NodeCase memory c = _node(8);
        c.d.finalState[2] = keccak256(abi.encode(bytes32(0), uint256(2))); // exec returned 2
        _expectReject(c, 8, abi.encodeWithSelector(INodeVmLink.NotFinished.selector));
    }

    /// The final state's memory must hold the claimed output at the output region.
    function test_rejectsOutputNotInFinalMemory() public {
        NodeCase memory c = _node(8);
        c.d.finalState[8] = keccak256("other memory");
        _expectReject(c, 8, abi.encodeWithSelector(INodeVmLink.BadOutputProof.selector, 0));
    }

    function test_rejectsOutputPathOfWrongLength() public {
        NodeCase memory c = _node(8);
        c.d.outputPaths[0] = new bytes32[](27);
        _expectReject(c, 8, abi.encodeWithSelector(INodeVmLink.BadPathLength.selector));
    }

    /// A wrong output root fails at the memory proof; with a memory root made to fit it, it fails
    /// at the graph update (the post state has the true output).
    function test_rejectsWrongOutputRoot() public {
        NodeCase memory c = _node(8);
        bytes32 fake = keccak256("fake output");
        c.d.outputRoots[0] = fake;
        _expectReject(c, 8, abi.encodeWithSelector(INodeVmLink.BadOutputProof.selector, 0));
        (uint256[] memory addrs,,) = nodeLink.nodeLayout(c.d.node);
        uint256 h = c.d.node.outHeights[0];
        c.d.finalState[8] = Merkle.rootFromProof(fake, addrs[addrs.length - 1] >> (5 + h), c.d.outputPaths[0]);
        _expectReject(c, 8, abi.encodeWithSelector(INodeVmLink.PostStateMismatch.selector));
    }

    function test_rejectsWrongPostState() public {
        NodeCase memory c = _node(8);
        c.post = vm.parseJsonBytes32(json, _key(9, "postState"));
        _expectReject(c, 8, abi.encodeWithSelector(INodeVmLink.PostStateMismatch.selector));
    }

    /// The output slot must be empty before the node: linking node 8 from the state after node 8
    /// (slot already set) fails.
    function test_rejectsOutputSlotAlreadySet() public {
        NodeCase memory c = _node(8); // reads slot 8, writes slot 9: siblings in the table
        assertEq(c.d.node.inIndex[0], 8);
        assertEq(c.d.node.outSlots[0], 9);
        c.pre = c.post;
        c.d.preTableRoot = vm.parseJsonBytes32(json, _key(9, "preTableRoot"));
        // Slot 8's path in the table after node 8: its sibling is now slot 9, the rest is unchanged.
        bytes32[] memory p = c.d.tablePaths[0];
        bytes32[] memory q = new bytes32[](p.length);
        for (uint256 i; i < p.length; ++i) {
            q[i] = p[i];
        }
        q[0] = c.d.outputRoots[0];
        c.d.inputPaths[0] = q;
        // The input is still found, the output slot is not empty: the update is refused.
        c.d.tablePaths[0][0] = c.d.inputRoots[0];
        _expectReject(c, 8, abi.encodeWithSelector(INodeVmLink.BadGraphUpdate.selector, 0));
    }

    function test_rejectsWrongTablePath() public {
        NodeCase memory c = _node(8);
        c.d.tablePaths[0][1] = keccak256("x");
        _expectReject(c, 8, abi.encodeWithSelector(INodeVmLink.BadGraphUpdate.selector, 0));
    }

    function test_rejectsLengthMismatch() public {
        NodeCase memory c = _node(8);
        c.d.inputRoots = new bytes32[](2);
        _expectReject(c, 8, abi.encodeWithSelector(INodeVmLink.LengthMismatch.selector));
        c = _node(8);
        c.d.tablePaths = new bytes32[][](0);
        _expectReject(c, 8, abi.encodeWithSelector(INodeVmLink.LengthMismatch.selector));
    }

    function test_rejectsUnknownModel() public {
        NodeCase memory c = _node(8);
        vm.expectRevert(abi.encodeWithSelector(IRegistry.UnknownModel.selector, 99));
        nodeLink.linkNode(99, 8, c.pre, c.post, c.d);
    }

    /// Fuzz: flipping any bit of any root or path element the link reads is rejected.
    function testFuzz_rejectsAnyFlippedWord(uint256 which, uint8 bit) public {
        NodeCase memory c = _node(7); // Gemm: activation + two weights
        uint256 nIn = c.d.inputRoots.length;
        bytes32 mask = bytes32(uint256(1) << bit);
        which = bound(which, 0, 6 + nIn);
        if (which == 0) c.d.preTableRoot ^= mask;
        else if (which == 1) c.d.finalState[0] ^= mask;
        else if (which == 2) c.d.finalState[2] ^= mask;
        else if (which == 3) c.d.finalState[8] ^= mask;
        else if (which == 4) c.d.outputRoots[0] ^= mask;
        else if (which == 5) c.d.nodePath[0] ^= mask;
        else if (which == 6) c.d.tablePaths[0][0] ^= mask;
        else c.d.inputRoots[which - 7] ^= mask;
        vm.expectRevert();
        nodeLink.linkNode(modelId, 7, c.pre, c.post, c.d);
    }
}
