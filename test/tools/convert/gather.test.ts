// Indexing ops, scatters, losses and BatchNormalization's training mode (lower/index-ops.ts), DFT and
// STFT (lower/spectral.ts), and the day's conformance fixes (Pow, Dropout, empty Slice): small
// ONNX graphs are converted and run natively; expected values come from onnxruntime-node (float),
// every kernel node is re-run in the VM and must give byte-identical outputs, and the refusals name
// the node, the attribute or input, and the value.
import { createRequire } from "node:module";
import onnxProto from "onnx-proto";
import { describe, expect, it } from "vitest";
import { stepBound } from "../../../dnn/src/cost.js";
import { defaultBackend } from "../../../dnn/src/engine.js";
import { dequantize, intArray, quantizeArray } from "../../../dnn/src/fixed.js";
import { Op } from "../../../dnn/src/opcodes.js";
import type { ModelPackage } from "../../../dnn/src/package.js";
import { nodeInputs, runNodeInVm } from "../../../game/link.js";
import { validateGraph } from "../../../game/registry.js";
import { convertGraph } from "../../../tools/convert/convert.js";
import { parseOnnx } from "../../../tools/convert/onnx.js";

const { onnx } = onnxProto as unknown as { onnx: typeof import("onnx-proto").onnx };
const ort = createRequire(import.meta.url)("onnxruntime-node") as typeof import("onnxruntime-node");
const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

type Elem = "f" | "i" | "b"; // float32, int64 or bool
interface Tensor {
  type: Elem;
  dims: number[];
  data: number[];
}
interface Graph {
  nodes: import("onnx-proto").onnx.INodeProto[];
  inputs: Record<string, Tensor>; // runtime graph inputs, with the values fed in the tests
  inits?: Record<string, Tensor>;
  outputs: string[];
  /** Element types of outputs that are not float32. */
  outTypes?: Record<string, Elem>;
  opset?: number;
}

const elemType = (t: Elem) => (t === "f" ? T.FLOAT : t === "i" ? T.INT64 : T.BOOL);

function encode(g: Graph): Uint8Array {
  const vi = (name: string, t?: Pick<Tensor, "type"> & Partial<Tensor>) => ({
    name,
    type: {
      tensorType: {
        elemType: elemType(t?.type ?? "f"),
        ...(t?.dims ? { shape: { dim: t.dims.map((d) => ({ dimValue: d })) } } : {}),
      },
    },
  });
  const graph = {
    name: "g",
    node: g.nodes,
    initializer: Object.entries(g.inits ?? {}).map(([name, t]) => ({
      name,
      dims: t.dims,
      dataType: elemType(t.type),
      ...(t.type === "f"
        ? { floatData: t.data }
        : t.type === "i"
          ? { int64Data: t.data }
          : { int32Data: t.data }),
    })),
    input: Object.entries(g.inputs).map(([n, t]) => vi(n, t)),
    output: g.outputs.map((n) => vi(n, { type: g.outTypes?.[n] ?? "f" })),
  };
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: "", version: g.opset ?? 18 }],
    graph,
  }).finish();
}

const node = (
  op: string,
  inputs: string[],
  outputs: string[],
  attrs: Record<string, number | string | number[]> = {},
  name = `${op}_0`,
) => ({
  opType: op,
  name,
  input: inputs,
  output: outputs,
  attribute: Object.entries(attrs).map(([k, v]) =>
    typeof v === "string"
      ? { name: k, type: A.STRING, s: new TextEncoder().encode(v) }
      : Array.isArray(v)
        ? { name: k, type: A.INTS, ints: v }
        : Number.isInteger(v)
          ? { name: k, type: A.INT, i: v }
          : { name: k, type: A.FLOAT, f: v },
  ),
});

async function reference(bytes: Uint8Array, g: Graph): Promise<number[][]> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ["cpu"] });
  const feeds: Record<string, import("onnxruntime-node").Tensor> = {};
  for (const [n, t] of Object.entries(g.inputs))
    feeds[n] =
      t.type === "f"
        ? new ort.Tensor("float32", Float32Array.from(t.data), t.dims)
        : new ort.Tensor("int64", BigInt64Array.from(t.data.map(BigInt)), t.dims);
  const res = await s.run(feeds);
  return g.outputs.map((o) => Array.from(res[o].data as ArrayLike<number | bigint>, Number));
}

