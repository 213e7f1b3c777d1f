import { defaultBackend } from "../../dnn/src/engine.js";
import { dequantize, intArray, quantizeArray } from "../../dnn/src/fixed.js";
import { OP_NAMES } from "../../dnn/src/opcodes.js";
import { loadPackage, type ModelPackage, numel, wordsOf } from "../../dnn/src/package.js";
import { UsageError } from "../../errors/index.js";
import { collectGarbage, convertToPackage } from "../convert/convert.js";
import { type Const, FLOAT_TYPES, type OGraph, readOnnx } from "../convert/onnx.js";
import { operatorRows, operatorsText } from "../convert/operators.js";
import {
  calibrationInputs,
  compare,
  type ErrorReport,
  type FloatInput,
  runOnnxRuntime,
} from "../convert/reference.js";
import { readInputFile, sha256File } from "./io.js";
import { type Progress, progress } from "./progress.js";

export interface ConvertArgs {
  model: string;
  out: string;
  name?: string;
  calib?: string;
  inputShape?: string[];
  /** Inputs fixed to constants at conversion: name=v0,v1,… (they leave the package's inputs). */
  inputValue?: string[];
  force?: boolean;
  fidelity?: boolean;
  /** Print one JSON object (and no progress). */
  json?: boolean;
  stepBudget?: number;
  /** Saturate --calib values outside the Q16.16 range (with a warning) instead of refusing them. */
  clamp?: boolean;
  /** int8: MATMUL/CONV weights as int8 with a Q16.16 scale per output channel. */
  weights?: "q16" | "int8";
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

/** `opml convert --list-ops`: the supported-operator table (as JSON rows with --json). */
export function listOpsCommand(json: boolean): void {
  console.log(json ? JSON.stringify(operatorRows(), null, 2) : operatorsText());
}

/**
 * --input-value name=v0,v1,…: graph inputs bound to constants, shaped by the model (or
 * --input-shape) and typed by its element type (integer inputs take integers only).
 */
function parseValues(
  specs: string[] | undefined,
  g: OGraph,
  shapes: Record<string, number[]> | undefined,
): Record<string, Const> | undefined {
  if (!specs) return undefined;
  const out: Record<string, Const> = {};
  for (const s of specs) {
    const fail = (why: string) => new UsageError(`--input-value '${s}': ${why}`, { arg: "--input-value" });
    const m = /^([^=]+)=(.+)$/.exec(s);
    if (!m) throw fail("expected name=v0,v1,…");
    const vi = g.inputs.find((v) => v.name === m[1]);
    if (!vi)
      throw fail(`the model has no input '${m[1]}' (inputs: ${g.inputs.map((v) => v.name).join(", ")})`);
    const values = m[2].split(",").map(Number);
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw fail(`value ${bad} is not a number`);
    const shape = shapes?.[vi.name] ?? vi.shape;
    if (shape.some((d) => typeof d !== "number"))
      throw fail(`input '${vi.name}' has symbolic dims; pass --input-shape too`);
    const n = numel(shape as number[]);
    if (values.length !== n)
      throw fail(`${values.length} values; input '${vi.name}' of shape [${shape}] needs ${n}`);
    const dtype = FLOAT_TYPES.has(vi.elemType) ? "float" : "int";
    if (dtype === "int" && !values.every(Number.isInteger))
      throw fail(`input '${vi.name}' is an integer tensor`);
    out[vi.name] = { shape: shape as number[], dtype, data: Float64Array.from(values) };
  }
  return out;
}

const MB = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

export async function convertCommand(a: ConvertArgs): Promise<void> {
  const budget = a.stepBudget;
  if (budget !== undefined && (!Number.isSafeInteger(budget) || budget < 2 ** 16 || budget > 2 ** 40)) {
    throw new UsageError(`--step-budget ${budget}: expected an integer in 2^16 … 2^40`, {
      arg: "--step-budget",
    });
  }
  const bar = progress(!a.json);
  bar.phase("reading ONNX");
  const g = readOnnx(a.model);
  bar.phase("converting");
  const fidelity: Fidelity[] = [];
  // Everything below happens in a temporary directory that becomes a.out only if it all succeeds.
  const inputShapes = parseShapes(a.inputShape);
  const constInputs = parseValues(a.inputValue, g, inputShapes);
  const m = await convertToPackage(g, a.model, a.out, {
    name: a.name,
    inputShapes,
    constInputs,
    stepBudget: budget,
    sourceSha256: sha256File(a.model),
    weights: a.weights,
    force: a.force,
    onProgress: (p) => bar.update(p.done, p.total, `weights ${MB(p.weightBytes)}`),
    check: async (tmp) => {
      // Loaded the normal way: the written package must verify against its own roots.
      await collectGarbage(); // what lowering left behind, before the package is loaded
      bar.phase("verifying package");
      const pkg = loadPackage(tmp);
      await collectGarbage(); // loadPackage's copy of weights.bin
      if (a.fidelity !== false) fidelity.push(...(await measureFidelity(pkg, a, bar, constInputs)));
    },
  });
  bar.end();
  const hist = new Map<string, number>();
  for (const n of m.nodes) hist.set(OP_NAMES[n.op], (hist.get(OP_NAMES[n.op]) ?? 0) + 1);
  const nWeights = m.weights.reduce((s, w) => s + numel(w.shape), 0);
  const weightBytes = m.weights.reduce((s, w) => s + 4 * wordsOf(w), 0);
  const int8 = m.weights.filter((w) => w.dtype === "i8").reduce((s, w) => s + numel(w.shape), 0);
  if (a.json) {
    console.log(
      JSON.stringify({
        out: a.out,
        modelRoot: m.modelRoot,
        opset: g.opset,
        onnxNodes: g.nodes.length,
        kernelNodes: m.nodes.length,
        weightTensors: m.weights.length,
        parameters: nWeights,
        weightBytes,
        int8Parameters: int8,
        fidelity: a.fidelity === false ? null : fidelity,
      }),
    );
    return;
  }
  console.log(`converted ${a.model} → ${a.out}`);
  console.log(
    `  opset ${g.opset}, ${g.nodes.length} ONNX nodes → ${m.nodes.length} kernel nodes (${[...hist].map(([k, v]) => `${k}×${v}`).join(", ")})`,
  );
  console.log(
    `  ${m.weights.length} weight tensors, ${nWeights} parameters${int8 ? ` (${int8} int8)` : ""}, ${MB(weightBytes)}; model root ${m.modelRoot}`,
  );
  if (a.fidelity !== false)
    console.log(
      `fidelity vs onnxruntime float (${a.calib ? a.calib : "generated calibration input"}):\n${fidelity
        .map(
          (f) =>
            `  output '${f.output}' [${f.shape}]: max abs err ${f.maxAbs.toExponential(3)}, max rel err ${f.maxRel.toExponential(3)}, argmax agreement ${(100 * f.argmaxAgree).toFixed(1)}% of ${f.rows} row(s)`,
        )
        .join("\n")}`,
    );
}

interface Fidelity extends ErrorReport {
  output: string;
  shape: number[];
}

/**
 * Native fixed-point run of the loaded package vs onnxruntime float on the ONNX file. One at a
 * time: the native engine is dropped before onnxruntime loads its own copy of the model.
 */
async function measureFidelity(
  pkg: ModelPackage,
  a: ConvertArgs,
  bar: Progress,
  bound: Record<string, Const> = {},
): Promise<Fidelity[]> {
  const m = pkg.manifest;
  let inputs: FloatInput[];
  if (a.calib) {
    const q = readInputFile(m, a.calib, a.clamp);
    inputs = m.inputs.map((slot, i) => ({
      name: m.activations[slot].name,
      shape: m.activations[slot].shape,
      dtype: m.activations[slot].dtype,
      data: m.activations[slot].dtype === "q16" ? dequantize(q[i]) : q[i],
    }));
  } else inputs = calibrationInputs(m);
  const q = inputs.map((i) => (i.dtype === "q16" ? quantizeArray(i.data, i.name) : intArray(i.data, i.name)));
  bar.phase("fidelity: native run");
  const outs = defaultBackend().prepare(pkg).run(q);
  pkg.weights.length = 0;
  await collectGarbage(); // the engine and the weights, before onnxruntime loads its own copy
  bar.phase("fidelity: onnxruntime run");
  // Inputs fixed by --input-value are constants in the package but still inputs of the ONNX model.
  const fixed: FloatInput[] = Object.entries(bound).map(([name, c]) => ({
    name,
    shape: c.shape,
    dtype: c.dtype === "float" ? "q16" : "i32",
    data: c.data,
  }));
  const refs = await runOnnxRuntime(a.model, [...inputs, ...fixed]);
  bar.end();
  return m.outputs.map((slot, k) => {
    const info = m.activations[slot];
    const got = info.dtype === "q16" ? dequantize(outs[slot]) : outs[slot];
    const r = compare(got, refs[k], info.shape[info.shape.length - 1] ?? 1);
    return { output: info.name, shape: info.shape, ...r };
  });
}
