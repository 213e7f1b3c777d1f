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
import { readOnnx } from "../../../tools/convert/onnx.js";
import { FIXTURES, sampleInputs } from "../../../tools/fixtures.js";

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
    expect(() => convertWith("mnist_cnn", 2 ** 20)).toThrow(
      /node '.*' \(Conv.*CONV kernel needs up to \d+ VM steps.*--step-budget/,
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
