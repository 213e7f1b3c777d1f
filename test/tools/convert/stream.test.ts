// The streaming converter (convertToPackage): the bytes it writes equal the in-memory converter's
// (and the committed fixtures'), a failed conversion leaves nothing behind and never clobbers an
// existing package, and progress stays off stderr unless stderr is a terminal and --json is off.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { progress } from "../../../tools/commands/progress.js";
import { convertGraph, convertToPackage, writePackage } from "../../../tools/convert/convert.js";
import { ConvertError, parseOnnx, readOnnx } from "../../../tools/convert/onnx.js";
import { FIXTURE_MODELS, FIXTURES } from "../../../tools/fixtures.js";
import { cli } from "../../helpers/helpers.js";

const { onnx } = onnxProto as unknown as { onnx: typeof import("onnx-proto").onnx };
const tmp = mkdtempSync(join(tmpdir(), "opml-stream-"));
const F32 = onnx.TensorProto.DataType.FLOAT;

/** A chain of nodes over X [1, 4]; each `[op, weight?]` reads the previous output (or X). */
function chainModel(steps: [string, number[]?, string?][], dead?: number[]): Uint8Array {
  const vi = (name: string) => ({
    name,
    type: { tensorType: { elemType: F32, shape: { dim: [{ dimValue: 1 }, { dimValue: 4 }] } } },
  });
  const raw = (xs: number[]) => new Uint8Array(Float32Array.from(xs).buffer);
  const node: object[] = [];
  const initializer: object[] = [];
  let prev = "X";
  steps.forEach(([op, w], i) => {
    const ins = [prev];
    if (w) {
      // Raw data, as torch writes it: the lazily decoded path.
      initializer.push({ name: `W${i}`, dims: [4], dataType: F32, rawData: raw(w) });
      ins.push(`W${i}`);
    }
    node.push({ opType: op, name: `n${i}_${op}`, input: ins, output: [`Y${i}`] });
    prev = `Y${i}`;
    if (i === 0 && dead) {
      // A weight made for a node whose output reaches no graph output: pruned after lowering.
      initializer.push({ name: "Wdead", dims: [4], dataType: F32, floatData: dead });
      node.push({ opType: "Mul", name: "dead", input: ["X", "Wdead"], output: ["D"] });
    }
  });
  const graph = { name: "g", node, initializer, input: [vi("X")], output: [vi(prev)] };
  return onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: "", version: 13 }], graph }).finish();
}

const files = (dir: string) => readdirSync(dir).sort();
const bytesOf = (dir: string) => ({
  manifest: readFileSync(join(dir, "manifest.json"), "utf8"),
  weights: readFileSync(join(dir, "weights.bin")),
});

describe("convertToPackage writes today's bytes", () => {
  it.each(FIXTURE_MODELS)(
    "fixture %s: manifest.json and weights.bin equal the committed package",
    async (model) => {
      const out = join(tmp, `fx-${model}`);
      await convertToPackage(readOnnx(join(FIXTURES, `${model}.onnx`)), `${model}.onnx`, out, {
        name: model,
      });
      const got = bytesOf(out);
      const want = bytesOf(join(FIXTURES, "packages", model));
      expect(got.manifest).toBe(want.manifest);
      expect(got.weights.equals(want.weights)).toBe(true);
      expect(files(out)).toEqual(["manifest.json", "weights.bin"]);
    },
  );

  it("a weight pruned after it was streamed is cut out: same bytes as the in-memory converter", async () => {
    const bytes = chainModel(
      [
        ["Add", [1, 2, 3, 4]],
        ["Add", [0.5, -0.25, 7, 1e-3]],
      ],
      [9, 9, 9, 9],
    );
    const file = join(tmp, "dead.onnx");
    writeFileSync(file, bytes);
    const ref = join(tmp, "dead-ref");
    writePackage(convertGraph(parseOnnx(bytes, "dead.onnx"), "dead.onnx"), ref);
    const out = join(tmp, "dead-out");
    const m = await convertToPackage(readOnnx(file), "dead.onnx", out);
    expect(m.weights.map((w) => [w.name, w.offset])).toEqual([
      ["W0", 0],
      ["W1", 32], // 4 words, padded to 32 bytes; Wdead (made second) is gone
    ]);
    const got = bytesOf(out);
    const want = bytesOf(ref);
    expect(got.manifest).toBe(want.manifest);
    expect(got.weights.equals(want.weights)).toBe(true);
    expect(got.weights.length).toBe(64);
    // W1 = 1e-3 → round(65.536) = 66 at word 11 (second tensor, last element).
    expect(got.weights.readInt32LE(32 + 12)).toBe(66);
    expect(files(out)).toEqual(["manifest.json", "weights.bin"]);
  });
});

