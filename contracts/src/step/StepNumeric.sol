// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {State, Step, StepState, UnknownOpcode, OperandNotI32} from "./StepState.sol";

/// @title StepNumeric
/// @notice Every integer test, comparison, arithmetic and conversion instruction (WASM opcodes
/// 0x45–0xc4 without the float ones), by the reference semantics of vm/numeric.ts: values are
/// unsigned of their width, results are reduced to the unsigned range of the result width, shift
/// and rotate counts are taken mod the width, div/rem by zero and i32/i64 MIN div_s −1 trap, and
/// MIN rem_s −1 is 0. Onchain twin of vm/verify/step-numeric.ts.
/// @dev Signed views use SIGNEXTEND on the 256-bit word, so the EVM's SDIV/SMOD/SLT/SGT/SAR act on
/// them exactly as on i32/i64: SDIV truncates toward zero, SMOD takes the dividend's sign, and no
/// 32- or 64-bit quotient overflows 256 bits (the one WASM overflow, MIN / −1, traps first).
library StepNumeric {
    uint256 private constant M32 = 0xffffffff;
    uint256 private constant M64 = 0xffffffffffffffff;

    /// @dev Stack values popped by `op` (1 or 2); reverts UnknownOpcode for a float opcode or one
    /// outside 0x45–0xc4.
    function pops(uint256 op) internal pure returns (uint256) {
        if (op == 0x45 || op == 0x50) return 1; // eqz
        if ((op > 0x45 && op <= 0x4f) || (op > 0x50 && op <= 0x5a)) return 2; // compare
        if ((op >= 0x67 && op <= 0x69) || (op >= 0x79 && op <= 0x7b)) return 1; // clz ctz popcnt
        if ((op > 0x69 && op <= 0x78) || (op > 0x7b && op <= 0x8a)) return 2; // binary arithmetic
        if (op == 0xa7 || op == 0xac || op == 0xad || (op >= 0xc0 && op <= 0xc4)) return 1; // conversions
        revert UnknownOpcode(op);
    }

    function step(State memory s, Step memory c) internal pure {
        uint256 a = StepState.val(c, 0);
        uint256 b = c.nVals == 2 ? StepState.val(c, 1) : 0;
        (bool trapped, uint256 r) = eval(c.op, a, b);
        if (trapped) StepState.trap(s, c);
        else s.stackHash = StepState.push(c.rest, r);
    }

    /// @dev The result of `op` on `a` (first operand, deeper on the stack) and `b` (second, top of
    /// the stack; 0 for a unary op), or trapped = true. Operands must be below 2^64, and below 2^32
    /// where the operand type is i32 (reverts OperandNotI32 otherwise, as evalNumeric throws).
    function eval(uint256 op, uint256 a, uint256 b) internal pure returns (bool trapped, uint256 r) {
        if (op >= 0x45 && op <= 0x4f) {
            _checkI32(a, b);
            r = _compare(op - 0x45, 32, a, b);
        } else if (op >= 0x50 && op <= 0x5a) {
            r = _compare(op - 0x50, 64, a, b);
        } else if (op >= 0x67 && op <= 0x78) {
            _checkI32(a, b);
            (trapped, r) = _arith(op - 0x67, 32, a, b);
        } else if (op >= 0x79 && op <= 0x8a) {
            (trapped, r) = _arith(op - 0x79, 64, a, b);
        } else {
            r = _convert(op, a);
        }
    }

    function _checkI32(uint256 a, uint256 b) private pure {
        if ((a | b) >> 32 != 0) revert OperandNotI32(a, b);
    }

    /// @dev Test/compare op `k` (eqz eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u) at width `w`.
    function _compare(uint256 k, uint256 w, uint256 a, uint256 b) private pure returns (uint256 r) {
        assembly ("memory-safe") {
            let top := sub(shr(3, w), 1) // SIGNEXTEND byte index: 3 for i32, 7 for i64
            let sa := signextend(top, a)
            let sb := signextend(top, b)
            switch k
            case 0 { r := iszero(a) }
            case 1 { r := eq(a, b) }
            case 2 { r := iszero(eq(a, b)) }
            case 3 { r := slt(sa, sb) }
            case 4 { r := lt(a, b) }
            case 5 { r := sgt(sa, sb) }
            case 6 { r := gt(a, b) }
            case 7 { r := iszero(sgt(sa, sb)) }
            case 8 { r := iszero(gt(a, b)) }
            case 9 { r := iszero(slt(sa, sb)) }
            default { r := iszero(lt(a, b)) }
        }
    }

    /// @dev Arithmetic op `k` (clz ctz popcnt add sub mul div_s div_u rem_s rem_u and or xor shl
    /// shr_s shr_u rotl rotr) at width `w`.
    function _arith(uint256 k, uint256 w, uint256 a, uint256 b)
        private
        pure
        returns (bool trapped, uint256 r)
    {
        unchecked {
            if (k == 0) return (false, w - _bitLength(a)); // clz
            if (k == 1) return (false, a == 0 ? w : _bitLength(a & (0 - a)) - 1); // ctz: the lowest set bit
            if (k == 2) return (false, _popcount(a));
        }
        assembly ("memory-safe") {
            let m := sub(shl(w, 1), 1)
            let top := sub(shr(3, w), 1)
            switch k
            case 3 { r := and(add(a, b), m) }
            case 4 { r := and(sub(a, b), m) }
            case 5 { r := and(mul(a, b), m) }
            case 6 {
                // div_s: traps on b = 0 and on MIN / -1, whose quotient 2^(w-1) does not fit.
                trapped := or(iszero(b), and(eq(a, shl(sub(w, 1), 1)), eq(b, m)))
                if iszero(trapped) { r := and(sdiv(signextend(top, a), signextend(top, b)), m) }
            }
            case 7 {
                trapped := iszero(b)
                if iszero(trapped) { r := div(a, b) }
            }
            case 8 {
                // rem_s: MIN rem -1 is 0, which SMOD gives on the sign-extended words.
                trapped := iszero(b)
                if iszero(trapped) { r := and(smod(signextend(top, a), signextend(top, b)), m) }
            }
            case 9 {
                trapped := iszero(b)
                if iszero(trapped) { r := mod(a, b) }
            }
            case 10 { r := and(a, b) }
            case 11 { r := or(a, b) }
            case 12 { r := xor(a, b) }
            case 13 { r := and(shl(mod(b, w), a), m) }
            case 14 { r := and(sar(mod(b, w), signextend(top, a)), m) }
            case 15 { r := shr(mod(b, w), a) }
            case 16 {
                let n := mod(b, w)
                r := and(or(shl(n, a), shr(sub(w, n), a)), m)
            }
            default {
                let n := mod(b, w)
                r := and(or(shr(n, a), shl(sub(w, n), a)), m)
            }
        }
    }

    /// @dev wrap, extend_i32_s/u and the sign-extension ops; reverts UnknownOpcode for anything else.
    function _convert(uint256 op, uint256 a) private pure returns (uint256 r) {
        if (op == 0xa7) return a & M32; // i32.wrap_i64
        if (op < 0xac || op > 0xc4 || (op > 0xad && op < 0xc0)) revert UnknownOpcode(op);
        if (op <= 0xc1) _checkI32(a, 0);
        assembly ("memory-safe") {
            switch op
            case 0xac { r := and(signextend(3, a), M64) } // i64.extend_i32_s
            case 0xad { r := a } // i64.extend_i32_u
            case 0xc0 { r := and(signextend(0, a), M32) } // i32.extend8_s
            case 0xc1 { r := and(signextend(1, a), M32) } // i32.extend16_s
            case 0xc2 { r := and(signextend(0, a), M64) } // i64.extend8_s
            case 0xc3 { r := and(signextend(1, a), M64) } // i64.extend16_s
            default { r := and(signextend(3, a), M64) } // 0xc4 i64.extend32_s
        }
    }

    /// @dev Number of bits needed to write `x` < 2^64 (0 for 0).
    function _bitLength(uint256 x) private pure returns (uint256 n) {
        assembly ("memory-safe") {
            if gt(x, 0xffffffff) {
                n := 32
                x := shr(32, x)
            }
            if gt(x, 0xffff) {
                n := add(n, 16)
                x := shr(16, x)
            }
            if gt(x, 0xff) {
                n := add(n, 8)
                x := shr(8, x)
            }
            if gt(x, 0xf) {
                n := add(n, 4)
                x := shr(4, x)
            }
            if gt(x, 0x3) {
                n := add(n, 2)
                x := shr(2, x)
            }
            if gt(x, 0x1) {
                n := add(n, 1)
                x := shr(1, x)
            }
            n := add(n, x)
        }
    }

    /// @dev Set bits of `x` < 2^64 (SWAR: pairs, nibbles, bytes, then one multiply sums the bytes).
    function _popcount(uint256 x) private pure returns (uint256 n) {
        assembly ("memory-safe") {
            x := sub(x, and(shr(1, x), 0x5555555555555555))
            x := add(and(x, 0x3333333333333333), and(shr(2, x), 0x3333333333333333))
            x := and(add(x, shr(4, x)), 0x0f0f0f0f0f0f0f0f)
            n := shr(56, and(mul(x, 0x0101010101010101), 0xffffffffffffffff))
        }
    }
}
