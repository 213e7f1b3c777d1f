// Shared state of one step verification: the decoded pre-state, the popped stack values and the
// post-state being built. Each instruction family (control, variables, memory, calls, numeric)
// reads its witness from the same ProofReader, in the order the prover wrote it.
import type { Hash } from "../../commit/merkle.js";
import { ProofError, type ProofReader } from "../proof-format.js";
import { type StateFields, Status, stackHashOf } from "../state.js";

export class StepContext {
  post: StateFields;
  constructor(
    readonly pre: StateFields,
    readonly op: number,
    readonly arg: bigint,
    /** Stack values supplied by the proof, bottom → top, already checked against pre.stackHash. */
    readonly vals: bigint[],
    /** Hash of the stack below `vals`. */
    readonly rest: Hash,
    readonly rd: ProofReader,
  ) {
    this.post = { ...pre, pc: pre.pc + 1 };
  }

  /** Post stack = rest + these values. */
  setStack(push: bigint[]): void {
    this.post.stackHash = stackHashOf(push, this.rest);
  }

  trap(): void {
    this.post = { ...this.pre, status: Status.TRAPPED };
  }

  fail(msg: string): never {
    throw new ProofError(msg);
  }
}

export const MASK32 = 0xffffffffn;
export const MASK64 = 0xffffffffffffffffn;
