// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ctl, Wasm} from "../lib/VmConstants.sol";
import {State, Step, StepState, UnknownOpcode} from "./StepState.sol";

/// @title StepControl
/// @notice unreachable, nop, drop, select, the constants and the flat branches BR, BR_IF,
/// BR_UNLESS and BR_TABLE (docs/PROTOCOL.md §4.2). Onchain twin of vm/verify/step-control.ts.
library StepControl {
    uint256 private constant M32 = 0xffffffff;
    uint256 private constant BR = Ctl.BR;
    uint256 private constant BR_IF = Ctl.BR_IF;
    uint256 private constant BR_UNLESS = Ctl.BR_UNLESS;
    uint256 private constant BR_TABLE = Ctl.BR_TABLE;

    /// @dev Stack values popped by `op`; reverts UnknownOpcode for a WASM opcode below 0x43 that
    /// the VM does not have (structured control, tables, typed select, ...).
    function pops(uint256 op, uint256 arg) internal pure returns (uint256) {
        if (op == Wasm.UNREACHABLE || op == Wasm.NOP || op == Wasm.I32_CONST || op == Wasm.I64_CONST) {
            return 0;
        }
        if (op == Wasm.DROP || op == BR_UNLESS || op == BR_TABLE) return 1; // drop, the condition, the index
        if (op == Wasm.SELECT) return 3; // select: a, b, condition
        if (op == BR || op == BR_IF) {
            // BR pops drop + keep values when it drops any (it moves the kept ones down), else none;
            // BR_IF pops its condition first.
            uint256 drop = (arg >> 32) & 0xffff;
            uint256 n = drop > 0 ? drop + ((arg >> 48) & 0xff) : 0;
            return op == BR_IF ? n + 1 : n;
        }
        revert UnknownOpcode(op);
    }

    function step(State memory s, Step memory c) internal pure {
        uint256 op = c.op;
        bytes32 rest = c.rest;
        if (op == Wasm.NOP || op == Wasm.DROP) {
            // nop, drop
            s.stackHash = rest;
        } else if (op == Wasm.UNREACHABLE) {
            StepState.trap(s, c); // unreachable
        } else if (op == Wasm.I32_CONST) {
            s.stackHash = StepState.push(rest, c.arg & M32);
        } else if (op == Wasm.I64_CONST) {
            s.stackHash = StepState.push(rest, c.arg);
        } else if (op == Wasm.SELECT) {
            // select: a if the condition is non-zero, else b
            uint256 pick = StepState.val(c, 2) & M32 != 0 ? 0 : 1;
            s.stackHash = StepState.push(rest, StepState.val(c, pick));
        } else if (op == BR_UNLESS) {
            s.stackHash = rest;
            if (StepState.val(c, 0) & M32 == 0) s.pc = c.arg & M32;
        } else if (op == BR_TABLE) {
            // Continue at pc + 1 + min(i, n): entry i, or the default entry n.
            s.stackHash = rest;
            uint256 i = StepState.val(c, 0) & M32;
            uint256 n = c.arg & M32;
            s.pc = c.pc + 1 + (i < n ? i : n);
        } else {
            // BR, BR_IF: `body` is the values below BR_IF's condition.
            uint256 body = op == BR_IF ? c.nVals - 1 : c.nVals;
            if (op == BR_IF && StepState.val(c, body) & M32 == 0) {
                s.stackHash = StepState.pushVals(rest, c, 0, body); // not taken: only the condition goes
                return;
            }
            // Keep the top `keep` values, discard the `drop` below them (all of body when drop > 0).
            uint256 keep = (c.arg >> 48) & 0xff;
            uint256 from = (c.arg >> 32) & 0xffff > 0 ? body - keep : 0;
            s.stackHash = StepState.pushVals(rest, c, from, body);
            s.pc = c.arg & M32;
        }
    }
}
