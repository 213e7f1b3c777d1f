// Locals and globals: one leaf of a fixed-depth Merkle tree, proven against the state's root.
import { rootFromProof } from "../../commit/merkle.js";
import { LIMITS, Wasm } from "../isa.js";
import { word } from "../state.js";
import type { StepContext } from "./context.js";

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function variables(c: StepContext): void {
  const isLocal = c.op === Wasm.LOCAL_GET || c.op === Wasm.LOCAL_SET || c.op === Wasm.LOCAL_TEE;
  const depth = isLocal ? LIMITS.LOCALS_DEPTH : LIMITS.GLOBALS_DEPTH;
  const idx = Number(c.arg);
  if (idx >= 2 ** depth) c.fail(`${isLocal ? "local" : "global"} index ${idx} out of range`);
  const old = c.rd.uint(8);
  const path = c.rd.path(depth);
  const root = isLocal ? c.pre.localsRoot : c.pre.globalsRoot;
  if (!equal(rootFromProof(word(old), idx, path), root))
    c.fail(`${isLocal ? "locals" : "globals"} proof does not match the state`);
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

export { equal };
