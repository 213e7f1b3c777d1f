// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Merkle
/// @notice Onchain twin of commit/merkle.ts (docs/PROTOCOL.md §1): tensor, model and graph-state
/// commitments, and the VM memory tree.
/// @dev The rule: leaves are raw 32-byte chunks (not hashed), an inner node is
/// keccak256(left ‖ right), and a list is zero-padded to a power of two, where a missing subtree of
/// height d is ZERO[d] (ZERO[0] = bytes32(0), ZERO[d+1] = keccak256(ZERO[d] ‖ ZERO[d])). Byte strings
/// are split into 32-byte leaves, the last one right-padded with zero bytes; no bytes at all is one
/// zero leaf, so its root at depth d is ZERO[d].
/// Every function comes in a memory form and, where an argument is an array, a `...Calldata` form
/// (Solidity cannot overload on data location). All of them use memory past the free memory pointer
/// as scratch and allocate nothing.
/// Differential tests: test/commit/merkle.test.ts writes contracts/test/vectors/commit.json from commit.ts
/// and contracts/test/Merkle.t.sol checks this library against it.
library Merkle {
    /// @dev `nbytes` bytes need more than 2^`depth` 32-byte leaves.
    error DepthTooSmall(uint256 nbytes, uint256 depth);
    /// @dev `depth` exceeds MAX_DEPTH, the deepest tree commit.ts defines ZERO hashes for.
    error DepthTooLarge(uint256 depth);
    /// @dev A proof of `depth` siblings addresses leaves 0 .. 2^depth - 1; `index` is not one of them.
    error IndexOutOfRange(uint256 index, uint256 depth);

    /// @dev Bytes per leaf.
    uint256 internal constant LEAF_BYTES = 32;
    /// @dev Deepest tree with a defined zero subtree (commit.ts MAX_DEPTH).
    uint256 internal constant MAX_DEPTH = 64;

    // ---------------------------------------------------------------------------------------------
    // Nodes
    // ---------------------------------------------------------------------------------------------

    /// @dev keccak256(a ‖ b), the inner node over `a` (left) and `b` (right).
    function hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0x00, a)
            mstore(0x20, b)
            h := keccak256(0x00, 0x40)
        }
    }

    /// @dev ZERO[depth], the root of 2^depth zero leaves. A table lookup up to depth 32, then one
    /// keccak256 per level above it. Reverts with DepthTooLarge above MAX_DEPTH.
    function zeroHash(uint256 depth) internal pure returns (bytes32 z) {
        if (depth > MAX_DEPTH) revert DepthTooLarge(depth);
        if (depth <= 32) return _zeroTable(depth);
        z = _zeroTable(32);
        assembly ("memory-safe") {
            for { let d := 32 } lt(d, depth) { d := add(d, 1) } {
                mstore(0x00, z)
                mstore(0x20, z)
                z := keccak256(0x00, 0x40)
            }
        }
    }

    /// @dev Smallest d with 2^d >= nLeaves (0 for nLeaves <= 1), commit.ts `depthFor`.
    function depthFor(uint256 nLeaves) internal pure returns (uint256 d) {
        assembly ("memory-safe") {
            // Stops at 256 for nLeaves > 2^255, where shl(256, 1) would wrap to 0.
            for {} and(lt(shl(d, 1), nLeaves), lt(d, 256)) {} { d := add(d, 1) }
        }
    }

    /// @dev Depth of the tree over `nbytes` bytes (one leaf minimum), commit.ts `byteDepth`.
    function byteDepth(uint256 nbytes) internal pure returns (uint256) {
        unchecked {
            return depthFor((nbytes >> 5) + (nbytes & 31 == 0 ? 0 : 1));
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Proofs
    // ---------------------------------------------------------------------------------------------

    /// @dev Root implied by `leaf` at `index` and its bottom-up sibling path `proof`
    /// (commit.ts `rootFromProof`). Unlike commit.ts, an index that does not fit the path
    /// (index >= 2^proof.length) reverts with IndexOutOfRange instead of having its high bits ignored,
    /// so one proof cannot stand for several indices.
    function rootFromProof(bytes32 leaf, uint256 index, bytes32[] memory proof)
        internal
        pure
        returns (bytes32 root)
    {
        uint256 n = proof.length;
        if (index >> n != 0) revert IndexOutOfRange(index, n);
        assembly ("memory-safe") {
            root := leaf
            let p := add(proof, 0x20)
            for { let end := add(p, shl(5, n)) } lt(p, end) { p := add(p, 0x20) } {
                // The node goes left (0x00) when the index bit is 0, right (0x20) when it is 1.
                let s := shl(5, and(index, 1))
                mstore(s, root)
                mstore(xor(s, 0x20), mload(p))
                root := keccak256(0x00, 0x40)
                index := shr(1, index)
            }
        }
    }

    /// @dev `rootFromProof` with the path in calldata.
    function rootFromProofCalldata(bytes32 leaf, uint256 index, bytes32[] calldata proof)
        internal
        pure
        returns (bytes32 root)
    {
        uint256 n = proof.length;
        if (index >> n != 0) revert IndexOutOfRange(index, n);
        assembly ("memory-safe") {
            root := leaf
            let p := proof.offset
            for { let end := add(p, shl(5, n)) } lt(p, end) { p := add(p, 0x20) } {
                let s := shl(5, and(index, 1))
                mstore(s, root)
                mstore(xor(s, 0x20), calldataload(p))
                root := keccak256(0x00, 0x40)
                index := shr(1, index)
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Roots
    // ---------------------------------------------------------------------------------------------

    /// @dev Root of `data` split into 32-byte leaves at the smallest depth that fits
    /// (commit.ts `bytesRoot(bytes)`): a tensor root when `data` holds a tensor's int32 LE words.
    function bytesRoot(bytes memory data) internal pure returns (bytes32 root) {
        uint256 n = data.length;
        uint256 src;
        assembly ("memory-safe") {
            src := add(data, 0x20)
        }
        root = _root(false, src, n, byteDepth(n));
    }

    /// @dev `bytesRoot` with `data` in calldata.
    function bytesRootCalldata(bytes calldata data) internal pure returns (bytes32 root) {
        root = _root(true, _offset(data), data.length, byteDepth(data.length));
    }

    /// @dev Root of `data` zero-padded to 32·2^depth bytes (commit.ts `bytesRoot(bytes, depth)`), as
    /// the VM commits an aligned memory region. Reverts with DepthTooLarge above MAX_DEPTH and with
    /// DepthTooSmall when the data does not fit.
    function bytesRootAtDepth(bytes memory data, uint256 depth) internal pure returns (bytes32 root) {
        uint256 n = data.length;
        _checkFits(n, depth);
        uint256 src;
        assembly ("memory-safe") {
            src := add(data, 0x20)
        }
        root = _root(false, src, n, depth);
    }

    /// @dev `bytesRootAtDepth` with `data` in calldata.
    function bytesRootAtDepthCalldata(bytes calldata data, uint256 depth)
        internal
        pure
        returns (bytes32 root)
    {
        _checkFits(data.length, depth);
        root = _root(true, _offset(data), data.length, depth);
    }

    /// @dev Root of 32-byte `leaves` zero-padded to a power of two (commit.ts `leavesRoot`): a model
    /// root when `leaves` are the weight tensors' roots in manifest order.
    function leavesRoot(bytes32[] memory leaves) internal pure returns (bytes32 root) {
        uint256 n = leaves.length;
        uint256 src;
        assembly ("memory-safe") {
            src := add(leaves, 0x20)
        }
        root = _root(false, src, n << 5, depthFor(n));
    }

    /// @dev `leavesRoot` with `leaves` in calldata.
    function leavesRootCalldata(bytes32[] calldata leaves) internal pure returns (bytes32 root) {
        uint256 src;
        assembly ("memory-safe") {
            src := leaves.offset
        }
        root = _root(true, src, leaves.length << 5, depthFor(leaves.length));
    }

    /// @dev Graph state keccak256(modelRoot ‖ leavesRoot(table)) (commit.ts `graphState`), where
    /// `table` holds one root per activation slot and bytes32(0) for a slot not yet produced.
    function graphState(bytes32 modelRoot, bytes32[] memory table) internal pure returns (bytes32) {
        return hashPair(modelRoot, leavesRoot(table));
    }

    /// @dev `graphState` with `table` in calldata.
    function graphStateCalldata(bytes32 modelRoot, bytes32[] calldata table) internal pure returns (bytes32) {
        return hashPair(modelRoot, leavesRootCalldata(table));
    }

    // ---------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------

    function _checkFits(uint256 nbytes, uint256 depth) private pure {
        if (depth > MAX_DEPTH) revert DepthTooLarge(depth);
        unchecked {
            if ((nbytes + 31) >> 5 > 1 << depth) revert DepthTooSmall(nbytes, depth);
        }
    }

    function _offset(bytes calldata data) private pure returns (uint256 o) {
        assembly ("memory-safe") {
            o := data.offset
        }
    }

    /// @dev Copies `nbytes` bytes from `src` (calldata when `fromCalldata`, else memory) to scratch
    /// memory past the free memory pointer, zero-pads the last leaf, and hashes the leaves `depth`
    /// levels up in place. At each level an odd count is padded with z = ZERO[d], kept up to date
    /// alongside. The caller guarantees the leaves fit 2^depth; no bytes at all is one zero leaf.
    function _root(bool fromCalldata, uint256 src, uint256 nbytes, uint256 depth)
        private
        pure
        returns (bytes32 root)
    {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            switch fromCalldata
            case 0 { mcopy(ptr, src, nbytes) }
            default { calldatacopy(ptr, src, nbytes) }
            // Zero the rest of the last leaf (or the lone zero leaf when nbytes == 0).
            mstore(add(ptr, nbytes), 0)
            let m := shr(5, add(nbytes, 31))
            m := add(m, iszero(m))
            let z := 0
            for { let d := 0 } lt(d, depth) { d := add(d, 1) } {
                if and(m, 1) {
                    mstore(add(ptr, shl(5, m)), z)
                    m := add(m, 1)
                }
                m := shr(1, m)
                // Node i of the next level overwrites word i, which level d no longer needs.
                let r := ptr
                let w := ptr
                for { let end := add(ptr, shl(5, m)) } lt(w, end) { w := add(w, 0x20) } {
                    mstore(w, keccak256(r, 0x40))
                    r := add(r, 0x40)
                }
                mstore(0x00, z)
                mstore(0x20, z)
                z := keccak256(0x00, 0x40)
            }
            root := mload(ptr)
        }
    }

    /// @dev ZERO[depth] for depth <= 32, checked against keccak256 by contracts/test/Merkle.t.sol.
    function _zeroTable(uint256 depth) private pure returns (bytes32 z) {
        // BEGIN GENERATED ZERO TABLE (tools/vectors/merkle-zero-table.ts)
        assembly ("memory-safe") {
            switch shr(3, depth)
            case 0 {
                switch depth
                case 0 { z := 0 }
                case 1 {
                    z := 0xad3228b676f7d3cd4284a5443f17f1962b36e491b30a40b2405849e597ba5fb5
                }
                case 2 {
                    z := 0xb4c11951957c6f8f642c4af61cd6b24640fec6dc7fc607ee8206a99e92410d30
                }
                case 3 {
                    z := 0x21ddb9a356815c3fac1026b6dec5df3124afbadb485c9ba5a3e3398a04b7ba85
                }
                case 4 {
                    z := 0xe58769b32a1beaf1ea27375a44095a0d1fb664ce2dd358e7fcbfb78c26a19344
                }
                case 5 {
                    z := 0x0eb01ebfc9ed27500cd4dfc979272d1f0913cc9f66540d7e8005811109e1cf2d
                }
                case 6 {
                    z := 0x887c22bd8750d34016ac3c66b5ff102dacdd73f6b014e710b51e8022af9a1968
                }
                default {
                    z := 0xffd70157e48063fc33c97a050f7f640233bf646cc98d9524c6b92bcf3ab56f83
                }
            }
            case 1 {
                switch depth
                case 8 {
                    z := 0x9867cc5f7f196b93bae1e27e6320742445d290f2263827498b54fec539f756af
                }
                case 9 {
                    z := 0xcefad4e508c098b9a7e1d8feb19955fb02ba9675585078710969d3440f5054e0
                }
                case 10 {
                    z := 0xf9dc3e7fe016e050eff260334f18a5d4fe391d82092319f5964f2e2eb7c1c3a5
                }
                case 11 {
                    z := 0xf8b13a49e282f609c317a833fb8d976d11517c571d1221a265d25af778ecf892
                }
                case 12 {
                    z := 0x3490c6ceeb450aecdc82e28293031d10c7d73bf85e57bf041a97360aa2c5d99c
                }
                case 13 {
                    z := 0xc1df82d9c4b87413eae2ef048f94b4d3554cea73d92b0f7af96e0271c691e2bb
                }
                case 14 {
                    z := 0x5c67add7c6caf302256adedf7ab114da0acfe870d449a3a489f781d659e8becc
                }
                default {
                    z := 0xda7bce9f4e8618b6bd2f4132ce798cdc7a60e7e1460a7299e3c6342a579626d2
                }
            }
            case 2 {
                switch depth
                case 16 {
                    z := 0x2733e50f526ec2fa19a22b31e8ed50f23cd1fdf94c9154ed3a7609a2f1ff981f
                }
                case 17 {
                    z := 0xe1d3b5c807b281e4683cc6d6315cf95b9ade8641defcb32372f1c126e398ef7a
                }
                case 18 {
                    z := 0x5a2dce0a8a7f68bb74560f8f71837c2c2ebbcbf7fffb42ae1896f13f7c7479a0
                }
                case 19 {
                    z := 0xb46a28b6f55540f89444f63de0378e3d121be09e06cc9ded1c20e65876d36aa0
                }
                case 20 {
                    z := 0xc65e9645644786b620e2dd2ad648ddfcbf4a7e5b1a3a4ecfe7f64667a3f0b7e2
                }
                case 21 {
                    z := 0xf4418588ed35a2458cffeb39b93d26f18d2ab13bdce6aee58e7b99359ec2dfd9
                }
                case 22 {
                    z := 0x5a9c16dc00d6ef18b7933a6f8dc65ccb55667138776f7dea101070dc8796e377
                }
                default {
                    z := 0x4df84f40ae0c8229d0d6069e5c8f39a7c299677a09d367fc7b05e3bc380ee652
                }
            }
            case 3 {
                switch depth
                case 24 {
                    z := 0xcdc72595f74c7b1043d0e1ffbab734648c838dfb0527d971b602bc216c9619ef
                }
                case 25 {
                    z := 0x0abf5ac974a1ed57f4050aa510dd9c74f508277b39d7973bb2dfccc5eeb0618d
                }
                case 26 {
                    z := 0xb8cd74046ff337f0a7bf2c8e03e10f642c1886798d71806ab1e888d9e5ee87d0
                }
                case 27 {
                    z := 0x838c5655cb21c6cb83313b5a631175dff4963772cce9108188b34ac87c81c41e
                }
                case 28 {
                    z := 0x662ee4dd2dd7b2bc707961b1e646c4047669dcb6584f0d8d770daf5d7e7deb2e
                }
                case 29 {
                    z := 0x388ab20e2573d171a88108e79d820e98f26c0b84aa8b2f4aa4968dbb818ea322
                }
                case 30 {
                    z := 0x93237c50ba75ee485f4c22adf2f741400bdf8d6a9cc7df7ecae576221665d735
                }
                default {
                    z := 0x8448818bb4ae4562849e949e17ac16e0be16688e156b5cf15e098c627c0056a9
                }
            }
            default {
                z := 0x27ae5ba08d7291c96c8cbddcc148bf48a6d68c7974b94356f53754ef6171d757
            }
        }
        // END GENERATED ZERO TABLE
    }
}
