// Differential test vectors for the commitment rules: commit/merkle.ts computes them, the Solidity
// twin (contracts/src/lib/Merkle.sol) must reproduce them (contracts/test/Merkle.t.sol).
//
// test/commit/merkle.test.ts rebuilds the vectors and checks they equal contracts/test/vectors/commit.json,
// so the file cannot drift from commit.ts. Regenerate with
//   UPDATE_VECTORS=1 npx vitest run test/commit/merkle.test.ts
// or, after `npm run build`, `node dist/tools/vectors/commit-vectors.js [out.json]` from the repo root.
//
// JSON shapes are chosen for forge's vm.parseJsonTypeArray: bytes and bytes32 as 0x-hex strings,
// integers as JSON numbers, lists as arrays. Every case is a flat object of those.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  byteDepth,
  bytesRoot,
  graphState,
  type Hash,
  leavesProof,
  leavesRoot,
  MAX_DEPTH,
  rootFromProof,
  toHex,
  ZERO,
} from "../../commit/merkle.js";

export const COMMIT_VECTORS_PATH = "contracts/test/vectors/commit.json";
export const COMMIT_VECTORS_SEED = 0x6f706d6c; // "opml"

/** Byte lengths every bytesRoot case list covers: 0, one leaf, leaf edges, odd sizes, an MNIST input. */
export const BYTE_LENGTHS = [0, 1, 31, 32, 33, 64, 65, 100, 255, 256, 1000, 3136, 4096] as const;

export type Hex = `0x${string}`;
export interface BytesRootCase {
  data: Hex;
  depth: number;
  root: Hex;
}
export interface LeavesRootCase {
  leaves: Hex[];
  root: Hex;
}
export interface ProofCase {
  depth: number;
  index: number;
  leaf: Hex;
  proof: Hex[];
  root: Hex;
}
export interface GraphStateCase {
  model: Hex;
  root: Hex;
  table: Hex[];
}
export interface DepthTooSmallCase {
  depth: number;
  nbytes: number;
}
export interface CommitVectors {
  meta: {
    generator: string;
    seed: number;
    counts: Record<string, number>;
  };
  zeroHashes: Hex[];
  bytesRoot: BytesRootCase[];
  bytesRootAtDepth: BytesRootCase[];
  leavesRoot: LeavesRootCase[];
  proofs: ProofCase[];
  graphState: GraphStateCase[];
  depthTooSmall: DepthTooSmallCase[];
}

/** sfc32: small, fast, deterministic 32-bit PRNG (no Math.random anywhere in the vectors). */
export function sfc32(seed: number): () => number {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 16; i++) next(); // warm up
  return next;
}

export function randomBytes(rand: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const w = rand();
    for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (w >>> (8 * j)) & 0xff;
  }
  return out;
}

/** `n` below `bound` (bound <= 2^32). */
function below(rand: () => number, bound: number): number {
  return Math.floor((rand() / 2 ** 32) * bound);
}

function hexList(hs: readonly Hash[]): Hex[] {
  return hs.map((h) => toHex(h));
}

function randomLeaves(rand: () => number, n: number): Hash[] {
  return Array.from({ length: n }, () => randomBytes(rand, 32));
}

