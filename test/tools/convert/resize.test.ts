// Resize/Upsample, Pad's index modes, ConvTranspose, 3-D Conv/pools and MaxPool's Indices
// (tools/convert/lower/resize.ts, pool.ts, linalg.ts): each small model is converted, run natively
// and compared with onnxruntime float (the independent reference), and every kernel node it
// became is replayed in the VM and must give the native engine's words exactly. Unsupported
// attributes are refused in one line naming the node, the attribute and its value.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import { describe, expect, it } from "vitest";
import { DEFAULT_STEP_BUDGET, stepBound } from "../../../dnn/src/cost.js";
import { defaultBackend } from "../../../dnn/src/engine.js";
import { dequantize, quantizeArray } from "../../../dnn/src/fixed.js";
import { Op } from "../../../dnn/src/opcodes.js";
import type { ModelPackage } from "../../../dnn/src/package.js";
import { nodeInputs, runNodeInVm } from "../../../game/link.js";
import { convertGraph } from "../../../tools/convert/convert.js";
import { parseOnnx } from "../../../tools/convert/onnx.js";
import { runOnnxRuntime } from "../../../tools/convert/reference.js";

const { onnx } = onnxProto as unknown as { onnx: typeof import("onnx-proto").onnx };
const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;
type Attr = import("onnx-proto").onnx.IAttributeProto;

const ai = (name: string, i: number): Attr => ({ name, type: A.INT, i });
const af = (name: string, f: number): Attr => ({ name, type: A.FLOAT, f });
const as = (name: string, s: string): Attr => ({ name, type: A.STRING, s: new TextEncoder().encode(s) });
const ais = (name: string, ints: number[]): Attr => ({ name, type: A.INTS, ints });
const afs = (name: string, floats: number[]): Attr => ({ name, type: A.FLOATS, floats });

interface Case {
  opset: number;
  op: string;
  /** Node inputs after X ("" = absent); each named one is an initializer below. */
  extra?: string[];
  attrs?: Attr[];
  x: number[];
  /** Float or int64 initializers: name → [dims, data]. */
  floats?: Record<string, [number[], number[]]>;
  ints?: Record<string, [number[], number[]]>;
  /** Output names (MaxPool's Indices is the second). */
  outs?: [string, number][];
}

function model(c: Case): Uint8Array {
  const inits = [
    ...Object.entries(c.floats ?? {}).map(([name, [dims, data]]) => ({
      name,
      dims,
      dataType: T.FLOAT,
      floatData: data,
    })),
    ...Object.entries(c.ints ?? {}).map(([name, [dims, data]]) => ({
      name,
      dims,
      dataType: T.INT64,
      int64Data: data,
    })),
  ];
  const outs = c.outs ?? [["y", T.FLOAT]];
  const graph = {
    name: "g",
    node: [
      {
        name: "n0",
        opType: c.op,
        input: ["x", ...(c.extra ?? [])],
        output: outs.map((o) => o[0]),
        attribute: c.attrs,
      },
    ],
    initializer: inits,
    input: [
      {
        name: "x",
        type: { tensorType: { elemType: T.FLOAT, shape: { dim: c.x.map((d) => ({ dimValue: d })) } } },
      },
    ],
    output: outs.map(([name, t]) => ({ name, type: { tensorType: { elemType: t } } })),
  };
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: "", version: c.opset }],
    graph,
  }).finish();
}

const dir = mkdtempSync(join(tmpdir(), "resize-test-"));
let fileNo = 0;

/** A deterministic input in [-2, 2) with fractional parts that are not dyadic. */
const inputOf = (shape: number[]) =>
  Array.from(
    { length: shape.reduce((a, b) => a * b, 1) },
    (_, i) => (((i * 37 + 11) % 101) / 25.25 - 2) * 0.999,
  );

function convert(c: Case, stepBudget?: number): ModelPackage {
  const bytes = model(c);
  return convertGraph(parseOnnx(bytes, "m.onnx"), "m.onnx", stepBudget ? { stepBudget } : {});
}

