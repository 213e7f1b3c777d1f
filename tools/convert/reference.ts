// Float reference: onnxruntime-node (CPU) on the original ONNX model, and error metrics against it.
import { createRequire } from "node:module";
import type { Manifest } from "../../dnn/src/package.js";
import { UserError } from "../../errors/index.js";
import { ConvertError } from "./onnx.js";

const require = createRequire(import.meta.url);

export interface FloatInput {
  name: string;
  shape: number[];
  dtype: "q16" | "i32";
  data: ArrayLike<number>;
}

/**
 * ORT feeds: q16 inputs as float32, i32 inputs (token ids, indices, a sample rate) in the
 * model's own integer type (int64 when the session does not say).
 */
function feedsOf(
  ort: typeof import("onnxruntime-node"),
  inputs: FloatInput[],
  session?: import("onnxruntime-node").InferenceSession,
) {
  const types = new Map<string, string>();
  for (const md of session?.inputMetadata ?? []) if (md.isTensor) types.set(md.name, md.type);
  const feeds: Record<string, import("onnxruntime-node").Tensor> = {};
  for (const i of inputs) {
    const t = types.get(i.name);
    const ints = Array.from(i.data);
    if (i.dtype === "q16") feeds[i.name] = new ort.Tensor("float32", Float32Array.from(i.data), i.shape);
    else if (t === "int32") feeds[i.name] = new ort.Tensor("int32", Int32Array.from(ints), i.shape);
    else if (t === "int8") feeds[i.name] = new ort.Tensor("int8", Int8Array.from(ints), i.shape);
    else if (t === "uint8") feeds[i.name] = new ort.Tensor("uint8", Uint8Array.from(ints), i.shape);
    else if (t === "bool") feeds[i.name] = new ort.Tensor("bool", Uint8Array.from(ints), i.shape);
    else
      feeds[i.name] = new ort.Tensor(
        "int64",
        BigInt64Array.from(ints, (v) => BigInt(v)),
        i.shape,
      );
  }
  return feeds;
}

/** Runs the float model; returns each graph output as float64. */
export async function runOnnxRuntime(onnxFile: string, inputs: FloatInput[]): Promise<Float64Array[]> {
  const ort = require("onnxruntime-node") as typeof import("onnxruntime-node");
  let session: import("onnxruntime-node").InferenceSession;
  try {
    session = await ort.InferenceSession.create(onnxFile, { executionProviders: ["cpu"] });
  } catch (e) {
    // The reference cannot run what it does not implement (e.g. a bool EyeLike): a user-facing
    // limit of the float comparison, not a converter bug.
    const why = ((e as Error).message ?? String(e)).split("\n")[0];
    throw new ConvertError(
      `${onnxFile}: onnxruntime cannot load the model for the float comparison (${why}); convert with --no-fidelity to skip it`,
      { file: onnxFile },
    );
  }
  checkFeeds(onnxFile, inputs, session);
  let res: Awaited<ReturnType<typeof session.run>>;
  try {
    res = await session.run(feedsOf(ort, inputs, session));
  } catch (e) {
    const why = ((e as Error).message ?? String(e)).split("\n")[0];
    throw new ReferenceMismatchError(
      `${onnxFile}: onnxruntime cannot run the model on these inputs (${why})`,
      {
        file: onnxFile,
      },
    );
  }
  return session.outputNames.map((n) => Float64Array.from(res[n].data as ArrayLike<number>, Number));
}

/** A float reference model whose inputs do not fit the package's (another model, another shape). */
export class ReferenceMismatchError extends UserError {
  override readonly kind: string = "reference";
}

/**
 * Refuses feeds the reference model does not take, with one line naming the input and both shapes
 * (onnxruntime's own error is a multi-line dump): a missing input name, another rank, or a fixed
 * dimension that differs (a symbolic dimension takes any size).
 */
function checkFeeds(
  onnxFile: string,
  inputs: FloatInput[],
  session: import("onnxruntime-node").InferenceSession,
): void {
  const meta = new Map(session.inputMetadata.map((md) => [md.name, md]));
  for (const i of inputs) {
    const md = meta.get(i.name);
    if (md === undefined)
      throw new ReferenceMismatchError(
        `${onnxFile}: has no input '${i.name}' (its inputs: ${session.inputNames.join(", ")}); is it the model this package was converted from?`,
        { file: onnxFile, tensor: i.name },
      );
    if (!md.isTensor) continue;
    const want = md.shape;
    const fits =
      want.length === i.shape.length &&
      want.every((d, k) => typeof d !== "number" || d < 0 || d === i.shape[k]);
    if (!fits)
      throw new ReferenceMismatchError(
        `${onnxFile}: input '${i.name}' has shape [${want.join(",")}] there, but the package's is [${i.shape.join(",")}]; is it the model this package was converted from?`,
        { file: onnxFile, tensor: i.name },
      );
  }
}

/**
 * A reusable ORT session for repeated runs (benchmarks, accuracy sweeps). `threads` is its intra-op
 * thread count: 1 (the default) matches our single-threaded engine.
 */
export async function onnxSession(onnxFile: string, threads = 1) {
  const ort = require("onnxruntime-node") as typeof import("onnxruntime-node");
  const session = await ort.InferenceSession.create(onnxFile, {
    executionProviders: ["cpu"],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  return {
    async run(name: string, shape: number[], data: Float32Array): Promise<Float32Array> {
      const res = await session.run({ [name]: new ort.Tensor("float32", data, shape) });
      return res[session.outputNames[0]].data as Float32Array;
    },
    /** Builds the feeds once (outside a timed call); the returned call runs and gives the first output. */
    bind(inputs: FloatInput[]): () => Promise<Float32Array> {
      const feeds = feedsOf(ort, inputs, session);
      return async () => (await session.run(feeds))[session.outputNames[0]].data as Float32Array;
    },
  };
}

export interface ErrorReport {
  maxAbs: number;
  /** max |err| / max |ref| over the tensor. */
  maxRel: number;
  /** Fraction of rows (over the last axis) whose argmax agrees. */
  argmaxAgree: number;
  rows: number;
}

export function compare(got: ArrayLike<number>, ref: ArrayLike<number>, lastDim: number): ErrorReport {
  let maxAbs = 0;
  let refMax = 0;
  for (let i = 0; i < ref.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(got[i] - ref[i]));
    refMax = Math.max(refMax, Math.abs(ref[i]));
  }
  const rows = Math.max(1, Math.floor(ref.length / Math.max(1, lastDim)));
  let agree = 0;
  for (let r = 0; r < rows; r++) {
    if (argmax(got, r * lastDim, lastDim) === argmax(ref, r * lastDim, lastDim)) agree++;
  }
  return { maxAbs, maxRel: refMax > 0 ? maxAbs / refMax : maxAbs, argmaxAgree: agree / rows, rows };
}

export function argmax(xs: ArrayLike<number>, off = 0, n = xs.length): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (xs[off + i] > xs[off + best]) best = i;
  return best;
}

/** Deterministic calibration input: xorshift32 uniform values in [0, 1) (ints: 0). */
export function calibrationInputs(m: Manifest, seed = 0x9e3779b9): FloatInput[] {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  return m.inputs.map((slot) => {
    const a = m.activations[slot];
    const n = a.shape.reduce((x, y) => x * y, 1);
    const data = Array.from({ length: n }, () =>
      a.dtype === "q16" ? Math.round(next() * 65536) / 65536 : 0,
    );
    return { name: a.name, shape: a.shape, dtype: a.dtype, data };
  });
}
