// Numeric family: every i32/i64 test, comparison, arithmetic and conversion op, by the reference
// semantics of vm/numeric.ts. Division by zero and signed overflow trap. Twin of
// contracts/src/step/StepNumeric.sol.
import { isFloatNumeric, NUMERIC_FIRST, NUMERIC_LAST, numericPops } from "../isa.js";
import type { Machine } from "../machine.js";
import { evalNumeric, numericOperandIs64 } from "../numeric.js";
import type { ProofWriter } from "../proof-format.js";
import { fail, type StepContext } from "./step-state.js";

/** Stack values popped by `op` (1 or 2); rejects a float opcode or one outside 0x45–0xc4. */
export function pops(op: number): number {
  if (op < NUMERIC_FIRST || op > NUMERIC_LAST || isFloatNumeric(op))
    fail("UnknownOpcode", `opcode 0x${op.toString(16)} is not in the VM instruction set`);
  return numericPops(op);
}

export function step(c: StepContext): void {
  const [a, b] = c.vals;
  if (!numericOperandIs64(c.op) && (a | (b ?? 0n)) >> 32n !== 0n)
    c.fail("OperandNotI32", `i32 operand of opcode 0x${c.op.toString(16)} has bits above 32`);
  const r = evalNumeric(c.op, a, c.vals.length === 2 ? b : undefined);
  if (typeof r !== "bigint") c.trap();
  else c.setStack([r]);
}

/** A numeric step needs no witness beyond its popped values. */
export function witness(_w: ProofWriter, _m: Machine, _op: number, _arg: bigint, _vals: bigint[]): void {}
