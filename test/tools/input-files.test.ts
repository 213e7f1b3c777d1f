// Input files with per-input dtypes (README "Input files"): int inputs are never scaled, float
// ones are quantized, scalars have shape [] (data may be a bare number); a dtype or a value that
// does not fit the model's input is one line naming the file, the input and the problem, exit 1.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import { beforeAll, describe, expect, it } from "vitest";
import { dequantize } from "../../dnn/src/fixed.js";
import { type Manifest, prepareInputs } from "../../dnn/src/package.js";
import { cli } from "../helpers/helpers.js";

const { onnx } = onnxProto as unknown as { onnx: typeof import("onnx-proto").onnx };
const T = onnx.TensorProto.DataType;
const tmp = mkdtempSync(join(tmpdir(), "opml-inputs-"));
const MODEL = join(tmp, "pos.onnx");
const PKG = join(tmp, "pos-pkg");

const vi = (name: string, dims: number[], elemType: number) => ({
  name,
  type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
});

/** y = x[pos] + pos·0.5 + 0.25·rate: a scalar int64 position and a scalar int32 "sample rate". */
function posModel(): Uint8Array {
  const graph = {
    name: "pos",
    node: [
      {
        opType: "Gather",
        input: ["x", "pos"],
        output: ["row"],
        name: "gather",
        attribute: [{ name: "axis", type: 2, i: 0 }],
      },
      {
        opType: "Cast",
        input: ["pos"],
        output: ["fp"],
        name: "cast",
        attribute: [{ name: "to", type: 2, i: T.FLOAT }],
      },
      { opType: "Mul", input: ["fp", "half"], output: ["hp"], name: "mul" },
      {
        opType: "Cast",
        input: ["rate"],
        output: ["fr"],
        name: "cast_r",
        attribute: [{ name: "to", type: 2, i: T.FLOAT }],
      },
      { opType: "Mul", input: ["fr", "quarter"], output: ["qr"], name: "mul_r" },
      { opType: "Add", input: ["row", "hp"], output: ["s"], name: "add" },
      { opType: "Add", input: ["s", "qr"], output: ["y"], name: "add_r" },
    ],
    initializer: [
      { name: "half", dims: [], dataType: T.FLOAT, floatData: [0.5] },
      { name: "quarter", dims: [], dataType: T.FLOAT, floatData: [0.25] },
    ],
    input: [vi("x", [4, 3], T.FLOAT), vi("pos", [], T.INT64), vi("rate", [], T.INT32)],
    output: [vi("y", [3], T.FLOAT)],
  };
  return onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: "", version: 13 }], graph }).finish();
}

const X = Array.from({ length: 12 }, (_, i) => (i - 6) / 8);
const typed = (pos: unknown, extra: Record<string, unknown> = {}) => ({
  inputs: {
    x: { shape: [4, 3], dtype: "float32", data: X },
    pos: { shape: [], dtype: "int64", data: pos },
    rate: { shape: [], dtype: "int32", data: [16] },
    ...extra,
  },
});
function file(name: string, json: unknown): string {
  const f = join(tmp, name);
  writeFileSync(f, JSON.stringify(json));
  return f;
}

/** exit 1 and exactly one stderr line `opml: …` matching `pattern`. */
function expectUserError(args: string[], pattern: RegExp) {
  const r = cli(args);
  expect(r.code, r.stderr).toBe(1);
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^opml: /);
  expect(lines[0]).toMatch(pattern);
}

