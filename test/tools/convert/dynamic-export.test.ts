// A torch export with dynamic batch and sequence axes (tools/torch/dynamic_export.py →
// fixtures/dynamic/dynamic_block.onnx): its Shape/Gather/Unsqueeze/Concat/Range/Expand/
// ConstantOfShape/EyeLike/Equal/Where shape arithmetic must fold once --input-shape fixes the
// dims, for any batch and sequence length, leaving only the model's real kernels. Outputs are
// compared with onnxruntime and every kernel node is rerun in the VM.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultBackend } from "../../../dnn/src/engine.js";
import { dequantize } from "../../../dnn/src/fixed.js";
import { nodeInputs, runNodeInVm } from "../../../game/link.js";
import { convertGraph } from "../../../tools/convert/convert.js";
import { readOnnx } from "../../../tools/convert/onnx.js";
import { runOnnxRuntime } from "../../../tools/convert/reference.js";
import { FIXTURES } from "../../../tools/fixtures.js";

const FILE = join(FIXTURES, "dynamic", "dynamic_block.onnx");
const g = readOnnx(FILE);

/** Token ids in 1…31 with a few padding zeros (the padding mask is computed at run time). */
const ids = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) => (i % 7 === 5 ? 0 : ((i * 13 + seed * 7) % 31) + 1));

describe("dynamic-axes torch export", () => {
  it("the export really is dynamic: symbolic dims and shape arithmetic in the graph", () => {
    expect(g.inputs[0].shape).toEqual(["batch", "seq"]);
    const ops = new Set(g.nodes.map((n) => n.op));
    for (const op of [
      "Shape",
      "Gather",
      "Unsqueeze",
      "Concat",
      "Range",
      "Expand",
      "ConstantOfShape",
      "Where",
      "Equal",
    ])
      expect(ops, op).toContain(op);
    expect(() => convertGraph(g, FILE)).toThrow(
      /input 'ids' has a non-static dimension 'batch'.*--input-shape ids=/,
    );
  });

  it.each([
    [2, 8],
    [1, 3],
    [3, 16],
  ])(
    "folds at batch %i, sequence %i and matches onnxruntime; every node bit-identical in the VM",
    async (b, s) => {
      const pkg = convertGraph(g, FILE, { inputShapes: { ids: [b, s] } });
      const m = pkg.manifest;
      // Only the model's arithmetic is left: no kernel computes a shape, an index or a constant
      // mask; the one Equal is the padding test on the ids (data, not shape).
      const onnxOps = m.nodes.map((n) => n.onnxOp);
      for (const op of [
        "Shape",
        "Range",
        "ConstantOfShape",
        "EyeLike",
        "Concat",
        "Expand",
        "LessOrEqual",
        "Not",
        "Cast",
      ])
        expect(onnxOps, op).not.toContain(op);
      expect(onnxOps.filter((op) => op === "Equal")).toHaveLength(1);
      expect(m.nodes.length).toBeLessThan(45);
      const data = ids(b * s, b + s);
      const acts = defaultBackend()
        .prepare(pkg)
        .run([Int32Array.from(data)], { keepAll: true });
      const got = dequantize(acts[m.outputs[0]]);
      const [ref] = await runOnnxRuntime(FILE, [{ name: "ids", shape: [b, s], dtype: "i32", data }]);
      expect(got.length).toBe(b * s * 32);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]));
      expect(worst).toBeLessThan(5e-3);
      m.nodes.forEach((n, k) => {
        const run = runNodeInVm(pkg, k, nodeInputs(pkg, k, acts));
        n.outputs.forEach((slot, i) => {
          expect(Array.from(run.outputs[i]), `node ${k} ${n.name}`).toEqual(Array.from(acts[slot]));
        });
      });
    },
  );
});
