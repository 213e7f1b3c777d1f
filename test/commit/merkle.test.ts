// Commitment rules (commit/merkle.ts) against an independent reference written here, and the
// differential vectors that contracts/test/Merkle.t.sol replays against contracts/src/lib/Merkle.sol.
//
// UPDATE_VECTORS=1 npx vitest run test/commit/merkle.test.ts rewrites contracts/test/vectors/commit.json and
// the generated zero-hash table in Merkle.sol; without it the test fails when either has drifted.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { describe, expect, it } from "vitest";
import * as commit from "../../commit/merkle.js";
import {
  buildCommitVectors,
  COMMIT_VECTORS_PATH,
  type CommitVectors,
  randomBytes,
  serializeCommitVectors,
  sfc32,
} from "../../tools/vectors/commit-vectors.js";
import {
  extractZeroTableBlock,
  MERKLE_SOL_PATH,
  patchZeroTable,
  TABLE_MAX_DEPTH,
  zeroTableBlock,
} from "../../tools/vectors/merkle-zero-table.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const VECTORS_FILE = ROOT + COMMIT_VECTORS_PATH;
const MERKLE_SOL_FILE = ROOT + MERKLE_SOL_PATH;
const UPDATE = process.env.UPDATE_VECTORS === "1";

// ---------------------------------------------------------------------------------------------
// Naive reference, straight from the spec (docs/PROTOCOL.md §1), sharing nothing with commit.ts:
// leaves are raw 32-byte chunks, a node is keccak256(left ‖ right), a list is zero-padded to 2^depth.
// ---------------------------------------------------------------------------------------------

const hex = (b: Uint8Array): string => `0x${Buffer.from(b).toString("hex")}`;
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.slice(2), "hex"));

function node(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(64);
  buf.set(left, 0);
  buf.set(right, 32);
  return keccak_256(buf);
}

/** naiveZero[h]: root of 2^h zero leaves, by the definition. */
const naiveZero: Uint8Array[] = [new Uint8Array(32)];
for (let h = 1; h <= 64; h++) naiveZero.push(node(naiveZero[h - 1], naiveZero[h - 1]));

/** Root of the height-h subtree whose leftmost leaf is leaves[first]; leaves past the end are zero. */
function naiveSubtree(leaves: readonly Uint8Array[], first: number, h: number): Uint8Array {
  if (first >= leaves.length) return naiveZero[h]; // every leaf below is padding
  if (h === 0) return leaves[first];
  const half = 2 ** (h - 1);
  return node(naiveSubtree(leaves, first, h - 1), naiveSubtree(leaves, first + half, h - 1));
}

function naiveDepth(nLeaves: number): number {
  let d = 0;
  while (2 ** d < nLeaves) d++;
  return d;
}

function naiveChunks(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += 32) {
    const leaf = new Uint8Array(32);
    leaf.set(bytes.slice(i, i + 32));
    out.push(leaf);
  }
  return out;
}

function naiveLeavesRoot(leaves: readonly Uint8Array[], depth = naiveDepth(leaves.length)): Uint8Array {
  return naiveSubtree(leaves, 0, depth);
}

function naiveBytesRoot(bytes: Uint8Array, depth?: number): Uint8Array {
  const chunks = naiveChunks(bytes);
  return naiveLeavesRoot(chunks, depth ?? naiveDepth(chunks.length));
}

/** Root from a leaf and its bottom-up path; the index is walked with division, not bit operations. */
function naiveRootFromProof(leaf: Uint8Array, index: number, proof: readonly Uint8Array[]): Uint8Array {
  let acc = leaf;
  let i = index;
  for (const sib of proof) {
    acc = i % 2 === 1 ? node(sib, acc) : node(acc, sib);
    i = Math.floor(i / 2);
  }
  return acc;
}

