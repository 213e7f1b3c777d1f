#!/usr/bin/env node
// Cross-checks the exported fixtures with onnxruntime-node: runs every model in
// fixtures/reference_outputs.json on its fixtures/inputs/*.json and compares against the float32
// PyTorch outputs recorded by tools/torch/train_fixtures.py.
//
//   node tools/torch/verify_fixtures.mjs [fixturesDir]
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ort from "onnxruntime-node";

const here = dirname(fileURLToPath(import.meta.url));
const dir = resolve(process.argv[2] ?? join(here, "..", "..", "fixtures"));
const ref = JSON.parse(readFileSync(join(dir, "reference_outputs.json"), "utf8"));
const TOL = 1e-4;
let failed = false;

for (const [model, { outputs }] of Object.entries(ref.models)) {
  const session = await ort.InferenceSession.create(join(dir, model));
  for (const expected of outputs) {
    const input = JSON.parse(readFileSync(join(dir, expected.input), "utf8"));
    const feeds = { input: new ort.Tensor("float32", Float32Array.from(input.data), input.shape) };
    const got = (await session.run(feeds)).output.data;
    let maxErr = 0;
    for (let i = 0; i < expected.data.length; i++) {
      maxErr = Math.max(maxErr, Math.abs(got[i] - expected.data[i]));
    }
    let argmax = 0;
    for (let i = 1; i < got.length; i++) if (got[i] > got[argmax]) argmax = i;
    const ok = got.length === expected.data.length && maxErr <= TOL;
    failed ||= !ok;
    const label = input.label === undefined ? "" : ` argmax ${argmax} label ${input.label}`;
    console.log(
      `${ok ? "ok  " : "FAIL"} ${model} ${expected.input}: max |ort - torch| ${maxErr.toExponential(2)}${label}`,
    );
  }
}
process.exit(failed ? 1 : 0);