/** Converts, compares with onnxruntime, replays every kernel node in the VM; returns the package. */
async function check(c: Case, tol = 2e-3): Promise<ModelPackage & { maxErr: number }> {
  const bytes = model(c);
  const file = join(dir, `m${fileNo++}.onnx`);
  writeFileSync(file, bytes);
  const pkg = convertGraph(parseOnnx(bytes, file), file);
  const m = pkg.manifest;
  // onnxruntime gets the quantized input (exact in float32), so errors are the lowering's own.
  const xq = quantizeArray(inputOf(c.x), "x");
  const acts = defaultBackend().prepare(pkg).run([xq], { keepAll: true });
  const ref = await runOnnxRuntime(file, [{ name: "x", shape: c.x, dtype: "q16", data: dequantize(xq) }]);
  let maxErr = 0;
  m.outputs.forEach((slot, k) => {
    const info = m.activations[slot];
    const got = info.dtype === "q16" ? dequantize(acts[slot]) : Array.from(acts[slot]);
    expect(got.length, `output ${k} size`).toBe(ref[k].length);
    for (let i = 0; i < got.length; i++) {
      maxErr = Math.max(maxErr, Math.abs(got[i] - ref[k][i]));
      expect(
        Math.abs(got[i] - ref[k][i]),
        `output ${k}[${i}]: ${got[i]} vs ${ref[k][i]}`,
      ).toBeLessThanOrEqual(tol * (1 + Math.abs(ref[k][i])));
    }
  });
  m.nodes.forEach((n, k) => {
    const run = runNodeInVm(pkg, k, nodeInputs(pkg, k, acts));
    expect(run.steps, `node ${n.name}`).toBeLessThanOrEqual(stepBound(n.op, n.params));
    n.outputs.forEach((s, i) => {
      expect(Array.from(run.outputs[i]), `node ${k} ${n.name} in the VM`).toEqual(Array.from(acts[s]));
    });
  });
  return Object.assign(pkg, { maxErr });
}

const ops = (pkg: ModelPackage) => pkg.manifest.nodes.map((n) => n.op);

const resize = (
  attrs: Attr[],
  x: number[],
  by: { scales?: number[]; sizes?: number[]; roi?: number[] },
  opset = 13,
): Case => ({
  opset,
  op: "Resize",
  extra: [by.roi ? "roi" : "", by.scales ? "scales" : "", ...(by.sizes ? ["sizes"] : [])],
  attrs,
  x,
  floats: {
    ...(by.roi ? { roi: [[by.roi.length], by.roi] } : {}),
    ...(by.scales ? { scales: [[by.scales.length], by.scales] } : {}),
  },
  ints: by.sizes ? { sizes: [[by.sizes.length], by.sizes] } : {},
});

