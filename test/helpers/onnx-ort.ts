// Test models with N-d initializers and any attribute type, converted here and run both by
// onnxruntime-node (the float reference) and by the native fixed-point engine; and a VM parity check
// on chosen kernel nodes.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import { expect } from "vitest";
import { defaultBackend } from "../../dnn/src/engine.js";
import { dequantize, quantizeArray } from "../../dnn/src/fixed.js";
import type { ModelPackage } from "../../dnn/src/package.js";
import { nodeInputs, runNodeInVm } from "../../game/link.js";
import { convertGraph } from "../../tools/convert/convert.js";
import { parseOnnx } from "../../tools/convert/onnx.js";

const { onnx } = onnxProto as unknown as { onnx: typeof import("onnx-proto").onnx };
const require = createRequire(import.meta.url);
const F32 = onnx.TensorProto.DataType.FLOAT;
const I32 = onnx.TensorProto.DataType.INT32;
const A = onnx.AttributeProto.AttributeType;

export type AttrV = number | string | number[] | string[] | { float: number } | { floats: number[] };

/** A node; integer-valued numbers become INT attributes unless wrapped as {float}. */
export function node(
  op: string,
  inputs: string[],
  outputs: string[],
  attrs: Record<string, AttrV> = {},
  name = `${op}_0`,
) {
  const attribute = Object.entries(attrs).map(([k, v]) => {
    if (typeof v === "number")
      return Number.isInteger(v) ? { name: k, type: A.INT, i: v } : { name: k, type: A.FLOAT, f: v };
    if (typeof v === "string") return { name: k, type: A.STRING, s: new TextEncoder().encode(v) };
    if (Array.isArray(v) && typeof v[0] === "string")
      return { name: k, type: A.STRINGS, strings: (v as string[]).map((s) => new TextEncoder().encode(s)) };
    if (Array.isArray(v)) return { name: k, type: A.INTS, ints: v as number[] };
    if ("float" in v) return { name: k, type: A.FLOAT, f: v.float };
    return { name: k, type: A.FLOATS, floats: v.floats };
  });
  return { opType: op, input: inputs, output: outputs, name, attribute };
}

export interface Tensor {
  shape: number[];
  data: number[];
  int?: boolean;
}

export interface Model {
  nodes: ReturnType<typeof node>[];
  /** Runtime inputs (float unless int). */
  inputs: Record<string, Tensor>;
  outputs: string[];
  initializers?: Record<string, Tensor>;
  opset?: number;
}

export function encode(m: Model): Uint8Array {
  const vi = (name: string, t?: Tensor) => ({
    name,
    type: {
      tensorType: {
        elemType: t?.int ? I32 : F32,
        ...(t ? { shape: { dim: t.shape.map((d) => ({ dimValue: d })) } } : {}),
      },
    },
  });
  const graph = {
    name: "g",
    node: m.nodes,
    initializer: Object.entries(m.initializers ?? {}).map(([name, t]) =>
      t.int
        ? { name, dims: t.shape, dataType: I32, int32Data: t.data }
        : { name, dims: t.shape, dataType: F32, floatData: t.data },
    ),
    input: Object.entries(m.inputs).map(([n, t]) => vi(n, t)),
    output: m.outputs.map((n) => vi(n)),
  };
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: "", version: m.opset ?? 14 }],
    graph,
  }).finish();
}

/** Seeded uniform values in [-scale, scale). */
export function rand(count: number, seed: number, scale = 1): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 * scale - scale;
  });
}

export function convert(m: Model, file = "model.onnx"): ModelPackage {
  return convertGraph(parseOnnx(encode(m), file), file);
}

/** onnxruntime's outputs, in m.outputs order. */
export async function ortRun(m: Model): Promise<Float64Array[]> {
  const ort = require("onnxruntime-node") as typeof import("onnxruntime-node");
  const dir = mkdtempSync(join(tmpdir(), "opml-ort-"));
  const file = join(dir, "m.onnx");
  writeFileSync(file, encode(m));
  const session = await ort.InferenceSession.create(file, { executionProviders: ["cpu"] });
  const feeds: Record<string, import("onnxruntime-node").Tensor> = {};
  for (const [name, t] of Object.entries(m.inputs)) {
    feeds[name] = t.int
      ? new ort.Tensor("int32", Int32Array.from(t.data), t.shape)
      : new ort.Tensor("float32", Float32Array.from(t.data), t.shape);
  }
  const res = await session.run(feeds);
  return m.outputs.map((n) => Float64Array.from(res[n].data as ArrayLike<number>, Number));
}

/** The native engine's outputs (dequantized), with every activation kept for VM checks. */
export function nativeRun(pkg: ModelPackage, m: Model) {
  const man = pkg.manifest;
  const inputs = man.inputs.map((slot) => {
    const t = m.inputs[man.activations[slot].name];
    return t.int ? Int32Array.from(t.data) : quantizeArray(t.data, "input");
  });
  const acts = defaultBackend().prepare(pkg).run(inputs, { keepAll: true });
  const outs = man.outputs.map((s) => dequantize(acts[s]));
  return { acts, outs };
}

/** Native vs onnxruntime within |err| ≤ atol + rtol·|ref| on every output. */
export async function expectMatchesOrt(m: Model, atol = 2e-3, rtol = 2e-3): Promise<ModelPackage> {
  return expectMatches(m, await ortRun(m), atol, rtol);
}

/** Native vs a given reference (e.g. onnxruntime on an equivalent model it can run). */
export function expectMatches(m: Model, ref: Float64Array[], atol = 2e-3, rtol = 2e-3): ModelPackage {
  const pkg = convert(m);
  const { outs } = nativeRun(pkg, m);
  expect(outs.length).toBe(ref.length);
  outs.forEach((o, i) => {
    expect(o.length, `output ${m.outputs[i]}`).toBe(ref[i].length);
    o.forEach((v, j) => {
      const e = ref[i][j];
      if (Math.abs(v - e) > atol + rtol * Math.abs(e))
        throw new Error(`output ${m.outputs[i]}[${j}]: got ${v}, onnxruntime ${e}`);
    });
  });
  return pkg;
}

/** Runs the chosen kernel nodes (default: all) in the VM; asserts byte-equal outputs to native. */
export function expectVmParity(
  pkg: ModelPackage,
  m: Model,
  pick: (k: number) => boolean = () => true,
): number {
  const { acts } = nativeRun(pkg, m);
  let checked = 0;
  pkg.manifest.nodes.forEach((n, k) => {
    if (!pick(k)) return;
    const run = runNodeInVm(pkg, k, nodeInputs(pkg, k, acts));
    n.outputs.forEach((s, i) => {
      expect(Array.from(run.outputs[i]), `node ${k} ${n.name}`).toEqual(Array.from(acts[s]));
    });
    checked++;
  });
  return checked;
}

/** Row-major data of a tensor permuted: out dim i is in dim perm[i]. */
export function permute(data: ArrayLike<number>, shape: number[], perm: number[]): Float64Array {
  const out = new Float64Array(data.length);
  const st = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const oshape = perm.map((p) => shape[p]);
  const idx = new Array(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let rem = o;
    for (let i = oshape.length - 1; i >= 0; i--) {
      idx[i] = rem % oshape[i];
      rem = Math.floor(rem / oshape[i]);
    }
    out[o] = data[perm.reduce((a, p, i) => a + idx[i] * st[p], 0)];
  }
  return out;
}
