// Node splitting (docs/PROTOCOL.md §5.8): with a small step budget the fixtures' big kernels become
// sub-kernels over output slices. The split graph must compute exactly the same integers as the
// whole one (its outputs are compared with the committed, unsplit package on every sample input),
// every node must stay within the budget by its bound AND by its real VM run, and a kernel with no
// split must be refused by name.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stepBound } from "../../../dnn/src/cost.js";
import { defaultBackend } from "../../../dnn/src/engine.js";
import { Op } from "../../../dnn/src/opcodes.js";
import { loadPackage, type ModelPackage, prepareInputs } from "../../../dnn/src/package.js";
import { nodeInputs, runNodeInVm } from "../../../game/link.js";
import { GraphError, validateGraph } from "../../../game/registry.js";
import { convertGraph } from "../../../tools/convert/convert.js";
import { parseOnnx, readOnnx } from "../../../tools/convert/onnx.js";
import { FIXTURES, sampleInputs } from "../../../tools/fixtures.js";
import { encode, type Model, nativeRun, node, rand } from "../../helpers/onnx-ort.js";

function convertWith(model: string, stepBudget: number): ModelPackage {
  return convertGraph(readOnnx(join(FIXTURES, `${model}.onnx`)), `${model}.onnx`, {
    name: model,
    stepBudget,
  });
}

const input = (pkg: ModelPackage, f: string) =>
  prepareInputs(pkg.manifest, JSON.parse(readFileSync(join(FIXTURES, "inputs", f), "utf8")), f);

describe.each([
  // budget, and the kernel families that must have been split at it
  ["transformer_block", 2 ** 15, [Op.MATMUL, Op.SOFTMAX, Op.LAYERNORM, Op.UNARY, Op.BINARY]],
  ["mnist_mlp", 2 ** 16, [Op.MATMUL]],
  ["mnist_cnn", 2 ** 20, [Op.CONV]],
] as const)("%s at a step budget of %i", (model, budget, families) => {
  const whole = loadPackage(join(FIXTURES, "packages", model));
  const split = convertWith(model, budget);
  const m = split.manifest;

  it("splits every kernel over the budget and records the budget as maxSteps", () => {
    expect(m.maxSteps).toBe(budget);
    expect(m.nodes.length).toBeGreaterThan(whole.manifest.nodes.length);
    for (const n of m.nodes) expect(stepBound(n.op, n.params)).toBeLessThanOrEqual(budget);
    for (const op of families) {
      const before = whole.manifest.nodes.filter((n) => n.op === op).length;
      const after = m.nodes.filter((n) => n.op === op).length;
      expect(after, `op ${op}`).toBeGreaterThan(before);
    }
    expect(() => validateGraph(m)).not.toThrow();
  });

  it("computes bit-identical outputs to the unsplit package", () => {
    const a = defaultBackend().prepare(whole);
    const b = defaultBackend().prepare(split);
    for (const f of sampleInputs(model)) {
      const outA = a.run(input(whole, f))[whole.manifest.outputs[0]];
      const outB = b.run(input(split, f))[m.outputs[0]];
      expect(Array.from(outB)).toEqual(Array.from(outA));
    }
  });

  it("runs every node in the VM within its bound, bit-identical to the native engine", () => {
    const f = sampleInputs(model)[0];
    const acts = defaultBackend().prepare(split).run(input(split, f), { keepAll: true });
    m.nodes.forEach((n, k) => {
      const run = runNodeInVm(split, k, nodeInputs(split, k, acts));
      expect(run.steps, `node ${k} ${n.name}`).toBeLessThanOrEqual(stepBound(n.op, n.params));
      n.outputs.forEach((s, i) => {
        expect(Array.from(run.outputs[i]), `node ${k} ${n.name}`).toEqual(Array.from(acts[s]));
      });
    });
  });
});

