// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Wasm} from "../lib/VmConstants.sol";
import {
    State,
    Step,
    StepState,
    LocalIndexOutOfRange,
    GlobalIndexOutOfRange,
    LocalsMismatch,
    GlobalsMismatch
} from "./StepState.sol";

/// @title StepVariables
/// @notice local.get/set/tee and global.get/set: one leaf of the locals tree (depth 8) or the
/// globals tree (depth 4), given as the slot's 8-byte value and its path. Onchain twin of
/// vm/verify/step-variables.ts.
library StepVariables {
    /// @dev Stack values popped by `op` (0x20–0x24).
    function pops(uint256 op) internal pure returns (uint256) {
        return op == Wasm.LOCAL_GET || op == Wasm.GLOBAL_GET ? 0 : 1;
    }

    function step(State memory s, Step memory c) internal pure {
        uint256 op = c.op;
        uint256 idx = c.arg;
        bool isLocal = op <= Wasm.LOCAL_TEE;
        uint256 depth = isLocal ? StepState.LOCALS_DEPTH : StepState.GLOBALS_DEPTH;
        if (idx >> depth != 0) {
            if (isLocal) revert LocalIndexOutOfRange(idx);
            revert GlobalIndexOutOfRange(idx);
        }
        uint256 old = StepState.readUint(c, 8);
        bytes32[] calldata path = StepState.readPath(c, depth);
        if (StepState.rootOf(bytes32(old), idx, path) != (isLocal ? s.localsRoot : s.globalsRoot)) {
            if (isLocal) revert LocalsMismatch(idx);
            revert GlobalsMismatch(idx);
        }
        if (op == Wasm.LOCAL_GET || op == Wasm.GLOBAL_GET) {
            // local.get, global.get
            s.stackHash = StepState.push(c.rest, old);
            return;
        }
        uint256 v = StepState.val(c, 0);
        bytes32 newRoot = StepState.rootOf(bytes32(v), idx, path);
        if (isLocal) s.localsRoot = newRoot;
        else s.globalsRoot = newRoot;
        // local.tee keeps the value; local.set and global.set pop it.
        s.stackHash = op == Wasm.LOCAL_TEE ? StepState.push(c.rest, v) : c.rest;
    }
}
