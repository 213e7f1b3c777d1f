// Regenerates fixtures/packages/* from fixtures/*.onnx and pins every model root and every sample
// output root in fixtures/pinned-roots.json. `npm run fixtures`; the tests fail if either drifts.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES } from "../chain/paths.js";
import { tensorRoot, toHex } from "../commit/merkle.js";
import { defaultBackend } from "../dnn/src/engine.js";
import { type ModelPackage, prepareInputs } from "../dnn/src/package.js";
import { convertGraph, writePackage } from "./convert/convert.js";
import { readOnnx } from "./convert/onnx.js";

export { FIXTURES };

export const FIXTURE_MODELS = ["mnist_mlp", "mnist_cnn", "transformer_block", "transformer_block_op13"];

/** Sample inputs that fit a model, by file name. */
export function sampleInputs(model: string): string[] {
  const prefix = model.startsWith("mnist") ? "mnist_" : "transformer";
  return readdirSync(join(FIXTURES, "inputs"))
    .filter((f) => f.startsWith(prefix) && f.endsWith(".json"))
    .sort();
}

export function convertFixture(model: string): ModelPackage {
  const file = join(FIXTURES, `${model}.onnx`);
  return convertGraph(readOnnx(file), `${model}.onnx`, { name: model });
}

export function outputRoots(pkg: ModelPackage, model: string): Record<string, string> {
  const prepared = defaultBackend().prepare(pkg);
  const roots: Record<string, string> = {};
  for (const f of sampleInputs(model)) {
    const json = JSON.parse(readFileSync(join(FIXTURES, "inputs", f), "utf8"));
    const acts = prepared.run(prepareInputs(pkg.manifest, json, f));
    roots[f] = toHex(tensorRoot(acts[pkg.manifest.outputs[0]]));
  }
  return roots;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const pinned: Record<string, { modelRoot: string; outputs: Record<string, string> }> = {};
  for (const model of FIXTURE_MODELS) {
    const pkg = convertFixture(model);
    writePackage(pkg, join(FIXTURES, "packages", model), true);
    pinned[model] = { modelRoot: pkg.manifest.modelRoot, outputs: outputRoots(pkg, model) };
    console.log(`${model}: ${pkg.manifest.nodes.length} nodes, model root ${pkg.manifest.modelRoot}`);
  }
  writeFileSync(join(FIXTURES, "pinned-roots.json"), `${JSON.stringify(pinned, null, 2)}\n`);
}
