// The whole-level and subtree hashers of commit/merkle.ts (WebAssembly, chunked, optionally split
// with a worker thread) against a level-by-level reference built on @noble/hashes alone, over sizes
// that hit every edge: empty, one leaf, a partial leaf, odd and non-power-of-two leaf counts, more
// than one 1 MiB chunk, explicit depths larger than needed.
import { keccak_256 } from "@noble/hashes/sha3.js";
import { afterEach, describe, expect, it } from "vitest";
import {
  bytesRoot,
  bytesRoots,
  hashing,
  hashLevel,
  leavesRoot,
  tensorRoot,
  tensorRoots,
  wasmHashing,
} from "../../commit/merkle.js";
import { rng } from "../helpers/helpers.js";

/** bytes zero-padded to 32·2^depth, hashed level by level with noble; nothing shared with merkle.ts. */
function reference(bytes: Uint8Array, depth?: number): Uint8Array {
  const n = Math.ceil(bytes.length / 32);
  let d = depth ?? 0;
  if (depth === undefined) while (2 ** d < n) d++;
  const zero: Uint8Array[] = [new Uint8Array(32)];
  for (let k = 1; k <= d; k++) zero.push(keccak_256(new Uint8Array([...zero[k - 1], ...zero[k - 1]])));
  if (n === 0) return zero[d];
  let level = new Uint8Array(32 * n);
  level.set(bytes);
  let count = n;
  const buf = new Uint8Array(64);
  for (let k = 0; k < d; k++) {
    const next = new Uint8Array(32 * Math.ceil(count / 2));
    for (let i = 0; 2 * i < count; i++) {
      buf.set(level.subarray(64 * i, 64 * i + 32), 0);
      buf.set(2 * i + 1 < count ? level.subarray(64 * i + 32, 64 * i + 64) : zero[k], 32);
      next.set(keccak_256(buf), 32 * i);
    }
    level = next;
    count = Math.ceil(count / 2);
  }
  return level.slice(0, 32);
}

function random(len: number, seed: number): Uint8Array {
  const r = rng(seed);
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = Math.floor(r() * 256);
  return b;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const MiB = 1 << 20;
const saved = { ...hashing };

afterEach(() => {
  Object.assign(hashing, saved);
});

describe("bytesRoot (whole subtrees in WebAssembly)", () => {
  it("uses the WebAssembly hasher", () => {
    expect(wasmHashing).toBe(true);
  });

  it("equals the noble reference on edge sizes and random ones", () => {
    const r = rng(7);
    const sizes = [0, 1, 31, 32, 33, 63, 64, 65, 96, 100, 32 * 3, 32 * 5, 32 * 7 + 5, 4096, 32 * 1000 + 1];
    for (let i = 0; i < 25; i++) sizes.push(Math.floor(r() * 200_000));
    for (const [i, len] of sizes.entries()) {
      const b = random(len, 100 + i);
      expect(hex(bytesRoot(b)), `${len} bytes`).toBe(hex(reference(b)));
    }
  });

  it("equals the reference with explicit depths larger than needed", () => {
    for (const [len, depth] of [
      [0, 0],
      [0, 27],
      [1, 1],
      [32, 5],
      [33, 2],
      [5000, 27],
      [MiB + 3, 40],
    ]) {
      const b = random(len, len + depth);
      expect(hex(bytesRoot(b, depth)), `${len} bytes, depth ${depth}`).toBe(hex(reference(b, depth)));
    }
    expect(() => bytesRoot(new Uint8Array(65), 1)).toThrow(/65 bytes exceed depth 1/);
  });

  it("crosses 1 MiB chunk boundaries, with and without the worker, bit for bit the same", () => {
    const sizes = [MiB, MiB + 1, 2 * MiB - 32, 2 * MiB + 64, 3 * MiB + 12345];
    const bufs = sizes.map((len, i) => random(len, 900 + i));
    const want = bufs.map((b) => hex(reference(b)));
    hashing.workers = false;
    expect(bufs.map((b) => hex(bytesRoot(b)))).toEqual(want);
    hashing.workers = true;
    hashing.minParallelBytes = 0; // every multi-job call goes through the worker
    expect(bufs.map((b) => hex(bytesRoot(b)))).toEqual(want);
    hashing.steal = false; // the worker does every shared job
    expect(bytesRoots(bufs).map(hex)).toEqual(want);
    expect(hashing.workerJobs).toBeGreaterThan(0);
  });

  it("bytesRoots/tensorRoots of a mixed list (empty, tiny, multi-chunk) match one-by-one roots", () => {
    const lens = [0, 4, 32, 12, 2 * MiB + 8, 0, 640, MiB / 2, 3 * MiB];
    const bufs = lens.map((len, i) => random(len, 50 + i));
    const want = bufs.map((b) => hex(reference(b)));
    for (const workers of [false, true]) {
      hashing.workers = workers;
      hashing.minParallelBytes = 0;
      expect(bytesRoots(bufs).map(hex), `workers ${workers}`).toEqual(want);
      const words = bufs.map((b) => new Int32Array(b.buffer, 0, b.length >> 2));
      expect(tensorRoots(words).map(hex)).toEqual(words.map((w) => hex(tensorRoot(w))));
    }
  });

  it("leavesRoot equals the reference over the leaves laid end to end", () => {
    for (const n of [1, 2, 3, 17, 1000]) {
      const flat = random(32 * n, n);
      const leaves = Array.from({ length: n }, (_, i) => flat.slice(32 * i, 32 * i + 32));
      expect(hex(leavesRoot(leaves))).toBe(hex(reference(flat)));
      expect(hex(leavesRoot(leaves, 12))).toBe(hex(reference(flat, 12)));
    }
  });
});

describe("hashLevel (n pairs per call)", () => {
  it("equals keccak256 of every pair, at any offsets and counts (odd ones use the one-lane path)", () => {
    for (const n of [0, 1, 2, 3, 7, 64, 1001, (1 << 14) + 3]) {
      const src = random(64 * n + 40, n);
      const dst = new Uint8Array(32 * n + 16);
      hashLevel(src, 40, n, dst, 16);
      for (let i = 0; i < n; i += n > 2000 ? 97 : 1)
        expect(hex(dst.subarray(16 + 32 * i, 48 + 32 * i))).toBe(
          hex(keccak_256(src.subarray(40 + 64 * i, 104 + 64 * i))),
        );
      expect(hex(dst.subarray(0, 16))).toBe("00".repeat(16));
    }
  });
});