describe("typed input files through the CLI (scalar int64 and int32 inputs)", () => {
  beforeAll(() => {
    writeFileSync(MODEL, posModel());
    const r = cli(["convert", MODEL, "-o", PKG, "--calib", file("calib.json", typed(2))]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/max abs err/);
  }, 60_000);

  it("converts and runs: int values are not scaled, floats are; onnxruntime agrees", () => {
    const r = cli(["infer", PKG, "--input", file("ok.json", typed(3)), "--json", "--compare-onnx", MODEL]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const want = X.slice(9, 12).map((v) => v + 1.5 + 4);
    for (const [i, v] of (out.data as number[]).entries()) expect(v).toBeCloseTo(want[i], 4);
    // compare is numbers: one object per output.
    expect(out.compare).toHaveLength(1);
    expect(out.compare[0].argmaxAgree).toBe(1);
    expect(out.compare[0].maxAbs).toBeTypeOf("number");
    expect(out.compare[0].maxAbs).toBeLessThan(1e-3);
  });
  it("a scalar may be a bare number or a one-element array; dtype may be left out", () => {
    const j = typed([1]);
    const plain = {
      inputs: { x: { shape: [4, 3], data: X }, pos: { shape: [], data: 1 }, rate: { shape: [], data: 16 } },
    };
    for (const [n, v] of [
      ["arr.json", j],
      ["plain.json", plain],
    ] as const) {
      const r = cli(["infer", PKG, "--input", file(n, v), "--json"]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).data[0]).toBeCloseTo(X[3] + 0.5 + 4, 4);
    }
  });
  it("refuses float data for an int input, naming the file, the input and the problem", () => {
    const f = file("float-pos.json", typed(1, { pos: { shape: [], dtype: "float32", data: [1] } }));
    expectUserError(
      ["infer", PKG, "--input", f],
      /float-pos\.json: input 'pos' has dtype 'float32' but the model's input is an integer tensor/,
    );
    const g = file("frac-pos.json", typed(1, { pos: { shape: [], data: [1.5] } }));
    expectUserError(
      ["infer", PKG, "--input", g],
      /frac-pos\.json: input 'pos' element 0 is 1\.5; an integer input takes integers only/,
    );
  });
  it("refuses an int dtype for a float input, an unknown dtype and a value outside the dtype", () => {
    const f = file("int-x.json", typed(1, { x: { shape: [4, 3], dtype: "int64", data: X.map(() => 0) } }));
    expectUserError(
      ["infer", PKG, "--input", f],
      /int-x\.json: input 'x' has dtype 'int64' but the model's input is a float tensor/,
    );
    const g = file("int4.json", typed(1, { rate: { shape: [], dtype: "int4", data: [1] } }));
    expectUserError(
      ["infer", PKG, "--input", g],
      /int4\.json: input 'rate' has dtype "int4"; expected one of float, float32/,
    );
    const h = file("u8.json", typed(1, { rate: { shape: [], dtype: "uint8", data: [300] } }));
    expectUserError(
      ["infer", PKG, "--input", h],
      /u8\.json: input 'rate' element 0 is 300, outside uint8 \[0, 255\]/,
    );
    const k = file("big.json", typed(3e9));
    expectUserError(
      ["infer", PKG, "--input", k],
      /big\.json: input 'pos' element 0 is 3000000000, outside int64 .*int32/,
    );
  });
});

describe("prepareInputs forms", () => {
  const m = {
    inputs: [0],
    activations: [{ name: "ids", shape: [1, 3], dtype: "i32" }],
  } as unknown as Manifest;
  const f = {
    inputs: [0],
    activations: [{ name: "x", shape: [2], dtype: "q16" }],
  } as unknown as Manifest;
  it("takes the short form with a dtype, the named form, and bools", () => {
    expect(
      Array.from(prepareInputs(m, { shape: [1, 3], dtype: "int64", data: [5, -2, 7] }, "a.json")[0]),
    ).toEqual([5, -2, 7]);
    expect(
      Array.from(
        prepareInputs(
          m,
          { inputs: { ids: { shape: [1, 3], dtype: "bool", data: [true, false, 1] } } },
          "b",
        )[0],
      ),
    ).toEqual([1, 0, 1]);
    expect(
      Array.from(dequantize(prepareInputs(f, { shape: [2], dtype: "float16", data: [0.5, -1] }, "c")[0])),
    ).toEqual([0.5, -1]);
    expect(Array.from(dequantize(prepareInputs(f, { shape: [2], data: [0.25, 2] }, "d")[0]))).toEqual([
      0.25, 2,
    ]);
  });
  it("one line per problem", () => {
    expect(() => prepareInputs(m, { shape: [1, 3], dtype: "bool", data: [2, 0, 1] }, "e.json")).toThrow(
      "e.json: input 'ids' element 0 is 2, outside bool [0, 1]",
    );
    expect(() => prepareInputs(m, { shape: [1, 3], data: ["1", 0, 1] }, "g.json")).toThrow(
      `g.json: input 'ids' element 0 is "1", not a number`,
    );
  });
  it("a float value that rounds outside Q16.16 is refused; with clamp it saturates with one warning", () => {
    const q = (data: number[], clamp = false, warn?: (s: string) => void) =>
      Array.from(prepareInputs(f, { shape: [2], data }, "r.json", { clamp, warn })[0]);
    // The exact edges of the rule floor(x·2^16 + 1/2) within [-2^31, 2^31 − 1].
    expect(q([32768 - 2 ** -16, -32768 - 2 ** -17])).toEqual([2 ** 31 - 1, -(2 ** 31)]);
    expect(() => q([32768 - 2 ** -17, 0])).toThrow(
      "r.json: input 'x': 1 value outside the Q16.16 range [-32768, 32767.99998] (element 0 is 32767.999992370605); pass --clamp",
    );
    expect(() => q([1, -32768 - 2 ** -16])).toThrow(/1 value outside .*\(element 1 is -32768\.0000152/);
    expect(() => q([1e12, -1e12])).toThrow(/r\.json: input 'x': 2 values outside/);
    const warnings: string[] = [];
    expect(q([1e12, -1e12], true, (w) => warnings.push(w))).toEqual([2 ** 31 - 1, -(2 ** 31)]);
    expect(warnings).toEqual([
      "r.json: input 'x': 2 values outside the Q16.16 range [-32768, 32767.99998] clamped to its limits (--clamp)",
    ]);
    // Non-finite values stay refused, clamp or not.
    expect(() => q([Number.POSITIVE_INFINITY, 0], true)).toThrow(/element 0 is Infinity/);
  });
});
