// Loads, stores, memory.size and memory.grow. An access touches one 32-byte leaf, or two adjacent
// leaves when it straddles a boundary; each leaf comes with its 27-hash path to the memory root.
// Twin of contracts/src/step/StepMemory.sol.
import { hashPair, rootFromProof } from "../../commit/merkle.js";
import { LIMITS, Wasm } from "../isa.js";
import { ACCESS_SIZE, type Machine } from "../machine.js";
import { PAGE } from "../memory.js";
import type { ProofWriter } from "../proof-format.js";
import { equal, fail, MASK32, MASK64, type StepContext } from "./step-state.js";

const DEPTH = LIMITS.MEMORY_DEPTH;

function signExtend(v: bigint, bits: number, toBits: number): bigint {
  const sign = 1n << BigInt(bits - 1);
  const full = (v ^ sign) - sign;
  return BigInt.asUintN(toBits, full);
}

/** The loaded value, zero- or sign-extended to the result width. */
function extend(op: number, raw: bigint): bigint {
  switch (op) {
    case Wasm.I32_LOAD8_S:
      return signExtend(raw, 8, 32);
    case Wasm.I32_LOAD16_S:
      return signExtend(raw, 16, 32);
    case Wasm.I64_LOAD8_S:
      return signExtend(raw, 8, 64);
    case Wasm.I64_LOAD16_S:
      return signExtend(raw, 16, 64);
    case Wasm.I64_LOAD32_S:
      return signExtend(raw, 32, 64);
    default:
      return raw;
  }
}

/** Stack values popped by `op`; rejects the float loads and stores. */
export function pops(op: number): number {
  // f32/f64 loads and stores sit inside the load/store ranges but are not in the instruction set.
  if (op === 0x2a || op === 0x2b || op === 0x38 || op === 0x39 || op < Wasm.I32_LOAD || op > Wasm.MEMORY_GROW)
    fail("UnknownOpcode", `opcode 0x${op.toString(16)} is not in the VM instruction set`);
  if (op <= Wasm.I64_LOAD32_U) return 1; // loads: address
  if (op <= Wasm.I64_STORE32) return 2; // stores: address, value
  return op === Wasm.MEMORY_SIZE ? 0 : 1; // memory.grow: delta
}

export function step(c: StepContext): void {
  const p = c.post;
  if (c.op === Wasm.MEMORY_SIZE) {
    c.setStack([BigInt(c.pre.memoryPages)]);
    return;
  }
  if (c.op === Wasm.MEMORY_GROW) {
    const delta = Number(c.vals[0] & MASK32);
    const max = Number(c.arg);
    if (c.pre.memoryPages + delta > max) c.setStack([MASK32]);
    else {
      c.setStack([BigInt(c.pre.memoryPages)]);
      p.memoryPages = c.pre.memoryPages + delta;
    }
    return;
  }
  const isStore = c.op >= Wasm.I32_STORE;
  const size = ACCESS_SIZE[c.op - Wasm.I32_LOAD];
  const ea = Number(c.vals[0] & MASK32) + Number(c.arg & MASK32);
  const n = c.rd.num(1);
  if (ea + size > c.pre.memoryPages * PAGE) {
    if (n !== 0) c.fail("WrongLeafCount", "out-of-bounds access must carry no memory leaves");
    c.trap();
    return;
  }
  const first = Math.floor(ea / 32);
  const count = Math.floor((ea + size - 1) / 32) === first ? 1 : 2;
  if (n !== count) c.fail("WrongLeafCount", `memory access at ${ea} needs ${count} leaves, proof has ${n}`);
  const leaves: Uint8Array[] = [];
  const paths: Uint8Array[][] = [];
  for (let k = 0; k < count; k++) {
    leaves.push(c.rd.hash());
    paths.push(c.rd.path(DEPTH));
    if (!equal(rootFromProof(leaves[k], first + k, paths[k]), c.pre.memoryRoot))
      c.fail("LeafMismatch", `memory leaf ${first + k} does not match the state`);
  }
  const bytes = new Uint8Array(64);
  leaves.forEach((l, k) => {
    bytes.set(l, 32 * k);
  });
  const off = ea - first * 32;
  if (!isStore) {
    let raw = 0n;
    for (let i = size - 1; i >= 0; i--) raw = (raw << 8n) | BigInt(bytes[off + i]);
    c.setStack([extend(c.op, raw)]);
    return;
  }
  let v = c.vals[1] & MASK64;
  for (let i = 0; i < size; i++) {
    bytes[off + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  const updated = [bytes.slice(0, 32), bytes.slice(32, 64)];
  if (count === 1) p.memoryRoot = rootFromProof(updated[0], first, paths[0]);
  else {
    // Leaf `first` changes a node on the second leaf's path: where the two paths meet, the second
    // path's sibling is the first path's (updated) node.
    let node: Uint8Array = updated[0];
    let idx = first;
    const nodes: Uint8Array[] = [node];
    for (let h = 0; h < DEPTH; h++) {
      node = idx % 2 === 1 ? hashPair(paths[0][h], node) : hashPair(node, paths[0][h]);
      nodes.push(node);
      idx = Math.floor(idx / 2);
    }
    let meet = 0;
    while (Math.floor(first / 2 ** (meet + 1)) !== Math.floor((first + 1) / 2 ** (meet + 1))) meet++;
    const path2 = paths[1].slice();
    path2[meet] = nodes[meet];
    p.memoryRoot = rootFromProof(updated[1], first + 1, path2);
  }
  c.setStack([]);
}

/**
 * Witness of a load or store: the leaf count (0 when the access is out of bounds), then each leaf
 * it touches as its 32 bytes and 27-hash path. memory.size and memory.grow need none.
 */
export function witness(w: ProofWriter, m: Machine, op: number, arg: bigint, vals: bigint[]): void {
  if (op > Wasm.I64_STORE32) return;
  const size = ACCESS_SIZE[op - Wasm.I32_LOAD];
  const ea = Number(vals[0] & MASK32) + Number(arg & MASK32);
  if (ea + size > m.mem.bytes.length) {
    w.uint(0, 1);
    return;
  }
  const first = Math.floor(ea / 32);
  const last = Math.floor((ea + size - 1) / 32);
  const leaves = first === last ? [first] : [first, last];
  w.uint(leaves.length, 1);
  for (const i of leaves) {
    w.bytes(m.mem.leafCopy(i));
    for (const h of m.mem.proof(i)) w.bytes(h);
  }
}