/** Converts, runs natively, checks every kernel node in the VM; returns outputs and the package. */
function ours(bytes: Uint8Array, g: Graph, stepBudget?: number) {
  const pkg = convertGraph(parseOnnx(bytes, "t.onnx"), "t.onnx", { stepBudget });
  const m = pkg.manifest;
  validateGraph(m); // what the registry checks of a graph
  const inputs = m.inputs.map((slot) => {
    const info = m.activations[slot];
    const t = g.inputs[info.name];
    return info.dtype === "q16" ? quantizeArray(t.data, info.name) : intArray(t.data, info.name);
  });
  const acts = defaultBackend().prepare(pkg).run(inputs, { keepAll: true });
  vmParity(pkg, acts);
  const outs = m.outputs.map((s) =>
    m.activations[s].dtype === "q16" ? Array.from(dequantize(acts[s])) : Array.from(acts[s]),
  );
  return { pkg, outs };
}

function vmParity(pkg: ModelPackage, acts: Int32Array[]) {
  pkg.manifest.nodes.forEach((n, k) => {
    const run = runNodeInVm(pkg, k, nodeInputs(pkg, k, acts));
    expect(run.steps, `node ${k} ${n.name}`).toBeLessThanOrEqual(stepBound(n.op, n.params));
    n.outputs.forEach((s, i) => {
      expect(Buffer.from(run.outputs[i].buffer), `node ${k} ${n.name}`).toEqual(Buffer.from(acts[s].buffer));
    });
  });
}

/** Runs both; each output within tol of onnxruntime (0: exactly equal). */
async function check(g: Graph, tol = 0, stepBudget?: number) {
  const bytes = encode(g);
  const ref = await reference(bytes, g);
  const { pkg, outs } = ours(bytes, g, stepBudget);
  outs.forEach((o, k) => {
    expect(o.length, `output ${k}`).toBe(ref[k].length);
    o.forEach((v, i) => {
      const e = ref[k][i];
      expect(Math.abs(v - e), `output ${g.outputs[k]}[${i}]: ${v} vs ${e}`).toBeLessThanOrEqual(
        tol * (1 + Math.abs(e)),
      );
    });
  });
  return pkg;
}

/** Values on a 1/256 grid (exact in q16), so pure data movement must match exactly. */
const grid = (n: number, seed = 1) =>
  Array.from({ length: n }, (_, i) => (((i * 37 + seed * 11) % 97) - 48) / 256);
const f = (dims: number[], data = grid(dims.reduce((a, b) => a * b, 1))): Tensor => ({
  type: "f",
  dims,
  data,
});
const i64 = (dims: number[], data: number[]): Tensor => ({ type: "i", dims, data });
const ops = (pkg: ModelPackage) => new Set(pkg.manifest.nodes.map((n) => n.op));

describe("GatherElements", () => {
  it("gathers with run-time indices (negative ones count from the end) through integer index kernels", async () => {
    const pkg = await check({
      nodes: [node("GatherElements", ["x", "i"], ["y"], { axis: 1 })],
      inputs: { x: f([2, 3, 4]), i: i64([2, 2, 4], [0, 2, -1, 1, -3, 0, 2, 2, 1, 1, 0, -2, 2, 0, 1, -1]) },
      outputs: ["y"],
    });
    expect(ops(pkg)).toEqual(new Set([Op.BINARY, Op.GATHER]));
  });
  it("gathers with constant indices as one GATHER node", async () => {
    const pkg = await check({
      nodes: [node("GatherElements", ["x", "i"], ["y"], { axis: 0 })],
      inputs: { x: f([3, 3]) },
      inits: { i: i64([2, 3], [1, 2, 0, -1, 0, 1]) },
      outputs: ["y"],
    });
    expect(pkg.manifest.nodes.map((n) => n.op)).toEqual([Op.GATHER]);
  });
});

