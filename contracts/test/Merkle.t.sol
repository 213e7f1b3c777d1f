// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {stdJson} from "forge-std/StdJson.sol";
import {Merkle} from "../src/lib/Merkle.sol";

/// @dev External entry points: the calldata forms, reverts at a call boundary, gas via --gas-report.
contract MerkleHarness {
    function bytesRoot(bytes calldata data) external pure returns (bytes32) {
        return Merkle.bytesRootCalldata(data);
    }

    function bytesRootMemory(bytes memory data) external pure returns (bytes32) {
        return Merkle.bytesRoot(data);
    }

    function bytesRootAtDepth(bytes calldata data, uint256 depth) external pure returns (bytes32) {
        return Merkle.bytesRootAtDepthCalldata(data, depth);
    }

    function bytesRootAtDepthMemory(bytes memory data, uint256 depth) external pure returns (bytes32) {
        return Merkle.bytesRootAtDepth(data, depth);
    }

    function leavesRoot(bytes32[] calldata leaves) external pure returns (bytes32) {
        return Merkle.leavesRootCalldata(leaves);
    }

    function graphState(bytes32 modelRoot, bytes32[] calldata table) external pure returns (bytes32) {
        return Merkle.graphStateCalldata(modelRoot, table);
    }

    function rootFromProof(bytes32 leaf, uint256 index, bytes32[] calldata proof)
        external
        pure
        returns (bytes32)
    {
        return Merkle.rootFromProofCalldata(leaf, index, proof);
    }

    function rootFromProofMemory(bytes32 leaf, uint256 index, bytes32[] memory proof)
        external
        pure
        returns (bytes32)
    {
        return Merkle.rootFromProof(leaf, index, proof);
    }

    function zeroHash(uint256 depth) external pure returns (bytes32) {
        return Merkle.zeroHash(depth);
    }
}

