// One-step proofs from the fast machine (docs/PROTOCOL.md §4.5). The witness is exactly what
// vm/verify needs to recompute the post-state root knowing only the pre-state root.
import { type Hash, leavesProof } from "../commit/merkle.js";
import { Ctl, HALT_PC, LIMITS, unpackBr, unpackCall, Wasm } from "./isa.js";
import { ACCESS_SIZE, type Machine } from "./machine.js";
import { ProofWriter, stackValuesNeeded } from "./proof-format.js";
import { encodeFields, localsRootOf, Status, stackHashOf, stateRoot, word } from "./state.js";

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

  const br = unpackBr(ins.arg);
  const call = unpackCall(ins.arg);
  const needed = stackValuesNeeded(ins.op, br.drop, br.keep, call.nParams, Number(ins.arg & 0xffn));
  const fp = m.r.fp;
  const stack = m.frameStack(fp);
  const values = stack.slice(stack.length - needed);
  w.uint(needed, 1);
  for (const v of values) w.uint(v, 8);
  w.bytes(stackHashOf(stack.slice(0, stack.length - needed)));

  const op = ins.op;
  if (op === Wasm.LOCAL_GET || op === Wasm.LOCAL_SET || op === Wasm.LOCAL_TEE) {
    const locals = m.frameLocals(fp);
    const idx = Number(ins.arg);
    w.uint(locals[idx], 8);
    for (const h of leavesProof(locals.map(word), idx, LIMITS.LOCALS_DEPTH)) w.bytes(h);
  } else if (op === Wasm.GLOBAL_GET || op === Wasm.GLOBAL_SET) {
    const globals = m.globals();
    const idx = Number(ins.arg);
    w.uint(globals[idx], 8);
    for (const h of leavesProof(globals.map(word), idx, LIMITS.GLOBALS_DEPTH)) w.bytes(h);
  } else if (op >= Wasm.I32_LOAD && op <= Wasm.I64_STORE32) {
    const size = ACCESS_SIZE[op - Wasm.I32_LOAD];
    const ea = Number(values[0] & 0xffffffffn) + Number(ins.arg & 0xffffffffn);
    if (ea + size > m.mem.bytes.length) w.uint(0, 1);
    else {
      const first = Math.floor(ea / 32);
      const last = Math.floor((ea + size - 1) / 32);
      const leaves = first === last ? [first] : [first, last];
      w.uint(leaves.length, 1);
      for (const i of leaves) {
        w.bytes(m.mem.leafCopy(i));
        for (const h of m.mem.proof(i)) w.bytes(h);
      }
    }
  } else if (op === Wasm.RETURN && m.fRet[fp] >>> 0 !== HALT_PC) {
    w.bytes(stackHashOf(m.frameStack(fp - 1)));
    w.bytes(localsRootOf(m.frameLocals(fp - 1)));
    w.uint(m.fRet[fp - 1] >>> 0, 4);
    w.bytes(m.frameStackHashBelow(fp - 1));
  }
  void Ctl;
  m.step();
  return { preRoot, proof: w.finish(), postRoot: m.stateRoot() };
}
