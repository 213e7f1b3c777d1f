// Normalizations, activations and selection ops composed from existing kernels (lower/norm.ts,
// nonlinear.ts, misc.ts). Each small model is converted, run natively and compared with onnxruntime
// (the float reference); every kernel node it became is then run in the VM and must give the native
// engine's words exactly. Unsupported modes must fail with one line naming node, attribute and value.
import { createRequire } from "node:module";
import onnxProto from "onnx-proto";
import { describe, expect, it } from "vitest";
import { defaultBackend } from "../../../dnn/src/engine.js";
import { dequantize, intArray, quantizeArray } from "../../../dnn/src/fixed.js";
import { Op } from "../../../dnn/src/opcodes.js";
import { nodeInputs, runNodeInVm } from "../../../game/link.js";
import { convertGraph } from "../../../tools/convert/convert.js";
import { parseOnnx } from "../../../tools/convert/onnx.js";

const { onnx } = onnxProto as unknown as { onnx: typeof import("onnx-proto").onnx };
const ort = createRequire(import.meta.url)("onnxruntime-node") as typeof import("onnxruntime-node");
const F32 = onnx.TensorProto.DataType.FLOAT;
const I64 = onnx.TensorProto.DataType.INT64;

type Attr = number | number[] | string;
interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, Attr>;
}
interface Tensor {
  dims: number[];
  int?: boolean;
  data: number[];
}
interface ModelSpec {
  opset?: number;
  nodes: NodeSpec[];
  /** Runtime inputs with their values (the feeds). */
  inputs: Record<string, Tensor>;
  outputs: [string, number[], boolean?][];
  inits?: Record<string, Tensor>;
}

function attrProto(name: string, v: Attr) {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === "string") return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  return Number.isInteger(v) && !name.match(/alpha|beta|bias|lambd|epsilon|gamma/)
    ? { name, type: T.INT, i: v }
    : { name, type: T.FLOAT, f: v };
}

function build(m: ModelSpec): Uint8Array {
  const vi = (name: string, dims: number[], int?: boolean) => ({
    name,
    type: { tensorType: { elemType: int ? I64 : F32, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  const graph = {
    name: "g",
    node: m.nodes.map((n, i) => ({
      name: `n${i}`,
      opType: n.op,
      input: n.inputs,
      output: n.outputs,
      attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attrProto(k, v)),
    })),
    initializer: Object.entries(m.inits ?? {}).map(([name, t]) =>
      t.int
        ? { name, dims: t.dims, dataType: I64, int64Data: t.data }
        : { name, dims: t.dims, dataType: F32, floatData: t.data },
    ),
    input: Object.entries(m.inputs).map(([n, t]) => vi(n, t.dims, t.int)),
    output: m.outputs.map(([n, d, int]) => vi(n, d, int)),
  };
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: "", version: m.opset ?? 13 }],
    graph,
  }).finish();
}

async function reference(bytes: Uint8Array, m: ModelSpec): Promise<Float64Array[]> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ["cpu"] });
  const feeds: Record<string, import("onnxruntime-node").Tensor> = {};
  for (const [name, t] of Object.entries(m.inputs))
    feeds[name] = t.int
      ? new ort.Tensor("int64", BigInt64Array.from(t.data.map(BigInt)), t.dims)
      : new ort.Tensor("float32", Float32Array.from(t.data), t.dims);
  const r = await s.run(feeds);
  return s.outputNames.map((n) => Float64Array.from(r[n].data as ArrayLike<number>, Number));
}

/** Converts, runs natively, compares with onnxruntime within `tol`, replays each node in the VM. */
async function check(m: ModelSpec, tol = 1e-3) {
  const bytes = build(m);
  const pkg = convertGraph(parseOnnx(bytes, "t.onnx"), "t.onnx");
  const man = pkg.manifest;
  const ins = man.inputs.map((slot) => {
    const info = man.activations[slot];
    const t = m.inputs[info.name];
    return info.dtype === "q16" ? quantizeArray(t.data, info.name) : intArray(t.data, info.name);
  });
  const acts = defaultBackend().prepare(pkg).run(ins, { keepAll: true });
  const ref = await reference(bytes, m);
  const got = man.outputs.map((s) =>
    man.activations[s].dtype === "q16" ? Array.from(dequantize(acts[s])) : Array.from(acts[s]),
  );
  got.forEach((g, k) => {
    expect(g.length, `output ${k}`).toBe(ref[k].length);
    g.forEach((v, i) => {
      const e = ref[k][i];
      expect(Math.abs(v - e), `output ${k}[${i}]: got ${v}, onnxruntime ${e}`).toBeLessThanOrEqual(
        tol + tol * Math.abs(e),
      );
    });
  });
  man.nodes.forEach((n, k) => {
    const run = runNodeInVm(pkg, k, nodeInputs(pkg, k, acts));
    n.outputs.forEach((s, i) => {
      expect(Array.from(run.outputs[i]), `node ${k} ${n.name}`).toEqual(Array.from(acts[s]));
    });
  });
  return { pkg, got };
}

