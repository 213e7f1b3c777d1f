// loadPackage's weight views and verified-root cache (docs/PROTOCOL.md §3.1): a record makes a
// re-open skip the Merkle hashing, and no stale, tampered or corrupt record ever lets a changed
// weights.bin load.
import { randomBytes } from "node:crypto";
import {
  appendFileSync,
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  contentChecksum,
  hashing,
  jsContentChecksum,
  modelRoot,
  tensorRoot,
  toHex,
} from "../../commit/merkle.js";
import { loadPackage, type Manifest, packWeights, weightViews } from "../../dnn/src/package.js";
import { CACHE_FILE, entriesHash, identityOf, storeRecord } from "../../dnn/src/root-cache.js";
import { rng } from "../helpers/helpers.js";

const base = mkdtempSync(join(tmpdir(), "opml-cache-"));
let dir = "";
let weights: Int32Array[] = [];
let n = 0;

function randomWords(len: number, seed: number): Int32Array {
  const r = rng(seed);
  return Int32Array.from({ length: len }, () => Math.floor(r() * 2 ** 32) | 0);
}

/** A fresh package with a weight big enough to need several hash chunks. */
function makePackage(): string {
  const d = join(base, `pkg${n++}`);
  mkdirSync(d);
  weights = [randomWords(1000, 1), randomWords(15, 2), randomWords(300_000, 3), randomWords(7, 4)];
  const { bytes, offsets } = packWeights(weights);
  const infos = weights.map((w, k) => ({
    name: `w${k}`,
    shape: [w.length],
    dtype: "i32" as const,
    offset: offsets[k],
    root: toHex(tensorRoot(w)),
  }));
  const manifest: Manifest = {
    format: "opml-model/1",
    name: "cache-test",
    fracBits: 16,
    activations: [],
    inputs: [],
    outputs: [],
    weights: infos,
    nodes: [],
    modelRoot: toHex(modelRoot(weights.map((w) => tensorRoot(w)))),
  };
  writeFileSync(join(d, "manifest.json"), JSON.stringify(manifest));
  writeFileSync(join(d, "weights.bin"), bytes);
  return d;
}

/** Flips one bit of weight 2 (deep inside the file, far from its ends). */
function flipByte(d: string): void {
  const f = join(d, "weights.bin");
  const b = readFileSync(f);
  b[4000 + 4 * 150_000] ^= 0x10;
  writeFileSync(f, b);
}

const statOf = (f: string) => {
  const fd = openSync(f, "r");
  try {
    return fstatSync(fd, { bigint: true });
  } finally {
    closeSync(fd);
  }
};

function entriesOf(d: string): string {
  const m = JSON.parse(readFileSync(join(d, "manifest.json"), "utf8")) as Manifest;
  return entriesHash(m.weights.map((w) => [w.offset, 4 * w.shape[0], w.root]));
}

beforeAll(() => {
  process.env.OPML_CACHE_DIR = join(base, "user-cache");
});

afterAll(() => {
  delete process.env.OPML_CACHE_DIR;
  rmSync(base, { recursive: true, force: true });
});

beforeEach(() => {
  delete process.env.OPML_ROOT_CACHE;
  process.env.OPML_CACHE_DIR = join(base, "user-cache");
  dir = makePackage();
});