export function buildCommitVectors(seed = COMMIT_VECTORS_SEED): CommitVectors {
  const rand = sfc32(seed);

  const zeroHashes = ZERO.slice(0, MAX_DEPTH + 1).map((z) => toHex(z));

  // bytesRoot at the default depth: random contents (two draws), all 0xff and all zero per length.
  const bytesRootCases: BytesRootCase[] = [];
  const addBytes = (data: Uint8Array) =>
    bytesRootCases.push({ data: toHex(data), depth: byteDepth(data.length), root: toHex(bytesRoot(data)) });
  for (const n of BYTE_LENGTHS) {
    addBytes(randomBytes(rand, n));
    if (n === 0) continue;
    if (n <= 1000) addBytes(randomBytes(rand, n));
    addBytes(new Uint8Array(n).fill(0xff));
    if (n <= 256) addBytes(new Uint8Array(n));
  }

  // bytesRoot at explicit depths above the natural one, up to MAX_DEPTH.
  const atDepth: BytesRootCase[] = [];
  for (const n of [0, 1, 31, 32, 33, 64, 100, 1000, 4096]) {
    const data = randomBytes(rand, n);
    const natural = byteDepth(n);
    const depths = new Set([natural, natural + 1, natural + 3, 16, 27, 32, 33, 40, MAX_DEPTH]);
    for (const depth of [...depths].sort((x, y) => x - y)) {
      if (depth < natural) continue;
      atDepth.push({ data: toHex(data), depth, root: toHex(bytesRoot(data, depth)) });
    }
  }

  // leavesRoot over 0..17 random leaves, plus a few lists with zero leaves in them.
  const leavesCases: LeavesRootCase[] = [];
  for (let n = 0; n <= 17; n++) {
    const leaves = randomLeaves(rand, n);
    leavesCases.push({ leaves: hexList(leaves), root: toHex(leavesRoot(leaves)) });
  }
  for (const n of [1, 2, 3, 5, 9]) {
    const leaves = randomLeaves(rand, n).map((l, i) => (i % 2 === 0 ? new Uint8Array(32) : l));
    leavesCases.push({ leaves: hexList(leaves), root: toHex(leavesRoot(leaves)) });
  }

  // Proofs: every index of small trees, random indices (padding included) of bigger ones, and deep
  // trees (the VM memory tree is 27 levels deep) where almost every sibling is a zero subtree.
  const proofs: ProofCase[] = [];
  const addProof = (leaves: Hash[], index: number, depth: number) => {
    const leaf = index < leaves.length ? leaves[index] : ZERO[0];
    const proof = leavesProof(leaves, index, depth);
    const root = leavesRoot(leaves, depth);
    if (toHex(rootFromProof(leaf, index, proof)) !== toHex(root)) {
      throw new Error(`commit-vectors: proof of leaf ${index}/${leaves.length} at depth ${depth} is wrong`);
    }
    proofs.push({ depth, index, leaf: toHex(leaf), proof: hexList(proof), root: toHex(root) });
  };
  for (const n of [1, 2, 3, 4, 5]) {
    const leaves = randomLeaves(rand, n);
    const depth = Math.max(0, Math.ceil(Math.log2(n)));
    for (let i = 0; i < 2 ** depth; i++) addProof(leaves, i, depth);
  }
  for (const n of [7, 13, 17, 64, 100]) {
    const leaves = randomLeaves(rand, n);
    const depth = Math.ceil(Math.log2(n));
    for (let k = 0; k < 4; k++) addProof(leaves, below(rand, 2 ** depth), depth);
    addProof(leaves, n - 1, depth);
  }
  // Indices stay below 2^31: commit.ts's leavesProof/rootFromProof use 32-bit bit operations.
  for (const depth of [10, 27, 32]) {
    const leaves = randomLeaves(rand, 5);
    const last = Math.min(2 ** depth, 2 ** 31) - 1;
    for (const i of [0, 4, 5, 2 ** 20 + 3, last]) if (i < 2 ** depth) addProof(leaves, i, depth);
  }

  // Graph states: activation tables of 0..9 slots, later slots not yet produced (zero).
  const graphCases: GraphStateCase[] = [];
  for (let n = 0; n <= 9; n++) {
    const model = randomBytes(rand, 32);
    const produced = below(rand, n + 1);
    const table = randomLeaves(rand, n).map((l, i) => (i < produced ? l : new Uint8Array(32)));
    graphCases.push({ model: toHex(model), root: toHex(graphState(model, table)), table: hexList(table) });
  }

  // Data that does not fit the requested depth: commit.ts throws RangeError, Merkle.sol reverts
  // DepthTooSmall(nbytes, depth).
  const depthTooSmall: DepthTooSmallCase[] = [
    { nbytes: 33, depth: 0 },
    { nbytes: 65, depth: 1 },
    { nbytes: 129, depth: 2 },
    { nbytes: 3136, depth: 6 },
    { nbytes: 4097, depth: 7 },
  ].map(({ nbytes, depth }) => {
    try {
      bytesRoot(new Uint8Array(nbytes), depth);
    } catch (e) {
      if (e instanceof RangeError) return { depth, nbytes };
      throw e;
    }
    throw new Error(`commit-vectors: bytesRoot(${nbytes} bytes, depth ${depth}) should throw`);
  });

  const sections = {
    zeroHashes,
    bytesRoot: bytesRootCases,
    bytesRootAtDepth: atDepth,
    leavesRoot: leavesCases,
    proofs,
    graphState: graphCases,
    depthTooSmall,
  };
  const counts = Object.fromEntries(Object.entries(sections).map(([k, v]) => [k, v.length]));
  return {
    meta: { generator: "tools/vectors/commit-vectors.ts", seed, counts },
    ...sections,
  };
}

const LINE_WIDTH = 110; // biome.json formatter.lineWidth

/**
 * The committed text of a vector file (commit or phase-link vectors: any JSON value), laid out as
 * `biome format` lays out JSON (two-space indent, objects expanded,
 * an array on one line when it fits in 110 columns) so `biome check` passes on the file as written.
 */
export function serializeCommitVectors(v: object): string {
  const out = (value: unknown, indent: string, prefix: string, suffix: string): string[] => {
    if (Array.isArray(value)) {
      if (value.length === 0) return [`${indent}${prefix}[]${suffix}`];
      if (value.every((x) => typeof x !== "object" || x === null)) {
        const line = `${indent}${prefix}[${value.map((x) => JSON.stringify(x)).join(", ")}]${suffix}`;
        if (line.length <= LINE_WIDTH) return [line];
      }
      const inner = indent + "  ";
      return [
        `${indent}${prefix}[`,
        ...value.flatMap((x, i) => out(x, inner, "", i < value.length - 1 ? "," : "")),
        `${indent}]${suffix}`,
      ];
    }
    if (typeof value === "object" && value !== null) {
      const entries = Object.entries(value);
      if (entries.length === 0) return [`${indent}${prefix}{}${suffix}`];
      const inner = indent + "  ";
      return [
        `${indent}${prefix}{`,
        ...entries.flatMap(([k, x], i) =>
          out(x, inner, `${JSON.stringify(k)}: `, i < entries.length - 1 ? "," : ""),
        ),
        `${indent}}${suffix}`,
      ];
    }
    return [`${indent}${prefix}${JSON.stringify(value)}${suffix}`];
  };
  return `${out(v, "", "", "").join("\n")}\n`;
}

export function writeCommitVectors(path = COMMIT_VECTORS_PATH): string {
  const abs = resolve(path);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, serializeCommitVectors(buildCommitVectors()));
  return abs;
}

// CLI: node dist/tools/vectors/commit-vectors.js [out.json]   (paths relative to the cwd)
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  console.log(`wrote ${writeCommitVectors(process.argv[2] ?? COMMIT_VECTORS_PATH)}`);
}