describe("Resize agrees with onnxruntime and replays bit-identically in the VM", () => {
  it.each(["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"])(
    "nearest, nearest_mode %s",
    async (nm) => {
      for (const ctm of ["half_pixel", "asymmetric", "align_corners"]) {
        await check(
          resize(
            [as("mode", "nearest"), as("nearest_mode", nm), as("coordinate_transformation_mode", ctm)],
            [1, 2, 4, 5],
            {
              sizes: [1, 2, 7, 3],
            },
          ),
        );
      }
    },
  );

  it("integer nearest upsampling is one COPY; a non-integer one a GATHER per axis", async () => {
    const up = await check(resize([as("mode", "nearest")], [1, 3, 4, 5], { scales: [1, 1, 2, 3] }));
    expect(ops(up)).toEqual([Op.COPY, Op.COPY]);
    const odd = await check(resize([as("mode", "nearest")], [1, 2, 12, 10], { scales: [1, 1, 1.75, 1.5] }));
    expect(ops(odd)).toContain(Op.GATHER);
  });

  it.each([
    ["half_pixel", [1, 1, 1.6, 2.5]],
    ["pytorch_half_pixel", [1, 1, 0.5, 1.8]],
    ["align_corners", [1, 1, 2, 0.5]],
    ["asymmetric", [1, 1, 1.5, 3]],
  ])("bilinear, %s", async (ctm, scales) => {
    const pkg = await check(
      resize([as("mode", "linear"), as("coordinate_transformation_mode", ctm as string)], [2, 3, 5, 6], {
        scales: scales as number[],
      }),
    );
    expect(ops(pkg).filter((o) => o === Op.MATMUL)).toHaveLength(2);
  });

  it("half_pixel_symmetric (opset 19) with sizes", async () => {
    await check(
      resize(
        [as("mode", "linear"), as("coordinate_transformation_mode", "half_pixel_symmetric")],
        [1, 2, 5, 6],
        {
          sizes: [1, 2, 7, 4],
        },
        19,
      ),
    );
  });

  it("trilinear on a 5-D input and 1-D linear on a 3-D input", async () => {
    await check(resize([as("mode", "linear")], [1, 2, 3, 4, 5], { sizes: [1, 2, 5, 6, 3] }));
    await check(resize([as("mode", "linear")], [2, 3, 7], { scales: [1, 1, 2.5] }));
  });

  it.each([
    [-0.75, 0, "half_pixel", [1, 1, 1.5, 0.6]],
    [-0.5, 1, "half_pixel", [1, 1, 0.6, 2]],
    [-0.75, 0, "asymmetric", [1, 1, 2, 2]],
    [-0.75, 1, "align_corners", [1, 1, 1.5, 5 / 7]],
  ])("cubic, A = %f, exclude_outside = %i, %s", async (a, ex, ctm, scales) => {
    await check(
      resize(
        [
          as("mode", "cubic"),
          af("cubic_coeff_a", a as number),
          ai("exclude_outside", ex as number),
          as("coordinate_transformation_mode", ctm as string),
        ],
        [1, 2, 6, 7],
        { scales: scales as number[] },
      ),
    );
  });

  it("axes and keep_aspect_ratio_policy (opset 18)", async () => {
    for (const policy of ["not_larger", "not_smaller"]) {
      await check(
        resize(
          [as("mode", "linear"), ais("axes", [2, 3]), as("keep_aspect_ratio_policy", policy)],
          [1, 2, 4, 6],
          {
            sizes: [7, 8],
          },
          18,
        ),
      );
    }
  });

  it("tf_crop_and_resize with an extrapolation value", async () => {
    const pkg = await check(
      resize(
        [
          as("mode", "linear"),
          as("coordinate_transformation_mode", "tf_crop_and_resize"),
          af("extrapolation_value", 1.5),
        ],
        [1, 1, 5, 6],
        { roi: [0, 0, -0.2, 0.3, 1, 1, 0.9, 1.3], sizes: [1, 1, 4, 5] },
      ),
    );
    // Only H and W have rows outside the roi; N and C (one-hot) are not multiplied.
    expect(ops(pkg).filter((o) => o === Op.MATMUL)).toHaveLength(2);
  });

  it("Resize-10 and Upsample-7/9 (asymmetric, truncating nearest)", async () => {
    await check({
      opset: 10,
      op: "Resize",
      extra: ["s"],
      x: [1, 2, 5, 4],
      floats: { s: [[4], [1, 1, 0.6, 1.5]] },
    });
    await check({
      opset: 10,
      op: "Resize",
      extra: ["s"],
      attrs: [as("mode", "linear")],
      x: [1, 2, 3, 4],
      floats: { s: [[4], [1, 1, 2, 1.5]] },
    });
    await check({
      opset: 9,
      op: "Upsample",
      extra: ["s"],
      x: [1, 2, 3, 4],
      floats: { s: [[4], [1, 1, 2, 3]] },
    });
    await check({
      opset: 7,
      op: "Upsample",
      attrs: [as("mode", "linear"), afs("scales", [1, 1, 2, 2])],
      x: [1, 2, 3, 4],
    });
  });

  it("stays within docs/NUMERICS.md's Resize bound (0.5 ulp + taps·max|x| ulp per axis)", async () => {
    const ulp = 2 ** -16;
    const maxX = 2; // inputOf's range
    const axis = (taps: number) => (0.5 + taps * maxX) * ulp;
    const lin1 = await check(resize([as("mode", "linear")], [1, 3, 6, 9], { scales: [1, 1, 1, 1.7] }));
    expect(lin1.maxErr).toBeLessThanOrEqual(axis(2) + 1e-6);
    const lin2 = await check(resize([as("mode", "linear")], [1, 3, 6, 9], { scales: [1, 1, 2.5, 1.7] }));
    expect(lin2.maxErr).toBeLessThanOrEqual(2 * axis(2) + 1e-6);
    const cub2 = await check(resize([as("mode", "cubic")], [1, 3, 6, 9], { scales: [1, 1, 0.5, 1.7] }));
    expect(cub2.maxErr).toBeLessThanOrEqual(axis(4) * (1 + 1.375) + 1e-6);
    expect(lin2.maxErr).toBeGreaterThan(0); // a real comparison, not a folded constant
  });

  it("keeps a constant image exactly constant (matrix rows sum to exactly 1.0)", () => {
    const pkg = convert(resize([as("mode", "cubic")], [1, 1, 5, 7], { scales: [1, 1, 1.7, 2.3] }));
    const acts = defaultBackend()
      .prepare(pkg)
      .run([quantizeArray(new Array(35).fill(0.3), "x")]);
    const out = acts[pkg.manifest.outputs[0]];
    expect(new Set(out)).toEqual(new Set([Math.floor(0.3 * 65536 + 0.5)]));
  });

  it("large bilinear ×2 upsamples convert, every node within the step budget (MATMULs split)", () => {
    const within = (pkg: ModelPackage, budget: number, shape: number[]) => {
      const m = pkg.manifest;
      expect(m.nodes.filter((n) => n.op === Op.MATMUL).length).toBeGreaterThan(2);
      for (const n of m.nodes) expect(stepBound(n.op, n.params)).toBeLessThanOrEqual(budget);
      expect(m.activations[m.outputs[0]].shape).toEqual(shape);
    };
    const x2 = (x: number[]) => resize([as("mode", "linear")], x, { scales: [1, 1, 2, 2] });
    within(convert(x2([1, 16, 128, 128])), DEFAULT_STEP_BUDGET, [1, 16, 256, 256]);
    // 1×64×256×256 is 4.2M words: writing it at all (the final join COPY, ≥ 18 steps a word) is over
    // the default budget 2^26, for any op; at 2^27 it converts.
    expect(() => convert(x2([1, 64, 128, 128]))).toThrow(
      /COPY kernel needs up to \d+ VM steps.*--step-budget/,
    );
    within(convert(x2([1, 64, 128, 128]), 2 ** 27), 2 ** 27, [1, 64, 256, 256]);
  });
});