describe("GatherND", () => {
  it("picks rows with run-time index tuples, batch_dims 0", async () => {
    await check({
      nodes: [node("GatherND", ["x", "i"], ["y"])],
      inputs: { x: f([3, 4, 2]), i: i64([3, 2], [0, 1, 2, -1, -3, 3]) },
      outputs: ["y"],
    });
  });
  it("picks per batch with batch_dims 1 (run-time and constant indices agree)", async () => {
    const g: Graph = {
      nodes: [node("GatherND", ["x", "i"], ["y"], { batch_dims: 1 })],
      inputs: { x: f([2, 3, 2]), i: i64([2, 2, 1], [2, 0, -1, 1]) },
      outputs: ["y"],
    };
    await check(g);
    await check({ ...g, inputs: { x: g.inputs.x }, inits: { i: g.inputs.i } });
  });
});

describe("ScatterElements / ScatterND / Scatter with constant indices", () => {
  const idx = i64([2, 3], [1, 0, 2, 1, 2, 0]); // a permutation of each row: no duplicates
  for (const reduction of ["none", "add", "mul", "max", "min"]) {
    it(`ScatterElements reduction ${reduction}, duplicate targets`, async () => {
      const dup = i64([2, 3], [1, 1, 1, 0, 0, 0]); // every update of a row to one column
      for (const i of reduction === "none" ? [idx] : [idx, dup]) {
        await check(
          {
            nodes: [node("ScatterElements", ["x", "i", "u"], ["y"], { axis: 1, reduction })],
            inputs: { x: f([2, 3]), u: f([2, 3], grid(6, 5)) },
            inits: { i },
            outputs: ["y"],
          },
          reduction === "mul" ? 2 ** -16 : 0,
        );
      }
    });
  }
  it("a scatter over the step budget becomes GATHER nodes over index slices, each within it", async () => {
    const budget = 2 ** 15;
    const pkg = await check(
      {
        nodes: [node("ScatterElements", ["x", "i", "u"], ["y"], { axis: 1 })],
        inputs: { x: f([16, 40]), u: f([16, 2], grid(32, 9)) },
        inits: {
          i: i64(
            [16, 2],
            Array.from({ length: 32 }, (_, k) => (k * 7) % 40),
          ),
        },
        outputs: ["y"],
      },
      0,
      budget,
    );
    const gathers = pkg.manifest.nodes.filter((n) => n.op === Op.GATHER);
    expect(gathers.length).toBeGreaterThan(1);
    for (const n of pkg.manifest.nodes) expect(stepBound(n.op, n.params)).toBeLessThanOrEqual(budget);
  });
  for (const reduction of ["none", "add"]) {
    it(`run-time indices, reduction ${reduction}: one-hot WHERE + REDUCE SUM`, async () => {
      await check({
        nodes: [node("ScatterElements", ["x", "i", "u"], ["y"], { axis: 1, reduction })],
        inputs: {
          x: f([3, 4]),
          u: f([3, 2], grid(6, 4)),
          i: i64([3, 2], reduction === "add" ? [1, 1, -1, 0, 2, 2] : [3, 0, -1, 1, 0, 2]),
        },
        outputs: ["y"],
      });
      await check({
        nodes: [node("ScatterND", ["x", "i", "u"], ["y"], { reduction })],
        inputs: {
          x: f([4, 3]),
          u: f([2, 3], grid(6, 6)),
          i: i64([2, 1], reduction === "add" ? [2, 2] : [-1, 1]),
        },
        outputs: ["y"],
      });
      await check({
        nodes: [node("ScatterND", ["x", "i", "u"], ["y"], { reduction })],
        inputs: { x: f([3, 3]), u: f([2], [5, 6]), i: i64([2, 2], [0, 2, -1, 1]) },
        outputs: ["y"],
      });
    });
  }
  it("ScatterElements with negative indices on axis 0", async () => {
    await check({
      nodes: [node("ScatterElements", ["x", "i", "u"], ["y"], { axis: 0 })],
      inputs: { x: f([3, 2]), u: f([1, 2], [7, 8]) },
      inits: { i: i64([1, 2], [-1, -3]) },
      outputs: ["y"],
    });
  });
  for (const reduction of ["none", "add", "mul"]) {
    it(`ScatterND reduction ${reduction}`, async () => {
      await check(
        {
          nodes: [node("ScatterND", ["x", "i", "u"], ["y"], reduction === "none" ? {} : { reduction })],
          inputs: { x: f([4, 2, 2]), u: f([3, 2, 2], grid(12, 3)) },
          inits: { i: i64([3, 1], reduction === "none" ? [0, -1, 2] : [0, 2, 0]) },
          outputs: ["y"],
        },
        reduction === "mul" ? 2 ** -16 : 0,
      );
    });
  }
  it("deprecated Scatter (opset 10)", async () => {
    await check({
      nodes: [node("Scatter", ["x", "i", "u"], ["y"], { axis: 1 })],
      inputs: { x: f([2, 3]), u: f([2, 1], [1, 2]) },
      inits: { i: i64([2, 1], [2, 0]) },
      outputs: ["y"],
      opset: 10,
    });
  });
});