const convertOnly = (m: ModelSpec) => () => convertGraph(parseOnnx(build(m), "t.onnx"), "t.onnx");

/** Deterministic pseudo-random values in [-r, r), rounded to 1/64 (so Q16 holds them exactly). */
function vals(n: number, r = 3, seed = 1): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return Math.round(((s / 2 ** 31) * 2 - 1) * r * 64) / 64;
  });
}
const f = (dims: number[], data = vals(dims.reduce((a, b) => a * b, 1))): Tensor => ({ dims, data });
const i64 = (dims: number[], data: number[]): Tensor => ({ dims, int: true, data });
const one = (op: string, inputs: string[], attrs?: Record<string, Attr>, outputs = ["y"]): NodeSpec => ({
  op,
  inputs,
  outputs,
  attrs,
});

describe("normalizations", () => {
  it("InstanceNormalization: LAYERNORM per (n, c) row + CHANNEL_AFFINE", async () => {
    const { pkg } = await check({
      nodes: [one("InstanceNormalization", ["x", "s", "b"], { epsilon: 1e-3 })],
      inputs: { x: f([2, 3, 4, 5]) },
      inits: { s: f([3], [0.5, -1.25, 2]), b: f([3], [0.1, 0, -0.3]) },
      outputs: [["y", [2, 3, 4, 5]]],
    });
    expect(pkg.manifest.nodes.map((n) => n.op)).toEqual([Op.LAYERNORM, Op.CHANNEL_AFFINE]);
  });
  it.each([18, 21])(
    "GroupNormalization opset %i (scale per group at 18, per channel at 21)",
    async (opset) => {
      const C = 6;
      const G = 3;
      const k = opset === 18 ? G : C;
      await check({
        opset,
        nodes: [one("GroupNormalization", ["x", "s", "b"], { num_groups: G, epsilon: 1e-5 })],
        inputs: { x: f([2, C, 2, 3]) },
        inits: { s: f([k], vals(k, 2, 7)), b: f([k], vals(k, 1, 9)) },
        outputs: [["y", [2, C, 2, 3]]],
      });
    },
  );
  it("torch's GroupNorm export (opset < 18): Reshape [N, G, -1], InstanceNormalization, Reshape, Mul, Add", async () => {
    await check({
      nodes: [
        one("Reshape", ["x", "g"], {}, ["xg"]),
        one("InstanceNormalization", ["xg", "ones", "zeros"], { epsilon: 1e-5 }, ["ng"]),
        one("Reshape", ["ng", "shape"], {}, ["n"]),
        one("Mul", ["n", "w"], {}, ["nw"]),
        one("Add", ["nw", "b"], {}, ["y"]),
      ],
      inputs: { x: f([2, 4, 3, 3]) },
      inits: {
        g: i64([3], [2, 2, -1]),
        shape: i64([4], [2, 4, 3, 3]),
        ones: f([2], [1, 1]),
        zeros: f([2], [0, 0]),
        w: f([4, 1, 1], [0.5, 1, -2, 1.5]),
        b: f([4, 1, 1], [0, 0.25, -0.5, 1]),
      },
      outputs: [["y", [2, 4, 3, 3]]],
    });
  });
  it.each([[undefined], [[2, 3]], [[1]]])("MeanVarianceNormalization axes %j", async (axes) => {
    await check({
      nodes: [one("MeanVarianceNormalization", ["x"], axes ? { axes } : undefined)],
      inputs: { x: f([2, 3, 2, 4]) },
      outputs: [["y", [2, 3, 2, 4]]],
    });
  });
  it.each([
    [3, 1e-4, 0.75, 1],
    [5, 0.02, 0.5, 2],
    [1, 2, 1.5, 1],
  ])("LRN size %i alpha %f beta %f bias %f", async (size, alpha, beta, bias) => {
    await check({
      nodes: [one("LRN", ["x"], { size, alpha, beta, bias })],
      inputs: { x: f([1, 6, 2, 3]) },
      outputs: [["y", [1, 6, 2, 3]]],
    });
  });
});