function naiveProof(leaves: readonly Uint8Array[], index: number, depth: number): Uint8Array[] {
  const proof: Uint8Array[] = [];
  for (let h = 0; h < depth; h++) {
    const sibling = Math.floor(index / 2 ** h) ^ 1; // small indices only
    proof.push(naiveSubtree(leaves, sibling * 2 ** h, h));
  }
  return proof;
}

// ---------------------------------------------------------------------------------------------

const rand = sfc32(0x7e57);
const below = (n: number): number => Math.floor((rand() / 2 ** 32) * n);
const randomLeaves = (n: number): Uint8Array[] => Array.from({ length: n }, () => randomBytes(rand, 32));

describe("commit vectors (contracts/test/vectors/commit.json)", () => {
  const built = buildCommitVectors();

  it("the committed file equals what commit.ts generates now", () => {
    if (UPDATE) {
      mkdirSync(dirname(VECTORS_FILE), { recursive: true });
      writeFileSync(VECTORS_FILE, serializeCommitVectors(built));
    }
    const committed = JSON.parse(readFileSync(VECTORS_FILE, "utf8")) as CommitVectors;
    expect(committed).toEqual(built);
  });

  it("the generator is deterministic and covers every section", () => {
    expect(buildCommitVectors()).toEqual(built);
    expect(buildCommitVectors(1)).not.toEqual(built);
    expect(built.zeroHashes).toHaveLength(commit.MAX_DEPTH + 1);
    for (const [section, count] of Object.entries(built.meta.counts)) {
      expect((built as unknown as Record<string, unknown[]>)[section]).toHaveLength(count);
      expect(count).toBeGreaterThan(0);
    }
    const lengths = new Set(built.bytesRoot.map((c) => (c.data.length - 2) / 2));
    for (const n of [0, 1, 31, 32, 33, 64, 65, 100, 255, 256, 1000, 3136, 4096]) expect(lengths).toContain(n);
    expect(new Set(built.leavesRoot.map((c) => c.leaves.length))).toEqual(
      new Set(Array.from({ length: 18 }, (_, i) => i)),
    );
    expect(built.proofs.some((p) => p.depth === 27)).toBe(true);
  });

  it("every vector agrees with the naive reference", () => {
    for (const [d, z] of built.zeroHashes.entries()) expect(z, `zero ${d}`).toBe(hex(naiveZero[d]));
    for (const c of built.bytesRoot) {
      expect(c.depth).toBe(naiveDepth(naiveChunks(unhex(c.data)).length));
      expect(c.root, c.data.slice(0, 20)).toBe(hex(naiveBytesRoot(unhex(c.data))));
    }
    for (const c of built.bytesRootAtDepth) {
      expect(c.root, `${c.data.slice(0, 20)} @${c.depth}`).toBe(hex(naiveBytesRoot(unhex(c.data), c.depth)));
    }
    for (const c of built.leavesRoot) expect(c.root).toBe(hex(naiveLeavesRoot(c.leaves.map(unhex))));
    for (const c of built.proofs) {
      expect(c.proof).toHaveLength(c.depth);
      expect(c.root).toBe(hex(naiveRootFromProof(unhex(c.leaf), c.index, c.proof.map(unhex))));
    }
    for (const c of built.graphState) {
      expect(c.root).toBe(hex(node(unhex(c.model), naiveLeavesRoot(c.table.map(unhex)))));
    }
    for (const c of built.depthTooSmall) {
      expect(Math.ceil(c.nbytes / 32)).toBeGreaterThan(2 ** c.depth);
    }
  });

  it("Merkle.sol's generated zero-hash table is current", () => {
    let source = readFileSync(MERKLE_SOL_FILE, "utf8");
    if (UPDATE) {
      source = patchZeroTable(source);
      writeFileSync(MERKLE_SOL_FILE, source);
    }
    const block = extractZeroTableBlock(source);
    expect(block, "zero-table markers in Merkle.sol").toBeDefined();
    expect(block).toBe(zeroTableBlock());
    // And the table holds exactly ZERO[1..32] in order (ZERO[0] is the literal 0).
    const constants = [...block!.matchAll(/0x[0-9a-f]{64}/g)].map((m) => m[0]);
    expect(constants).toEqual(naiveZero.slice(1, TABLE_MAX_DEPTH + 1).map(hex));
  });
});

