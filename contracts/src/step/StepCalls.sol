// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Merkle} from "../lib/Merkle.sol";
import {VmLimits, Wasm} from "../lib/VmConstants.sol";
import {State, Step, StepState, FrameMismatch} from "./StepState.sol";

/// @title StepCalls
/// @notice call and return. Suspended frames are a hash chain F' = keccak256(F ‖ record) of
/// records keccak256(stackHash ‖ localsRoot ‖ word(returnPc)); a call starts an empty stack and a
/// locals tree holding only its arguments (docs/PROTOCOL.md §4.3–4.4). Onchain twin of
/// vm/verify/step-calls.ts.
library StepCalls {
    uint256 private constant M32 = 0xffffffff;
    /// @dev A call at this frame depth (or deeper) traps (vm/isa.ts LIMITS.MAX_FRAMES − 1).
    uint256 private constant MAX_DEPTH = VmLimits.MAX_FRAMES - 1;

    /// @dev Stack values popped: call its parameter count, return its result count.
    function pops(uint256 op, uint256 arg) internal pure returns (uint256) {
        return op == Wasm.CALL ? (arg >> 32) & 0xff : arg & 0xff;
    }

    function step(State memory s, Step memory c) internal pure {
        if (c.op == Wasm.CALL) _call(s, c);
        else _return(s, c);
    }

    /// @dev call: arg = entryPc | nParams << 32 | nLocals << 40 | nResults << 56.
    function _call(State memory s, Step memory c) private pure {
        if (s.frameDepth >= MAX_DEPTH) {
            StepState.trap(s, c);
            return;
        }
        s.frameStackHash = Merkle.hashPair(s.frameStackHash, _record(c.rest, s.localsRoot, s.returnPc));
        s.frameDepth += 1;
        s.localsRoot = _localsRoot(c);
        s.returnPc = c.pc + 1;
        s.stackHash = bytes32(0);
        s.pc = c.arg & M32;
    }

    /// @dev return with arg & 0xff results. From the entry frame it finishes the machine; otherwise
    /// the proof gives the caller's stack hash, locals root and return pc (4 bytes) and the
    /// frame-stack hash below the caller.
    function _return(State memory s, Step memory c) private pure {
        if (s.returnPc == StepState.HALT_PC) {
            s.status = StepState.FINISHED;
            s.pc = StepState.HALT_PC;
            s.stackHash = StepState.pushVals(bytes32(0), c, 0, c.nVals);
            return;
        }
        bytes32 callerStack = StepState.readWord(c);
        bytes32 callerLocals = StepState.readWord(c);
        uint256 callerReturn = StepState.readUint(c, 4);
        bytes32 below = StepState.readWord(c);
        bytes32 record = _record(callerStack, callerLocals, callerReturn);
        // Depth 0 has no caller; its frame-stack hash (0) has no preimage anyway.
        if (Merkle.hashPair(below, record) != s.frameStackHash || s.frameDepth == 0) revert FrameMismatch();
        s.pc = s.returnPc;
        s.stackHash = StepState.pushVals(callerStack, c, 0, c.nVals);
        s.localsRoot = callerLocals;
        s.returnPc = callerReturn;
        s.frameStackHash = below;
        unchecked {
            s.frameDepth -= 1;
        }
    }

    /// @dev keccak256(stackHash ‖ localsRoot ‖ word(returnPc)).
    function _record(bytes32 stackHash, bytes32 localsRoot, uint256 returnPc)
        private
        pure
        returns (bytes32 r)
    {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, stackHash)
            mstore(add(p, 0x20), localsRoot)
            mstore(add(p, 0x40), returnPc)
            r := keccak256(p, 0x60)
        }
    }

    /// @dev Root of the depth-8 locals tree holding the popped arguments in slots 0..n−1 and zero
    /// elsewhere (vm/state.ts localsRootOf).
    function _localsRoot(Step memory c) private pure returns (bytes32 r) {
        uint256 n = c.nVals;
        if (n == 0) return Merkle.zeroHash(StepState.LOCALS_DEPTH);
        uint256 p;
        uint256 vals = c.vals;
        assembly ("memory-safe") {
            // Scratch past the free memory pointer; nothing is allocated.
            p := mload(0x40)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                mstore(add(p, shl(5, i)), shr(192, calldataload(add(vals, shl(3, i)))))
            }
        }
        // Each level in place; an odd level is padded with the zero subtree of its height.
        for (uint256 d; d < StepState.LOCALS_DEPTH; ++d) {
            bytes32 z = n & 1 == 1 ? Merkle.zeroHash(d) : bytes32(0);
            assembly ("memory-safe") {
                if and(n, 1) {
                    mstore(add(p, shl(5, n)), z)
                    n := add(n, 1)
                }
                n := shr(1, n)
                for { let j := 0 } lt(j, n) { j := add(j, 1) } {
                    mstore(add(p, shl(5, j)), keccak256(add(p, shl(6, j)), 0x40))
                }
            }
        }
        assembly ("memory-safe") {
            r := mload(p)
        }
    }
}
