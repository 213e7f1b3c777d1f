// Shared state of one step verification: the decoded pre-state, the popped stack values and the
// post-state being built. Each instruction family (step-control, step-variables, step-memory,
// step-calls, step-numeric) reads its witness from the same ProofReader, in the order its witness
// writer wrote it. Twin of contracts/src/step/StepState.sol.
import type { Hash } from "../../commit/merkle.js";
import { ProofError, type ProofErrorCode, type ProofReader } from "../proof-format.js";
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

  /** Rejects the proof with the custom error the Solidity verifier reverts with for this fault. */
  fail(code: ProofErrorCode, msg: string): never {
    fail(code, msg);
  }
}

/** Rejects the proof with the custom error the Solidity verifier reverts with for this fault. */
export function fail(code: ProofErrorCode, msg: string): never {
  throw new ProofError(code, msg);
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export const MASK32 = 0xffffffffn;
export const MASK64 = 0xffffffffffffffffn;
