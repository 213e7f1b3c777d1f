// Tensor, model and graph-state commitments (docs/PROTOCOL.md §1).
//
// One Merkle rule serves all three and the VM's memory tree: leaves are raw 32-byte chunks
// (not hashed), an inner node is keccak256(left ‖ right), and a list is zero-padded to a power of
// two. A tensor laid at an address aligned to its padded size is therefore exactly a subtree of the
// VM memory tree, and the contracts recompute the same roots with plain keccak256.
import { existsSync, readFileSync, readSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { keccak_256 } from "@noble/hashes/sha3.js";

export type Hash = Uint8Array; // always 32 bytes

export const LEAF_BYTES = 32;
export const MAX_DEPTH = 64;

// The hashes run in WebAssembly (commit/keccak: whole levels and subtrees per call, two
// permutations at once with SIMD) when the build has produced it, and in @noble/hashes otherwise;
// test/commit/keccak.test.ts checks they agree. Both give the same bits: only speed differs.
const pairBuf = new Uint8Array(64);
function nobleHashPair(a: Hash, b: Hash): Hash {
  pairBuf.set(a, 0);
  pairBuf.set(b, 32);
  return keccak_256(pairBuf);
}

function buildFile(name: string): string {
  const rel = import.meta.url.includes("/dist/") ? `../../commit/${name}` : `./${name}`;
  return fileURLToPath(new URL(rel, import.meta.url));
}

interface KeccakExports {
  memory: WebAssembly.Memory;
  DATA: WebAssembly.Global;
  hash64(): void;
  hashPairs(src: number, dst: number, n: number): void;
  root(ptr: number, n: number, base: number, top: number): void;
  init(): void;
  setSimd(on: number): void;
  sumReset(): void;
  sum(ptr: number, len: number): void;
}

/** One instance of commit/keccak; its data area starts at `data` and grows on demand. */
class WasmHasher {
  readonly e: KeccakExports;
  readonly data: number;
  mem: Uint8Array;

  constructor(module: WebAssembly.Module) {
    const x = new WebAssembly.Instance(module, {}).exports;
    // Each export is the function or object commit/keccak/keccak.ts declares.
    const fn = (name: string) => x[name] as (...args: number[]) => void;
    this.e = {
      memory: x.memory as WebAssembly.Memory,
      DATA: x.DATA as WebAssembly.Global,
      hash64: fn("hash64"),
      hashPairs: fn("hashPairs"),
      root: fn("root"),
      init: fn("init"),
      setSimd: fn("setSimd"),
      sumReset: fn("sumReset"),
      sum: fn("sum"),
    };
    this.e.init();
    this.data = this.e.DATA.value as number;
    this.mem = new Uint8Array(this.e.memory.buffer);
  }

  /** The memory view, grown so that `bytes` bytes fit at `data`. */
  room(bytes: number): Uint8Array {
    const need = this.data + bytes;
    const have = this.e.memory.buffer.byteLength;
    if (need > have) this.e.memory.grow(Math.ceil((need - have) / 65536));
    if (this.mem.buffer !== this.e.memory.buffer) this.mem = new Uint8Array(this.e.memory.buffer);
    return this.mem;
  }

  pair(a: Hash, b: Hash): Hash {
    const mem = this.mem;
    mem.set(a, 0);
    mem.set(b, 32);
    this.e.hash64();
    return mem.slice(64, 96);
  }

  /**
   * Root of height `base + depth` over `bytes` read as nodes of height `base` (at most 2^depth of
   * them; leaves, base 0, are zero-padded to 32 bytes).
   */
  root(bytes: Uint8Array, depth: number, base = 0): Hash {
    const n = Math.ceil(bytes.length / LEAF_BYTES);
    const mem = this.room(n * LEAF_BYTES + LEAF_BYTES);
    const p = this.data;
    mem.set(bytes, p);
    mem.fill(0, p + bytes.length, p + n * LEAF_BYTES);
    this.e.root(p, n, base, base + depth);
    return mem.slice(p, p + 32);
  }

  /** n consecutive 64-byte pairs of src (from srcOff) → n hashes into dst (from dstOff). */
  pairs(src: Uint8Array, srcOff: number, n: number, dst: Uint8Array, dstOff: number): void {
    const BLOCK = 1 << 14; // pairs per call: 1 MiB in, hashed in place
    const mem = this.room(BLOCK * 64);
    const p = this.data;
    for (let i = 0; i < n; i += BLOCK) {
      const k = Math.min(BLOCK, n - i);
      mem.set(src.subarray(srcOff + 64 * i, srcOff + 64 * (i + k)), p);
      this.e.hashPairs(p, p, k);
      dst.set(mem.subarray(p, p + 32 * k), dstOff + 32 * i);
    }
  }
}

function loadWasm(): { module: WebAssembly.Module; hasher: WasmHasher } | undefined {
  const file = buildFile("build/keccak.wasm");
  if (!existsSync(file)) return undefined;
  const module = new WebAssembly.Module(readFileSync(file));
  return { module, hasher: new WasmHasher(module) };
}

const wasm = loadWasm();
const fast = wasm?.hasher;
export const hashPair: (a: Hash, b: Hash) => Hash = fast ? (a, b) => fast.pair(a, b) : nobleHashPair;
export { nobleHashPair };

/** Whether the WebAssembly hasher is in use (else @noble/hashes). */
export const wasmHashing = fast !== undefined;

/** Benchmarks only: this thread's WebAssembly hasher with or without the two-lane v128 path. */
export function setWasmSimd(on: boolean): void {
  fast?.e.setSimd(on ? 1 : 0);
}

/**
 * n consecutive 64-byte pairs of `src` (from byte srcOff) hashed into n 32-byte nodes of `dst`
 * (from byte dstOff): one tree level, or a run of one, per call.
 */
export function hashLevel(src: Uint8Array, srcOff: number, n: number, dst: Uint8Array, dstOff: number): void {
  if (fast) {
    fast.pairs(src, srcOff, n, dst, dstOff);
    return;
  }
  for (let i = 0; i < n; i++) {
    const a = srcOff + 64 * i;
    dst.set(nobleHashPair(src.subarray(a, a + 32), src.subarray(a + 32, a + 64)), dstOff + 32 * i);
  }
}

// Content checksum (not cryptographic: the package cache's fast check that a file is unchanged,
// at memory speed). 16 lanes of little-endian 32-bit words, word w into lane w % 16:
// lane = lane·K + w (mod 2^32), lanes starting at 1..16; the input is zero-padded to a multiple of
// 64 bytes (callers bind the length separately). K is odd, so any one changed word changes its
// lane. commit/keccak's sum() and jsContentChecksum below are the same rule.
const SUM_K = 0x9e3779b1 | 0;
const SUM_STATE = 128; // commit/keccak: SUM

/** The 64-byte content checksum of `bytes`, in plain JS (the fallback; tests compare the two). */
export function jsContentChecksum(bytes: Uint8Array): Uint8Array {
  const lanes = Int32Array.from({ length: 16 }, (_, l) => l + 1);
  const padded = new Uint8Array(64);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const full = bytes.length & ~63;
  for (let off = 0; off < full; off += 64)
    for (let l = 0; l < 16; l++) lanes[l] = (Math.imul(lanes[l], SUM_K) + dv.getInt32(off + 4 * l, true)) | 0;
  if (full < bytes.length) {
    padded.set(bytes.subarray(full));
    const pv = new DataView(padded.buffer);
    for (let l = 0; l < 16; l++) lanes[l] = (Math.imul(lanes[l], SUM_K) + pv.getInt32(4 * l, true)) | 0;
  }
  const out = new Uint8Array(64);
  const ov = new DataView(out.buffer);
  for (let l = 0; l < 16; l++) ov.setInt32(4 * l, lanes[l], true);
  return out;
}

/** The 64-byte content checksum of `bytes` (WebAssembly SIMD when built, ~memory speed). */
export function contentChecksum(bytes: Uint8Array): Uint8Array {
  if (!fast) return jsContentChecksum(bytes);
  const BLOCK = 1 << 20;
  const mem = fast.room(BLOCK);
  const p = fast.data;
  fast.e.sumReset();
  const full = bytes.length & ~63;
  for (let off = 0; off < full; off += BLOCK) {
    const k = Math.min(BLOCK, full - off);
    mem.set(bytes.subarray(off, off + k), p);
    fast.e.sum(p, k);
  }
  if (full < bytes.length) {
    mem.fill(0, p, p + 64);
    mem.set(bytes.subarray(full), p);
    fast.e.sum(p, 64);
  }
  return mem.slice(SUM_STATE, SUM_STATE + 64);
}

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

// ---------------------------------------------------------------------------------------------
// Roots of big byte ranges: cut into subtrees of 2^CHUNK_HEIGHT leaves (1 MiB), the unit of work,
// each reduced to its root inside WebAssembly in one call; the chunk roots are then one more
// (small) tree. With a worker thread (a second core), a job list of at least minParallelBytes is
// shared: this thread takes jobs from the front, the worker from the back (commit/hash-worker.mjs),
// so a busy core simply does fewer. The callers stay synchronous: this thread blocks on
// Atomics.wait for the worker's last jobs, which it would otherwise be hashing itself.
// ---------------------------------------------------------------------------------------------

const CHUNK_HEIGHT = 15;
const CHUNK_BYTES = LEAF_BYTES << CHUNK_HEIGHT;

/** Tuning for tests and benchmarks; OPML_HASH_WORKERS=0 turns the worker off. */
export const hashing = {
  workers: availableParallelism() > 1 && process.env.OPML_HASH_WORKERS !== "0",
  minParallelBytes: 4 << 20,
  /** Whether this thread takes shared jobs too (off only in tests, to pin work on the worker). */
  steal: true,
  /** Jobs the worker did in the last parallel call (for tests and benchmarks). */
  workerJobs: 0,
};

interface Job {
  bytes: Uint8Array;
  depth: number;
}

interface Helper {
  worker: Worker;
  data?: SharedArrayBuffer;
  broken: boolean;
}

let helper: Helper | undefined;

/** The worker thread, started on first use; unref'd, so it never keeps the process alive. */
function getHelper(): Helper | undefined {
  if (helper && !helper.broken) return helper;
  if (helper || !wasm) return undefined; // broken once: stay on one thread
  const file = buildFile("hash-worker.mjs");
  if (!existsSync(file)) return undefined;
  let worker: Worker;
  try {
    worker = new Worker(file, { workerData: { module: wasm.module } });
  } catch {
    return undefined; // tried again on the next big call
  }
  const h: Helper = { worker, broken: false };
  h.worker.unref();
  h.worker.on("error", () => {
    h.broken = true;
  });
  helper = h;
  return h;
}

function runHere(jobs: readonly Job[], out: Uint8Array, at: number): void {
  for (let j = 0; j < jobs.length; j++) out.set(fast!.root(jobs[j].bytes, jobs[j].depth), 32 * (at + j));
}

/**
 * Runs jobs 0..count-1 on both threads: the worker claims from the back (its `message` says what
 * a job is), this thread from the front with `here(k)`, each claim a compare-and-swap on ctl;
 * returns when all are done. Returns how many the worker did.
 */
function share(
  h: Helper,
  count: number,
  message: Record<string, unknown>,
  here: (k: number) => void,
): number {
  // ctl: [claimed by (1 worker, 2 here) × count, done × count, number done]
  const ctl = new Int32Array(new SharedArrayBuffer(4 * (2 * count + 1)));
  h.worker.postMessage({ ...message, ctl, count });
  let mine = 0;
  for (let k = 0; k < count && hashing.steal; k++, mine++) {
    if (Atomics.compareExchange(ctl, k, 0, 2) !== 0) break; // the worker has reached here
    here(k);
    Atomics.store(ctl, count + k, 1);
    Atomics.add(ctl, 2 * count, 1);
  }
  for (let done = Atomics.load(ctl, 2 * count); done < count; done = Atomics.load(ctl, 2 * count)) {
    // A job takes milliseconds; a worker that shows no progress for 30 s is given up on.
    if (!h.broken && Atomics.wait(ctl, 2 * count, done, 30_000) !== "timed-out") continue;
    h.broken = true;
    void h.worker.terminate();
    for (let k = 0; k < count; k++) if (Atomics.load(ctl, count + k) === 0) here(k);
    return 0;
  }
  let failed = 0;
  for (let k = 0; k < count; k++)
    if (Atomics.load(ctl, count + k) === 2) {
      here(k);
      failed++;
    }
  return count - mine - failed;
}

/** Every job's root into out (32 bytes each, in job order). */
function runJobs(jobs: readonly Job[], out: Uint8Array): void {
  let total = 0;
  for (const j of jobs) total += j.bytes.length;
  const h = hashing.workers && total >= hashing.minParallelBytes && jobs.length > 1 ? getHelper() : undefined;
  hashing.workerJobs = 0;
  if (!h) {
    runHere(jobs, out, 0);
    return;
  }
  // Bytes already in one SharedArrayBuffer (readShared) are shared as they are; otherwise the
  // first half of the bytes stays here and the rest is copied to shared memory for either thread.
  const sab = jobs[0].bytes.buffer;
  const inPlace = sab instanceof SharedArrayBuffer && jobs.every((j) => j.bytes.buffer === sab);
  let split = 0;
  if (!inPlace)
    for (let acc = 0; split < jobs.length - 1 && acc + jobs[split].bytes.length <= total / 2; split++)
      acc += jobs[split].bytes.length;
  const shared = jobs.slice(split);
  const count = shared.length;
  const table = new Float64Array(new SharedArrayBuffer(24 * count));
  let buffer: SharedArrayBuffer;
  if (inPlace) {
    buffer = sab;
    shared.forEach((j, k) => {
      table.set([j.bytes.byteOffset, j.bytes.length, j.depth], 3 * k);
    });
  } else {
    let sharedBytes = 0;
    for (const j of shared) sharedBytes += j.bytes.length;
    if (!h.data || h.data.byteLength < sharedBytes) h.data = new SharedArrayBuffer(sharedBytes);
    buffer = h.data;
    const data = new Uint8Array(buffer);
    let off = 0;
    shared.forEach((j, k) => {
      data.set(j.bytes, off);
      table.set([off, j.bytes.length, j.depth], 3 * k);
      off += j.bytes.length;
    });
    if (sharedBytes > 64 << 20) h.data = undefined; // do not hold a big buffer between calls
  }
  const data = new Uint8Array(buffer);
  const results = new Uint8Array(new SharedArrayBuffer(32 * count));
  const message = { kind: "root", table, data: buffer, results: results.buffer };
  runHere(jobs.slice(0, split), out, 0);
  hashing.workerJobs = share(h, count, message, (k) => {
    const o = table[3 * k];
    results.set(fast!.root(data.subarray(o, o + table[3 * k + 1]), table[3 * k + 2]), 32 * k);
  });
  out.set(results, 32 * split);
}

/**
 * Reads bytes [0, size) of the open file `fd` into a new buffer, in 8 MiB pieces shared with the
 * worker thread when the file is big (page faults and copies then run on both cores). The buffer
 * is a SharedArrayBuffer in that case, so roots of views over it are hashed without a copy.
 * Returns the bytes actually read (fewer if the file shrank).
 */
export function readFileInto(fd: number, size: number): { bytes: Uint8Array; read: number } {
  const h = hashing.workers && size >= hashing.minParallelBytes * 4 ? getHelper() : undefined;
  const bytes = new Uint8Array(h ? new SharedArrayBuffer(size) : new ArrayBuffer(size));
  const PIECE = 8 << 20;
  const count = Math.ceil(size / PIECE);
  const got = new Float64Array(h ? new SharedArrayBuffer(8 * count) : new ArrayBuffer(8 * count));
  const here = (k: number) => {
    const from = k * PIECE;
    const to = Math.min(size, from + PIECE);
    let off = from;
    for (let n = 1; off < to && n > 0; off += n) n = readSync(fd, bytes, off, to - off, off);
    got[k] = off - from;
  };
  if (h) share(h, count, { kind: "read", fd, piece: PIECE, size, data: bytes.buffer, got: got.buffer }, here);
  else for (let k = 0; k < count; k++) here(k);
  let read = 0;
  for (let k = 0; k < count && got[k] === Math.min(PIECE, size - k * PIECE); k++) read += got[k];
  return { bytes, read: count === 0 ? 0 : read };
}

/** Roots of many byte ranges at once (the work of all of them shared between the cores). */
function rootsOf(items: readonly Job[]): Hash[] {
  const jobs: Job[] = [];
  const tops: { first: number; count: number; depth: number }[] = [];
  for (const it of items) {
    const n = Math.ceil(it.bytes.length / LEAF_BYTES);
    if (n <= 2 ** CHUNK_HEIGHT) {
      tops.push({ first: jobs.length, count: 0, depth: it.depth });
      jobs.push(it);
      continue;
    }
    const count = Math.ceil(n / 2 ** CHUNK_HEIGHT);
    tops.push({ first: jobs.length, count, depth: it.depth - CHUNK_HEIGHT });
    for (let c = 0; c < count; c++)
      jobs.push({ bytes: it.bytes.subarray(c * CHUNK_BYTES, (c + 1) * CHUNK_BYTES), depth: CHUNK_HEIGHT });
  }
  const out = new Uint8Array(32 * jobs.length);
  runJobs(jobs, out);
  return tops.map((t) =>
    t.count === 0
      ? out.slice(32 * t.first, 32 * t.first + 32)
      : fast!.root(out.subarray(32 * t.first, 32 * (t.first + t.count)), t.depth, CHUNK_HEIGHT),
  );
}

function checkFits(bytes: number, depth: number, what: string): void {
  checkDepth(depth, what);
  if (Math.ceil(bytes / LEAF_BYTES) > 2 ** depth)
    throw new RangeError(`${what}: ${bytes} bytes exceed depth ${depth}`);
}

function chunkLeaves(bytes: Uint8Array): Hash[] {
  const nLeaves = Math.ceil(bytes.length / LEAF_BYTES);
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
  return level;
}

/**
 * Merkle root of `bytes` zero-padded to 32·2^depth bytes. `depth` defaults to the smallest that
 * fits; pass a larger one to commit to a bigger aligned region (the VM does).
 */
export function bytesRoot(bytes: Uint8Array, depth = byteDepth(bytes.length)): Hash {
  checkFits(bytes.length, depth, "bytesRoot");
  if (bytes.length === 0) return ZERO[depth];
  if (!fast) return reduceLevels(chunkLeaves(bytes), depth);
  if (bytes.length <= CHUNK_BYTES) return fast.root(bytes, depth);
  return rootsOf([{ bytes, depth }])[0];
}

/** bytesRoot of each range (default depths), the work shared between the cores when big. */
export function bytesRoots(list: readonly Uint8Array[]): Hash[] {
  if (!fast) return list.map((b) => bytesRoot(b));
  const items = list.map((bytes) => ({ bytes, depth: byteDepth(bytes.length) }));
  const roots: Hash[] = new Array(list.length);
  const nonEmpty: number[] = [];
  items.forEach((it, k) => {
    if (it.bytes.length === 0) roots[k] = ZERO[it.depth];
    else nonEmpty.push(k);
  });
  rootsOf(nonEmpty.map((k) => items[k])).forEach((r, i) => {
    roots[nonEmpty[i]] = r;
  });
  return roots;
}

/** Merkle root of a list of 32-byte leaves (e.g. tensor roots) padded with zero leaves. */
export function leavesRoot(leaves: readonly Hash[], depth = depthFor(leaves.length)): Hash {
  checkDepth(depth, "leavesRoot");
  if (leaves.length > 2 ** depth)
    throw new RangeError(`leavesRoot: ${leaves.length} leaves exceed depth ${depth}`);
  if (leaves.length === 0) return ZERO[depth];
  for (const l of leaves)
    if (l.length !== 32) throw new RangeError("leavesRoot: every leaf must be 32 bytes");
  if (!fast) return reduceLevels(leaves.slice(), depth);
  // Leaves are raw 32-byte chunks, so the list laid end to end is a byte range with the same tree.
  const flat = new Uint8Array(32 * leaves.length);
  leaves.forEach((l, i) => {
    flat.set(l, 32 * i);
  });
  return bytesRoot(flat, depth);
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

/** tensorRoot of each tensor, the work shared between the cores when big. */
export function tensorRoots(list: readonly Int32Array[]): Hash[] {
  return bytesRoots(list.map(tensorBytes));
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
