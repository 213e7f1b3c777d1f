// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Merkle} from "../lib/Merkle.sol";
import {VmLimits} from "../lib/VmConstants.sol";

// -------------------------------------------------------------------------------------------------
// Errors of the one-step verifier. Each names what in the proof was wrong; none is reachable with a
// proof that vm/prove.ts wrote for the state committed by the pre-state root. The TS verifier throws
// a ProofError whose `code` is the name of the error here (vm/proof-format.ts PROOF_ERROR_CODES).
// -------------------------------------------------------------------------------------------------

/// @dev The proof ends before a field that the step needs.
error Truncated();
/// @dev The proof has bytes after the last field the step reads.
error TrailingBytes();
/// @dev keccak256 of the proof's 12 state words is not the pre-state root.
error PreStateMismatch();
/// @dev `pc` does not address a leaf of a code tree of depth `codeDepth` (pc >= 2^codeDepth).
error PcOutsideCode(uint256 pc, uint256 codeDepth);
/// @dev The instruction and its code path do not lead to the state's code root.
error InstructionNotInCode(uint256 pc);
/// @dev `op` is not in the VM's instruction set (docs/PROTOCOL.md §4.2).
error UnknownOpcode(uint256 op);
/// @dev The instruction pops `expected` stack values; the proof supplies `got`.
error WrongStackCount(uint256 expected, uint256 got);
/// @dev The popped values and the hash of the rest do not hash to the state's stack hash.
error StackMismatch();
/// @dev A local index at or above 2^8 (the locals tree has 256 slots).
error LocalIndexOutOfRange(uint256 index);
/// @dev A global index at or above 2^4 (the globals tree has 16 slots).
error GlobalIndexOutOfRange(uint256 index);
/// @dev Local `index`'s value and path do not lead to the state's locals root.
error LocalsMismatch(uint256 index);
/// @dev Global `index`'s value and path do not lead to the state's globals root.
error GlobalsMismatch(uint256 index);
/// @dev The memory access needs `expected` leaves (0 when out of bounds, else 1 or 2); the proof has `got`.
error WrongLeafCount(uint256 expected, uint256 got);
/// @dev Memory leaf `leaf` (its 32-byte index) and its path do not lead to the state's memory root.
error LeafMismatch(uint256 leaf);
/// @dev The caller's frame record and the frame-stack hash below it do not hash to the state's
/// frame-stack hash (or there is no suspended frame to return to).
error FrameMismatch();
/// @dev An i32 operand of a numeric instruction has bits above 32 set (the stack never holds such
/// an i32, docs/PROTOCOL.md §4.1).
error OperandNotI32(uint256 a, uint256 b);

/// @dev The twelve words of the state root (docs/PROTOCOL.md §4.3), in hashing order. A memory
/// `State` is exactly those 384 bytes, so the state root is keccak256 over the struct itself.
struct State {
    uint256 status;
    uint256 pc;
    bytes32 stackHash;
    bytes32 localsRoot;
    uint256 returnPc;
    bytes32 frameStackHash;
    uint256 frameDepth;
    bytes32 globalsRoot;
    bytes32 memoryRoot;
    uint256 memoryPages;
    bytes32 codeRoot;
    uint256 codeDepth;
}

/// @dev One step being verified. Offsets are absolute calldata positions inside the proof.
struct Step {
    /// @dev Opcode and 64-bit immediate of the instruction at `pc`.
    uint256 op;
    uint256 arg;
    /// @dev The pre-state's pc (the post state's pc is already pc + 1 when a family runs).
    uint256 pc;
    /// @dev Number of popped stack values, and the calldata offset of the first (bottom) one; each
    /// is 8 bytes, big-endian.
    uint256 nVals;
    uint256 vals;
    /// @dev Hash of the stack below the popped values.
    bytes32 rest;
    /// @dev Calldata offset of the 12 pre-state words (to restore them on a trap).
    uint256 pre;
    /// @dev Read cursor and end of the proof.
    uint256 cur;
    uint256 end;
}