describe("commit.ts against the naive reference", () => {
  it("ZERO", () => {
    expect(commit.ZERO).toHaveLength(commit.MAX_DEPTH + 1);
    for (const [d, z] of commit.ZERO.entries()) expect(hex(z), `ZERO[${d}]`).toBe(hex(naiveZero[d]));
  });

  it("hashPair, depthFor, byteDepth", () => {
    const a = randomBytes(rand, 32);
    const b = randomBytes(rand, 32);
    expect(hex(commit.hashPair(a, b))).toBe(hex(node(a, b)));
    expect(hex(commit.hashPair(b, a))).not.toBe(hex(node(a, b)));
    for (let n = 0; n <= 300; n++) expect(commit.depthFor(n), `depthFor(${n})`).toBe(naiveDepth(n));
    for (let n = 0; n <= 5000; n += 7) {
      expect(commit.byteDepth(n), `byteDepth(${n})`).toBe(naiveDepth(Math.ceil(n / 32)));
    }
  });

  it("bytesRoot on random inputs, at the default depth and deeper", () => {
    for (let k = 0; k < 300; k++) {
      const n = k < 70 ? k : below(2100);
      const data = randomBytes(rand, n);
      expect(hex(commit.bytesRoot(data)), `n=${n}`).toBe(hex(naiveBytesRoot(data)));
      const depth = commit.byteDepth(n) + below(4);
      expect(hex(commit.bytesRoot(data, depth)), `n=${n} depth=${depth}`).toBe(
        hex(naiveBytesRoot(data, depth)),
      );
    }
    const data = randomBytes(rand, 100);
    for (const depth of [27, 40, commit.MAX_DEPTH]) {
      expect(hex(commit.bytesRoot(data, depth))).toBe(hex(naiveBytesRoot(data, depth)));
    }
    expect(hex(commit.bytesRoot(new Uint8Array(0), 27))).toBe(hex(naiveZero[27]));
  });

  it("bytesRoot does not depend on the input's offset in its buffer", () => {
    const backing = randomBytes(rand, 300);
    const view = backing.subarray(7, 7 + 200);
    expect(hex(commit.bytesRoot(view))).toBe(hex(naiveBytesRoot(view.slice())));
  });

  it("leavesRoot, modelRoot, graphState, tensorRoot on random inputs", () => {
    for (let n = 0; n <= 40; n++) {
      const leaves = randomLeaves(n);
      const expected = hex(naiveLeavesRoot(leaves));
      expect(hex(commit.leavesRoot(leaves)), `n=${n}`).toBe(expected);
      expect(hex(commit.modelRoot(leaves)), `n=${n}`).toBe(expected);
      // A list of leaves is the same tree as their concatenated bytes.
      expect(hex(commit.bytesRoot(Buffer.concat(leaves)))).toBe(expected);
      const model = randomBytes(rand, 32);
      expect(hex(commit.graphState(model, leaves))).toBe(hex(node(model, naiveLeavesRoot(leaves))));
    }
    for (const len of [0, 1, 7, 8, 9, 784]) {
      const words = Int32Array.from({ length: len }, () => rand() | 0);
      const le = new Uint8Array(4 * len);
      const view = new DataView(le.buffer);
      for (const [i, w] of words.entries()) view.setInt32(4 * i, w, true);
      expect(hex(commit.tensorRoot(words)), `tensor ${len}`).toBe(hex(naiveBytesRoot(le)));
    }
  });

  it("rejects data that does not fit the requested depth, and leaves that are not 32 bytes", () => {
    expect(() => commit.bytesRoot(new Uint8Array(33), 0)).toThrow(RangeError);
    expect(() => commit.bytesRoot(new Uint8Array(3136), 6)).toThrow(RangeError);
    expect(() => commit.leavesRoot(randomLeaves(3), 1)).toThrow(RangeError);
    expect(() => commit.leavesRoot([new Uint8Array(31)])).toThrow(RangeError);
    expect(() => commit.leavesProof(randomLeaves(3), 4)).toThrow(RangeError);
  });

  it("hex round-trips", () => {
    const b = randomBytes(rand, 45);
    expect(commit.toHex(b)).toBe(hex(b));
    expect(commit.fromHex(commit.toHex(b))).toEqual(b);
    expect(() => commit.fromHex("0x123")).toThrow();
  });
});

