// Locals and globals: one leaf of a fixed-depth Merkle tree, proven against the state's root.
// Twin of contracts/src/step/StepVariables.sol.
import { leavesProof, rootFromProof } from "../../commit/merkle.js";
import { LIMITS, Wasm } from "../isa.js";
import type { Machine } from "../machine.js";
import type { ProofWriter } from "../proof-format.js";
import { word } from "../state.js";
import { equal, type StepContext } from "./step-state.js";

const isLocalOp = (op: number): boolean =>
  op === Wasm.LOCAL_GET || op === Wasm.LOCAL_SET || op === Wasm.LOCAL_TEE;

/** Stack values popped by `op` (0x20–0x24). */
export function pops(op: number): number {
  return op === Wasm.LOCAL_GET || op === Wasm.GLOBAL_GET ? 0 : 1;
}

export function step(c: StepContext): void {
  const isLocal = isLocalOp(c.op);
  const depth = isLocal ? LIMITS.LOCALS_DEPTH : LIMITS.GLOBALS_DEPTH;
  const idx = Number(c.arg);
  if (idx >= 2 ** depth)
    c.fail(
      isLocal ? "LocalIndexOutOfRange" : "GlobalIndexOutOfRange",
      `${isLocal ? "local" : "global"} index ${idx} out of range`,
    );
  const old = c.rd.uint(8);
  const path = c.rd.path(depth);
  const root = isLocal ? c.pre.localsRoot : c.pre.globalsRoot;
  if (!equal(rootFromProof(word(old), idx, path), root))
    c.fail(
      isLocal ? "LocalsMismatch" : "GlobalsMismatch",
      `${isLocal ? "locals" : "globals"} proof does not match the state`,
    );
  switch (c.op) {
    case Wasm.LOCAL_GET:
    case Wasm.GLOBAL_GET:
      c.setStack([old]);
      return;
    case Wasm.LOCAL_SET:
    case Wasm.LOCAL_TEE: {
      c.post.localsRoot = rootFromProof(word(c.vals[0]), idx, path);
      c.setStack(c.op === Wasm.LOCAL_TEE ? [c.vals[0]] : []);
      return;
    }
    default: // GLOBAL_SET
      c.post.globalsRoot = rootFromProof(word(c.vals[0]), idx, path);
      c.setStack([]);
  }
}

/** Witness: the slot's 8-byte value and its path in the locals (depth 8) or globals (depth 4) tree. */
export function witness(w: ProofWriter, m: Machine, op: number, arg: bigint, _vals: bigint[]): void {
  const isLocal = isLocalOp(op);
  const slots = isLocal ? m.frameLocals(m.r.fp) : m.globals();
  const idx = Number(arg);
  w.uint(slots[idx], 8);
  for (const h of leavesProof(slots.map(word), idx, isLocal ? LIMITS.LOCALS_DEPTH : LIMITS.GLOBALS_DEPTH))
    w.bytes(h);
}
