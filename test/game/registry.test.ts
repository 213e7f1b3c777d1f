// game/registry.ts validateGraph / modelRecord: the TypeScript twin of the registry's graph rules
// (docs/PROTOCOL.md §5.1) on every fixture package and on broken copies of one.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPackage, type Manifest } from "../../dnn/src/package.js";
import { DEFAULT_MAX_STEPS, GraphError, modelRecord, validateGraph } from "../../game/registry.js";
import { ROOT } from "../helpers/helpers.js";

const PKGS = ["mnist_cnn", "mnist_mlp", "transformer_block", "transformer_block_op13"];
const pkg = (name: string) => loadPackage(join(ROOT, "fixtures/packages", name));
const copy = (m: Manifest): Manifest => JSON.parse(JSON.stringify(m));

describe("validateGraph", () => {
  it.each(PKGS)("accepts the %s fixture package", (name) => {
    expect(() => validateGraph(pkg(name).manifest)).not.toThrow();
  });

  it("names the node and the fault", () => {
    const base = pkg("mnist_cnn").manifest;
    const cases: [(m: Manifest) => void, RegExp][] = [
      [(m) => (m.nodes[0].inputs[0] = ["a", 3]), /^node 0 \(op \d+\): reads slot 3 before it is written$/],
      [(m) => (m.nodes[1].outputs[0] = 1), /^node 1 \(op \d+\): writes slot 1, already written$/],
      [(m) => (m.nodes[0].outputs[0] = 0), /^node 0 \(op \d+\): writes slot 0, already written$/],
      [(m) => (m.nodes[0].outputs[0] = 2), /^node 0 \(op \d+\): writes slot 2 out of order/],
      [(m) => (m.nodes[2].inputs[1] = ["w", 99]), /^node 2 \(op \d+\): reads weight 99/],
      [(m) => (m.inputs[0] = 1), /graph input 0 is slot 1/],
      [(m) => (m.outputs[0] = 0), /output slot 0 is written by no node/],
      [(m) => m.activations.push(m.activations[0]), /lists 12 activation slots, the nodes make 11/],
      [(m) => Object.assign(m, { maxSteps: 0 }), /maxSteps 0/],
    ];
    for (const [breakIt, msg] of cases) {
      const m = copy(base);
      breakIt(m);
      expect(() => validateGraph(m)).toThrow(GraphError);
      expect(() => validateGraph(m)).toThrow(msg);
    }
  });
});

describe("modelRecord", () => {
  it("is what the phase-link vectors register", () => {
    const v = JSON.parse(readFileSync(join(ROOT, "contracts/test/vectors/phase-link.json"), "utf8"));
    const r = modelRecord(pkg("mnist_cnn").manifest);
    expect(r).toEqual({
      modelRoot: v.model.modelRoot,
      nodesRoot: v.model.nodesRoot,
      nNodes: v.model.nNodes,
      tableDepth: v.model.tableDepth,
      weightsDepth: v.model.weightsDepth,
      inputBytes: [3136],
      outputSlot: v.model.outputSlot,
      maxSteps: BigInt(v.model.maxSteps),
    });
    // The converter records its step budget (default 2^26); an older manifest without one gets 2^32.
    expect(v.model.maxSteps).toBe(2 ** 26);
    const m = copy(pkg("mnist_cnn").manifest);
    Object.assign(m, { maxSteps: 1000 });
    expect(modelRecord(m).maxSteps).toBe(1000n);
    delete m.maxSteps;
    expect(modelRecord(m).maxSteps).toBe(DEFAULT_MAX_STEPS);
  });
});
