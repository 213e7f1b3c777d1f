// Tensor, model and graph-state commitments (docs/PROTOCOL.md §1).
//
// One Merkle rule serves all three and the VM's memory tree: leaves are raw 32-byte chunks
// (not hashed), an inner node is keccak256(left ‖ right), and a list is zero-padded to a power of
// two. A tensor laid at an address aligned to its padded size is therefore exactly a subtree of the
// VM memory tree, and the contracts recompute the same roots with plain keccak256.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { keccak_256 } from "@noble/hashes/sha3.js";

export type Hash = Uint8Array; // always 32 bytes

export const LEAF_BYTES = 32;
export const MAX_DEPTH = 64;

// Declared before ZERO, which calls it at module load. The pair hash is the hot path of every
// Merkle tree here, so it runs in WebAssembly (commit/keccak, ~5x faster than JS on this machine) when
// the build has produced it, and in @noble/hashes otherwise; test/commit/keccak.test.ts checks they agree.
const pairBuf = new Uint8Array(64);
function nobleHashPair(a: Hash, b: Hash): Hash {
  pairBuf.set(a, 0);
  pairBuf.set(b, 32);
  return keccak_256(pairBuf);
}

function wasmHashPair(): ((a: Hash, b: Hash) => Hash) | undefined {
  const file = fileURLToPath(
    new URL(
      import.meta.url.includes("/dist/") ? "../../commit/build/keccak.wasm" : "./build/keccak.wasm",
      import.meta.url,
    ),
  );
  if (!existsSync(file)) return undefined;
  const inst = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), {});
  const mem = new Uint8Array((inst.exports.memory as WebAssembly.Memory).buffer);
  const hash64 = inst.exports.hash64 as () => void;
  return (a, b) => {
    mem.set(a, 0);
    mem.set(b, 32);
    hash64();
    return mem.slice(64, 96);
  };
}

const fastHashPair = wasmHashPair();
export const hashPair: (a: Hash, b: Hash) => Hash = fastHashPair ?? nobleHashPair;
export { nobleHashPair };

/** ZERO[d] = root of an all-zero subtree of depth d (2^d leaves). */
export const ZERO: readonly Hash[] = (() => {
  const z: Hash[] = [new Uint8Array(32)];
  for (let d = 1; d <= MAX_DEPTH; d++) z.push(hashPair(z[d - 1], z[d - 1]));
  return z;
})();

function checkDepth(depth: number, what: string): void {
  if (!Number.isInteger(depth) || depth < 0 || depth > MAX_DEPTH) {
    throw new RangeError(`${what}: depth ${depth} is not an integer in 0..${MAX_DEPTH}`);
  }
}

/** Smallest d with 2^d >= n (d = 0 for n <= 1). */
export function depthFor(nLeaves: number): number {
  let d = 0;
  while (2 ** d < nLeaves) d++;
  return d;
}

/** Depth of the tree over `nbytes` bytes of data (one leaf minimum). */
export function byteDepth(nbytes: number): number {
  return depthFor(Math.ceil(nbytes / LEAF_BYTES));
}

/**
 * Merkle root of `bytes` zero-padded to 32·2^depth bytes. `depth` defaults to the smallest that
 * fits; pass a larger one to commit to a bigger aligned region (the VM does).
 */
export function bytesRoot(bytes: Uint8Array, depth = byteDepth(bytes.length)): Hash {
  checkDepth(depth, "bytesRoot");
  const nLeaves = Math.ceil(bytes.length / LEAF_BYTES);
  if (nLeaves > 2 ** depth) throw new RangeError(`bytesRoot: ${bytes.length} bytes exceed depth ${depth}`);
  if (nLeaves === 0) return ZERO[depth];
  // Level 0: the chunks themselves (last one zero-padded).
  const level: Hash[] = new Array(nLeaves);
  for (let i = 0; i < nLeaves; i++) {
    const start = i * LEAF_BYTES;
    const end = start + LEAF_BYTES;
    if (end <= bytes.length) level[i] = bytes.subarray(start, end);
    else {
      const leaf = new Uint8Array(LEAF_BYTES);
      leaf.set(bytes.subarray(start));
      level[i] = leaf;
    }
  }
  return reduceLevels(level, depth);
}

/** Merkle root of a list of 32-byte leaves (e.g. tensor roots) padded with zero leaves. */
export function leavesRoot(leaves: readonly Hash[], depth = depthFor(leaves.length)): Hash {
  checkDepth(depth, "leavesRoot");
  if (leaves.length > 2 ** depth)
    throw new RangeError(`leavesRoot: ${leaves.length} leaves exceed depth ${depth}`);
  if (leaves.length === 0) return ZERO[depth];
  for (const l of leaves)
    if (l.length !== 32) throw new RangeError("leavesRoot: every leaf must be 32 bytes");
  return reduceLevels(leaves.slice(), depth);
}

// Hash a level up to the root, padding odd ends with the zero subtree of that height.
function reduceLevels(level: Hash[], depth: number): Hash {
  for (let d = 0; d < depth; d++) {
    const next: Hash[] = new Array(Math.ceil(level.length / 2));
    for (let i = 0; i < next.length; i++) {
      const l = level[2 * i];
      const r = 2 * i + 1 < level.length ? level[2 * i + 1] : ZERO[d];
      next[i] = hashPair(l, r);
    }
    level = next;
  }
  return level[0];
}