describe("activations", () => {
  const act = (op: string, attrs?: Record<string, Attr>, opset = 18) => ({
    opset,
    nodes: [one(op, ["x"], attrs)],
    inputs: { x: f([2, 40], [...vals(76, 4), 0.5, -0.5, 1, -1]) },
    outputs: [["y", [2, 40]]] as [string, number[]][],
  });
  it.each([
    ["Mish", undefined],
    ["Celu", undefined],
    ["Celu", { alpha: 2 }],
    ["ThresholdedRelu", { alpha: 0.5 }],
    ["Shrink", { lambd: 0.5, bias: 0.5 }],
    ["Shrink", { lambd: 1, bias: 0.25 }],
    ["HardSigmoid", { alpha: 0.25, beta: 0.4 }],
    ["HardSigmoid", { alpha: 1 / 6, beta: 0.5 }], // torch's nn.Hardsigmoid export
    ["HardSwish", undefined],
    ["Sinh", undefined],
    ["Cosh", undefined],
    ["Asinh", undefined],
  ] as const)("%s %j matches onnxruntime", async (op, attrs) => {
    await check(act(op, attrs as Record<string, Attr> | undefined));
  });
  it.each(["Sin", "Cos", "Tan", "Atan"])(
    "%s on [−20, 20] (composed: 2π or 1/x reductions + Taylor)",
    async (op) => {
      // ±π/2 (where tan has its poles) only for the others.
      const poles = op === "Tan" ? [1.5, -1.5] : [Math.PI / 2, -Math.PI / 2];
      const x = [...vals(60, 20, 11), 0, ...poles, Math.PI, 1, -1, 0.25, 7.5].map(
        (v) => Math.round(v * 4096) / 4096,
      );
      const { pkg } = await check(
        { ...act(op), inputs: { x: f([2, 34], x) }, outputs: [["y", [2, 34]]] },
        2e-3,
      );
      expect(pkg.manifest.nodes.length).toBe({ Sin: 23, Cos: 22, Tan: 42, Atan: 28 }[op]);
    },
  );
  it.each(["Asin", "Acos"])("%s on [−1, 1], ends included", async (op) => {
    const x = [...vals(26, 1, 13), -1, 1, 0, 0.5, -0.999, 0.999];
    const { pkg } = await check({ ...act(op), inputs: { x: f([2, 16], x) }, outputs: [["y", [2, 16]]] });
    expect(pkg.manifest.nodes.length).toBe(op === "Asin" ? 34 : 35);
  });
  it("Acosh on [1, 9] and Atanh on (−1, 1), 1 included for acosh", async () => {
    const x = [1, 1.0001, 1.5, 2, 3.25, 9, ...vals(10, 4, 3).map((v) => 5 + v)];
    await check({ ...act("Acosh"), inputs: { x: f([2, 8], x) }, outputs: [["y", [2, 8]]] });
    const t = [0, 0.5, -0.5, 0.9, -0.9, 0.25, ...vals(10, 0.8, 5)];
    await check({ ...act("Atanh"), inputs: { x: f([2, 8], t) }, outputs: [["y", [2, 8]]] });
  });
  it("Shrink with bias = lambd is one CLIP and one SUB; a boundary value gives 0 (strict >)", async () => {
    const { pkg, got } = await check(act("Shrink", { lambd: 0.5, bias: 0.5 }));
    expect(pkg.manifest.nodes.map((n) => n.op)).toEqual([Op.UNARY, Op.BINARY]);
    expect(got[0].slice(76)).toEqual([0, 0, 0.5, -0.5]);
  });
  it("PRelu with torch's per-channel slope [C, 1, 1]", async () => {
    await check({
      nodes: [one("PRelu", ["x", "slope"])],
      inputs: { x: f([2, 3, 2, 2]) },
      inits: { slope: f([3, 1, 1], [0.25, -0.5, 1.5]) },
      outputs: [["y", [2, 3, 2, 2]]],
    });
  });
});

