// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {console2} from "forge-std/console2.sol";
import {PhaseLinkBase} from "./PhaseLinkBase.t.sol";
import {Registry} from "../src/game/Registry.sol";
import {IRegistry} from "../src/interfaces/IRegistry.sol";
import {INodeVmLink} from "../src/interfaces/INodeVmLink.sol";
import {SmallGraph} from "./SmallGraph.t.sol";
import {Merkle} from "../src/lib/Merkle.sol";

/// @notice Paged registration (beginModel, addNodes, finishModel): the same record, event and
/// nodesRoot as registerModel, and every refusal of a draft.
contract RegistryPagedTest is PhaseLinkBase, SmallGraph {
    address internal alice = makeAddr("alice");
    address internal mallory = makeAddr("mallory");

    function setUp() public {
        _loadVectors(); // model 1: mnist_cnn, registered in one shot by this contract
    }

    function _slots(IRegistry.ModelSpec memory s, INodeVmLink.NodeDesc[] memory ns)
        internal
        pure
        returns (uint256 n)
    {
        n = s.inputBytes.length;
        for (uint256 k; k < ns.length; ++k) {
            n += ns[k].outSlots.length;
        }
    }

    /// Pages `ns[from … to)` into `draftId`.
    function _page(uint256 draftId, INodeVmLink.NodeDesc[] memory ns, uint256 from, uint256 to) internal {
        INodeVmLink.NodeDesc[] memory page = new INodeVmLink.NodeDesc[](to - from);
        for (uint256 i; i < page.length; ++i) {
            page[i] = ns[from + i];
        }
        registry.addNodes(draftId, page);
    }

    /// Registers `ns` through a draft in pages of `size` nodes (as the caller).
    function _paged(IRegistry.ModelSpec memory s, INodeVmLink.NodeDesc[] memory ns, uint256 size)
        internal
        returns (uint256)
    {
        uint256 d = registry.beginModel(s, ns.length, _slots(s, ns));
        for (uint256 k; k < ns.length; k += size) {
            _page(d, ns, k, k + size < ns.length ? k + size : ns.length);
        }
        return registry.finishModel(d);
    }

    function test_paged_equalsOneShot_mnistCnn() public {
        IRegistry.ModelSpec memory s = _modelSpec(vm.parseJsonUint(json, ".model.maxSteps"));
        INodeVmLink.NodeDesc[] memory ns = _nodeDescs();
        bytes32 nodesRoot = vm.parseJsonBytes32(json, ".model.nodesRoot");
        bytes memory oneShot = abi.encode(registry.model(modelId));
        uint256[3] memory sizes = [uint256(1), 3, ns.length];
        for (uint256 i; i < sizes.length; ++i) {
            uint256 id = registry.modelCount() + 1;
            vm.expectEmit(true, true, true, true, address(registry));
            emit IRegistry.ModelDraftBegun(i + 1, address(this), ns.length, _slots(s, ns));
            uint256 d = registry.beginModel(s, ns.length, _slots(s, ns));
            assertEq(d, i + 1);
            for (uint256 k; k < ns.length; k += sizes[i]) {
                _page(d, ns, k, k + sizes[i] < ns.length ? k + sizes[i] : ns.length);
            }
            vm.expectEmit(true, true, true, true, address(registry));
            emit IRegistry.ModelRegistered(
                id,
                programId,
                s.modelRoot,
                nodesRoot,
                ns.length,
                s.tableDepth,
                s.weightsDepth,
                s.inputBytes,
                s.outputSlot,
                s.maxSteps,
                s.manifestHash,
                s.weightsURI,
                address(this)
            );
            assertEq(registry.finishModel(d), id);
            assertEq(registry.model(id).nodesRoot, nodesRoot);
            assertEq(abi.encode(registry.model(id)), oneShot, "paged record == one-shot record");
            vm.expectRevert(abi.encodeWithSelector(IRegistry.UnknownDraft.selector, i + 1));
            registry.draft(i + 1); // closed
        }
    }

    // ---------------------------------------------------------------------------------------------
    // The small graph of GameRegistry.t.sol: inputs 0 (64 bytes, height 1) and 1 (4 bytes, height 0);
    //   node 0: reads slot 0 and weight 2, writes slot 2 (height 1)
    //   node 1: reads slots 2 and 1, writes slots 3 (height 0) and 4 (height 2)
    //   node 2: reads slot 4, writes slot 5 (height 0) — the output. 6 slots: tableDepth 3.
    // ---------------------------------------------------------------------------------------------

    function _spec() internal view returns (IRegistry.ModelSpec memory) {
        return _smallSpec(programId);
    }

    function test_beginModel_checksTheSpecAsRegisterModelDoes() public {
        IRegistry.ModelSpec memory s = _spec();
        s.programId = 7;
        vm.expectRevert(abi.encodeWithSelector(IRegistry.UnknownProgram.selector, 7));
        registry.beginModel(s, 3, 6);
        s = _spec();
        uint256[2][9] memory bad = [
            [uint256(0), 6], // no nodes
            [uint256(1) << 32, 6], // too many nodes
            [uint256(3), 8], // (skipped: 8 slots is depth 3, a lie only finishModel can catch)
            [uint256(3), 9], // 9 slots need depth 4
            [uint256(3), 4], // 4 slots need depth 2
            [uint256(3), 5], // outputSlot 5 is not below 5 slots
            [uint256(3), 6], // (maxSteps 0, below)
            [uint256(3), 6], // (an input of 6 bytes, below)
            [uint256(3), 6] // (outputSlot 1, an input, below)
        ];
        for (uint256 i; i < bad.length; ++i) {
            s = _spec();
            if (i == 2) continue;
            if (i == 6) s.maxSteps = 0;
            if (i == 7) s.inputBytes[1] = 6;
            if (i == 8) s.outputSlot = 1;
            vm.expectRevert(IRegistry.BadModel.selector);
            registry.beginModel(s, bad[i][0], bad[i][1]);
        }
        s = _spec();
        s.inputBytes = new uint32[](0);
        s.outputSlot = 0;
        vm.expectRevert(IRegistry.BadModel.selector);
        registry.beginModel(s, 3, 4);
        assertEq(registry.beginModel(_spec(), 3, 8), 1);
    }

    function test_draft_isTheOwnersAlone() public {
        vm.prank(alice);
        uint256 d = registry.beginModel(_spec(), 3, 6);
        (address owner, uint256 added, uint256 n, uint256 slots, uint256 nSlots) = registry.draft(d);
        assertEq(owner, alice);
        assertEq(added, 0);
        assertEq(n, 3);
        assertEq(slots, 2); // the two inputs
        assertEq(nSlots, 6);
        INodeVmLink.NodeDesc[] memory ns = _nodes();
        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(IRegistry.NotDraftOwner.selector, d));
        registry.addNodes(d, ns);
        vm.prank(alice);
        _page(d, ns, 0, 2);
        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(IRegistry.NotDraftOwner.selector, d));
        _page(d, ns, 2, 3);
        vm.prank(alice);
        _page(d, ns, 2, 3);
        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(IRegistry.NotDraftOwner.selector, d));
        registry.finishModel(d);
        vm.prank(alice);
        uint256 id = registry.finishModel(d);
        assertEq(registry.model(id).registrant, alice);
        // A finished draft is gone: no more pages, no second model from it.
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(IRegistry.UnknownDraft.selector, d));
        registry.finishModel(d);
        vm.expectRevert(abi.encodeWithSelector(IRegistry.UnknownDraft.selector, d));
        _page(d, ns, 2, 3);
        vm.expectRevert(abi.encodeWithSelector(IRegistry.UnknownDraft.selector, 9));
        registry.addNodes(9, ns);
        vm.expectRevert(abi.encodeWithSelector(IRegistry.UnknownDraft.selector, 0));
        registry.finishModel(0);
        vm.stopPrank();
    }

    function test_draft_refusesMoreThanDeclared() public {
        INodeVmLink.NodeDesc[] memory ns = _nodes();
        uint256 d = registry.beginModel(_spec(), 2, 6);
        _page(d, ns, 0, 2);
        vm.expectRevert(abi.encodeWithSelector(IRegistry.DraftOverflow.selector, d));
        _page(d, ns, 2, 3); // a third node of two
        d = registry.beginModel(_spec(), 3, 6);
        vm.expectRevert(abi.encodeWithSelector(IRegistry.DraftOverflow.selector, d));
        registry.addNodes(d, new INodeVmLink.NodeDesc[](4));
        // 5 slots declared (depth 3, output slot 4 below 5), the nodes write 6.
        IRegistry.ModelSpec memory s = _spec();
        s.outputSlot = 4;
        d = registry.beginModel(s, 3, 5);
        _page(d, ns, 0, 2);
        vm.expectRevert(abi.encodeWithSelector(IRegistry.DraftOverflow.selector, d));
        _page(d, ns, 2, 3);
    }

    function test_finishModel_catchesCountLies() public {
        INodeVmLink.NodeDesc[] memory ns = _nodes();
        uint256 d = registry.beginModel(_spec(), 3, 6);
        vm.expectRevert(abi.encodeWithSelector(IRegistry.DraftIncomplete.selector, d, 0, 2));
        registry.finishModel(d);
        _page(d, ns, 0, 2);
        vm.expectRevert(abi.encodeWithSelector(IRegistry.DraftIncomplete.selector, d, 2, 5));
        registry.finishModel(d);
        // Four nodes declared, three given.
        d = registry.beginModel(_spec(), 4, 6);
        _page(d, ns, 0, 3);
        vm.expectRevert(abi.encodeWithSelector(IRegistry.DraftIncomplete.selector, d, 3, 6));
        registry.finishModel(d);
        // Eight slots declared (the same depth), six written.
        d = registry.beginModel(_spec(), 3, 8);
        _page(d, ns, 0, 3);
        vm.expectRevert(abi.encodeWithSelector(IRegistry.DraftIncomplete.selector, d, 3, 6));
        registry.finishModel(d);
        // Output slot 6 of 7 declared slots, which no node writes.
        IRegistry.ModelSpec memory s = _spec();
        s.outputSlot = 6;
        d = registry.beginModel(s, 3, 7);
        _page(d, ns, 0, 3);
        vm.expectRevert(abi.encodeWithSelector(IRegistry.DraftIncomplete.selector, d, 3, 6));
        registry.finishModel(d);
        assertEq(registry.modelCount(), 1);
    }

    function _expectPagedFault(INodeVmLink.NodeDesc[] memory ns, uint256 node, IRegistry.GraphFault f)
        internal
    {
        uint256 d = registry.beginModel(_spec(), 3, 6);
        if (node == 0) {
            vm.expectRevert(abi.encodeWithSelector(IRegistry.BadGraph.selector, node, f));
            _page(d, ns, 0, 1);
            return;
        }
        _page(d, ns, 0, 1);
        vm.expectRevert(abi.encodeWithSelector(IRegistry.BadGraph.selector, node, f));
        _page(d, ns, 1, 3);
    }

    /// The per-node check across pages: indices are global, heights and slots carry over.
    function test_addNodes_validatesAcrossPages() public {
        INodeVmLink.NodeDesc[] memory ns = _nodes();
        ns[2].inHeights[0] = 1; // slot 4 was written at height 2, in the page before
        _expectPagedFault(ns, 2, IRegistry.GraphFault.HeightMismatch);
        ns = _nodes();
        ns[1].inHeights[0] = 0; // slot 2 was written at height 1, in the page before
        _expectPagedFault(ns, 1, IRegistry.GraphFault.HeightMismatch);
        ns = _nodes();
        ns[1].inHeights[1] = 1; // input 1 is 4 bytes: height 0
        _expectPagedFault(ns, 1, IRegistry.GraphFault.HeightMismatch);
        ns = _nodes();
        ns[2].inIndex[0] = 5; // its own output
        _expectPagedFault(ns, 2, IRegistry.GraphFault.ReadUnwritten);
        ns = _nodes();
        ns[1].outSlots[0] = 2; // written by node 0, in the page before
        _expectPagedFault(ns, 1, IRegistry.GraphFault.SlotWritten);
        ns = _nodes();
        ns[2].outSlots[0] = 6; // skips slot 5
        _expectPagedFault(ns, 2, IRegistry.GraphFault.OutOfOrder);
        ns = _nodes();
        ns[1].inIndex[0] = 4; // slot 4 is node 1's own output
        _expectPagedFault(ns, 1, IRegistry.GraphFault.ReadUnwritten);
        ns = _nodes();
        ns[1].inKinds[1] = 2;
        _expectPagedFault(ns, 1, IRegistry.GraphFault.InKind);
        ns = _nodes();
        ns[2].inKinds[0] = 1;
        ns[2].inIndex[0] = 4; // weightsDepth 2: indices 0 … 3
        _expectPagedFault(ns, 2, IRegistry.GraphFault.WeightIndex);
        ns = _nodes();
        ns[2].outHeights[0] = 28;
        _expectPagedFault(ns, 2, IRegistry.GraphFault.BadHeight);
        ns = _nodes();
        ns[1].outHeights = _u(0);
        _expectPagedFault(ns, 1, IRegistry.GraphFault.Lengths);
        ns = _nodes();
        ns[0].inHeights[0] = 0; // input 0 is 64 bytes: height 1
        _expectPagedFault(ns, 0, IRegistry.GraphFault.HeightMismatch);
    }

    /// A refused page leaves the draft as it was; the right page then goes in.
    function test_addNodes_refusedPageChangesNothing() public {
        INodeVmLink.NodeDesc[] memory ns = _nodes();
        uint256 d = registry.beginModel(_spec(), 3, 6);
        _page(d, ns, 0, 1);
        INodeVmLink.NodeDesc[] memory bad = _nodes();
        bad[2].inHeights[0] = 1;
        vm.expectRevert(
            abi.encodeWithSelector(IRegistry.BadGraph.selector, 2, IRegistry.GraphFault.HeightMismatch)
        );
        _page(d, bad, 1, 3);
        (, uint256 added,, uint256 slots,) = registry.draft(d);
        assertEq(added, 1);
        assertEq(slots, 3);
        _page(d, ns, 1, 3);
        uint256 id = registry.finishModel(d);
        uint256 one = registry.registerModel(_spec(), ns);
        assertEq(abi.encode(registry.model(id)), abi.encode(registry.model(one)));
    }

    // ---------------------------------------------------------------------------------------------
    // The frontier: a chain of n nodes over one 4-byte input, node k reading slot k and writing
    // slot k + 1 (all height 0), each with its own op so the leaves differ.
    // ---------------------------------------------------------------------------------------------

    function _chain(uint256 n)
        internal
        view
        returns (IRegistry.ModelSpec memory s, INodeVmLink.NodeDesc[] memory ns)
    {
        s.programId = programId;
        s.tableDepth = Merkle.depthFor(n + 1);
        s.inputBytes = new uint32[](1);
        s.inputBytes[0] = 4;
        s.outputSlot = n;
        s.maxSteps = 1;
        ns = new INodeVmLink.NodeDesc[](n);
        for (uint256 k; k < n; ++k) {
            ns[k] = INodeVmLink.NodeDesc(100 + k, _u(0), _u(k), _u(0), _u(k + 1), _u(0), new int256[](0));
        }
    }

    function test_frontier_matchesLeavesRoot() public {
        uint256[7] memory counts = [uint256(1), 2, 3, 4, 5, 8, 9];
        for (uint256 i; i < counts.length; ++i) {
            (IRegistry.ModelSpec memory s, INodeVmLink.NodeDesc[] memory ns) = _chain(counts[i]);
            bytes32[] memory leaves = new bytes32[](ns.length);
            for (uint256 k; k < ns.length; ++k) {
                leaves[k] = keccak256(
                    abi.encode(
                        ns[k].op,
                        ns[k].inKinds,
                        ns[k].inIndex,
                        ns[k].inHeights,
                        ns[k].outSlots,
                        ns[k].outHeights,
                        ns[k].params
                    )
                );
            }
            bytes32 want = Merkle.leavesRoot(leaves);
            assertEq(registry.model(registry.registerModel(s, ns)).nodesRoot, want, "one-shot");
            assertEq(registry.model(_paged(s, ns, 1)).nodesRoot, want, "pages of 1");
            assertEq(registry.model(_paged(s, ns, 2)).nodesRoot, want, "pages of 2");
        }
        // By hand for 3 leaves: ((l0, l1), (l2, 0)).
        (IRegistry.ModelSpec memory s3, INodeVmLink.NodeDesc[] memory n3) = _chain(3);
        bytes32[3] memory l;
        for (uint256 k; k < 3; ++k) {
            l[k] = keccak256(
                abi.encode(
                    n3[k].op,
                    n3[k].inKinds,
                    n3[k].inIndex,
                    n3[k].inHeights,
                    n3[k].outSlots,
                    n3[k].outHeights,
                    n3[k].params
                )
            );
        }
        bytes32 byHand =
            keccak256(abi.encode(keccak256(abi.encode(l[0], l[1])), keccak256(abi.encode(l[2], bytes32(0)))));
        assertEq(registry.model(_paged(s3, n3, 1)).nodesRoot, byHand);
    }

    /// A page's gas depends on the page, not on how many nodes came before it.
    function test_addNodes_gasPerPageIsBounded() public {
        uint256 n = 512;
        (IRegistry.ModelSpec memory s, INodeVmLink.NodeDesc[] memory ns) = _chain(n);
        uint256 d = registry.beginModel(s, n, n + 1);
        uint256 first;
        uint256 most;
        for (uint256 k; k < n; k += 32) {
            _page(d, ns, k, k + 32);
            uint256 used = vm.lastCallGas().gasTotalUsed;
            if (k == 0) first = used;
            if (used > most) most = used;
        }
        console2.log("addNodes, 32 chain nodes: first page", first, "most", most);
        assertLe(most, first + first / 4);
        registry.finishModel(d);
    }
}
