// Calls and returns: frames are committed as a hash chain of records (stack hash, locals root,
// return pc); a call starts an empty value stack and a locals tree holding only the arguments.
import { HALT_PC, LIMITS, unpackCall } from "../isa.js";
import { EMPTY, frameRecord, localsRootOf, pushFrame, Status, stackHashOf } from "../state.js";
import type { StepContext } from "./context.js";
import { equal } from "./variables.js";

export function call(c: StepContext): void {
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

export function ret(c: StepContext): void {
  const p = c.post;
  if (c.pre.returnPc === HALT_PC) {
    p.status = Status.FINISHED;
    p.pc = HALT_PC;
    p.stackHash = stackHashOf(c.vals);
    return;
  }
  if (c.pre.frameDepth === 0) c.fail("return to a caller with no suspended frame");
  const callerStack = c.rd.hash();
  const callerLocals = c.rd.hash();
  const callerReturn = c.rd.num(4);
  const below = c.rd.hash();
  const record = frameRecord(callerStack, callerLocals, callerReturn);
  if (!equal(pushFrame(below, record), c.pre.frameStackHash))
    c.fail("caller frame does not match the frame stack");
  p.stackHash = stackHashOf(c.vals, callerStack);
  p.localsRoot = callerLocals;
  p.returnPc = callerReturn;
  p.frameStackHash = below;
  p.frameDepth = c.pre.frameDepth - 1;
  p.pc = c.pre.returnPc;
}