/** Sibling path (bottom-up) for leaf `index` of a list of 32-byte leaves. */
export function leavesProof(leaves: readonly Hash[], index: number, depth = depthFor(leaves.length)): Hash[] {
  checkDepth(depth, "leavesProof");
  if (!Number.isInteger(index) || index < 0 || index >= 2 ** depth)
    throw new RangeError(`leavesProof: index ${index} out of range`);
  if (leaves.length > 2 ** depth)
    throw new RangeError(`leavesProof: ${leaves.length} leaves exceed depth ${depth}`);
  for (const l of leaves)
    if (l.length !== 32) throw new RangeError("leavesProof: every leaf must be 32 bytes");
  const proof: Hash[] = [];
  let level: Hash[] = leaves.slice();
  let idx = index;
  for (let d = 0; d < depth; d++) {
    // Arithmetic, not bitwise, so indices beyond 2^31 work.
    const sib = idx % 2 === 0 ? idx + 1 : idx - 1;
    proof.push(sib < level.length ? level[sib] : ZERO[d]);
    const next: Hash[] = new Array(Math.ceil(level.length / 2));
    for (let i = 0; i < next.length; i++) {
      next[i] = hashPair(level[2 * i], 2 * i + 1 < level.length ? level[2 * i + 1] : ZERO[d]);
    }
    level = next;
    idx = Math.floor(idx / 2);
  }
  return proof;
}

/** Root implied by a leaf, its index and a bottom-up sibling path. */
export function rootFromProof(leaf: Hash, index: number, proof: readonly Hash[]): Hash {
  if (!Number.isInteger(index) || index < 0 || index >= 2 ** proof.length) {
    throw new RangeError(`rootFromProof: index ${index} does not fit a ${proof.length}-level proof`);
  }
  let node = leaf;
  let idx = index;
  for (const sib of proof) {
    node = idx % 2 === 1 ? hashPair(sib, node) : hashPair(node, sib);
    idx = Math.floor(idx / 2);
  }
  return node;
}

/** Tensor bytes: every element is a 4-byte little-endian two's-complement word, row-major. */
export function tensorBytes(words: Int32Array): Uint8Array {
  return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
}

/** Tensor root: bytesRoot of the tensor's little-endian int32 words. */
export function tensorRoot(words: Int32Array): Hash {
  return bytesRoot(tensorBytes(words));
}

/** Model root: Merkle root over the weight tensors' roots, in manifest order. */
export function modelRoot(weightRoots: readonly Hash[]): Hash {
  return leavesRoot(weightRoots);
}

/**
 * Graph state after the first `done` nodes: keccak256(modelRoot ‖ root(activation table)), where the
 * table lists one root per activation slot (graph inputs, then node outputs in node order) and a
 * slot not yet produced holds 32 zero bytes.
 */
export function graphState(model: Hash, table: readonly Hash[]): Hash {
  return hashPair(model, leavesRoot(table));
}

export function toHex(h: Uint8Array): `0x${string}` {
  return `0x${Buffer.from(h).toString("hex")}`;
}

export function fromHex(s: string): Uint8Array {
  const clean = s.startsWith("0x") ? s.slice(2) : s;
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`not a hex string: ${s.slice(0, 20)}…`);
  return new Uint8Array(Buffer.from(clean, "hex"));
}

/**
 * A fixed list of leaves with every level kept, for repeated proofs (e.g. the VM's code tree):
 * building costs one hash per inner node, each proof then costs nothing but lookups.
 */
export class StaticMerkle {
  readonly depth: number;
  private readonly levels: Hash[][];

  constructor(leaves: readonly Hash[], depth = depthFor(leaves.length)) {
    checkDepth(depth, "StaticMerkle");
    if (leaves.length > 2 ** depth)
      throw new RangeError(`StaticMerkle: ${leaves.length} leaves exceed depth ${depth}`);
    this.depth = depth;
    this.levels = [leaves.slice()];
    for (let d = 0; d < depth; d++) {
      const below = this.levels[d];
      const next: Hash[] = new Array(Math.ceil(below.length / 2));
      for (let i = 0; i < next.length; i++)
        next[i] = hashPair(below[2 * i], 2 * i + 1 < below.length ? below[2 * i + 1] : ZERO[d]);
      this.levels.push(next);
    }
  }

  get root(): Hash {
    return this.levels[this.depth][0] ?? ZERO[this.depth];
  }

  proof(index: number): Hash[] {
    if (!Number.isInteger(index) || index < 0 || index >= 2 ** this.depth)
      throw new RangeError(`StaticMerkle: index ${index} out of range`);
    const out: Hash[] = [];
    let idx = index;
    for (let d = 0; d < this.depth; d++) {
      const sib = idx % 2 === 0 ? idx + 1 : idx - 1;
      out.push(this.levels[d][sib] ?? ZERO[d]);
      idx = Math.floor(idx / 2);
    }
    return out;
  }
}
