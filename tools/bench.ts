// `npm run bench`: speed figures measured side by side in one run, printed as ratios.
// Native fixed-point inference (DNN WASM in V8) vs onnxruntime-node float (CPU, 1 thread).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { defaultBackend } from "../dnn/src/engine.js";
import { loadPackage, prepareInputs } from "../dnn/src/package.js";
import { onnxSession } from "./convert/reference.js";
import { FIXTURES } from "./paths.js";

interface Row {
  what: string;
  ours: number;
  ref: number;
  unit: string;
  goal: string;
}

async function timeIt(fn: () => unknown | Promise<unknown>, minMs = 1500): Promise<number> {
  for (let i = 0; i < 20; i++) await fn(); // warm-up (JIT, caches)
  const samples: number[] = [];
  const start = performance.now();
  while (performance.now() - start < minMs || samples.length < 30) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]; // median
}

async function inference(model: string, inputFile: string): Promise<Row> {
  const pkg = loadPackage(join(FIXTURES, "packages", model));
  const json = JSON.parse(readFileSync(join(FIXTURES, "inputs", inputFile), "utf8"));
  const q = prepareInputs(pkg.manifest, json, inputFile);
  const prepared = defaultBackend().prepare(pkg);
  const ort = await onnxSession(join(FIXTURES, `${model}.onnx`));
  const f32 = Float32Array.from(json.data);
  const name = pkg.manifest.activations[pkg.manifest.inputs[0]].name;
  const ours = await timeIt(() => prepared.run(q));
  const ref = await timeIt(() => ort.run(name, json.shape, f32));
  return {
    what: `${model}: fixed-point wasm-cpu vs onnxruntime float`,
    ours,
    ref,
    unit: "ms/inference",
    goal: "≤ 2×",
  };
}

async function main() {
  const rows = [
    await inference("mnist_cnn", "mnist_0.json"),
    await inference("transformer_block", "transformer.json"),
  ];
  console.log("opml bench (median of ≥30 runs after warm-up; one thread each)\n");
  console.log(`${"measurement".padEnd(60)} ${"ours".padStart(10)} ${"reference".padStart(10)}  ratio   goal`);
  for (const r of rows) {
    const ratio = r.ours / r.ref;
    console.log(
      `${r.what.padEnd(60)} ${r.ours.toFixed(4).padStart(10)} ${r.ref.toFixed(4).padStart(10)}  ${ratio.toFixed(2).padStart(5)}×  ${r.goal}  (${r.unit})`,
    );
  }
}

await main();
