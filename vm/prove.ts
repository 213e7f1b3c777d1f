// One-step proofs from the fast machine (docs/PROTOCOL.md §4.5). The witness is exactly what
// vm/verify needs to recompute the post-state root knowing only the pre-state root.
import type { Hash } from "../commit/merkle.js";
import type { Machine } from "./machine.js";
import { ProofWriter } from "./proof-format.js";
import { encodeFields, Status, stackHashOf, stateRoot } from "./state.js";
import { pops, witness } from "./verify/one-step-prover.js";

export interface StepProof {
  preRoot: Hash;
  proof: Uint8Array;
  postRoot: Hash;
}

/** Proves the next step of `m` and executes it. */
export function proveStep(m: Machine): StepProof {
  const fields = m.fields();
  const preRoot = stateRoot(fields);
  const w = new ProofWriter().bytes(encodeFields(fields));
  if (m.status !== Status.RUNNING) {
    m.step();
    return { preRoot, proof: w.finish(), postRoot: preRoot };
  }
  const pc = m.pc;
  const ins = m.prog.program.code[pc];
  w.uint(ins.op, 2).uint(ins.arg, 8);
  for (const h of m.prog.codeProof(pc)) w.bytes(h);

  const needed = pops(ins.op, ins.arg);
  const fp = m.r.fp;
  const stack = m.frameStack(fp);
  const values = stack.slice(stack.length - needed);
  w.uint(needed, 1);
  for (const v of values) w.uint(v, 8);
  w.bytes(stackHashOf(stack.slice(0, stack.length - needed)));
  witness(w, m, ins.op, ins.arg, values);
  m.step();
  return { preRoot, proof: w.finish(), postRoot: m.stateRoot() };
}