describe("proofs", () => {
  it("every index of random trees round-trips, padding leaves included", () => {
    for (let n = 1; n <= 20; n++) {
      const leaves = randomLeaves(n);
      for (const extra of [0, 2]) {
        const depth = naiveDepth(n) + extra;
        const root = hex(commit.leavesRoot(leaves, depth));
        expect(root).toBe(hex(naiveLeavesRoot(leaves, depth)));
        for (let i = 0; i < 2 ** depth; i++) {
          const leaf = i < n ? leaves[i] : new Uint8Array(32);
          const proof = commit.leavesProof(leaves, i, depth);
          expect(proof.map(hex), `n=${n} i=${i}`).toEqual(naiveProof(leaves, i, depth).map(hex));
          expect(hex(commit.rootFromProof(leaf, i, proof)), `n=${n} i=${i}`).toBe(root);
        }
      }
    }
  });

  it("proofs into the 27-level VM memory tree round-trip", () => {
    const leaves = randomLeaves(9);
    const root = hex(naiveLeavesRoot(leaves, 27));
    for (const i of [0, 8, 9, 2 ** 20 + 1, 2 ** 27 - 1]) {
      const leaf = i < leaves.length ? leaves[i] : new Uint8Array(32);
      const proof = commit.leavesProof(leaves, i, 27);
      expect(hex(commit.rootFromProof(leaf, i, proof)), `i=${i}`).toBe(root);
      expect(hex(naiveRootFromProof(leaf, i, proof)), `i=${i}`).toBe(root);
    }
  });

  it("a flipped bit in the leaf, a sibling or the index changes the root", () => {
    const leaves = randomLeaves(13);
    const depth = naiveDepth(13);
    const root = hex(commit.leavesRoot(leaves));
    for (let k = 0; k < 50; k++) {
      const i = below(13);
      const proof = commit.leavesProof(leaves, i, depth);
      const leaf = leaves[i].slice();
      leaf[below(32)] ^= 1 << below(8);
      expect(hex(commit.rootFromProof(leaf, i, proof))).not.toBe(root);

      const bad = proof.map((p) => p.slice());
      bad[below(depth)][below(32)] ^= 1 << below(8);
      expect(hex(commit.rootFromProof(leaves[i], i, bad))).not.toBe(root);

      const j = i ^ (1 << below(depth));
      expect(hex(commit.rootFromProof(leaves[i], j, proof))).not.toBe(root);
    }
  });

  it("a flipped byte in the data changes bytesRoot", () => {
    for (const n of [1, 31, 32, 33, 100, 1000, 3136]) {
      const data = randomBytes(rand, n);
      const root = hex(commit.bytesRoot(data));
      for (let k = 0; k < 10; k++) {
        const copy = data.slice();
        copy[below(n)] ^= 1 + below(255);
        expect(hex(commit.bytesRoot(copy)), `n=${n}`).not.toBe(root);
      }
      // The root does not commit to the length: trailing zero bytes inside the padding are invisible.
      if (n % 32 !== 0) expect(hex(commit.bytesRoot(Buffer.concat([data, new Uint8Array(1)])))).toBe(root);
    }
  });
});
