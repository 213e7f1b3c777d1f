import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tensorRoot, toHex } from "../../dnn/src/commit.js";
import { defaultBackend } from "../../dnn/src/engine.js";
import { dequantize } from "../../dnn/src/fixed.js";
import { loadPackage, prepareInputs } from "../../dnn/src/package.js";
import { argmax, compare, runOnnxRuntime } from "../convert/reference.js";
import { FIXTURES } from "../paths.js";
import { convertCommand } from "./convert.js";

/**
 * What exists today end to end: convert the MNIST CNN fixture from ONNX, run real digits natively in
 * fixed point, commit to the outputs, and check against onnxruntime float. The onchain dispute
 * simulation (submitter, watchtower, anvil) is not built yet and is not pretended here.
 */
export async function demoCommand(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "opml-demo-"));
  try {
    const onnxFile = join(FIXTURES, "mnist_cnn.onnx");
    const out = join(dir, "mnist_cnn");
    console.log("== 1. convert: ONNX → fixed-point package");
    await convertCommand({ model: onnxFile, out, calib: join(FIXTURES, "inputs/mnist_0.json") });
    const pkg = loadPackage(out);
    const m = pkg.manifest;
    const prepared = defaultBackend().prepare(pkg);
    console.log("\n== 2. infer: real MNIST digits, native fixed-point engine vs onnxruntime float");
    let failures = 0;
    for (const f of ["mnist_0.json", "mnist_1.json", "mnist_2.json"]) {
      const json = JSON.parse(readFileSync(join(FIXTURES, "inputs", f), "utf8"));
      const acts = prepared.run(prepareInputs(m, json, f), { keepAll: true });
      const out = acts[m.outputs[0]];
      const [ref] = await runOnnxRuntime(onnxFile, [
        { name: "input", shape: json.shape, dtype: "q16", data: json.data },
      ]);
      const got = dequantize(out);
      const r = compare(got, ref, 10);
      const pred = argmax(got);
      if (pred !== json.label || r.argmaxAgree !== 1) failures++;
      console.log(
        `  ${f}: label ${json.label}, predicted ${pred} (float ${argmax(ref)}), max abs err ${r.maxAbs.toExponential(2)}, output root ${toHex(tensorRoot(out)).slice(0, 18)}…, ${m.nodes.length} nodes committed`,
      );
    }
    console.log("\n(the onchain dispute simulation — submitter, watchtower, anvil — is not implemented yet)");
    if (failures > 0) throw new Error(`demo: ${failures} digit(s) misclassified or disagreeing with float`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