describe("Pad reflect / edge / wrap", () => {
  it.each(["reflect", "edge", "wrap"])("mode %s", async (mode) => {
    const pkg = await check({
      opset: 19,
      op: "Pad",
      extra: ["pads"],
      attrs: [as("mode", mode)],
      x: [1, 2, 4, 5],
      ints: { pads: [[8], [0, 1, 3, 2, 0, 0, 2, 4]] },
    });
    expect(ops(pkg).every((o) => o === Op.COPY)).toBe(true);
  });
  it("with axes (opset 18)", async () => {
    await check({
      opset: 18,
      op: "Pad",
      extra: ["pads", "", "axes"],
      attrs: [as("mode", "reflect")],
      x: [2, 3, 4],
      ints: { pads: [[2], [2, 3]], axes: [[1], [-1]] },
    });
  });
});

const convT = (attrs: Attr[], x: number[], w: number[], group = 1, bias = false): Case => ({
  opset: 13,
  op: "ConvTranspose",
  extra: bias ? ["w", "b"] : ["w"],
  attrs: group > 1 ? [...attrs, ai("group", group)] : attrs,
  x,
  floats: {
    w: [w, inputOf(w).map((v) => v * 0.5)],
    ...(bias ? { b: [[w[1] * group], inputOf([w[1] * group])] } : {}),
  },
});

describe("ConvTranspose", () => {
  it("2-D with strides, pads, dilations, output_padding, group and bias", async () => {
    await check(
      convT(
        [
          ais("strides", [2, 3]),
          ais("pads", [1, 0, 0, 2]),
          ais("dilations", [2, 1]),
          ais("output_padding", [1, 2]),
        ],
        [1, 4, 3, 4],
        [4, 2, 3, 3],
        2,
        true,
      ),
    );
  });
  it("output_shape and auto_pad", async () => {
    await check(convT([ais("strides", [3, 2]), ais("output_shape", [10, 8])], [1, 1, 3, 3], [1, 2, 3, 3]));
    await check(convT([ais("strides", [2, 2]), as("auto_pad", "SAME_UPPER")], [1, 1, 3, 3], [1, 2, 3, 3]));
    await check(convT([ais("strides", [2, 2]), as("auto_pad", "SAME_LOWER")], [1, 1, 3, 3], [1, 2, 2, 3]));
  });
  it("1-D and 3-D", async () => {
    await check(convT([ais("strides", [2]), ais("pads", [1, 2])], [2, 3, 5], [3, 2, 4]));
    await check(
      convT([ais("strides", [2, 1, 2]), ais("pads", [1, 0, 0, 0, 1, 1])], [1, 2, 3, 3, 4], [2, 3, 2, 3, 3]),
    );
  });
});

