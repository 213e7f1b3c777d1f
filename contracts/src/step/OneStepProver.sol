// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IStepVerifier} from "../interfaces/IStepVerifier.sol";
import {Ctl, VmLimits, Wasm} from "../lib/VmConstants.sol";
import {
    State,
    Step,
    StepState,
    PreStateMismatch,
    TrailingBytes,
    Truncated,
    PcOutsideCode,
    InstructionNotInCode,
    UnknownOpcode,
    WrongStackCount,
    StackMismatch
} from "./StepState.sol";
import {StepNumeric} from "./StepNumeric.sol";
import {StepMemory} from "./StepMemory.sol";
import {StepVariables} from "./StepVariables.sol";
import {StepControl} from "./StepControl.sol";
import {StepCalls} from "./StepCalls.sol";

/// @title OneStepProver
/// @notice The one-step verifier of the Merkle-ized WASM VM (docs/PROTOCOL.md §4.5): from an agreed
/// pre-state root and a step proof, the post-state root of executing one flat instruction. Onchain
/// twin of vm/verify/one-step-prover.ts; each instruction family is a library (StepNumeric,
/// StepMemory, StepVariables, StepControl, StepCalls; TS twins vm/verify/step-*.ts) with its pop
/// count `pops` and its `step`, which reads its own witness after the common part.
/// @dev Proof layout (all big-endian): the 12 pre-state words (384 bytes); unless status != 0, the
/// instruction (op: 2, arg: 8), its code path (32 · codeDepth), the stack section (n: 1, n values of
/// 8 bytes bottom → top, the hash of the rest: 32), then the family's witness. Nothing may follow.
contract OneStepProver is IStepVerifier {
    using StepState for Step;

    /// @inheritdoc IStepVerifier
    function verifyStep(bytes32 preRoot, bytes calldata proof) external pure override returns (bytes32) {
        uint256 start;
        assembly ("memory-safe") {
            start := proof.offset
        }
        if (proof.length < StepState.STATE_BYTES) revert Truncated();
        State memory s = StepState.load(start);
        if (StepState.root(s) != preRoot) revert PreStateMismatch();
        if (s.status != StepState.RUNNING) {
            // A finished or trapped machine stays as it is.
            if (proof.length != StepState.STATE_BYTES) revert TrailingBytes();
            return preRoot;
        }

        Step memory c;
        c.pre = start;
        c.cur = start + StepState.STATE_BYTES;
        c.end = start + proof.length;

        // Instruction: its leaf is op ‖ arg ‖ 22 zero bytes, i.e. the top 10 bytes of this word.
        uint256 ptr = c.take(10);
        uint256 w;
        assembly ("memory-safe") {
            w := calldataload(ptr)
        }
        uint256 op = w >> 240;
        uint256 arg = (w >> 176) & StepState.MASK64;
        bytes32[] calldata codePath = c.readPath(s.codeDepth);
        uint256 pc = s.pc;
        if (pc >> s.codeDepth != 0) revert PcOutsideCode(pc, s.codeDepth);
        if (StepState.rootOf(bytes32(w & ~uint256(2 ** 176 - 1)), pc, codePath) != s.codeRoot) {
            revert InstructionNotInCode(pc);
        }
        c.op = op;
        c.arg = arg;
        c.pc = pc;

        // Stack: exactly the values the instruction pops, and the hash of the rest.
        uint256 family = _family(op);
        uint256 needed;
        if (family == NUMERIC) needed = StepNumeric.pops(op);
        else if (family == MEMORY) needed = StepMemory.pops(op);
        else if (family == VARIABLES) needed = StepVariables.pops(op);
        else if (family == CONTROL) needed = StepControl.pops(op, arg);
        else needed = StepCalls.pops(op, arg);
        uint256 n = c.readUint(1);
        if (n != needed) revert WrongStackCount(needed, n);
        c.nVals = n;
        c.vals = c.take(n << 3);
        c.rest = c.readWord();
        if (StepState.pushVals(c.rest, c, 0, n) != s.stackHash) revert StackMismatch();

        unchecked {
            s.pc = pc + 1;
        }
        if (family == NUMERIC) StepNumeric.step(s, c);
        else if (family == MEMORY) StepMemory.step(s, c);
        else if (family == VARIABLES) StepVariables.step(s, c);
        else if (family == CONTROL) StepControl.step(s, c);
        else StepCalls.step(s, c);

        if (c.cur != c.end) revert TrailingBytes();
        return StepState.root(s);
    }

    uint256 private constant NUMERIC = 0;
    uint256 private constant MEMORY = 1;
    uint256 private constant VARIABLES = 2;
    uint256 private constant CONTROL = 3;
    uint256 private constant CALLS = 4;

    /// @dev The family of `op`, by opcode range as vm/verify/one-step-prover.ts `family` does; each family's
    /// `pops` rejects the opcodes of its range that the VM does not have.
    function _family(uint256 op) private pure returns (uint256) {
        if (op >= VmLimits.NUMERIC_FIRST && op <= VmLimits.NUMERIC_LAST) return NUMERIC;
        if (op >= Wasm.I32_LOAD && op <= Wasm.MEMORY_GROW) return MEMORY;
        if (op >= Wasm.LOCAL_GET && op <= Wasm.GLOBAL_SET) return VARIABLES;
        if (op == Wasm.CALL || op == Wasm.RETURN) return CALLS;
        if (op <= Wasm.I64_CONST || (op >= Ctl.BR && op <= Ctl.BR_TABLE)) return CONTROL;
        revert UnknownOpcode(op);
    }
}
