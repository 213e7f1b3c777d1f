// LSTM, GRU and RNN (lower/rnn.ts): the unrolled kernels against onnxruntime on small models that
// cover directions, layouts, sequence_lens, initial states, output subsets, activations, clip,
// peepholes, input_forget and linear_before_reset; VM parity on every kernel node; refusals by name.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultBackend } from "../../../dnn/src/engine.js";
import { dequantize, quantizeArray } from "../../../dnn/src/fixed.js";
import { Op } from "../../../dnn/src/opcodes.js";
import { nodeInputs, runNodeInVm } from "../../../game/link.js";
import { convertGraph } from "../../../tools/convert/convert.js";
import { parseOnnx } from "../../../tools/convert/onnx.js";
import { ROOT } from "../../helpers/helpers.js";
import {
  type AttrV,
  convert,
  expectMatches,
  expectMatchesOrt,
  expectVmParity,
  type Model,
  node,
  ortRun,
  permute,
  rand,
} from "../../helpers/onnx-ort.js";

type Kind = "RNN" | "GRU" | "LSTM";
const GATES = { RNN: 1, GRU: 3, LSTM: 4 };

interface Opts {
  T?: number;
  B?: number;
  I?: number;
  H?: number;
  direction?: "forward" | "reverse" | "bidirectional";
  layout?: 0 | 1;
  seqLens?: number[];
  initH?: boolean;
  initC?: boolean;
  /** Initial states as graph inputs rather than initializers. */
  runtimeInit?: boolean;
  peep?: boolean;
  outputs?: ("Y" | "Y_h" | "Y_c")[];
  attrs?: Record<string, AttrV>;
  seed?: number;
}

function rnnModel(kind: Kind, o: Opts = {}): Model {
  const [T, B, I, H] = [o.T ?? 4, o.B ?? 2, o.I ?? 3, o.H ?? 4];
  const D = o.direction === "bidirectional" ? 2 : 1;
  const G = GATES[kind];
  const layout = o.layout ?? 0;
  const seed = o.seed ?? 7;
  const inits: Model["initializers"] = {
    W: { shape: [D, G * H, I], data: rand(D * G * H * I, seed, 0.8) },
    R: { shape: [D, G * H, H], data: rand(D * G * H * H, seed + 1, 0.8) },
    B: { shape: [D, 2 * G * H], data: rand(D * 2 * G * H, seed + 2, 0.5) },
  };
  const inputs: Model["inputs"] = {
    X: { shape: layout === 0 ? [T, B, I] : [B, T, I], data: rand(T * B * I, seed + 3, 1.5) },
  };
  const stateShape = layout === 0 ? [D, B, H] : [B, D, H];
  const put = (name: string, t: { shape: number[]; data: number[]; int?: boolean }, runtime = false) => {
    if (runtime) inputs[name] = t;
    else inits[name] = t;
  };
  const ins = ["X", "W", "R", "B", "", "", "", ""];
  if (o.seqLens) {
    put("seq", { shape: [B], data: o.seqLens, int: true });
    ins[4] = "seq";
  }
  if (o.initH) {
    put("h0", { shape: stateShape, data: rand(D * B * H, seed + 4, 0.5) }, o.runtimeInit);
    ins[5] = "h0";
  }
  if (o.initC) {
    put("c0", { shape: stateShape, data: rand(D * B * H, seed + 5, 0.5) }, o.runtimeInit);
    ins[6] = "c0";
  }
  if (o.peep) {
    put("P", { shape: [D, 3 * H], data: rand(D * 3 * H, seed + 6, 0.5) });
    ins[7] = "P";
  }
  while (ins[ins.length - 1] === "") ins.pop();
  const want = o.outputs ?? (kind === "LSTM" ? ["Y", "Y_h", "Y_c"] : ["Y", "Y_h"]);
  const all = ["Y", "Y_h", "Y_c"]
    .slice(0, kind === "LSTM" ? 3 : 2)
    .map((n) => (want.includes(n as "Y") ? n : ""));
  while (all[all.length - 1] === "") all.pop();
  const attrs = {
    hidden_size: H,
    direction: o.direction ?? "forward",
    ...(layout ? { layout } : {}),
    ...o.attrs,
  };
  return {
    nodes: [node(kind, ins, all, attrs, `${kind.toLowerCase()}_node`)],
    inputs,
    outputs: want,
    initializers: inits,
  };
}

