// Greedy generation (game/generate.ts, `opml generate`, docs/PROTOCOL.md "Generation (greedy
// decoding)") on a tiny nanoGPT-style decoder (fixtures/decoder/nanogpt_tiny.onnx: 1 layer, d 32,
// vocab 64, ctx 8), converted here: the argmax rule, determinism, the causal mask hiding the pad,
// an independent re-computation of every step on the other engine, and the CLI's errors and JSON.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tensorRoot, toHex } from "../../commit/merkle.js";
import { wasmCpuBackend } from "../../dnn/src/engine.js";
import { InputError, type ModelPackage } from "../../dnn/src/package.js";
import { UsageError } from "../../errors/index.js";
import { argmaxQ16, decoderShape, generate, idsTensor, PAD_ID } from "../../game/generate.js";
import { convertGraph, writePackage } from "../../tools/convert/convert.js";
import { readOnnx } from "../../tools/convert/onnx.js";
import { FIXTURES } from "../../tools/fixtures.js";
import { cli } from "../helpers/helpers.js";

const ONNX = join(FIXTURES, "decoder", "nanogpt_tiny.onnx");
const CTX = 8;
const VOCAB = 64;

let pkg: ModelPackage;
let dir: string;
let work: string;

beforeAll(() => {
  pkg = convertGraph(readOnnx(ONNX), ONNX, { name: "nanogpt_tiny" });
  work = mkdtempSync(join(tmpdir(), "opml-generate-"));
  dir = join(work, "pkg");
  writePackage(pkg, dir);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const bytes = (a: Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const sameBits = (a: Int32Array, b: Int32Array) => a.length === b.length && bytes(a).equals(bytes(b));

/** The test's own argmax: the first index holding the largest word. */
function ownArgmax(logits: Int32Array, row: number, vocab: number): number {
  const r = Array.from(logits.subarray(row * vocab, (row + 1) * vocab));
  return r.indexOf(Math.max(...r));
}

describe("the argmax rule", () => {
  it("takes the largest Q16 word, compared as signed integers", () => {
    expect(argmaxQ16(Int32Array.from([3, -5, 9, 2]), 0, 4)).toBe(2);
    expect(argmaxQ16(Int32Array.from([-(2 ** 31), -(2 ** 16), -7]), 0, 3)).toBe(2);
    expect(argmaxQ16(Int32Array.from([2 ** 31 - 1, -(2 ** 31)]), 0, 2)).toBe(0);
    expect(argmaxQ16(Int32Array.from([-1, 0]), 0, 2)).toBe(1); // 0xffffffff is −1, not 2^32 − 1
  });
  it("breaks ties to the lowest id", () => {
    expect(argmaxQ16(Int32Array.from([5, 5, 5]), 0, 3)).toBe(0);
    expect(argmaxQ16(Int32Array.from([1, 7, 3, 7, 7]), 0, 5)).toBe(1);
    expect(argmaxQ16(Int32Array.from([-4, -2, -2]), 0, 3)).toBe(1);
    expect(argmaxQ16(new Int32Array(VOCAB), 0, VOCAB)).toBe(0);
    // rows by offset: row 1 of a [2, 4] block, tie between its ids 2 and 3
    expect(argmaxQ16(Int32Array.from([9, 9, 9, 9, 0, 1, 6, 6]), 4, 4)).toBe(2);
  });
});

describe("generate() on the tiny decoder", () => {
  it("reads the decoder's shape", () => {
    expect(decoderShape(pkg)).toMatchObject({ ctx: CTX, vocab: VOCAB });
  });

  it("is deterministic: two runs give the same ids and roots", () => {
    const a = generate(pkg, [1, 2, 3], 5);
    const b = generate(pkg, [1, 2, 3], 5);
    expect(a.ids).toHaveLength(8);
    expect(a.ids.slice(0, 3)).toEqual([1, 2, 3]);
    expect(b.ids).toEqual(a.ids);
    expect(a.tokenRoots).toHaveLength(6);
    expect(a.outputRoots).toHaveLength(5);
    expect(b.tokenRoots.map(toHex)).toEqual(a.tokenRoots.map(toHex));
    expect(b.outputRoots.map(toHex)).toEqual(a.outputRoots.map(toHex));
    // and the other engine gives the same bits
    const c = generate(pkg, [1, 2, 3], 5, { model: wasmCpuBackend.prepare(pkg) });
    expect(c.ids).toEqual(a.ids);
    expect(c.outputRoots.map(toHex)).toEqual(a.outputRoots.map(toHex));
  });

  it("commits to the ids tensor: root 0 the padded prompt, root t+1 after pass t", () => {
    const g = generate(pkg, [7, 4], 4);
    expect(toHex(g.tokenRoots[0])).toBe(toHex(tensorRoot(Int32Array.from([7, 4, 0, 0, 0, 0, 0, 0]))));
    g.tokenRoots.forEach((r, t) => {
      expect(toHex(r)).toBe(toHex(tensorRoot(idsTensor(g.ids.slice(0, 2 + t), CTX, PAD_ID))));
    });
    expect(new Set(g.tokenRoots.map(toHex)).size).toBe(5); // one new position each pass
  });

  it("causal mask: logits at positions < len do not depend on the pad fill (bit for bit)", () => {
    const prompt = [11, 3, 42];
    const n = CTX - prompt.length;
    const passes = (pad: number) => {
      const logits: Int32Array[] = [];
      const g = generate(pkg, prompt, n, { pad, onPass: (_t, _in, l) => logits.push(l) });
      return { g, logits };
    };
    const base = passes(0);
    let laterDiffer = 0;
    for (const pad of [17, VOCAB - 1]) {
      const other = passes(pad);
      expect(other.g.ids).toEqual(base.g.ids);
      for (let t = 0; t < n; t++) {
        const len = prompt.length + t;
        const seen = len * VOCAB;
        // positions 0..len−1 (what the argmax reads) bit-identical
        expect(sameBits(other.logits[t].subarray(0, seen), base.logits[t].subarray(0, seen))).toBe(true);
        // positions ≥ len see the pad, so the fill did change something there
        if (len < CTX && !sameBits(other.logits[t].subarray(seen), base.logits[t].subarray(seen)))
          laterDiffer++;
      }
    }
    expect(laterDiffer).toBeGreaterThan(0);
  });

  it("each generated id is the argmax of a plain run at position len − 1 (checked on the other engine)", () => {
    const prompt = [5, 60, 2];
    const n = 5;
    const g = generate(pkg, prompt, n);
    const plain = wasmCpuBackend.prepare(pkg);
    const outSlot = pkg.manifest.outputs[0];
    for (let t = 0; t < n; t++) {
      const len = prompt.length + t;
      const input = new Int32Array(CTX);
      for (let i = 0; i < len; i++) input[i] = g.ids[i];
      const logits = plain.run([input])[outSlot];
      expect(logits).toHaveLength(CTX * VOCAB);
      expect(g.ids[len]).toBe(ownArgmax(logits, len - 1, VOCAB));
      expect(toHex(g.tokenRoots[t])).toBe(toHex(tensorRoot(input)));
      expect(toHex(g.outputRoots[t])).toBe(toHex(tensorRoot(logits)));
    }
  });

  it("refuses what is not a generation, naming the culprit", () => {
    expect(() => generate(pkg, [1, 64], 1)).toThrow(InputError);
    expect(() => generate(pkg, [1, 64], 1)).toThrow("id 64 at position 1 is out of the vocabulary [0, 64)");
    expect(() => generate(pkg, [1, -1], 1)).toThrow("id -1 at position 1");
    expect(() => generate(pkg, [], 1)).toThrow(UsageError);
    expect(() => generate(pkg, [1, 2, 3], 6)).toThrow("exceed the model's context ctx = 8");
    expect(generate(pkg, [1, 2, 3], 5).ids).toHaveLength(CTX); // exactly full is fine
    const reshaped = (f: (m: ModelPackage["manifest"]) => void): ModelPackage => {
      const m = structuredClone(pkg.manifest);
      f(m);
      return { ...pkg, dir: "/x/pkg", manifest: m };
    };
    const out = pkg.manifest.outputs[0];
    const inp = pkg.manifest.inputs[0];
    expect(() =>
      decoderShape(
        reshaped((m) => {
          m.activations[out].shape = [1, 7, VOCAB];
        }),
      ),
    ).toThrow("/x/pkg: not a decoder package (output 'output' has shape [1, 7, 64], not [1, 8, vocab])");
    expect(() =>
      decoderShape(
        reshaped((m) => {
          m.activations[out].dtype = "i32";
        }),
      ),
    ).toThrow("output 'output' is i32, not q16 logits");
    expect(() =>
      decoderShape(
        reshaped((m) => {
          m.activations[inp].shape = [2, 4];
        }),
      ),
    ).toThrow("input 'input' has shape [2, 4], not [1, ctx]");
  });
});

describe("opml generate", () => {
  it("--json prints prompt, generated, ids and the roots, the same as the library", () => {
    const r = cli(["generate", dir, "--prompt-ids", "1,2,3", "--tokens", "4", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const j = JSON.parse(lines[0]);
    expect(Object.keys(j).sort()).toEqual(
      ["finalTokenRoot", "generated", "ids", "outputRoots", "prompt", "tokenRoots"].sort(),
    );
    expect(j.prompt).toEqual([1, 2, 3]);
    expect(j.generated).toHaveLength(4);
    expect(j.ids).toEqual([...j.prompt, ...j.generated]);
    expect(j.tokenRoots).toHaveLength(5);
    expect(j.outputRoots).toHaveLength(4);
    for (const h of [...j.tokenRoots, ...j.outputRoots]) expect(h).toMatch(/^0x[0-9a-f]{64}$/);
    expect(j.finalTokenRoot).toBe(j.tokenRoots[4]);
    const g = generate(pkg, [1, 2, 3], 4);
    expect(j.ids).toEqual(g.ids);
    expect(j.tokenRoots).toEqual(g.tokenRoots.map(toHex));
    expect(j.outputRoots).toEqual(g.outputRoots.map(toHex));
  });

  it("plain output prints the ids and the final token root", () => {
    const r = cli(["generate", dir, "--prompt-ids", "1,2,3", "--tokens", "4"]);
    expect(r.code).toBe(0);
    const g = generate(pkg, [1, 2, 3], 4);
    expect(r.stdout).toContain(`ids:       ${g.ids.join(",")}`);
    expect(r.stdout).toContain(`final token root: ${toHex(g.tokenRoots[4])}`);
  });

  const cases: [string, () => string[], string][] = [
    [
      "bad --prompt-ids",
      () => ["--prompt-ids", "1,x", "--tokens", "1"],
      "--prompt-ids '1,x': expected comma-separated",
    ],
    ["empty id", () => ["--prompt-ids", "1,,2", "--tokens", "1"], "--prompt-ids '1,,2'"],
    ["negative id", () => ["--prompt-ids", "-1", "--tokens", "1"], "--prompt-ids"],
    [
      "id out of vocab",
      () => ["--prompt-ids", "1,64", "--tokens", "1"],
      "--prompt-ids: id 64 at position 1 is out of the vocabulary [0, 64)",
    ],
    ["too long", () => ["--prompt-ids", "1,2,3", "--tokens", "6"], "exceed the model's context ctx = 8"],
    ["--tokens 0", () => ["--prompt-ids", "1", "--tokens", "0"], "--tokens '0': expected a positive integer"],
    [
      "--tokens abc",
      () => ["--prompt-ids", "1", "--tokens", "abc"],
      "--tokens 'abc': expected a positive integer",
    ],
  ];
  it.each(cases)("%s: one line naming the culprit, exit 1", (_what, args, text) => {
    const t0 = Date.now();
    const r = cli(["generate", dir, ...args()]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(text);
    expect(r.stderr).not.toContain("    at ");
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it.each([
    ["mnist_mlp", "input 'input' is q16, not i32 token ids"],
    ["transformer_block", "input 'input' is q16, not i32 token ids"],
  ])("a non-decoder package (%s) is one line naming it", (name, why) => {
    const p = join(FIXTURES, "packages", name);
    const r = cli(["generate", p, "--prompt-ids", "1", "--tokens", "1"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(`${p}: not a decoder package (${why})`);
    expect(r.stderr).not.toContain("    at ");
  });

  it("a missing package is one line", () => {
    const r = cli(["generate", join(work, "nope"), "--prompt-ids", "1", "--tokens", "1"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(join(work, "nope"));
  });
});
