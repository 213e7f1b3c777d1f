// Numeric family: every i32/i64 test, comparison, arithmetic and conversion op, by the reference
// semantics of vm/numeric.ts. Division by zero and signed overflow trap.
import { evalNumeric } from "../numeric.js";
import type { StepContext } from "./context.js";

export function numeric(c: StepContext): void {
  const [a, b] = c.vals;
  const r = evalNumeric(c.op, a, c.vals.length === 2 ? b : undefined);
  if (typeof r !== "bigint") c.trap();
  else c.setStack([r]);
}