describe.each(["RNN", "GRU", "LSTM"] as const)("%s against onnxruntime", (kind) => {
  it("forward, defaults", async () => {
    await expectMatchesOrt(rnnModel(kind));
  });
  it("reverse with initial_h (and initial_c)", async () => {
    await expectMatchesOrt(rnnModel(kind, { direction: "reverse", initH: true, initC: kind === "LSTM" }));
  });
  it("bidirectional, runtime initial states, layout 1", async () => {
    const o: Opts = {
      direction: "bidirectional",
      initH: true,
      initC: kind === "LSTM",
      runtimeInit: true,
      B: 3,
    };
    const m = rnnModel(kind, { ...o, layout: 1 });
    // onnxruntime has no batchwise RNNs: its reference is the layout-0 twin, transposed.
    const twin = rnnModel(kind, o);
    twin.inputs.X.data = Array.from(permute(m.inputs.X.data, [3, 4, 3], [1, 0, 2]));
    for (const s of ["h0", "c0"])
      if (m.inputs[s]) twin.inputs[s].data = Array.from(permute(m.inputs[s].data, [3, 2, 4], [1, 0, 2]));
    const ref = await ortRun(twin);
    const back = m.outputs.map((name, i) =>
      name === "Y" ? permute(ref[i], [4, 2, 3, 4], [2, 0, 1, 3]) : permute(ref[i], [2, 3, 4], [1, 0, 2]),
    );
    expectMatches(m, back);
  });
  it("bidirectional with sequence_lens: zero past each length, Y_h at the last valid step", async () => {
    await expectMatchesOrt(
      rnnModel(kind, { direction: "bidirectional", seqLens: [4, 2, 3], B: 3, initH: true, T: 4 }),
    );
  });
  it("only Y_h requested", async () => {
    const m = rnnModel(kind, { outputs: ["Y_h"], T: 3 });
    await expectMatchesOrt(m);
  });
  it("clip and custom activations with alpha/beta", async () => {
    const names = {
      RNN: ["Relu"],
      GRU: ["HardSigmoid", "LeakyRelu"],
      LSTM: ["HardSigmoid", "Tanh", "Affine"],
    }[kind];
    const alphas = { RNN: [], GRU: [0.3, 0.05], LSTM: [0.25, 0.6] }[kind];
    const betas = { RNN: [], GRU: [0.45], LSTM: [0.5, 0.1] }[kind];
    await expectMatchesOrt(
      rnnModel(kind, {
        attrs: {
          clip: 1.5,
          activations: names,
          ...(alphas.length ? { activation_alpha: { floats: alphas } } : {}),
          ...(betas.length ? { activation_beta: { floats: betas } } : {}),
        },
      }),
    );
  });
});