describe("3-D Conv and pools", () => {
  it("Conv on rank 5: one depth im2col COPY, one CONV, one COPY back", async () => {
    const pkg = await check({
      opset: 13,
      op: "Conv",
      extra: ["w", "b"],
      attrs: [
        ais("strides", [2, 1, 2]),
        ais("pads", [1, 1, 0, 0, 1, 1]),
        ais("dilations", [1, 2, 1]),
        ai("group", 2),
      ],
      x: [2, 4, 5, 6, 5],
      floats: {
        w: [[4, 2, 3, 2, 3], inputOf([4, 2, 3, 2, 3]).map((v) => v * 0.3)],
        b: [[4], [0.5, -1, 0.25, 2]],
      },
    });
    expect(ops(pkg)).toEqual([Op.COPY, Op.CONV, Op.COPY]);
  });
  it.each([
    ["MaxPool", 0, 0],
    ["MaxPool", 0, 1],
    ["AveragePool", 0, 0],
    ["AveragePool", 1, 0],
    ["AveragePool", 0, 1],
  ])("%s, count_include_pad %i, ceil_mode %i", async (op, cip, ceil) => {
    const attrs = [
      ais("kernel_shape", [3, 2, 3]),
      ais("strides", [2, 1, 2]),
      ais("pads", [1, 0, 1, 1, 1, 0]),
      ai("ceil_mode", ceil as number),
    ];
    if (op === "AveragePool") attrs.push(ai("count_include_pad", cip as number));
    const pkg = await check({ opset: 13, op: op as string, attrs, x: [1, 2, 6, 5, 7] });
    expect(ops(pkg)).toEqual([Op.POOL, Op.POOL]);
  });
  it("global pools on rank 5", async () => {
    await check({ opset: 13, op: "GlobalAveragePool", x: [1, 3, 2, 3, 4] });
    await check({ opset: 13, op: "GlobalMaxPool", x: [1, 3, 2, 3, 4] });
  });
});

describe("MaxPool Indices", () => {
  it.each([0, 1])("storage_order %i, pads and strides", async (order) => {
    const pkg = await check({
      opset: 12,
      op: "MaxPool",
      attrs: [
        ais("kernel_shape", [3, 2]),
        ais("strides", [2, 1]),
        ais("pads", [1, 0, 1, 1]),
        ai("storage_order", order),
      ],
      x: [2, 3, 5, 6],
      outs: [
        ["y", T.FLOAT],
        ["i", T.INT64],
      ],
    });
    expect(ops(pkg)).toEqual([Op.POOL, Op.COPY, Op.ARGMAX, Op.GATHER, Op.BINARY]);
  });
});

describe("refusals name the node, the attribute and the value", () => {
  const refuse = (c: Case, re: RegExp) => expect(() => convert(c)).toThrow(re);
  it("Resize", () => {
    refuse(
      resize([ai("antialias", 1)], [1, 1, 4, 4], { scales: [1, 1, 2, 2] }, 18),
      /node 'n0' \(Resize.*antialias=1 is not supported/,
    );
    refuse(
      resize([as("mode", "area")], [1, 1, 4, 4], { scales: [1, 1, 2, 2] }),
      /node 'n0'.*attribute mode='area' is not supported/,
    );
    refuse(
      resize([as("coordinate_transformation_mode", "corners")], [1, 1, 4, 4], { scales: [1, 1, 2, 2] }),
      /node 'n0'.*coordinate_transformation_mode='corners' is not supported/,
    );
    refuse(
      resize([as("nearest_mode", "round")], [1, 1, 4, 4], { scales: [1, 1, 2, 2] }),
      /nearest_mode='round' is not supported/,
    );
    refuse(
      resize([as("keep_aspect_ratio_policy", "fit")], [1, 1, 4, 4], { sizes: [1, 1, 8, 8] }, 18),
      /keep_aspect_ratio_policy='fit' is not supported/,
    );
  });
  it("Pad", () => {
    const pad = (mode: string, pads: number[]): Case => ({
      opset: 13,
      op: "Pad",
      extra: ["pads"],
      attrs: [as("mode", mode)],
      x: [1, 3],
      ints: { pads: [[4], pads] },
    });
    refuse(pad("mirror", [0, 1, 0, 1]), /node 'n0' \(Pad.*mode='mirror' is not supported/);
    refuse(pad("reflect", [0, 3, 0, 0]), /node 'n0'.*reflect.*axis 1 has 3, pads 3, 0/);
  });
  it("ConvTranspose", () => {
    refuse(
      convT([as("auto_pad", "FULL")], [1, 1, 3, 3], [1, 1, 2, 2]),
      /node 'n0'.*auto_pad='FULL' is not supported/,
    );
  });
});
