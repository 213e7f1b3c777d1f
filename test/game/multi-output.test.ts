// A node with several outputs (ONNX Split: every exported attention block has one) disputed down
// to its VM level. NodeVmLink takes output i's table path in the table with outputs 0 … i−1
// already written; game/claim-trace.ts once took every path in the table before the node, so
// enterVm on such a node reverted and the party that had to enter (honest or not) lost on the clock.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { depthFor, hashPair, rootFromProof, ZERO } from "../../commit/merkle.js";
import { prepareInputs } from "../../dnn/src/package.js";
import { ClaimTrace } from "../../game/claim-trace.js";
import { runDemo } from "../../tools/commands/demo.js";
import { convertGraph, writePackage } from "../../tools/convert/convert.js";
import { parseOnnx } from "../../tools/convert/onnx.js";
import { INT_ATTR, onnxModel } from "../helpers/onnx-models.js";

const tmp = mkdtempSync(join(tmpdir(), "opml-multi-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** X[1,12] → Split into three [1,4] → (a·b) + c. */
function splitModel(): Uint8Array {
  return onnxModel({
    nodes: [
      {
        opType: "Split",
        name: "split",
        input: ["X"],
        output: ["a", "b", "c"],
        attribute: [{ name: "axis", type: INT_ATTR, i: 1 }],
      },
      { opType: "Mul", name: "mul", input: ["a", "b"], output: ["d"] },
      { opType: "Add", name: "add", input: ["d", "c"], output: ["Y"] },
    ],
    inputs: [["X", [1, 12]]],
    outputs: [["Y", [1, 4]]],
  });
}

describe("a node with several outputs", () => {
  const pkg = convertGraph(parseOnnx(splitModel(), "split.onnx"), "split.onnx", { name: "split" });
  const m = pkg.manifest;
  const k = m.nodes.findIndex((n) => n.outputs.length === 3);
  const input = { shape: [1, 12], data: Array.from({ length: 12 }, (_, i) => (i - 5) / 4) };

  it("has its link's table paths folded output by output, ending at the next graph state", () => {
    expect(k).toBeGreaterThanOrEqual(0);
    const t = new ClaimTrace(pkg, prepareInputs(m, input, "input"));
    const link = t.link(k);
    // The contract's rule, recomputed here: each path opens an empty slot in the table so far.
    let table = link.tableRootBefore;
    m.nodes[k].outputs.forEach((slot, i) => {
      const { root, tablePath } = link.outputs[i];
      expect(tablePath.length).toBe(depthFor(m.activations.length));
      expect(Buffer.from(rootFromProof(ZERO[0], slot, tablePath))).toEqual(Buffer.from(table));
      table = rootFromProof(root, slot, tablePath);
    });
    expect(Buffer.from(hashPair(t.model, table))).toEqual(Buffer.from(t.graphState(k + 1)));
  });

  it("is disputed down to one VM step on anvil, and the watchtower wins", async () => {
    const dir = join(tmp, "pkg");
    writePackage(pkg, dir);
    const inputFile = join(tmp, "input.json");
    writeFileSync(inputFile, JSON.stringify(input));
    const r = await runDemo({ model: dir, input: inputFile, lies: [`node:${k}`], quiet: true });
    expect(r.disputes).toHaveLength(1);
    expect(r.disputes[0].winner).toBe("challenger");
    expect(r.disputes[0].disputedNode).toBe(k);
    expect(r.disputes[0].rounds.vm).toBeGreaterThan(0);
  });
});