describe("cell options", () => {
  it("GRU linear_before_reset = 1, bidirectional with initial_h", async () => {
    await expectMatchesOrt(
      rnnModel("GRU", { attrs: { linear_before_reset: 1 }, direction: "bidirectional", initH: true }),
    );
  });
  it("GRU linear_before_reset = 1 from a zero state", async () => {
    await expectMatchesOrt(rnnModel("GRU", { attrs: { linear_before_reset: 1 } }));
  });
  it("LSTM peepholes with initial_c and reverse sequence_lens", async () => {
    await expectMatchesOrt(
      rnnModel("LSTM", { peep: true, initH: true, initC: true, direction: "reverse", seqLens: [2, 4], T: 4 }),
    );
  });
  it("LSTM peepholes from a zero state", async () => {
    await expectMatchesOrt(rnnModel("LSTM", { peep: true, T: 3 }));
  });
  it("sequences all shorter than X: steps past the longest are not computed, Y is zero there", async () => {
    const m = rnnModel("RNN", { seqLens: [2, 3], T: 5, direction: "bidirectional", initH: true });
    const pkg = await expectMatchesOrt(m);
    expect(pkg.manifest.nodes.some((n) => n.name.includes("#d0s3."))).toBe(false);
  });
  it.each(["RNN", "GRU", "LSTM"] as const)(
    "%s forward with a runtime sequence_lens (and layout 1)",
    async (kind) => {
      for (const layout of [0, 1] as const) {
        const m = rnnModel(kind, { seqLens: [3, 1, 4], B: 3, initH: true, initC: kind === "LSTM", layout });
        m.inputs.seq = m.initializers!.seq;
        delete m.initializers!.seq;
        const pkg = convert(m);
        if (layout === 0) await expectMatchesOrt(m);
        expect(pkg.manifest.nodes.some((n) => n.op === Op.WHERE)).toBe(true);
        expectVmParity(pkg, m, (k) => /valid|hold|^[a-z]+_node$/.test(pkg.manifest.nodes[k].name));
      }
    },
  );
  it("LSTM peepholes: 16 kernels a step", () => {
    const pkg = convert(rnnModel("LSTM", { peep: true, initH: true, initC: true, T: 3 }));
    expect(pkg.manifest.nodes.filter((n) => n.name.includes("#d0s1.")).length).toBe(16);
  });
  it("LSTM input_forget (f = 1 − i)", async () => {
    await expectMatchesOrt(rnnModel("LSTM", { attrs: { input_forget: 1 }, initC: true }));
  });
  it("LSTM input_forget with peepholes", async () => {
    await expectMatchesOrt(rnnModel("LSTM", { attrs: { input_forget: 1 }, peep: true, initC: true }));
  });
});

describe("kernels and VM parity", () => {
  it("an LSTM step is 10 kernels; X·W^T is one MATMUL for all steps and directions", () => {
    const pkg = convert(rnnModel("LSTM", { T: 6, direction: "bidirectional", initH: true, initC: true }));
    const nodes = pkg.manifest.nodes;
    const pre = nodes.filter((n) => n.name.endsWith("#xw"));
    expect(pre.length).toBe(1);
    expect(pre[0].op).toBe(Op.MATMUL);
    const perStep = nodes.filter((n) => n.name.includes("#d1s3.")).length;
    expect(perStep).toBe(10);
  });

  it("runs every kernel node (MATMUL, UNARY, BINARY, WHERE, COPY) bit-identically in the VM", () => {
    for (const m of [
      rnnModel("LSTM", {
        direction: "bidirectional",
        seqLens: [3, 2],
        T: 3,
        initH: true,
        initC: true,
        peep: true,
      }),
      rnnModel("GRU", {
        direction: "reverse",
        seqLens: [1, 3],
        T: 3,
        initH: true,
        attrs: { linear_before_reset: 1 },
      }),
      rnnModel("RNN", { layout: 1, T: 3, initH: true, runtimeInit: true }),
    ]) {
      const pkg = convert(m);
      const ops = new Set(pkg.manifest.nodes.map((n) => n.op));
      expect(expectVmParity(pkg, m)).toBe(pkg.manifest.nodes.length);
      expect(ops.has(Op.MATMUL) && ops.has(Op.UNARY) && ops.has(Op.COPY)).toBe(true);
      if (m.initializers?.seq && m.initializers.h0) expect(ops.has(Op.WHERE)).toBe(true);
    }
  });

  it("a 100-step LSTM with hidden 256 stays at 10 kernels a step and under the step budget", () => {
    const m = rnnModel("LSTM", { T: 100, B: 1, I: 32, H: 256, outputs: ["Y_h"] });
    const pkg = convert(m);
    // 1 precompute MATMUL, the slices, 99 full steps (step 0 has no H·R^T) and Y_h.
    expect(pkg.manifest.nodes.length).toBeLessThan(100 * 10 + 10);
  });
});

