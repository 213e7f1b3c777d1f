// Control family: nop, unreachable, constants, drop, select, and the flat branch instructions.
// Twin of contracts/src/step/StepControl.sol.
import { Ctl, unpackBr, Wasm } from "../isa.js";
import type { Machine } from "../machine.js";
import type { ProofWriter } from "../proof-format.js";
import { fail, MASK32, type StepContext } from "./step-state.js";

/**
 * Stack values popped by `op`; rejects a WASM opcode below 0x43 that the VM does not have
 * (structured control, tables, typed select, ...).
 */
export function pops(op: number, arg: bigint): number {
  switch (op) {
    case Wasm.UNREACHABLE:
    case Wasm.NOP:
    case Wasm.I32_CONST:
    case Wasm.I64_CONST:
      return 0;
    case Wasm.DROP:
    case Ctl.BR_UNLESS:
    case Ctl.BR_TABLE:
      return 1; // the value, the condition, the index
    case Wasm.SELECT:
      return 3; // a, b, condition
    case Ctl.BR:
    case Ctl.BR_IF: {
      // BR pops drop + keep values when it drops any (it moves the kept ones down), else none;
      // BR_IF pops its condition first.
      const br = unpackBr(arg);
      const n = br.drop > 0 ? br.drop + br.keep : 0;
      return op === Ctl.BR_IF ? n + 1 : n;
    }
    default:
      fail("UnknownOpcode", `opcode 0x${op.toString(16)} is not in the VM instruction set`);
  }
}

export function step(c: StepContext): void {
  const v = c.vals;
  switch (c.op) {
    case Wasm.NOP:
      c.setStack([]);
      return;
    case Wasm.UNREACHABLE:
      c.trap();
      return;
    case Wasm.I32_CONST:
      c.setStack([c.arg & MASK32]);
      return;
    case Wasm.I64_CONST:
      c.setStack([c.arg]);
      return;
    case Wasm.DROP:
      c.setStack([]);
      return;
    case Wasm.SELECT:
      c.setStack([(v[2] & MASK32) !== 0n ? v[0] : v[1]]);
      return;
    case Ctl.BR_UNLESS:
      c.setStack([]);
      if ((v[0] & MASK32) === 0n) c.post.pc = Number(c.arg & MASK32);
      return;
    case Ctl.BR_TABLE: {
      c.setStack([]);
      const i = Number(v[0] & MASK32);
      const n = Number(c.arg & MASK32);
      c.post.pc = c.pre.pc + 1 + Math.min(i, n);
      return;
    }
    case Ctl.BR:
    case Ctl.BR_IF: {
      const br = unpackBr(c.arg);
      const body = c.op === Ctl.BR_IF ? v.slice(0, -1) : v;
      if (c.op === Ctl.BR_IF && (v[v.length - 1] & MASK32) === 0n) {
        c.setStack(body);
        return;
      }
      // Keep the top `keep` values, discard the `drop` below them.
      c.setStack(br.drop > 0 ? body.slice(body.length - br.keep) : body);
      c.post.pc = br.target;
      return;
    }
    default:
      c.fail("UnknownOpcode", `control: unexpected opcode 0x${c.op.toString(16)}`);
  }
}

/** A control step needs no witness beyond its popped values. */
export function witness(_w: ProofWriter, _m: Machine, _op: number, _arg: bigint, _vals: bigint[]): void {}