describe("selection and index ops", () => {
  it.each([
    [0, 0, 1],
    [1, 0, 1],
    [0, 1, 0],
    [1, 1, -1],
  ])("CumSum exclusive=%i reverse=%i axis=%i (float)", async (exclusive, reverse, axis) => {
    await check({
      nodes: [one("CumSum", ["x", "ax"], { exclusive, reverse })],
      inputs: { x: f([3, 7]) },
      inits: { ax: i64([], [axis]) },
      outputs: [["y", [3, 7]]],
    });
  });
  it("CumSum on int64 activations is exact", async () => {
    await check({
      nodes: [one("CumSum", ["x", "ax"], { reverse: 1 })],
      inputs: { x: i64([9], [5, -3, 100, 7, 0, -50, 2, 2, 1]) },
      inits: { ax: i64([1], [0]) },
      outputs: [["y", [9], true]],
    });
  });
  it.each([
    [1, -1],
    [0, -1],
    [1, 0],
  ])("TopK largest=%i axis=%i: values and indices, ties lower index first", async (largest, axis) => {
    const data = [3, 1, 2, 2, 5, -1, 2, 0, 1, 1, 1, 4, 0.5, 0.5, -2, 7, 7, 3, 2, 2];
    const { got } = await check({
      opset: 11,
      nodes: [one("TopK", ["x", "k"], { largest, axis }, ["v", "i"])],
      inputs: { x: f([4, 5], data) },
      inits: { k: i64([1], [3]) },
      outputs: [
        ["v", axis === 0 ? [3, 5] : [4, 3]],
        ["i", axis === 0 ? [3, 5] : [4, 3], true],
      ],
    });
    if (largest && axis === -1) {
      expect(got[0].slice(0, 6)).toEqual([5, 3, 2, 2, 1, 1]);
      expect(got[1].slice(0, 6)).toEqual([4, 0, 2, 1, 3, 4]); // row 1 [-1, 2, 0, 1, 1]: the tied 1s in index order
    }
  });
  it.each([
    [13, -1],
    [13, 0],
    [11, 1],
  ])("Hardmax opset %i axis %i (first maximum wins)", async (opset, axis) => {
    await check({
      opset,
      nodes: [one("Hardmax", ["x"], { axis })],
      inputs: { x: f([2, 3, 4], [...vals(20), 1, 1, 1, 1]) },
      outputs: [["y", [2, 3, 4]]],
    });
  });
  it.each([
    [1, 0],
    [0, 0],
    [1, -1],
    [0, 2],
  ])("Trilu upper=%i k=%i", async (upper, k) => {
    await check({
      opset: 14,
      nodes: [one("Trilu", ["x", "k"], { upper })],
      inputs: { x: f([2, 3, 4]) },
      inits: { k: i64([], [k]) },
      outputs: [["y", [2, 3, 4]]],
    });
  });
  const a = [7, -7, 7, -7, 5, 0, -9, 13, 6, -6];
  const b = [3, 3, -3, -3, 5, 4, 4, -5, 4, 4];
  it.each([0, 1])("Mod on int64 tensors, fmod=%i, mixed signs", async (fmod) => {
    await check({
      nodes: [one("Mod", ["a", "b"], { fmod })],
      inputs: { a: i64([10], a), b: i64([10], b) },
      outputs: [["y", [10], true]],
    });
  });
  it("Mod on floats (fmod=1) is exact on the raw Q16 words", async () => {
    const { got } = await check({
      nodes: [one("Mod", ["a", "b"], { fmod: 1 })],
      inputs: {
        a: f([10], [...a.map((v) => v * 0.75), 5.5, -5.5].slice(0, 10)),
        b: f(
          [10],
          b.map((v) => v / 2),
        ),
      },
      outputs: [["y", [10]]],
    });
    expect(got[0][0]).toBe(0.75 * 7 - 1.5 * 3);
  });
  it("Mod by a constant divisor (int, fmod=0)", async () => {
    await check({
      nodes: [one("Mod", ["a", "b"])],
      inputs: { a: i64([10], a) },
      inits: { b: i64([1], [-4]) },
      outputs: [["y", [10], true]],
    });
  });
  it.each([
    [-1, [2, 3]],
    [0, [2, 3]],
    [1, [2, 3]],
  ])("OneHot axis %i on activation indices (negative and out-of-range too)", async (axis, dims) => {
    const depth = 4;
    const outDims = [...dims];
    outDims.splice(axis < 0 ? dims.length + 1 + axis : axis, 0, depth);
    await check({
      nodes: [one("OneHot", ["i", "d", "v"], { axis })],
      inputs: { i: i64(dims, [0, 3, -1, -4, 5, 2]) },
      inits: { d: i64([], [depth]), v: f([2], [-0.5, 2]) },
      outputs: [["y", outDims]],
    });
  });
  it("OneHot with float indices (a non-integer matches nothing) and TopK smallest on int64", async () => {
    await check({
      nodes: [one("OneHot", ["i", "d", "v"], { axis: 1 })],
      inputs: { i: f([2, 3], [1.75, -1.5, 0, 2.25, -1, 2]) },
      inits: { d: f([1], [3]), v: f([2], [0, 7]) },
      outputs: [["y", [2, 3, 3]]],
    });
    await check({
      opset: 11,
      nodes: [one("TopK", ["x", "k"], { largest: 0 }, ["v", "i"])],
      inputs: { x: i64([2, 5], [4, -2, 9, -2, 0, 1, 1, 1, 1, 1]) },
      inits: { k: i64([1], [4]) },
      outputs: [
        ["v", [2, 4], true],
        ["i", [2, 4], true],
      ],
    });
  });
  it("IsInf of an activation is EQ with the saturated words; IsNaN is a constant false", async () => {
    const bytes = build({
      nodes: [one("IsInf", ["x"], {}, ["inf"]), one("IsNaN", ["x"], {}, ["nan"])],
      inputs: { x: f([4]) },
      outputs: [
        ["inf", [4]],
        ["nan", [4]],
      ],
    });
    const pkg = convertGraph(parseOnnx(bytes, "t.onnx"), "t.onnx");
    const m = pkg.manifest;
    const q = quantizeArray([1, 32768, -32768, -1], "x", true);
    const acts = defaultBackend().prepare(pkg).run([q], { keepAll: true });
    expect(Array.from(acts[m.outputs[0]])).toEqual([0, 1, 1, 0]);
    expect(Array.from(acts[m.outputs[1]])).toEqual([0, 0, 0, 0]);
    m.nodes.forEach((n, k) => {
      const run = runNodeInVm(pkg, k, nodeInputs(pkg, k, acts));
      expect(Array.from(run.outputs[0]), n.name).toEqual(Array.from(acts[n.outputs[0]]));
    });
  });
  it("CastLike follows the like input's number kind; EyeLike folds", async () => {
    await check({
      opset: 15,
      nodes: [one("CastLike", ["x", "like"], {}, ["c"]), one("EyeLike", ["x"], { k: 1 }, ["e"])],
      inputs: { x: f([3, 4]) },
      inits: { like: i64([1], [0]) },
      outputs: [
        ["c", [3, 4], true],
        ["e", [3, 4]],
      ],
    });
  });
});

