import { defaultBackend } from "../../dnn/src/engine.js";
import { dequantize, intArray, quantizeArray } from "../../dnn/src/fixed.js";
import { OP_NAMES } from "../../dnn/src/opcodes.js";
import { loadPackage } from "../../dnn/src/package.js";
import { UsageError } from "../../errors/index.js";
import { convertGraph, writePackage } from "../convert/convert.js";
import { readOnnx } from "../convert/onnx.js";
import { calibrationInputs, compare, type FloatInput, runOnnxRuntime } from "../convert/reference.js";
import { readInputFile } from "./io.js";

export interface ConvertArgs {
  model: string;
  out: string;
  name?: string;
  calib?: string;
  inputShape?: string[];
  force?: boolean;
  fidelity?: boolean;
  stepBudget?: number;
}

function parseShapes(specs: string[] | undefined): Record<string, number[]> | undefined {
  if (!specs) return undefined;
  const out: Record<string, number[]> = {};
  for (const s of specs) {
    const m = /^([^=]+)=(\d+(?:,\d+)*)$/.exec(s);
    if (!m) throw new UsageError(`--input-shape '${s}': expected name=d0,d1,…`, { arg: "--input-shape" });
    out[m[1]] = m[2].split(",").map(Number);
  }
  return out;
}

export async function convertCommand(a: ConvertArgs): Promise<void> {
  const budget = a.stepBudget;
  if (budget !== undefined && (!Number.isSafeInteger(budget) || budget < 2 ** 16 || budget > 2 ** 40)) {
    throw new UsageError(`--step-budget ${budget}: expected an integer in 2^16 … 2^40`, {
      arg: "--step-budget",
    });
  }
  const g = readOnnx(a.model);
  const pkg = convertGraph(g, a.model, {
    name: a.name,
    inputShapes: parseShapes(a.inputShape),
    stepBudget: budget,
  });
  const m = pkg.manifest;
  // Fidelity is measured before anything is written, so a failing run leaves no package behind.
  let report = "";
  if (a.fidelity !== false) {
    let inputs: FloatInput[];
    if (a.calib) {
      const q = readInputFile(m, a.calib);
      inputs = m.inputs.map((slot, i) => ({
        name: m.activations[slot].name,
        shape: m.activations[slot].shape,
        dtype: m.activations[slot].dtype,
        data: m.activations[slot].dtype === "q16" ? dequantize(q[i]) : q[i],
      }));
    } else inputs = calibrationInputs(m);
    const q = inputs.map((i) =>
      i.dtype === "q16" ? quantizeArray(i.data, i.name) : intArray(i.data, i.name),
    );
    const outs = defaultBackend().prepare(pkg).run(q);
    const refs = await runOnnxRuntime(a.model, inputs);
    report = m.outputs
      .map((slot, k) => {
        const info = m.activations[slot];
        const got = info.dtype === "q16" ? dequantize(outs[slot]) : outs[slot];
        const r = compare(got, refs[k], info.shape[info.shape.length - 1] ?? 1);
        return `  output '${info.name}' [${info.shape}]: max abs err ${r.maxAbs.toExponential(3)}, max rel err ${r.maxRel.toExponential(3)}, argmax agreement ${(100 * r.argmaxAgree).toFixed(1)}% of ${r.rows} row(s)`;
      })
      .join("\n");
  }
  writePackage(pkg, a.out, a.force);
  loadPackage(a.out); // re-read: the written package must verify against its own roots
  const hist = new Map<string, number>();
  for (const n of m.nodes) hist.set(OP_NAMES[n.op], (hist.get(OP_NAMES[n.op]) ?? 0) + 1);
  const nWeights = pkg.weights.reduce((s, w) => s + w.length, 0);
  console.log(`converted ${a.model} → ${a.out}`);
  console.log(
    `  opset ${g.opset}, ${g.nodes.length} ONNX nodes → ${m.nodes.length} kernel nodes (${[...hist].map(([k, v]) => `${k}×${v}`).join(", ")})`,
  );
  console.log(`  ${m.weights.length} weight tensors, ${nWeights} parameters; model root ${m.modelRoot}`);
  if (report)
    console.log(
      `fidelity vs onnxruntime float (${a.calib ? a.calib : "generated calibration input"}):\n${report}`,
    );
}
