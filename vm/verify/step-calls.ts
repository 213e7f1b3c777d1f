// Calls and returns: frames are committed as a hash chain of records (stack hash, locals root,
// return pc); a call starts an empty value stack and a locals tree holding only the arguments.
// Twin of contracts/src/step/StepCalls.sol.
import { HALT_PC, LIMITS, unpackCall, Wasm } from "../isa.js";
import type { Machine } from "../machine.js";
import type { ProofWriter } from "../proof-format.js";
import { EMPTY, frameRecord, localsRootOf, pushFrame, Status, stackHashOf } from "../state.js";
import { equal, type StepContext } from "./step-state.js";

/** Stack values popped: call its parameter count, return its result count. */
export function pops(op: number, arg: bigint): number {
  return op === Wasm.CALL ? unpackCall(arg).nParams : Number(arg & 0xffn);
}

export function step(c: StepContext): void {
  if (c.op === Wasm.CALL) call(c);
  else ret(c);
}

/** call: arg = entryPc | nParams << 32 | nLocals << 40 | nResults << 56. */
function call(c: StepContext): void {
  if (c.pre.frameDepth + 1 >= LIMITS.MAX_FRAMES) {
    c.trap();
    return;
  }
  const f = unpackCall(c.arg);
  const p = c.post;
  p.frameStackHash = pushFrame(c.pre.frameStackHash, frameRecord(c.rest, c.pre.localsRoot, c.pre.returnPc));
  p.frameDepth = c.pre.frameDepth + 1;
  p.localsRoot = localsRootOf(c.vals);
  p.returnPc = c.pre.pc + 1;
  p.stackHash = EMPTY;
  p.pc = f.entryPc;
}

/**
 * return with arg & 0xff results. From the entry frame it finishes the machine; otherwise the
 * proof gives the caller's stack hash, locals root and return pc (4 bytes) and the frame-stack
 * hash below the caller.
 */
function ret(c: StepContext): void {
  const p = c.post;
  if (c.pre.returnPc === HALT_PC) {
    p.status = Status.FINISHED;
    p.pc = HALT_PC;
    p.stackHash = stackHashOf(c.vals);
    return;
  }
  const callerStack = c.rd.hash();
  const callerLocals = c.rd.hash();
  const callerReturn = c.rd.num(4);
  const below = c.rd.hash();
  // Depth 0 has no caller; its frame-stack hash has no preimage anyway.
  if (c.pre.frameDepth === 0) c.fail("FrameMismatch", "return to a caller with no suspended frame");
  const record = frameRecord(callerStack, callerLocals, callerReturn);
  if (!equal(pushFrame(below, record), c.pre.frameStackHash))
    c.fail("FrameMismatch", "caller frame does not match the frame stack");
  p.stackHash = stackHashOf(c.vals, callerStack);
  p.localsRoot = callerLocals;
  p.returnPc = callerReturn;
  p.frameStackHash = below;
  p.frameDepth = c.pre.frameDepth - 1;
  p.pc = c.pre.returnPc;
}

/** Witness of a return to a caller: its stack hash, locals root, return pc and the frames below. */
export function witness(w: ProofWriter, m: Machine, op: number, _arg: bigint, _vals: bigint[]): void {
  const fp = m.r.fp;
  if (op !== Wasm.RETURN || m.fRet[fp] >>> 0 === HALT_PC) return;
  w.bytes(stackHashOf(m.frameStack(fp - 1)));
  w.bytes(localsRootOf(m.frameLocals(fp - 1)));
  w.uint(m.fRet[fp - 1] >>> 0, 4);
  w.bytes(m.frameStackHashBelow(fp - 1));
}