describe("step budget", () => {
  it("TopK, CumSum, LRN and Sin split under a small budget into the same words (REDUCE splits by rows)", () => {
    const m: ModelSpec = {
      opset: 11,
      nodes: [
        one("TopK", ["x", "k"], {}, ["v", "i"]),
        one("CumSum", ["x", "ax"], {}, ["c"]),
        one("LRN", ["x4"], { size: 3 }, ["l"]),
        one("Sin", ["x"], {}, ["s"]),
      ],
      inputs: { x: f([6, 24]), x4: f([1, 8, 4, 4]) },
      inits: { k: i64([1], [5]), ax: i64([], [1]) },
      outputs: [
        ["v", [6, 5]],
        ["i", [6, 5], true],
        ["c", [6, 24]],
        ["l", [1, 8, 4, 4]],
        ["s", [6, 24]],
      ],
    };
    const g = parseOnnx(build(m), "t.onnx");
    const whole = convertGraph(g, "t.onnx");
    const split = convertGraph(g, "t.onnx", { stepBudget: 2 ** 17 });
    expect(split.manifest.nodes.length).toBeGreaterThan(whole.manifest.nodes.length);
    const feeds = [quantizeArray(m.inputs.x.data, "x"), quantizeArray(m.inputs.x4.data, "x4")];
    const a = defaultBackend().prepare(whole).run(feeds);
    const b = defaultBackend().prepare(split).run(feeds);
    whole.manifest.outputs.forEach((slot, k) => {
      expect(Array.from(b[split.manifest.outputs[k]]), `output ${k}`).toEqual(Array.from(a[slot]));
    });
    // REDUCE (TopK's ranks and picks) is among the split kernels; each part stays in budget in the VM.
    expect(split.manifest.nodes.filter((n) => n.op === Op.REDUCE).length).toBeGreaterThan(
      whole.manifest.nodes.filter((n) => n.op === Op.REDUCE).length,
    );
    const acts = defaultBackend().prepare(split).run(feeds, { keepAll: true });
    split.manifest.nodes.forEach((n, k) => {
      const run = runNodeInVm(split, k, nodeInputs(split, k, acts));
      expect(run.steps, n.name).toBeLessThanOrEqual(2 ** 17);
      expect(Array.from(run.outputs[0]), n.name).toEqual(Array.from(acts[n.outputs[0]]));
    });
  });
});