/// @title StepState
/// @notice State words, stack hash chain and witness reading shared by the one-step verifier's
/// instruction families. Onchain twin of vm/verify/step-state.ts, vm/state.ts and vm/proof-format.ts
/// (docs/PROTOCOL.md §4).
library StepState {
    // The VM's numbers come from contracts/src/lib/VmConstants.sol, generated from vm/isa.ts and
    // vm/state.ts (tools/vectors/constants.ts).
    uint256 internal constant STATE_BYTES = VmLimits.STATE_BYTES;
    uint256 internal constant RUNNING = VmLimits.RUNNING;
    uint256 internal constant FINISHED = VmLimits.FINISHED;
    uint256 internal constant TRAPPED = VmLimits.TRAPPED;
    /// @dev returnPc of the entry frame, and the pc of a finished machine.
    uint256 internal constant HALT_PC = VmLimits.HALT_PC;
    uint256 internal constant MASK32 = 0xffffffff;
    uint256 internal constant MASK64 = 0xffffffffffffffff;
    uint256 internal constant LOCALS_DEPTH = VmLimits.LOCALS_DEPTH;
    uint256 internal constant GLOBALS_DEPTH = VmLimits.GLOBALS_DEPTH;
    uint256 internal constant MEMORY_DEPTH = VmLimits.MEMORY_DEPTH;

    // ---------------------------------------------------------------------------------------------
    // State words
    // ---------------------------------------------------------------------------------------------

    /// @dev The 12 words at calldata offset `ptr`, copied into a fresh State.
    function load(uint256 ptr) internal pure returns (State memory s) {
        assembly ("memory-safe") {
            calldatacopy(s, ptr, 384)
        }
    }

    /// @dev The state root: keccak256 of the 12 words.
    function root(State memory s) internal pure returns (bytes32 r) {
        assembly ("memory-safe") {
            r := keccak256(s, 384)
        }
    }

    /// @dev A trap: every field as in the pre-state except status = TRAPPED.
    function trap(State memory s, Step memory c) internal pure {
        uint256 pre = c.pre;
        assembly ("memory-safe") {
            calldatacopy(s, pre, 384)
        }
        s.status = TRAPPED;
    }

    // ---------------------------------------------------------------------------------------------
    // Value stack: h' = keccak256(h ‖ word(v))
    // ---------------------------------------------------------------------------------------------

    function push(bytes32 h, uint256 v) internal pure returns (bytes32 r) {
        assembly ("memory-safe") {
            mstore(0x00, h)
            mstore(0x20, v)
            r := keccak256(0x00, 0x40)
        }
    }

    /// @dev Popped value `i` (0 = bottom).
    function val(Step memory c, uint256 i) internal pure returns (uint256 v) {
        uint256 ptr = c.vals + (i << 3);
        assembly ("memory-safe") {
            v := shr(192, calldataload(ptr))
        }
    }

    /// @dev `h` with popped values [from, to) pushed back, bottom first.
    function pushVals(bytes32 h, Step memory c, uint256 from, uint256 to) internal pure returns (bytes32 r) {
        uint256 ptr = c.vals + (from << 3);
        uint256 end = c.vals + (to << 3);
        assembly ("memory-safe") {
            r := h
            for {} lt(ptr, end) { ptr := add(ptr, 8) } {
                mstore(0x00, r)
                mstore(0x20, shr(192, calldataload(ptr)))
                r := keccak256(0x00, 0x40)
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Witness reading (a cursor over the proof in calldata)
    // ---------------------------------------------------------------------------------------------

    /// @dev Advances the cursor by `n` bytes and returns where they start.
    function take(Step memory c, uint256 n) internal pure returns (uint256 ptr) {
        ptr = c.cur;
        // cur <= end always holds, so end - cur does not wrap.
        unchecked {
            if (n > c.end - ptr) revert Truncated();
            c.cur = ptr + n;
        }
    }

    /// @dev A big-endian unsigned integer of `width` (1..32) bytes.
    function readUint(Step memory c, uint256 width) internal pure returns (uint256 v) {
        uint256 ptr = take(c, width);
        assembly ("memory-safe") {
            v := shr(sub(256, shl(3, width)), calldataload(ptr))
        }
    }

    function readWord(Step memory c) internal pure returns (bytes32 v) {
        uint256 ptr = take(c, 32);
        assembly ("memory-safe") {
            v := calldataload(ptr)
        }
    }

    /// @dev Skips a path of `depth` sibling hashes and returns it as a calldata array (no copy).
    function readPath(Step memory c, uint256 depth) internal pure returns (bytes32[] calldata path) {
        uint256 ptr = c.cur;
        unchecked {
            if (depth > (c.end - ptr) >> 5) revert Truncated();
            c.cur = ptr + (depth << 5);
        }
        assembly ("memory-safe") {
            path.offset := ptr
            path.length := depth
        }
    }

    /// @dev Merkle root of `leaf` at `index` with the bottom-up `path` (docs/PROTOCOL.md §1.1).
    function rootOf(bytes32 leaf, uint256 index, bytes32[] calldata path) internal pure returns (bytes32) {
        return Merkle.rootFromProofCalldata(leaf, index, path);
    }
}