describe("step budget limits", () => {
  it("refuses a kernel over the budget that has no split, naming the node and the flag", () => {
    // At 2^14 the first conv's tiles (or the COPY joining them) no longer fit the budget.
    expect(() => convertWith("mnist_cnn", 2 ** 14)).toThrow(
      /node '.*' \(Conv.*(CONV|COPY) kernel needs up to \d+ VM steps.*--step-budget/,
    );
  });

  it("the registry twin refuses a node whose bound exceeds maxSteps", () => {
    const pkg = loadPackage(join(FIXTURES, "packages", "mnist_mlp"));
    const big = pkg.manifest.nodes.findIndex((n) => stepBound(n.op, n.params) > 2 ** 16);
    expect(big).toBeGreaterThanOrEqual(0);
    const m = { ...pkg.manifest, maxSteps: 2 ** 16 };
    expect(() => validateGraph(m)).toThrow(GraphError);
    expect(() => validateGraph(m)).toThrow(new RegExp(`node ${big} .*over the model's maxSteps 65536`));
    expect(() => validateGraph({ ...pkg.manifest, maxSteps: 1.5 })).toThrow(/maxSteps 1.5 is not an integer/);
  });
});

// CONV split by output rows (each tile cuts its input row window by a COPY), then by groups or
// output channels when one row is still over budget, and by batch items. Budgets are derived from
// stepBound of the tile the case must reach, so they follow the bound's formula.
interface ConvCase {
  name: string;
  /** X shape N, C, H, W; weight M, C/group, kH, kW. */
  x: number[];
  w: number[];
  attrs: Record<string, number[] | number>;
  bias?: boolean;
  /** The weight is a runtime input instead of an initializer. */
  runtimeW?: boolean;
  /** Which tiling the budget forces: rows only, or rows of one group / one output channel. */
  force: "rows" | "batch" | "groups" | "channels";
}

const q = (xs: number[], step: number) => xs.map((v) => Math.round(v / step) * step);

function convModel(c: ConvCase): Model {
  const wData = {
    shape: c.w,
    data: q(
      rand(
        c.w.reduce((a, b) => a * b),
        7,
        0.5,
      ),
      1 / 64,
    ),
  };
  const ins = ["X", "W", ...(c.bias ? ["B"] : [])];
  const init: Model["initializers"] = {};
  if (!c.runtimeW) init.W = wData;
  if (c.bias) init.B = { shape: [c.w[0]], data: q(rand(c.w[0], 9, 1), 1 / 32) };
  return {
    nodes: [node("Conv", ins, ["Y"], c.attrs, "conv")],
    inputs: {
      X: {
        shape: c.x,
        data: q(
          rand(
            c.x.reduce((a, b) => a * b),
            5,
            2,
          ),
          1 / 16,
        ),
      },
      ...(c.runtimeW ? { W: wData } : {}),
    },
    outputs: ["Y"],
    initializers: init,
  };
}

const convCases: ConvCase[] = [
  {
    name: "3x3 pad 1 stride 1, bias",
    x: [1, 4, 20, 20],
    w: [8, 4, 3, 3],
    attrs: { pads: [1, 1, 1, 1] },
    bias: true,
    force: "rows",
  },
  {
    name: "3x3 pad 1 stride 2",
    x: [1, 4, 21, 20],
    w: [8, 4, 3, 3],
    attrs: { pads: [1, 1, 1, 1], strides: [2, 2] },
    force: "rows",
  },
  {
    name: "3x3 dilation 2, bias",
    x: [1, 4, 20, 20],
    w: [6, 4, 3, 3],
    attrs: { pads: [2, 2, 2, 2], dilations: [2, 2] },
    bias: true,
    force: "rows",
  },
  {
    name: "7x7 stride 2 pad 3",
    x: [1, 3, 32, 32],
    w: [8, 3, 7, 7],
    attrs: { pads: [3, 3, 3, 3], strides: [2, 2] },
    bias: true,
    force: "rows",
  },
  {
    name: "asymmetric pads, stride 2",
    x: [1, 3, 19, 17],
    w: [4, 3, 3, 3],
    attrs: { pads: [0, 1, 2, 1], strides: [2, 2] },
    force: "rows",
  },
  { name: "1x1", x: [1, 16, 16, 16], w: [16, 16, 1, 1], attrs: {}, bias: true, force: "rows" },
  {
    name: "depthwise",
    x: [1, 8, 20, 20],
    w: [8, 1, 3, 3],
    attrs: { pads: [1, 1, 1, 1], group: 8 },
    bias: true,
    force: "rows",
  },
  {
    name: "group 2",
    x: [1, 8, 16, 16],
    w: [8, 4, 3, 3],
    attrs: { pads: [1, 1, 1, 1], group: 2 },
    force: "rows",
  },
  {
    name: "batch of 3",
    x: [3, 4, 12, 12],
    w: [4, 4, 3, 3],
    attrs: { pads: [1, 1, 1, 1] },
    bias: true,
    force: "rows",
  },
  {
    name: "batch chunks",
    x: [4, 8, 8, 12],
    w: [8, 8, 3, 3],
    attrs: { pads: [1, 1, 1, 1], strides: [1, 2] },
    bias: true,
    force: "batch",
  },
  {
    name: "runtime weight",
    x: [1, 4, 16, 16],
    w: [8, 4, 3, 3],
    attrs: { pads: [1, 1, 1, 1] },
    runtimeW: true,
    force: "rows",
  },
  {
    name: "output channels",
    x: [1, 48, 8, 16],
    w: [16, 48, 3, 3],
    attrs: { pads: [1, 1, 1, 1] },
    bias: true,
    force: "channels",
  },
  {
    name: "output channels, runtime weight",
    x: [1, 48, 8, 16],
    w: [16, 48, 3, 3],
    attrs: { pads: [1, 1, 1, 1] },
    runtimeW: true,
    force: "channels",
  },
  {
    name: "whole groups",
    x: [2, 64, 6, 16],
    w: [32, 16, 3, 3],
    attrs: { pads: [1, 1, 1, 1], group: 4 },
    bias: true,
    force: "groups",
  },
  {
    name: "channels within a group",
    x: [1, 64, 6, 16],
    w: [16, 32, 3, 3],
    attrs: { pads: [1, 1, 1, 1], group: 2 },
    bias: true,
    force: "channels",
  },
];

describe.each(convCases)("CONV split: $name", (c) => {
  const m = convModel(c);
  const file = "conv.onnx";
  const whole = convertGraph(parseOnnx(encode(m), file), file, { name: "conv" });
  const k = whole.manifest.nodes.findIndex((n) => n.op === Op.CONV);
  const p = whole.manifest.nodes[k].params;
  // The tile the budget must reach: one output row of everything, of one group, or of one channel;
  // a quarter of the rows for a rows-only split.
  const tile = p.slice();
  const [, C, , , M, OH] = p;
  const group = p[15];
  if (c.force === "rows") tile[5] = Math.ceil(OH / 4);
  else if (c.force === "batch") {
    tile[0] = 2;
    tile[5] = 1;
  } else {
    tile[0] = 1;
    tile[5] = 1;
    tile[1] = C / group;
    tile[4] = c.force === "groups" ? M / group : 1;
    tile[15] = 1;
  }
  const budget = Math.max(stepBound(Op.CONV, tile) + 4096, 2 ** 14);
  const split = convertGraph(parseOnnx(encode(m), file), file, { name: "conv", stepBudget: budget });
  const sm = split.manifest;

  it("splits the conv into tiles within the budget", () => {
    expect(stepBound(Op.CONV, p)).toBeGreaterThan(budget);
    const convs = sm.nodes.filter((n) => n.op === Op.CONV);
    expect(convs.length).toBeGreaterThan(
      c.force === "rows" || c.force === "batch" ? 2 : M / (c.force === "groups" ? M / group : 1) - 1,
    );
    for (const n of sm.nodes) expect(stepBound(n.op, n.params), n.name).toBeLessThanOrEqual(budget);
    for (const n of convs) expect(n.name).toMatch(/^conv\/(batch\d+\.)?(ch\d+\.)?rows\d+$/);
    // Chunks of batch items: whole output channels, at most two items a tile.
    if (c.force === "batch") for (const n of convs) expect([n.params[0], n.params[4]]).toEqual([2, M]);
    if (c.force === "groups" || c.force === "channels") {
      // Tiles of one group or channel: no conv tile covers all output channels.
      for (const n of convs) expect(n.params[4]).toBeLessThan(M);
    }
    expect(sm.maxSteps).toBe(budget);
    expect(() => validateGraph(sm)).not.toThrow();
  });

  it("computes byte-identical outputs to the unsplit package, and each node in the VM", () => {
    const a = nativeRun(whole, m);
    const b = nativeRun(split, m);
    const y = (pkg: ModelPackage, acts: Int32Array[]) => Array.from(acts[pkg.manifest.outputs[0]]);
    expect(y(split, b.acts)).toEqual(y(whole, a.acts));
    sm.nodes.forEach((n, j) => {
      const run = runNodeInVm(split, j, nodeInputs(split, j, b.acts));
      expect(run.steps, `node ${j} ${n.name}`).toBeLessThanOrEqual(stepBound(n.op, n.params));
      n.outputs.forEach((s, i) => {
        expect(Array.from(run.outputs[i]), `node ${j} ${n.name}`).toEqual(Array.from(b.acts[s]));
      });
    });
  });
});

// POOL split by planes, or by (planes, output rows) with the rows' input windows cut as for CONV.
const poolCases: { name: string; op: string; attrs: Record<string, number[] | number> }[] = [
  {
    name: "max 3x3 stride 2 pad 1",
    op: "MaxPool",
    attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
  },
  { name: "avg 3x3 pad 1", op: "AveragePool", attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
  {
    name: "avg 3x3 pad 1, count_include_pad",
    op: "AveragePool",
    attrs: { kernel_shape: [3, 3], pads: [1, 2, 1, 0], count_include_pad: 1 },
  },
  {
    name: "max 2x2 dilation 2",
    op: "MaxPool",
    attrs: { kernel_shape: [2, 2], dilations: [2, 2], pads: [0, 0, 1, 1] },
  },
];
describe.each(
  poolCases.flatMap((c) => [
    { ...c, rows: false },
    { ...c, rows: true },
  ]),
)("POOL split: $name, rows $rows", (c) => {
  const m: Model = {
    nodes: [node(c.op, ["X"], ["Y"], c.attrs, "pool")],
    inputs: { X: { shape: [2, 2, 41, 38], data: q(rand(2 * 2 * 41 * 38, 3, 2), 1 / 16) } },
    outputs: ["Y"],
  };
  const whole = convertGraph(parseOnnx(encode(m), "p.onnx"), "p.onnx", { name: "pool" });
  const p = whole.manifest.nodes.find((n) => n.op === Op.POOL)!.params;
  const tile = p.slice();
  if (c.rows) {
    tile[1] = 1;
    tile[4] = Math.ceil(p[4] / 3);
  } else tile[1] = 1;
  // (At least 2^15: the join of the whole output must fit too.)
  const budget = Math.max(stepBound(Op.POOL, tile) + 2048, 2 ** 15);
  const split = convertGraph(parseOnnx(encode(m), "p.onnx"), "p.onnx", { name: "pool", stepBudget: budget });
  const sm = split.manifest;

  it("splits into tiles within the budget, byte-identical to the unsplit package and in the VM", () => {
    const pools = sm.nodes.filter((n) => n.op === Op.POOL);
    expect(pools.length).toBeGreaterThan(c.rows ? 6 : 2);
    if (c.rows) for (const n of pools) expect(n.params[4]).toBeLessThan(p[4]);
    for (const n of sm.nodes) expect(stepBound(n.op, n.params), n.name).toBeLessThanOrEqual(budget);
    expect(() => validateGraph(sm)).not.toThrow();
    const a = nativeRun(whole, m);
    const b = nativeRun(split, m);
    expect(Array.from(b.acts[sm.outputs[0]])).toEqual(Array.from(a.acts[whole.manifest.outputs[0]]));
    sm.nodes.forEach((n, j) => {
      const run = runNodeInVm(split, j, nodeInputs(split, j, b.acts));
      expect(run.steps, `node ${j} ${n.name}`).toBeLessThanOrEqual(stepBound(n.op, n.params));
      expect(Array.from(run.outputs[0]), `node ${j} ${n.name}`).toEqual(Array.from(b.acts[n.outputs[0]]));
    });
  });

  it("the unsplit pool stays within its step bound (average pools once ran ~1% over it)", () => {
    const a = nativeRun(whole, m);
    const k = whole.manifest.nodes.findIndex((n) => n.op === Op.POOL);
    const run = runNodeInVm(whole, k, nodeInputs(whole, k, a.acts));
    expect(run.steps).toBeLessThanOrEqual(stepBound(Op.POOL, p));
    expect(run.outputs[0]).toEqual(a.acts[whole.manifest.outputs[0]]);
  });
});

describe("CONV split limits", () => {
  it("refuses a conv one of whose outputs alone is over the budget", () => {
    const m = convModel(convCases.find((c) => c.name === "output channels")!);
    const budget = 320 * 48 * 9; // far below one output's sum over 48 × 3 × 3 products
    expect(() =>
      convertGraph(parseOnnx(encode(m), "c.onnx"), "c.onnx", { name: "c", stepBudget: budget }),
    ).toThrow(
      /node 'conv' \(Conv.*CONV kernel needs up to \d+ VM steps, over the step budget \d+, and has no split; raise --step-budget/,
    );
  });
});
