import { readFileSync } from "node:fs";
import { tensorRoot, toHex } from "../../dnn/src/commit.js";
import { defaultBackend } from "../../dnn/src/engine.js";
import { decodeOutput, loadPackage } from "../../dnn/src/package.js";
import { argmax, compare, runOnnxRuntime } from "../convert/reference.js";
import { readInputFile } from "./io.js";

export interface InferArgs {
  dir: string;
  input: string;
  json?: boolean;
  compareOnnx?: string;
}

export async function inferCommand(a: InferArgs): Promise<void> {
  const pkg = loadPackage(a.dir);
  const m = pkg.manifest;
  const inputs = readInputFile(m, a.input);
  const t0 = performance.now();
  const acts = defaultBackend().prepare(pkg).run(inputs);
  const ms = performance.now() - t0;
  const outs = m.outputs.map((slot) => {
    const info = m.activations[slot];
    return {
      name: info.name,
      shape: info.shape,
      data: decodeOutput(info, acts[slot]),
      outputRoot: toHex(tensorRoot(acts[slot])),
    };
  });
  let errors: string[] = [];
  if (a.compareOnnx) {
    const raw = JSON.parse(readFileSync(a.input, "utf8"));
    const floatInputs = m.inputs.map((slot, i) => {
      const info = m.activations[slot];
      const t = raw.inputs ? raw.inputs[info.name] : raw;
      return {
        name: info.name,
        shape: info.shape,
        dtype: info.dtype,
        data: info.dtype === "q16" ? t.data : Array.from(inputs[i]),
      };
    });
    const refs = await runOnnxRuntime(a.compareOnnx, floatInputs);
    errors = outs.map((o, k) => {
      const r = compare(o.data, refs[k], o.shape[o.shape.length - 1] ?? 1);
      return `output '${o.name}': max abs err ${r.maxAbs.toExponential(3)}, max rel err ${r.maxRel.toExponential(3)}, argmax ${r.argmaxAgree === 1 ? "agrees" : "differs"} (onnxruntime float)`;
    });
  }
  if (a.json) {
    const first = outs[0];
    const obj: Record<string, unknown> = {
      shape: first.shape,
      data: first.data,
      outputRoot: first.outputRoot,
    };
    if (outs.length > 1) obj.outputs = outs;
    if (errors.length) obj.compare = errors;
    console.log(JSON.stringify(obj));
    return;
  }
  for (const o of outs) {
    console.log(`output '${o.name}' shape [${o.shape}] root ${o.outputRoot}`);
    const preview = o.data.slice(0, 10).map((v) => v.toFixed(5));
    console.log(`  data: [${preview.join(", ")}${o.data.length > 10 ? ", …" : ""}]`);
    if (o.shape.length > 0 && o.shape[o.shape.length - 1] > 1)
      console.log(`  argmax (last axis, first row): ${argmax(o.data, 0, o.shape[o.shape.length - 1])}`);
  }
  for (const e of errors) console.log(e);
  console.log(`native (wasm-cpu) inference: ${ms.toFixed(2)} ms`);
}