describe("Compress, ReverseSequence", () => {
  it("Compress with a constant condition, with and without axis", async () => {
    for (const attrs of [{ axis: 1 }, {}] as Record<string, number>[]) {
      await check({
        nodes: [node("Compress", ["x", "c"], ["y"], attrs)],
        inputs: { x: f([2, 3]) },
        inits: { c: { type: "b", dims: [3], data: [1, 0, 1] } },
        outputs: ["y"],
      });
    }
  });
  it("ReverseSequence with constant lengths", async () => {
    await check({
      nodes: [node("ReverseSequence", ["x", "l"], ["y"], { time_axis: 1, batch_axis: 0 })],
      inputs: { x: f([3, 4, 2]) },
      inits: { l: i64([3], [4, 1, 3]) },
      outputs: ["y"],
    });
  });
});

describe("losses", () => {
  const x = f(
    [3, 4, 2],
    grid(24, 7).map((v) => v * 8),
  );
  const target = i64([3, 2], [0, 3, -100, 2, 1, -100]);
  const weight = f([4], [0.5, 1, 2, 0.25]);
  for (const reduction of ["none", "sum", "mean"]) {
    it(`NegativeLogLikelihoodLoss ${reduction}, run-time target, weight, ignore_index`, async () => {
      await check(
        {
          nodes: [
            node("NegativeLogLikelihoodLoss", ["x", "t", "w"], ["loss"], { reduction, ignore_index: -100 }),
          ],
          inputs: { x, t: target },
          inits: { w: weight },
          outputs: ["loss"],
        },
        2e-5,
      );
    });
    it(`NegativeLogLikelihoodLoss ${reduction}, constant target, no weight`, async () => {
      await check(
        {
          nodes: [node("NegativeLogLikelihoodLoss", ["x", "t"], ["loss"], { reduction })],
          inputs: { x },
          inits: { t: i64([3, 2], [0, 3, 1, 2, 1, 0]) },
          outputs: ["loss"],
        },
        2e-5,
      );
    });
  }
  it("NegativeLogLikelihoodLoss mean with a run-time weight and a constant target", async () => {
    await check(
      {
        nodes: [node("NegativeLogLikelihoodLoss", ["x", "t", "w"], ["loss"], { ignore_index: 3 })],
        inputs: { x, w: weight },
        inits: { t: i64([3, 2], [0, 3, 1, 2, 3, 0]) },
        outputs: ["loss"],
      },
      2e-5,
    );
  });
  it("SoftmaxCrossEntropyLoss mean with weight and ignore_index, and its log_prob output", async () => {
    await check(
      {
        nodes: [
          node("SoftmaxCrossEntropyLoss", ["x", "t", "w"], ["loss", "logp"], {
            reduction: "mean",
            ignore_index: -100,
          }),
        ],
        inputs: { x, t: target },
        inits: { w: weight },
        outputs: ["loss", "logp"],
      },
      1e-4,
    );
  });
});