describe("initializers are read again from the file, which must not change meanwhile", () => {
  it("a file rewritten after parsing is refused by name", async () => {
    const file = join(tmp, "changing.onnx");
    writeFileSync(file, chainModel([["Add", [1, 2, 3, 4]]]));
    const g = readOnnx(file);
    writeFileSync(file, chainModel([["Add", [1, 2, 3, 4]], ["Relu"]]));
    const out = join(tmp, "changing-out");
    await expect(convertToPackage(g, file, out)).rejects.toThrow(
      /changing\.onnx: the file changed while it was being converted/,
    );
    expect(existsSync(out)).toBe(false);
  });
});

describe("a failed conversion leaves nothing behind", () => {
  const late = chainModel([["Add", [1, 2, 3, 4]], ["Add", [5, 6, 7, 8]], ["Relu"], ["NonMaxSuppression"]]);
  const file = join(tmp, "late.onnx");
  writeFileSync(file, late);
  const leftovers = (name: string) => readdirSync(tmp).filter((f) => f.startsWith(`${name}.`));

  it("an unsupported op late in the graph: no DIR and no temp dir", async () => {
    const out = join(tmp, "late-out");
    await expect(convertToPackage(readOnnx(file), file, out)).rejects.toThrow(
      /unsupported op 'NonMaxSuppression' at node 'n3_NonMaxSuppression' \(#3\)/,
    );
    expect(existsSync(out)).toBe(false);
    expect(leftovers("late-out")).toEqual([]);
  });

  it("does not clobber an existing DIR, even with force; a later success replaces it", async () => {
    const out = join(tmp, "kept");
    mkdirSync(out);
    const previous = JSON.stringify({ format: "opml-model/1", name: "previous package" });
    writeFileSync(join(out, "manifest.json"), previous);
    await expect(convertToPackage(readOnnx(file), file, out, { force: true })).rejects.toBeInstanceOf(
      ConvertError,
    );
    // A check that fails (e.g. fidelity) discards the finished package the same way.
    const good = join(tmp, "good.onnx");
    writeFileSync(good, chainModel([["Add", [1, 2, 3, 4]]]));
    let checked = "";
    await expect(
      convertToPackage(readOnnx(good), good, out, {
        force: true,
        check: (dir) => {
          checked = files(dir).join(",");
          throw new Error("fidelity failed");
        },
      }),
    ).rejects.toThrow("fidelity failed");
    expect(checked).toBe("manifest.json,weights.bin");
    expect(files(out)).toEqual(["manifest.json"]);
    expect(readFileSync(join(out, "manifest.json"), "utf8")).toBe(previous);
    expect(leftovers("kept")).toEqual([]);
    await expect(convertToPackage(readOnnx(good), good, out)).rejects.toThrow(/already exists/);
    await convertToPackage(readOnnx(good), good, out, { force: true });
    expect(JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")).weights[0].name).toBe("W0");
    expect(leftovers("kept")).toEqual([]);
  });
});

describe("progress", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A fake stderr: what was written, and whether it claims to be a terminal. */
  const fake = (isTTY: boolean) => {
    const chunks: string[] = [];
    return { chunks, out: { isTTY, write: (s: string) => chunks.push(s) } as unknown as NodeJS.WriteStream };
  };
  const run = (enabled: boolean, isTTY: boolean) => {
    vi.useFakeTimers();
    const f = fake(isTTY);
    const p = progress(enabled, f.out);
    p.phase("converting");
    for (let i = 1; i <= 10; i++) {
      vi.advanceTimersByTime(200);
      p.update(i, 10, "weights");
    }
    p.phase("verifying package");
    vi.advanceTimersByTime(300);
    p.end();
    return f.chunks.join("");
  };

  it("draws bars on a terminal, ending each phase's line in its final state", () => {
    const text = run(true, true);
    expect(text).toContain("\r\x1b[Kconverting [########################] 10/10, weights  2.0 s\n");
    expect(text).toContain("converting [############");
    expect(text).toContain("verifying package …  0.3 s\n");
  });
  it("draws nothing with --json or when stderr is not a terminal", () => {
    expect(run(false, true)).toBe("");
    expect(run(true, false)).toBe("");
  });
  it("convert --json prints one JSON object and nothing on stderr", () => {
    const good = join(tmp, "json.onnx");
    writeFileSync(good, chainModel([["Add", [1, 2, 3, 4]]]));
    const out = join(tmp, "json-out");
    const r = cli(["convert", good, "-o", out, "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    const j = JSON.parse(lines[0]);
    const m = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    expect(j.modelRoot).toBe(m.modelRoot);
    expect(j.parameters).toBe(4);
    expect(j.fidelity).toHaveLength(1);
    expect(j.fidelity[0].maxAbs).toBeLessThan(1e-4);
  });
});
