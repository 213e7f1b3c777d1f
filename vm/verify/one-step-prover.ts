// verifyStep(preRoot, proof) → postRoot: the reference one-step verifier. It sees nothing but its
// two arguments, and is written the way the Solidity contract is (twin of
// contracts/src/step/OneStepProver.sol): decode the pre-state, check it against the root, check
// the instruction against the code root, check the popped stack values against the stack hash,
// then dispatch to one instruction family. Each family file (step-*.ts) owns its pop count
// (`pops`), its `step` and its `witness` writer; vm/prove.ts writes proofs through `pops` and
// `witness` here.
import { type Hash, rootFromProof } from "../../commit/merkle.js";
import { Ctl, instrLeaf, Wasm } from "../isa.js";
import type { Machine } from "../machine.js";
import { ProofError, ProofReader, type ProofWriter } from "../proof-format.js";
import { decodeFields, FIELD_COUNT, Status, stackHashOf, stateRoot } from "../state.js";
import * as StepCalls from "./step-calls.js";
import * as StepControl from "./step-control.js";
import * as StepMemory from "./step-memory.js";
import * as StepNumeric from "./step-numeric.js";
import { equal, fail, StepContext } from "./step-state.js";
import * as StepVariables from "./step-variables.js";

export { ProofError };

export function verifyStep(preRoot: Hash, proof: Uint8Array): Hash {
  const rd = new ProofReader(proof);
  const fieldBytes = rd.bytes(32 * FIELD_COUNT);
  const pre = decodeFields(fieldBytes);
  if (!equal(stateRoot(pre), preRoot))
    fail("PreStateMismatch", "pre-state does not match the pre-state root");
  if (pre.status !== Status.RUNNING) {
    rd.end();
    return preRoot; // a halted or trapped machine stays as it is
  }
  const op = rd.num(2);
  const arg = rd.uint(8);
  const codePath = rd.path(pre.codeDepth);
  if (pre.pc >= 2 ** pre.codeDepth) fail("PcOutsideCode", `pc ${pre.pc} outside the code`);
  if (!equal(rootFromProof(instrLeaf({ op, arg }), pre.pc, codePath), pre.codeRoot)) {
    fail("InstructionNotInCode", `instruction at pc ${pre.pc} does not match the code root`);
  }

  // Stack: exactly the values the instruction pops, and the hash of the rest.
  const needed = pops(op, arg);
  const n = rd.num(1);
  if (n !== needed) fail("WrongStackCount", `instruction needs ${needed} stack values, proof has ${n}`);
  const vals = Array.from({ length: n }, () => rd.uint(8));
  const rest = rd.hash();
  if (!equal(stackHashOf(vals, rest), pre.stackHash))
    fail("StackMismatch", "stack values do not match the stack hash");

  const c = new StepContext(pre, op, arg, vals, rest, rd);
  const f = family(op);
  if (f === NUMERIC) StepNumeric.step(c);
  else if (f === MEMORY) StepMemory.step(c);
  else if (f === VARIABLES) StepVariables.step(c);
  else if (f === CONTROL) StepControl.step(c);
  else StepCalls.step(c);

  rd.end();
  return stateRoot(c.post);
}

/** How many stack values (bottom → top) the proof must supply for the instruction (op, arg). */
export function pops(op: number, arg: bigint): number {
  const f = family(op);
  if (f === NUMERIC) return StepNumeric.pops(op);
  if (f === MEMORY) return StepMemory.pops(op);
  if (f === VARIABLES) return StepVariables.pops(op);
  if (f === CONTROL) return StepControl.pops(op, arg);
  return StepCalls.pops(op, arg);
}

/** Writes the family witness of the instruction (op, arg) that `m` is about to execute. */
export function witness(w: ProofWriter, m: Machine, op: number, arg: bigint, vals: bigint[]): void {
  const f = family(op);
  if (f === NUMERIC) StepNumeric.witness(w, m, op, arg, vals);
  else if (f === MEMORY) StepMemory.witness(w, m, op, arg, vals);
  else if (f === VARIABLES) StepVariables.witness(w, m, op, arg, vals);
  else if (f === CONTROL) StepControl.witness(w, m, op, arg, vals);
  else StepCalls.witness(w, m, op, arg, vals);
}

const NUMERIC = 0;
const MEMORY = 1;
const VARIABLES = 2;
const CONTROL = 3;
const CALLS = 4;

/**
 * The family of `op`, by opcode range; each family's `pops` rejects the opcodes of its range that
 * the VM does not have.
 */
function family(op: number): number {
  if (op >= 0x45 && op <= 0xc4) return NUMERIC;
  if (op >= Wasm.I32_LOAD && op <= Wasm.MEMORY_GROW) return MEMORY;
  if (op >= Wasm.LOCAL_GET && op <= Wasm.GLOBAL_SET) return VARIABLES;
  if (op === Wasm.CALL || op === Wasm.RETURN) return CALLS;
  if (op <= Wasm.I64_CONST || (op >= Ctl.BR && op <= Ctl.BR_TABLE)) return CONTROL;
  fail("UnknownOpcode", `opcode 0x${op.toString(16)} is not in the VM instruction set`);
}