describe("BatchNormalization training_mode = 1", () => {
  it("normalizes with batch statistics and returns running mean and variance", async () => {
    await check(
      {
        nodes: [
          node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "rm", "rv"], {
            training_mode: 1,
            momentum: 0.8,
            epsilon: 1e-3,
          }),
        ],
        inputs: {
          x: f(
            [2, 3, 2, 2],
            grid(24, 2).map((v) => v * 16),
          ),
        },
        inits: {
          s: f([3], [1, 0.5, 2]),
          b: f([3], [0, 1, -1]),
          m: f([3], [0.1, 0.2, 0.3]),
          v: f([3], [1, 2, 3]),
        },
        outputs: ["y", "rm", "rv"],
      },
      1e-3,
    );
  });
});

describe("refusals name the node, the attribute or input, and the value", () => {
  const conv = (g: Graph) => () => ours(encode(g), g);
  it("run-time Scatter indices with a reduction other than none/add", () => {
    expect(
      conv({
        nodes: [node("ScatterElements", ["x", "i", "u"], ["y"], { reduction: "mul" })],
        inputs: { x: f([2, 2]), i: i64([1, 2], [0, 1]), u: f([1, 2]) },
        outputs: ["y"],
      }),
    ).toThrow(/node 'ScatterElements_0'.*attribute reduction 'mul' needs constant indices/);
  });
  it("an unknown reduction", () => {
    expect(
      conv({
        nodes: [node("ScatterND", ["x", "i", "u"], ["y"], { reduction: "xor" })],
        inputs: { x: f([2, 2]), u: f([1, 2]) },
        inits: { i: i64([1, 1], [0]) },
        outputs: ["y"],
      }),
    ).toThrow(/node 'ScatterND_0'.*attribute reduction 'xor' is not supported/);
  });
  it("a constant index out of range", () => {
    expect(
      conv({
        nodes: [node("GatherElements", ["x", "i"], ["y"])],
        inputs: { x: f([2, 2]) },
        inits: { i: i64([1, 2], [0, 2]) },
        outputs: ["y"],
      }),
    ).toThrow(/node 'GatherElements_0'.*index 2 out of range for axis size 2/);
  });
  it("NonZero of a run-time tensor", () => {
    expect(
      conv({ nodes: [node("NonZero", ["x"], ["y"])], inputs: { x: f([2, 2]) }, outputs: ["y"] }),
    ).toThrow(/node 'NonZero_0'.*data-dependent shape/);
  });
  it("random training Dropout keeps its refusal", () => {
    expect(
      conv({
        nodes: [node("Dropout", ["x", "r", "t"], ["y"])],
        inputs: { x: f([2, 2]) },
        inits: { r: f([], [0.5]), t: { type: "b", dims: [], data: [1] } },
        outputs: ["y"],
      }),
    ).toThrow(/node 'Dropout_0'.*training-mode Dropout is random/);
  });
  it("a NegativeLogLikelihoodLoss reduction", () => {
    expect(
      conv({
        nodes: [node("NegativeLogLikelihoodLoss", ["x", "t"], ["l"], { reduction: "max" })],
        inputs: { x: f([2, 3]) },
        inits: { t: i64([2], [0, 1]) },
        outputs: ["l"],
      }),
    ).toThrow(/node 'NegativeLogLikelihoodLoss_0'.*attribute reduction 'max' is not supported/);
  });
});