/// @notice Checks Merkle.sol against the vectors commit/merkle.ts wrote (contracts/test/vectors/commit.json,
/// kept in sync by test/commit/merkle.test.ts), against a naive reference written here, and by fuzzing.
contract MerkleTest is Test {
    using stdJson for string;

    // Field lists for vm.parseJsonTypeArray; fields are matched to JSON keys by name.
    struct BytesRootCase {
        bytes data;
        uint256 depth;
        bytes32 root;
    }

    struct LeavesRootCase {
        bytes32[] leaves;
        bytes32 root;
    }

    struct ProofCase {
        uint256 depth;
        uint256 index;
        bytes32 leaf;
        bytes32[] proof;
        bytes32 root;
    }

    struct GraphStateCase {
        bytes32 model;
        bytes32 root;
        bytes32[] table;
    }

    struct DepthTooSmallCase {
        uint256 depth;
        uint256 nbytes;
    }

    string internal constant BYTES_ROOT_T = "BytesRootCase(bytes data,uint256 depth,bytes32 root)";
    string internal constant LEAVES_ROOT_T = "LeavesRootCase(bytes32[] leaves,bytes32 root)";
    string internal constant PROOF_T =
        "ProofCase(uint256 depth,uint256 index,bytes32 leaf,bytes32[] proof,bytes32 root)";
    string internal constant GRAPH_STATE_T = "GraphStateCase(bytes32 model,bytes32 root,bytes32[] table)";
    string internal constant DEPTH_TOO_SMALL_T = "DepthTooSmallCase(uint256 depth,uint256 nbytes)";

    uint256 internal constant MNIST_INPUT_BYTES = 784 * 4;
    uint256 internal constant VM_MEMORY_DEPTH = 27; // 2^27 leaves of 32 bytes = 4 GiB of wasm32 memory

    MerkleHarness internal h;

    function setUp() public {
        h = new MerkleHarness();
    }

    /// The vectors, read afresh into memory by each test (kept out of storage: ~235 KB of SLOADs).
    /// Every cheatcode call copies the whole string into memory again, so tests make few of them.
    function _json() internal view returns (string memory) {
        return vm.readFile(string.concat(vm.projectRoot(), "/contracts/test/vectors/commit.json"));
    }

    function _freeMemoryPointer() internal pure returns (uint256 p) {
        assembly {
            p := mload(0x40)
        }
    }

    /// Releases memory allocated since `p` was read; only for values no longer referenced.
    function _release(uint256 p) internal pure {
        assembly {
            mstore(0x40, p)
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Decoding the vectors
    // ---------------------------------------------------------------------------------------------

    function _bytesRootCases(string memory json, string memory key)
        internal
        pure
        returns (BytesRootCase[] memory)
    {
        return abi.decode(vm.parseJsonTypeArray(json, key, BYTES_ROOT_T), (BytesRootCase[]));
    }

    function _leavesRootCases(string memory json) internal pure returns (LeavesRootCase[] memory) {
        return abi.decode(vm.parseJsonTypeArray(json, ".leavesRoot", LEAVES_ROOT_T), (LeavesRootCase[]));
    }

    function _proofCases(string memory json) internal pure returns (ProofCase[] memory) {
        return abi.decode(vm.parseJsonTypeArray(json, ".proofs", PROOF_T), (ProofCase[]));
    }

    function _graphStateCases(string memory json) internal pure returns (GraphStateCase[] memory) {
        return abi.decode(vm.parseJsonTypeArray(json, ".graphState", GRAPH_STATE_T), (GraphStateCase[]));
    }

    function _depthTooSmallCases(string memory json) internal pure returns (DepthTooSmallCase[] memory) {
        return
            abi.decode(
                vm.parseJsonTypeArray(json, ".depthTooSmall", DEPTH_TOO_SMALL_T), (DepthTooSmallCase[])
            );
    }

    function _count(string memory json, string memory section) internal pure returns (uint256) {
        return json.readUint(string.concat(".meta.counts.", section));
    }

    /// Every section decodes to as many cases as the generator wrote, and the typed decoding agrees
    /// field by field with stdJson's scalar readers (including `data` of exactly 32 bytes, which an
    /// untyped vm.parseJson would take for a bytes32).
    function test_vectorsDecode() public view {
        string memory json = _json();
        assertEq(json.readBytes32Array(".zeroHashes").length, _count(json, "zeroHashes"), "zeroHashes");
        assertEq(_count(json, "zeroHashes"), Merkle.MAX_DEPTH + 1, "zeroHashes cover 0..MAX_DEPTH");
        assertEq(_bytesRootCases(json, ".bytesRoot").length, _count(json, "bytesRoot"), "bytesRoot");
        assertEq(
            _bytesRootCases(json, ".bytesRootAtDepth").length,
            _count(json, "bytesRootAtDepth"),
            "bytesRootAtDepth"
        );
        assertEq(_leavesRootCases(json).length, _count(json, "leavesRoot"), "leavesRoot");
        assertEq(_proofCases(json).length, _count(json, "proofs"), "proofs");
        assertEq(_graphStateCases(json).length, _count(json, "graphState"), "graphState");
        assertEq(_depthTooSmallCases(json).length, _count(json, "depthTooSmall"), "depthTooSmall");

        BytesRootCase[] memory br = _bytesRootCases(json, ".bytesRoot");
        bool saw32;
        for (uint256 i; i < br.length; ++i) {
            uint256 mark = _freeMemoryPointer();
            string memory k = string.concat(".bytesRoot[", vm.toString(i), "]");
            assertEq(br[i].data, json.readBytes(string.concat(k, ".data")), "data");
            assertEq(br[i].depth, json.readUint(string.concat(k, ".depth")), "depth");
            assertEq(br[i].root, json.readBytes32(string.concat(k, ".root")), "root");
            saw32 = saw32 || br[i].data.length == 32;
            _release(mark);
        }
        assertTrue(saw32, "a 32-byte data case is covered");

        ProofCase[] memory pc = _proofCases(json);
        for (uint256 i; i < pc.length; ++i) {
            uint256 mark = _freeMemoryPointer();
            string memory k = string.concat(".proofs[", vm.toString(i), "]");
            assertEq(pc[i].index, json.readUint(string.concat(k, ".index")), "index");
            assertEq(pc[i].proof, json.readBytes32Array(string.concat(k, ".proof")), "proof");
            assertEq(pc[i].proof.length, pc[i].depth, "proof length is its depth");
            _release(mark);
        }

        LeavesRootCase[] memory lr = _leavesRootCases(json);
        assertEq(lr[0].leaves.length, 0, "empty leaf list decodes");
        for (uint256 i; i < lr.length; ++i) {
            uint256 mark = _freeMemoryPointer();
            string memory k = string.concat(".leavesRoot[", vm.toString(i), "]");
            assertEq(lr[i].leaves, json.readBytes32Array(string.concat(k, ".leaves")), "leaves");
            _release(mark);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Vectors from commit.ts
    // ---------------------------------------------------------------------------------------------

    function test_vectors_zeroHashes() public view {
        string memory json = _json();
        bytes32[] memory z = json.readBytes32Array(".zeroHashes");
        for (uint256 d; d < z.length; ++d) {
            assertEq(Merkle.zeroHash(d), z[d], string.concat("zeroHash ", vm.toString(d)));
        }
    }

    function test_vectors_bytesRoot() public view {
        string memory json = _json();
        BytesRootCase[] memory cs = _bytesRootCases(json, ".bytesRoot");
        for (uint256 i; i < cs.length; ++i) {
            BytesRootCase memory c = cs[i];
            string memory what = string.concat("bytesRoot #", vm.toString(i));
            assertEq(Merkle.byteDepth(c.data.length), c.depth, what);
            assertEq(Merkle.bytesRoot(c.data), c.root, what);
            assertEq(h.bytesRoot(c.data), c.root, what);
            assertEq(Merkle.bytesRootAtDepth(c.data, c.depth), c.root, what);
            assertEq(h.bytesRootAtDepth(c.data, c.depth), c.root, what);
        }
    }

    function test_vectors_bytesRootAtDepth() public view {
        string memory json = _json();
        BytesRootCase[] memory cs = _bytesRootCases(json, ".bytesRootAtDepth");
        for (uint256 i; i < cs.length; ++i) {
            BytesRootCase memory c = cs[i];
            string memory what = string.concat("bytesRootAtDepth #", vm.toString(i));
            assertEq(Merkle.bytesRootAtDepth(c.data, c.depth), c.root, what);
            assertEq(h.bytesRootAtDepth(c.data, c.depth), c.root, what);
        }
    }

    function test_vectors_leavesRoot() public view {
        string memory json = _json();
        LeavesRootCase[] memory cs = _leavesRootCases(json);
        for (uint256 i; i < cs.length; ++i) {
            LeavesRootCase memory c = cs[i];
            string memory what = string.concat("leavesRoot #", vm.toString(i));
            assertEq(Merkle.leavesRoot(c.leaves), c.root, what);
            assertEq(h.leavesRoot(c.leaves), c.root, what);
            // A list of leaves is the same tree as their concatenated bytes.
            assertEq(Merkle.bytesRoot(abi.encodePacked(c.leaves)), c.root, what);
        }
    }

    function test_vectors_proofs() public view {
        string memory json = _json();
        ProofCase[] memory cs = _proofCases(json);
        for (uint256 i; i < cs.length; ++i) {
            ProofCase memory c = cs[i];
            string memory what = string.concat("proof #", vm.toString(i));
            assertEq(Merkle.rootFromProof(c.leaf, c.index, c.proof), c.root, what);
            assertEq(h.rootFromProof(c.leaf, c.index, c.proof), c.root, what);
        }
    }

    function test_vectors_graphState() public view {
        string memory json = _json();
        GraphStateCase[] memory cs = _graphStateCases(json);
        for (uint256 i; i < cs.length; ++i) {
            GraphStateCase memory c = cs[i];
            string memory what = string.concat("graphState #", vm.toString(i));
            assertEq(Merkle.graphState(c.model, c.table), c.root, what);
            assertEq(h.graphState(c.model, c.table), c.root, what);
            assertEq(Merkle.hashPair(c.model, Merkle.leavesRoot(c.table)), c.root, what);
        }
    }

    function test_vectors_depthTooSmall() public {
        string memory json = _json();
        DepthTooSmallCase[] memory cs = _depthTooSmallCases(json);
        for (uint256 i; i < cs.length; ++i) {
            DepthTooSmallCase memory c = cs[i];
            bytes memory data = new bytes(c.nbytes);
            vm.expectRevert(abi.encodeWithSelector(Merkle.DepthTooSmall.selector, c.nbytes, c.depth));
            h.bytesRootAtDepth(data, c.depth);
            vm.expectRevert(abi.encodeWithSelector(Merkle.DepthTooSmall.selector, c.nbytes, c.depth));
            h.bytesRootAtDepthMemory(data, c.depth);
            // One level deeper fits.
            h.bytesRootAtDepth(data, c.depth + 1);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Zero hashes, errors
    // ---------------------------------------------------------------------------------------------

    function test_zeroHash_matchesKeccakChain() public pure {
        bytes32 z;
        for (uint256 d; d <= Merkle.MAX_DEPTH; ++d) {
            assertEq(Merkle.zeroHash(d), z, string.concat("zeroHash ", vm.toString(d)));
            z = keccak256(abi.encodePacked(z, z));
        }
    }

    function test_zeroHash_tooDeepReverts() public {
        vm.expectRevert(abi.encodeWithSelector(Merkle.DepthTooLarge.selector, 65));
        h.zeroHash(65);
        vm.expectRevert(abi.encodeWithSelector(Merkle.DepthTooLarge.selector, 65));
        h.bytesRootAtDepth("", 65);
        vm.expectRevert(abi.encodeWithSelector(Merkle.DepthTooLarge.selector, type(uint256).max));
        h.bytesRootAtDepthMemory(hex"01", type(uint256).max);
    }

    function testFuzz_indexOutOfRangeReverts(uint256 index, uint8 depthSeed) public {
        uint256 depth = _bound(depthSeed, 0, 40);
        index = _bound(index, 1 << depth, type(uint256).max);
        bytes32[] memory proof = new bytes32[](depth);
        vm.expectRevert(abi.encodeWithSelector(Merkle.IndexOutOfRange.selector, index, depth));
        h.rootFromProof(bytes32(uint256(1)), index, proof);
        vm.expectRevert(abi.encodeWithSelector(Merkle.IndexOutOfRange.selector, index, depth));
        h.rootFromProofMemory(bytes32(uint256(1)), index, proof);
    }

    function test_depthFor() public pure {
        assertEq(Merkle.depthFor(0), 0);
        assertEq(Merkle.depthFor(1), 0);
        assertEq(Merkle.depthFor(2), 1);
        assertEq(Merkle.depthFor(3), 2);
        assertEq(Merkle.depthFor(4), 2);
        assertEq(Merkle.depthFor(5), 3);
        assertEq(Merkle.depthFor(1 << 27), 27);
        assertEq(Merkle.depthFor((1 << 27) + 1), 28);
        assertEq(Merkle.depthFor(1 << 255), 255);
        assertEq(Merkle.depthFor((1 << 255) + 1), 256);
        assertEq(Merkle.depthFor(type(uint256).max), 256);
        assertEq(Merkle.byteDepth(0), 0);
        assertEq(Merkle.byteDepth(32), 0);
        assertEq(Merkle.byteDepth(33), 1);
        assertEq(Merkle.byteDepth(MNIST_INPUT_BYTES), 7);
    }

    // ---------------------------------------------------------------------------------------------
    // Fuzz: the library against a naive reference written here
    // ---------------------------------------------------------------------------------------------

    function _leaves(bytes32 seed, uint256 n) internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            leaves[i] = keccak256(abi.encode(seed, i));
        }
    }

    /// Full levels of the padded tree: level 0 is 2^depth leaves (missing ones zero).
    function _naiveLevels(bytes32[] memory leaves, uint256 depth)
        internal
        pure
        returns (bytes32[][] memory lv)
    {
        lv = new bytes32[][](depth + 1);
        lv[0] = new bytes32[](1 << depth);
        for (uint256 i; i < leaves.length; ++i) {
            lv[0][i] = leaves[i];
        }
        for (uint256 d = 1; d <= depth; ++d) {
            lv[d] = new bytes32[](lv[d - 1].length / 2);
            for (uint256 i; i < lv[d].length; ++i) {
                lv[d][i] = keccak256(abi.encodePacked(lv[d - 1][2 * i], lv[d - 1][2 * i + 1]));
            }
        }
    }

    function _naiveProof(bytes32[][] memory lv, uint256 index)
        internal
        pure
        returns (bytes32[] memory proof)
    {
        proof = new bytes32[](lv.length - 1);
        for (uint256 d; d < proof.length; ++d) {
            proof[d] = lv[d][(index >> d) ^ 1];
        }
    }

    function _chunks(bytes memory data) internal pure returns (bytes32[] memory out) {
        out = new bytes32[]((data.length + 31) / 32);
        for (uint256 i; i < data.length; ++i) {
            out[i / 32] |= bytes32(bytes1(data[i])) >> (8 * (i % 32));
        }
    }

    function testFuzz_proofOfRandomLeafVerifies(
        bytes32 seed,
        uint256 nSeed,
        uint256 extraSeed,
        uint256 indexSeed
    ) public view {
        uint256 n = _bound(nSeed, 1, 40);
        uint256 natural = Merkle.depthFor(n);
        uint256 depth = natural + _bound(extraSeed, 0, 4);
        uint256 index = _bound(indexSeed, 0, (1 << depth) - 1);
        bytes32[] memory leaves = _leaves(seed, n);
        bytes32[][] memory lv = _naiveLevels(leaves, depth);
        bytes32 root = lv[depth][0];
        bytes32[] memory proof = _naiveProof(lv, index);

        assertEq(Merkle.rootFromProof(lv[0][index], index, proof), root, "memory proof");
        assertEq(h.rootFromProof(lv[0][index], index, proof), root, "calldata proof");
        assertEq(Merkle.bytesRootAtDepth(abi.encodePacked(leaves), depth), root, "bytesRootAtDepth");
        if (depth == natural) {
            assertEq(Merkle.leavesRoot(leaves), root, "leavesRoot");
            assertEq(h.leavesRoot(leaves), root, "leavesRoot calldata");
        }
    }

    function testFuzz_flippedProofBitChangesRoot(
        bytes32 seed,
        uint256 nSeed,
        uint256 indexSeed,
        uint256 bitSeed
    ) public pure {
        uint256 n = _bound(nSeed, 2, 40);
        uint256 depth = Merkle.depthFor(n);
        uint256 index = _bound(indexSeed, 0, (1 << depth) - 1);
        bytes32[][] memory lv = _naiveLevels(_leaves(seed, n), depth);
        bytes32[] memory proof = _naiveProof(lv, index);
        bytes32 root = Merkle.rootFromProof(lv[0][index], index, proof);
        assertEq(root, lv[depth][0]);

        uint256 bit = _bound(bitSeed, 0, 256 * depth - 1);
        proof[bit / 256] ^= bytes32(uint256(1) << (bit % 256));
        assertTrue(Merkle.rootFromProof(lv[0][index], index, proof) != root, "flipped sibling bit");
        proof[bit / 256] ^= bytes32(uint256(1) << (bit % 256));
        bytes32 leaf = lv[0][index] ^ bytes32(uint256(1) << (bitSeed % 256));
        assertTrue(Merkle.rootFromProof(leaf, index, proof) != root, "flipped leaf bit");
    }

    function testFuzz_bytesRootIsLeavesRootOfChunks(bytes memory data) public view {
        bytes32[] memory chunks = _chunks(data);
        uint256 fmp;
        assembly {
            fmp := mload(0x40)
        }
        bytes32 dataHash = keccak256(data);
        bytes32 root = Merkle.bytesRoot(data);
        uint256 fmpAfter;
        assembly {
            fmpAfter := mload(0x40)
        }
        assertEq(fmpAfter, fmp, "allocates nothing");
        assertEq(keccak256(data), dataHash, "input untouched");

        assertEq(root, Merkle.leavesRoot(chunks), "leavesRoot of chunks");
        assertEq(root, h.bytesRoot(data), "calldata");
        uint256 depth = Merkle.byteDepth(data.length);
        bytes32[][] memory lv = _naiveLevels(chunks, depth);
        assertEq(root, lv[depth][0], "naive");
    }

    function testFuzz_bytesRootAtDepthClimbsZeroSubtrees(bytes memory data, uint256 extraSeed) public view {
        uint256 natural = Merkle.byteDepth(data.length);
        uint256 depth = _bound(extraSeed, natural, Merkle.MAX_DEPTH);
        bytes32 node = Merkle.bytesRoot(data);
        for (uint256 d = natural; d < depth; ++d) {
            node = Merkle.hashPair(node, Merkle.zeroHash(d));
        }
        assertEq(Merkle.bytesRootAtDepth(data, depth), node, "memory");
        assertEq(h.bytesRootAtDepth(data, depth), node, "calldata");
    }

    function testFuzz_flippedDataByteChangesRoot(bytes memory data, uint256 pos, uint8 mask) public pure {
        vm.assume(data.length > 0);
        pos = _bound(pos, 0, data.length - 1);
        bytes1 m = bytes1(uint8(_bound(mask, 1, 255)));
        bytes32 root = Merkle.bytesRoot(data);
        data[pos] ^= m;
        assertTrue(Merkle.bytesRoot(data) != root, "flipped byte");
    }

    function testFuzz_graphState(bytes32 model, bytes32 seed, uint256 nSeed) public view {
        bytes32[] memory table = _leaves(seed, _bound(nSeed, 0, 33));
        bytes32 state = Merkle.graphState(model, table);
        assertEq(state, keccak256(abi.encodePacked(model, Merkle.leavesRoot(table))));
        assertEq(state, h.graphState(model, table));
    }

    // ---------------------------------------------------------------------------------------------
    // Gas (run with -vv to see the logs; `forge test --gas-report` covers the harness)
    // ---------------------------------------------------------------------------------------------

    function test_gas_bytesRoot_mnistInput() public {
        bytes memory data = new bytes(MNIST_INPUT_BYTES);
        for (uint256 i; i < data.length; ++i) {
            data[i] = bytes1(uint8(i * 7 + 3));
        }
        uint256 g = gasleft();
        bytes32 root = Merkle.bytesRoot(data);
        g -= gasleft();
        emit log_named_uint("bytesRoot(3136 bytes, memory) gas", g);
        assertEq(root, Merkle.leavesRoot(_chunks(data)));

        g = gasleft();
        bytes32 viaCall = h.bytesRoot(data);
        g -= gasleft();
        emit log_named_uint("bytesRoot(3136 bytes, calldata) gas incl. external call", g);
        assertEq(viaCall, root);
    }

    function test_gas_rootFromProof_depth27() public {
        string memory json = _json();
        ProofCase[] memory cs = _proofCases(json);
        ProofCase memory c;
        for (uint256 i; i < cs.length; ++i) {
            if (cs[i].depth == VM_MEMORY_DEPTH) c = cs[i];
        }
        assertEq(c.proof.length, VM_MEMORY_DEPTH, "vectors hold a depth-27 proof");
        uint256 g = gasleft();
        bytes32 root = Merkle.rootFromProof(c.leaf, c.index, c.proof);
        g -= gasleft();
        emit log_named_uint("rootFromProof(depth 27, memory) gas", g);
        assertEq(root, c.root);

        g = gasleft();
        root = h.rootFromProof(c.leaf, c.index, c.proof);
        g -= gasleft();
        emit log_named_uint("rootFromProof(depth 27, calldata) gas incl. external call", g);
        assertEq(root, c.root);
    }
}
