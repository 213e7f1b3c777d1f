// verifyStep(preRoot, proof) → postRoot: the reference one-step verifier. It sees nothing but its
// two arguments, and is written the way the Solidity contract must be: decode the pre-state, check
// it against the root, check the instruction against the code root, check the popped stack values
// against the stack hash, then dispatch to one instruction family.
import { type Hash, rootFromProof } from "../../commit/merkle.js";
import { Ctl, instrLeaf, unpackBr, unpackCall, Wasm } from "../isa.js";
import { ProofError, ProofReader, stackValuesNeeded } from "../proof-format.js";
import { decodeFields, FIELD_COUNT, Status, stackHashOf, stateRoot } from "../state.js";
import { call, ret } from "./calls.js";
import { StepContext } from "./context.js";
import { control } from "./control.js";
import { memory } from "./memory.js";
import { numeric } from "./numeric.js";
import { equal, variables } from "./variables.js";

export { ProofError };

export function verifyStep(preRoot: Hash, proof: Uint8Array): Hash {
  const rd = new ProofReader(proof);
  const fieldBytes = rd.bytes(32 * FIELD_COUNT);
  const pre = decodeFields(fieldBytes);
  if (!equal(stateRoot(pre), preRoot)) throw new ProofError("pre-state does not match the pre-state root");
  if (pre.status !== Status.RUNNING) {
    rd.end();
    return preRoot; // a halted or trapped machine stays as it is
  }
  const op = rd.num(2);
  const arg = rd.uint(8);
  const codePath = rd.path(pre.codeDepth);
  if (pre.pc >= 2 ** pre.codeDepth) throw new ProofError(`pc ${pre.pc} outside the code`);
  if (!equal(rootFromProof(instrLeaf({ op, arg }), pre.pc, codePath), pre.codeRoot)) {
    throw new ProofError(`instruction at pc ${pre.pc} does not match the code root`);
  }
  const br = unpackBr(arg);
  const needed = stackValuesNeeded(op, br.drop, br.keep, unpackCall(arg).nParams, Number(arg & 0xffn));
  const n = rd.num(1);
  if (n !== needed) throw new ProofError(`instruction needs ${needed} stack values, proof has ${n}`);
  const vals = Array.from({ length: n }, () => rd.uint(8));
  const rest = rd.hash();
  if (!equal(stackHashOf(vals, rest), pre.stackHash))
    throw new ProofError("stack values do not match the stack hash");

  const c = new StepContext(pre, op, arg, vals, rest, rd);
  if (op === Wasm.CALL) call(c);
  else if (op === Wasm.RETURN) ret(c);
  else if (op >= Wasm.LOCAL_GET && op <= Wasm.GLOBAL_SET) variables(c);
  else if (op >= Wasm.I32_LOAD && op <= Wasm.MEMORY_GROW) memory(c);
  else if (op >= 0x45 && op <= 0xc4) numeric(c);
  else if (
    op <= Wasm.I64_CONST ||
    op === Ctl.BR ||
    op === Ctl.BR_IF ||
    op === Ctl.BR_UNLESS ||
    op === Ctl.BR_TABLE
  )
    control(c);
  else throw new ProofError(`opcode 0x${op.toString(16)} is not in the VM instruction set`);
  rd.end();
  return stateRoot(c.post);
}
