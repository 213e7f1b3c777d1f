// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Merkle} from "../lib/Merkle.sol";
import {VmAccess, Wasm} from "../lib/VmConstants.sol";
import {State, Step, StepState, UnknownOpcode, WrongLeafCount, LeafMismatch} from "./StepState.sol";

/// @title StepMemory
/// @notice Loads, stores, memory.size and memory.grow. Onchain twin of vm/verify/step-memory.ts.
/// @dev Memory is 2^27 leaves of 32 bytes (docs/PROTOCOL.md §4.3). An access of `size` bytes at
/// ea = (address mod 2^32) + (offset mod 2^32) traps when ea + size > memoryPages · 65536, with no
/// leaf in the proof; otherwise it touches one leaf, or two adjacent ones when it straddles a leaf
/// boundary, each given as its 32 bytes and 27-hash path. Values are little-endian in memory.
library StepMemory {
    uint256 private constant M32 = 0xffffffff;
    uint256 private constant M64 = 0xffffffffffffffff;
    uint256 private constant PAGE_SHIFT = 16; // 65536-byte pages
    uint256 private constant PAGE_MASK = 0xffff;
    uint256 private constant DEPTH = StepState.MEMORY_DEPTH;
    /// @dev Byte i is the access width of opcode 0x28 + i (vm/machine.ts ACCESS_SIZE); the float
    /// loads/stores 0x2a, 0x2b, 0x38, 0x39 are rejected by pops() before this is read.
    bytes32 private constant SIZES = VmAccess.SIZES;

    /// @dev Stack values popped by `op`; reverts UnknownOpcode for the float loads and stores.
    function pops(uint256 op) internal pure returns (uint256) {
        if (op == 0x28 || op == 0x29 || (op >= 0x2c && op <= 0x35)) return 1; // loads: address
        if (op == 0x36 || op == 0x37 || (op >= 0x3a && op <= 0x3e)) return 2; // stores: address, value
        if (op == Wasm.MEMORY_SIZE) return 0;
        if (op == Wasm.MEMORY_GROW) return 1; // delta
        revert UnknownOpcode(op);
    }

    function step(State memory s, Step memory c) internal pure {
        uint256 op = c.op;
        if (op == Wasm.MEMORY_SIZE) {
            s.stackHash = StepState.push(c.rest, s.memoryPages);
            return;
        }
        if (op == Wasm.MEMORY_GROW) {
            _grow(s, c);
            return;
        }
        uint256 size = uint8(SIZES[op - Wasm.I32_LOAD]);
        uint256 ea = (StepState.val(c, 0) & M32) + (c.arg & M32);
        uint256 k = StepState.readUint(c, 1);
        // ea + size > pages · 65536, written without a product that could overflow.
        if ((ea + size + PAGE_MASK) >> PAGE_SHIFT > s.memoryPages) {
            if (k != 0) revert WrongLeafCount(0, k);
            StepState.trap(s, c);
            return;
        }
        uint256 first = ea >> 5;
        uint256 count = (ea + size - 1) >> 5 == first ? 1 : 2;
        if (k != count) revert WrongLeafCount(count, k);
        bytes32 leaf0 = StepState.readWord(c);
        bytes32[] calldata path0 = StepState.readPath(c, DEPTH);
        if (StepState.rootOf(leaf0, first, path0) != s.memoryRoot) revert LeafMismatch(first);
        bytes32 leaf1;
        bytes32[] calldata path1 = path0[0:0];
        if (count == 2) {
            leaf1 = StepState.readWord(c);
            path1 = StepState.readPath(c, DEPTH);
            if (StepState.rootOf(leaf1, first + 1, path1) != s.memoryRoot) revert LeafMismatch(first + 1);
        }
        uint256 off = ea & 31;
        if (op < Wasm.I32_STORE) {
            s.stackHash = StepState.push(c.rest, _load(op, size, off, leaf0, leaf1));
            return;
        }
        (leaf0, leaf1) = _store(size, off, StepState.val(c, 1), leaf0, leaf1);
        s.stackHash = c.rest;
        if (count == 1) {
            s.memoryRoot = StepState.rootOf(leaf0, first, path0);
        } else {
            // Both leaves changed. Below level `meet` (the trailing ones of `first`) each climbs its
            // own path; at `meet` their subtrees are siblings, so the second path's sibling there is
            // the first leaf's updated node; above it, the second path goes on to the root.
            uint256 meet = _trailingOnes(first);
            bytes32 left = StepState.rootOf(leaf0, 2 ** meet - 1, path0[0:meet]);
            bytes32 right = StepState.rootOf(leaf1, 0, path1[0:meet]);
            s.memoryRoot =
                StepState.rootOf(Merkle.hashPair(left, right), (first + 1) >> (meet + 1), path1[meet + 1:]);
        }
    }

    /// @dev memory.grow: pushes the old page count and adds `delta` pages, or pushes 2^32 − 1 and
    /// changes nothing when the result would exceed the module's maximum (arg, in pages).
    function _grow(State memory s, Step memory c) private pure {
        uint256 delta = StepState.val(c, 0) & M32;
        uint256 max = c.arg;
        uint256 pages = s.memoryPages;
        // pages + delta > max, written without a sum that could overflow.
        if (pages > max || delta > max - pages) {
            s.stackHash = StepState.push(c.rest, M32);
        } else {
            s.stackHash = StepState.push(c.rest, pages);
            s.memoryPages = pages + delta;
        }
    }

    /// @dev The `size` bytes at byte `off` of leaf0 ‖ leaf1 as a little-endian integer, sign- or
    /// zero-extended to the result width of load `op`.
    function _load(uint256 op, uint256 size, uint256 off, bytes32 leaf0, bytes32 leaf1)
        private
        pure
        returns (uint256 v)
    {
        assembly ("memory-safe") {
            // The 32 bytes from `off` on, first byte most significant (SHR by 256 gives 0 at off 0).
            let chunk := or(shl(shl(3, off), leaf0), shr(sub(256, shl(3, off)), leaf1))
            for { let i := size } i { i := sub(i, 1) } { v := or(shl(8, v), byte(sub(i, 1), chunk)) }
            switch op
            case 0x2c { v := and(signextend(0, v), M32) } // i32.load8_s
            case 0x2e { v := and(signextend(1, v), M32) } // i32.load16_s
            case 0x30 { v := and(signextend(0, v), M64) } // i64.load8_s
            case 0x32 { v := and(signextend(1, v), M64) } // i64.load16_s
            case 0x34 { v := and(signextend(3, v), M64) } // i64.load32_s
        }
    }

    /// @dev leaf0 ‖ leaf1 with the low `size` bytes of `value` written little-endian at byte `off`.
    function _store(uint256 size, uint256 off, uint256 value, bytes32 leaf0, bytes32 leaf1)
        private
        pure
        returns (bytes32 r0, bytes32 r1)
    {
        assembly ("memory-safe") {
            // Scratch past the free memory pointer; nothing is allocated.
            let p := mload(0x40)
            mstore(p, leaf0)
            mstore(add(p, 0x20), leaf1)
            let q := add(p, off)
            for { let i := 0 } lt(i, size) { i := add(i, 1) } { mstore8(add(q, i), shr(shl(3, i), value)) }
            r0 := mload(p)
            r1 := mload(add(p, 0x20))
        }
    }

    /// @dev Number of trailing one bits of `x` (< 2^27 here, so at most 26 for a straddle).
    function _trailingOnes(uint256 x) private pure returns (uint256 n) {
        while (x & 1 == 1) {
            x >>= 1;
            ++n;
        }
    }
}