describe("today's conformance fixes", () => {
  it("Pow of an integer base by a constant whole-number float exponent stays integer", async () => {
    await check({
      nodes: [node("Pow", ["x", "e"], ["y"])],
      inputs: { x: i64([4], [1, -2, 3, 5]) },
      inits: { e: f([4], [4, 3, 2, 0]) },
      outputs: ["y"],
      outTypes: { y: "i" },
    });
  });
  it("training-mode Dropout with ratio 0 is the identity with an all-true mask", async () => {
    await check({
      nodes: [node("Dropout", ["x", "r", "t"], ["y", "mask"])],
      inputs: { x: f([2, 3]) },
      inits: { r: f([], [0]), t: { type: "b", dims: [], data: [1] } },
      outputs: ["y", "mask"],
      outTypes: { mask: "b" },
    });
  });
  it("a window generator folds to a constant", async () => {
    for (const op of ["HannWindow", "HammingWindow", "BlackmanWindow"])
      for (const periodic of [0, 1]) {
        await check(
          {
            nodes: [node(op, ["n"], ["w"], { periodic }), node("Add", ["w", "x"], ["y"])],
            inputs: { x: f([6]) },
            inits: { n: i64([], [6]) },
            outputs: ["y"],
          },
          2e-5,
        );
      }
  });
  it("an empty Slice of a constant shape folds (the LayerNormalization axis-0 expansion)", async () => {
    const pkg = await check({
      nodes: [
        node("Shape", ["x"], ["s"]),
        node("Slice", ["s", "z", "z"], ["head"]),
        node("Concat", ["head", "m1"], ["shape"], { axis: 0 }),
        node("Reshape", ["x", "shape"], ["y"]),
      ],
      inputs: { x: f([2, 3]) },
      inits: { z: i64([1], [0]), m1: i64([1], [-1]) },
      outputs: ["y"],
    });
    expect(pkg.manifest.nodes.map((n) => n.op)).toEqual([Op.COPY]);
  });
});

describe("BitShift", () => {
  it("LEFT of a run-time tensor by constant amounts is an integer Mul by 2^s", () => {
    const g: Graph = {
      nodes: [node("BitShift", ["x", "s"], ["y"], { direction: "LEFT" })],
      inputs: { x: i64([4], [1, 3, 5, 255]) },
      inits: { s: i64([4], [0, 1, 4, 8]) },
      outputs: ["y"],
      outTypes: { y: "i" },
    };
    expect(ours(encode(g), g).outs[0]).toEqual([1, 6, 80, 65280]);
  });
  it("refuses a run-time shift amount, naming the input", () => {
    const g: Graph = {
      nodes: [node("BitShift", ["x", "s"], ["y"], { direction: "RIGHT" })],
      inputs: { x: i64([2], [1, 2]), s: i64([2], [1, 1]) },
      outputs: ["y"],
    };
    expect(() => ours(encode(g), g)).toThrow(
      /node 'BitShift_0'.*run-time shift amounts are not supported \(Y must be a constant\)/,
    );
  });
});

describe("DFT, STFT (lower/spectral.ts): MATMUL with constant cos/sin matrices", () => {
  const sig = (dims: number[]) =>
    f(
      dims,
      grid(
        dims.reduce((a, b) => a * b, 1),
        3,
      ).map((v) => v * 32),
    );
  for (const [attrs, dims] of [
    [{ axis: 1 }, [2, 8, 1]],
    [{ axis: 1, onesided: 1 }, [1, 8, 3, 1]],
    [{ axis: 2, inverse: 1 }, [2, 3, 6, 2]],
  ] as [Record<string, number>, number[]][]) {
    it(`DFT ${JSON.stringify(attrs)} of [${dims}]`, async () => {
      await check(
        { nodes: [node("DFT", ["x"], ["y"], attrs)], inputs: { x: sig(dims) }, outputs: ["y"], opset: 17 },
        2e-4,
      );
    });
  }
  it("DFT with a longer dft_length zero-pads", async () => {
    await check(
      {
        nodes: [node("DFT", ["x", "n"], ["y"], { axis: 1 })],
        inputs: { x: sig([1, 5, 2]) },
        inits: { n: i64([], [8]) },
        outputs: ["y"],
        opset: 17,
      },
      2e-4,
    );
  });
  it("STFT with a window", async () => {
    await check(
      {
        nodes: [node("STFT", ["x", "step", "win"], ["y"])],
        inputs: { x: sig([1, 32, 1]) },
        inits: { step: i64([], [4]), win: f([8], [0, 0.25, 0.5, 1, 1, 0.5, 0.25, 0]) },
        outputs: ["y"],
        opset: 17,
      },
      2e-4,
    );
  });
});