describe("refusals name the node, the attribute and the value", () => {
  it("Mod fmod=0 on floats", () => {
    expect(
      convertOnly({
        nodes: [one("Mod", ["a", "b"], { fmod: 0 })],
        inputs: { a: f([2]), b: f([2]) },
        outputs: [["y", [2]]],
      }),
    ).toThrow(/node 'n0' \(Mod.*fmod = 0 on float tensors/);
  });
  it("TopK K larger than the axis", () => {
    expect(
      convertOnly({
        opset: 11,
        nodes: [one("TopK", ["x", "k"], {}, ["v", "i"])],
        inputs: { x: f([2, 3]) },
        inits: { k: i64([1], [4]) },
        outputs: [
          ["v", [2, 4]],
          ["i", [2, 4], true],
        ],
      }),
    ).toThrow(/node 'n0' \(TopK.*K = 4 must be in 1\.\.3/);
  });
  it("TopK K from an activation", () => {
    expect(
      convertOnly({
        opset: 11,
        nodes: [one("TopK", ["x", "k"], {}, ["v", "i"])],
        inputs: { x: f([2, 3]), k: i64([1], [1]) },
        outputs: [
          ["v", [2, 1]],
          ["i", [2, 1], true],
        ],
      }),
    ).toThrow(/node 'n0' \(TopK.*K must be a constant/);
  });
  it("GroupNormalization num_groups that does not divide C", () => {
    expect(
      convertOnly({
        opset: 21,
        nodes: [one("GroupNormalization", ["x", "s", "b"], { num_groups: 4 })],
        inputs: { x: f([1, 6, 2]) },
        inits: { s: f([6]), b: f([6]) },
        outputs: [["y", [1, 6, 2]]],
      }),
    ).toThrow(/node 'n0' \(GroupNormalization.*num_groups = 4 must divide the 6 channels/);
  });
  it("Celu alpha 0, Mod fmod 2, OneHot values of the wrong length", () => {
    const x = { x: f([2]) };
    expect(
      convertOnly({ nodes: [one("Celu", ["x"], { alpha: 0 })], inputs: x, outputs: [["y", [2]]] }),
    ).toThrow(/node 'n0' \(Celu.*attribute alpha = 0 must be > 0/);
    expect(
      convertOnly({
        nodes: [one("Mod", ["a", "b"], { fmod: 2 })],
        inputs: { a: i64([2], [1, 2]), b: i64([2], [1, 2]) },
        outputs: [["y", [2], true]],
      }),
    ).toThrow(/node 'n0' \(Mod.*attribute fmod = 2 must be 0 or 1/);
    expect(
      convertOnly({
        nodes: [one("OneHot", ["i", "d", "v"])],
        inputs: { i: i64([2], [0, 1]) },
        inits: { d: i64([], [3]), v: f([3], [0, 1, 2]) },
        outputs: [["y", [2, 3]]],
      }),
    ).toThrow(/node 'n0' \(OneHot.*values must hold \[off, on\], got 3 elements/);
  });
  it("LRN without size, CumSum with a runtime axis", () => {
    expect(
      convertOnly({ nodes: [one("LRN", ["x"])], inputs: { x: f([1, 2, 2]) }, outputs: [["y", [1, 2, 2]]] }),
    ).toThrow(/node 'n0' \(LRN.*attribute size = 0 must be ≥ 1/);
    expect(
      convertOnly({
        nodes: [one("CumSum", ["x", "ax"])],
        inputs: { x: f([3]), ax: i64([], [0]) },
        outputs: [["y", [3]]],
      }),
    ).toThrow(/node 'n0' \(CumSum.*axis must be a constant/);
  });
});
