// Fixture packages are reproducible from their ONNX sources, and their roots are pinned: a changed
// model root or output root means the numerics or the commitment changed (determinism across machines).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultBackend } from "../../../dnn/src/engine.js";
import { dequantize, quantizeArray } from "../../../dnn/src/fixed.js";
import { loadPackage, prepareInputs } from "../../../dnn/src/package.js";
import { compare, runOnnxRuntime } from "../../../tools/convert/reference.js";
import {
  convertFixture,
  FIXTURE_MODELS,
  FIXTURES,
  outputRoots,
  sampleInputs,
} from "../../../tools/fixtures.js";

const pinned = JSON.parse(readFileSync(join(FIXTURES, "pinned-roots.json"), "utf8"));

describe.each(FIXTURE_MODELS)("fixture %s", (model) => {
  const committed = loadPackage(join(FIXTURES, "packages", model));

  it("converts to exactly the committed package", () => {
    const pkg = convertFixture(model);
    expect(pkg.manifest).toEqual(committed.manifest);
    expect(pkg.weights).toEqual(committed.weights);
  });

  it("has its pinned model root and output roots", () => {
    expect(committed.manifest.modelRoot).toBe(pinned[model].modelRoot);
    expect(sampleInputs(model).length).toBeGreaterThan(0);
    expect(outputRoots(committed, model)).toEqual(pinned[model].outputs);
  });

  it("agrees with onnxruntime float on every sample input", async () => {
    const m = committed.manifest;
    const prepared = defaultBackend().prepare(committed);
    for (const f of sampleInputs(model)) {
      const json = JSON.parse(readFileSync(join(FIXTURES, "inputs", f), "utf8"));
      const out = prepared.run(prepareInputs(m, json, f))[m.outputs[0]];
      const [ref] = await runOnnxRuntime(join(FIXTURES, `${model}.onnx`), [
        { name: m.activations[m.inputs[0]].name, shape: json.shape, dtype: "q16", data: json.data },
      ]);
      const info = m.activations[m.outputs[0]];
      const r = compare(dequantize(out), ref, info.shape[info.shape.length - 1]);
      if (model.startsWith("transformer")) expect(r.maxAbs).toBeLessThanOrEqual(5e-2);
      else {
        expect(r.argmaxAgree).toBe(1);
        expect(r.maxAbs).toBeLessThan(1e-2);
      }
      if (typeof json.label === "number") expect(r.argmaxAgree === 1 && json.label >= 0).toBe(true);
    }
  });
});

describe("quantization boundary", () => {
  it("rounds half up and refuses non-finite values", () => {
    expect(Array.from(quantizeArray([0.5 / 65536, -0.5 / 65536, 1, -1.5 / 65536], "x"))).toEqual([
      1, 0, 65536, -1,
    ]);
    expect(() => quantizeArray([1, Number.NaN], "x")).toThrow(/element 1 is NaN/);
    expect(Array.from(quantizeArray([1e12, -1e12], "x"))).toEqual([2 ** 31 - 1, -(2 ** 31)]);
    expect(() => quantizeArray([Number.NEGATIVE_INFINITY], "x")).toThrow(/element 0 is -Infinity/);
  });

  it("saturates ±Infinity in model constants to the values a float extreme gets (masks)", () => {
    const f32min = -3.4028234663852886e38; // torch.finfo(torch.float32).min, Hugging Face's mask value
    const q = quantizeArray([Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, f32min, 0.5], "mask", true);
    expect(Array.from(q)).toEqual([-(2 ** 31), 2 ** 31 - 1, -(2 ** 31), 32768]);
    expect(() => quantizeArray([Number.NaN], "mask", true)).toThrow(/element 0 is NaN/);
  });
});
