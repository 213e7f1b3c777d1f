// Control family: nop, unreachable, constants, drop, select, and the flat branch instructions.
import { Ctl, unpackBr, Wasm } from "../isa.js";
import { MASK32, type StepContext } from "./context.js";

export function control(c: StepContext): void {
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
      c.fail(`control: unexpected opcode 0x${c.op.toString(16)}`);
  }
}