describe("loadPackage: weights as views over one read of weights.bin", () => {
  it("returns the packed weights, and views share one buffer", () => {
    const p = loadPackage(dir);
    expect(p.weights.map((w) => Array.from(w))).toEqual(weights.map((w) => Array.from(w)));
    expect(new Set(p.weights.map((w) => w.buffer)).size).toBe(1);
  });

  it("read and hashed with the worker thread (a shared buffer, no copy): the same weights and checks", () => {
    const saved = { ...hashing };
    try {
      hashing.minParallelBytes = 0;
      hashing.steal = false; // the worker reads and hashes every piece
      const p = loadPackage(dir);
      expect(p.weights[0].buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(p.rootCheck).toBe("hashed");
      expect(hashing.workerJobs).toBeGreaterThan(0);
      expect(p.weights.map((w) => Array.from(w))).toEqual(weights.map((w) => Array.from(w)));
      flipByte(dir);
      expect(() => loadPackage(dir)).toThrow(/weight 'w2' does not match its root/);
    } finally {
      Object.assign(hashing, saved);
    }
  });

  it("an unaligned buffer is copied word by word, with the same values", () => {
    const bytes = readFileSync(join(dir, "weights.bin"));
    const odd = new Uint8Array(bytes.length + 1).subarray(1);
    odd.set(bytes);
    const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest;
    const ws = weightViews(odd, m.weights, "weights.bin");
    expect(ws.map((w) => Array.from(w))).toEqual(weights.map((w) => Array.from(w)));
    expect(() => weightViews(odd.subarray(0, 5000), m.weights, "weights.bin")).toThrow(
      /weights.bin: weight 'w2' lies outside the file/,
    );
  });
});

describe("the verified-root cache", () => {
  it("a second open uses the record written by the first (in the package directory)", () => {
    expect(loadPackage(dir).rootCheck).toBe("hashed");
    expect(existsSync(join(dir, CACHE_FILE))).toBe(true);
    const again = loadPackage(dir);
    expect(again.rootCheck).toBe("cached");
    expect(Array.from(again.weights[2])).toEqual(Array.from(weights[2]));
  });

  it("size change: a flipped byte plus appended bytes is refused with the record present", () => {
    loadPackage(dir);
    flipByte(dir);
    appendFileSync(join(dir, "weights.bin"), new Uint8Array(32));
    expect(() => loadPackage(dir)).toThrow(/weight 'w2' does not match its root/);
  });

  it("mtime change: a flipped byte with a new mtime is refused", () => {
    loadPackage(dir);
    flipByte(dir);
    utimesSync(join(dir, "weights.bin"), new Date(2_000_000_000_000), new Date(2_000_000_000_000));
    expect(() => loadPackage(dir)).toThrow(/weight 'w2' does not match its root/);
  });

  it("a flipped byte is refused even by a record whose file identity matches (content checksum)", () => {
    loadPackage(dir);
    const f = join(dir, "weights.bin");
    const goodSum = contentChecksum(readFileSync(f));
    flipByte(dir);
    // A valid record (this user's key) for the file's new metadata but the old content: what a
    // filesystem with coarse or frozen timestamps would leave behind.
    storeRecord(dir, identityOf(statOf(f), goodSum), entriesOf(dir));
    expect(() => loadPackage(dir)).toThrow(/weight 'w2' does not match its root/);
  });

  it("a tampered record (fields edited without the key) is ignored", () => {
    loadPackage(dir);
    flipByte(dir);
    const f = join(dir, "weights.bin");
    const rec = JSON.parse(readFileSync(join(dir, CACHE_FILE), "utf8"));
    rec.weights = identityOf(statOf(f), contentChecksum(readFileSync(f))); // matches the file, old mac
    writeFileSync(join(dir, CACHE_FILE), JSON.stringify(rec));
    expect(() => loadPackage(dir)).toThrow(/weight 'w2' does not match its root/);
  });

  it("a corrupt record file is ignored and replaced by a valid one", () => {
    writeFileSync(join(dir, CACHE_FILE), "{not json");
    expect(loadPackage(dir).rootCheck).toBe("hashed");
    expect(loadPackage(dir).rootCheck).toBe("cached");
    writeFileSync(join(dir, CACHE_FILE), randomBytes(300));
    flipByte(dir);
    expect(() => loadPackage(dir)).toThrow(/weight 'w2' does not match its root/);
  });

  it("a changed manifest root is not vouched for by the old record", () => {
    loadPackage(dir);
    const mpath = join(dir, "manifest.json");
    const m = JSON.parse(readFileSync(mpath, "utf8")) as Manifest;
    m.weights[1].root = toHex(tensorRoot(new Int32Array(15)));
    writeFileSync(mpath, JSON.stringify(m));
    expect(() => loadPackage(dir)).toThrow(/weight 'w1' does not match its root/);
  });

  it("an unchanged file touched to a new mtime is hashed again, then cached again", () => {
    loadPackage(dir);
    utimesSync(join(dir, "weights.bin"), new Date(1_900_000_000_000), new Date(1_900_000_000_000));
    expect(loadPackage(dir).rootCheck).toBe("hashed");
    expect(loadPackage(dir).rootCheck).toBe("cached");
  });

  it("an unwritable package directory puts the record in the user cache directory", () => {
    mkdirSync(join(dir, CACHE_FILE)); // a directory where the record would go: writing there fails
    expect(loadPackage(dir).rootCheck).toBe("hashed");
    expect(loadPackage(dir).rootCheck).toBe("cached");
    flipByte(dir);
    expect(() => loadPackage(dir)).toThrow(/weight 'w2' does not match its root/);
  });

  it("nowhere writable, or OPML_ROOT_CACHE=0: every open hashes, none fails", () => {
    const file = join(base, `a-file-${n}`);
    writeFileSync(file, "x");
    process.env.OPML_CACHE_DIR = join(file, "below"); // under a regular file: no key can be made
    expect(loadPackage(dir).rootCheck).toBe("hashed");
    expect(loadPackage(dir).rootCheck).toBe("hashed");
    process.env.OPML_CACHE_DIR = join(base, "user-cache");
    process.env.OPML_ROOT_CACHE = "0";
    expect(loadPackage(dir).rootCheck).toBe("hashed");
    expect(loadPackage(dir).rootCheck).toBe("hashed");
  });
});

describe("contentChecksum", () => {
  it("the WebAssembly and JS versions agree, and one changed word always changes it", () => {
    for (const len of [0, 1, 63, 64, 65, 1000, (1 << 20) + 77, 3 << 20]) {
      const b = new Uint8Array(randomWords(Math.ceil(len / 4), len).buffer, 0, len);
      const sum = Buffer.from(contentChecksum(b)).toString("hex");
      expect(Buffer.from(jsContentChecksum(b)).toString("hex"), `${len} bytes`).toBe(sum);
      if (len === 0) continue;
      const c = Uint8Array.from(b);
      c[Math.floor(len / 2)] ^= 1;
      expect(Buffer.from(contentChecksum(c)).toString("hex")).not.toBe(sum);
    }
  });
});