describe("refusals name the node, the attribute or input, and the value", () => {
  it("an activation we do not have", () => {
    const m = rnnModel("LSTM", { attrs: { activations: ["Sigmoid", "Gelu", "Tanh"] } });
    expect(() => convert(m)).toThrow(/node 'lstm_node' \(LSTM.*activations names 'Gelu'/);
  });
  it("the wrong number of activations", () => {
    const m = rnnModel("GRU", { attrs: { activations: ["Sigmoid"] } });
    expect(() => convert(m)).toThrow(/node 'gru_node'.*activations has 1 entries \[Sigmoid\]/);
  });
  it("an unknown direction", () => {
    const m = rnnModel("RNN", { attrs: { direction: "sideways" } });
    expect(() => convert(m)).toThrow(/node 'rnn_node'.*direction 'sideways'/);
  });
  it("runtime weights", () => {
    const m = rnnModel("RNN");
    m.inputs.W = m.initializers!.W;
    delete m.initializers!.W;
    expect(() => convert(m)).toThrow(/node 'rnn_node'.*input W must be a constant/);
  });
  it("runtime sequence_lens in a reverse direction", () => {
    const m = rnnModel("GRU", { seqLens: [2, 3], direction: "bidirectional" });
    m.inputs.seq = m.initializers!.seq;
    delete m.initializers!.seq;
    expect(() => convert(m)).toThrow(
      /node 'gru_node'.*sequence_lens must be a constant .* for direction 'bidirectional'/,
    );
  });
  it("a sequence length out of range", () => {
    const m = rnnModel("RNN", { seqLens: [5, 2] });
    expect(() => convert(m)).toThrow(/node 'rnn_node'.*sequence_lens \[5,2\] must hold 2 lengths in 1\.\.4/);
  });
});

// nn.LSTM / nn.GRU / nn.RNN (batch_first, bidirectional, 2 layers) exported by torch 1.13's
// torch.onnx.export at opsets 13 and 17 (tools/torch/rnn_fixtures.py; a few KB each).
const TORCH = join(ROOT, "test/fixtures/rnn");
describe.each(readdirSync(TORCH).filter((f) => f.endsWith(".onnx")))("torch export %s", (f) => {
  it("matches onnxruntime on every output; the recurrent nodes run bit-identically in the VM", async () => {
    const file = join(TORCH, f);
    const pkg = convertGraph(parseOnnx(readFileSync(file), f), f);
    const m = pkg.manifest;
    const info = m.activations[m.inputs[0]];
    const x = rand(
      info.shape.reduce((a, b) => a * b, 1),
      5,
      2,
    );
    const ort = createRequire(import.meta.url)("onnxruntime-node") as typeof import("onnxruntime-node");
    const session = await ort.InferenceSession.create(file, { executionProviders: ["cpu"] });
    const res = await session.run({
      [info.name]: new ort.Tensor("float32", Float32Array.from(x), info.shape),
    });
    const acts = defaultBackend()
      .prepare(pkg)
      .run([quantizeArray(x, "x")], { keepAll: true });
    expect(m.outputs.length).toBe(session.outputNames.length);
    session.outputNames.forEach((name, i) => {
      const ref = res[name].data as Float32Array;
      const got = dequantize(acts[m.outputs[i]]);
      expect(got.length).toBe(ref.length);
      const err = Math.max(...Array.from(got, (v, j) => Math.abs(v - ref[j]) - 2e-3 * Math.abs(ref[j])));
      expect(err, `${f} ${name}`).toBeLessThan(2e-3);
    });
    // VM parity on the last step of the reverse direction, both layers (every kernel family of a step).
    const stepOf = (name: string) => Number(/#d1s(\d+)\./.exec(name)?.[1] ?? -1);
    const tag = `#d1s${Math.max(...m.nodes.map((n) => stepOf(n.name)))}.`;
    let checked = 0;
    m.nodes.forEach((n, k) => {
      if (!n.name.includes(tag)) return;
      const run = runNodeInVm(pkg, k, nodeInputs(pkg, k, acts));
      n.outputs.forEach((s, o) => {
        expect(Array.from(run.outputs[o]), n.name).toEqual(Array.from(acts[s]));
      });
      checked++;
    });
    expect(checked).toBeGreaterThan(1);
  });
});
