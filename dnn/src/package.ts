// The model package on disk (docs/PROTOCOL.md §3): manifest.json + weights.bin.
import { closeSync, existsSync, fstatSync, openSync, readFileSync } from "node:fs";
import { endianness } from "node:os";
import { join } from "node:path";
import {
  contentChecksum,
  fromHex,
  type Hash,
  modelRoot,
  readFileInto,
  tensorRoots,
  toHex,
} from "../../commit/merkle.js";
import { UserError } from "../../errors/index.js";
import { dequantize, I32_MAX, I32_MIN, intArray, quantizeArray, SCALE } from "./fixed.js";
import { cacheEnabled, cacheHit, entriesHash, identityOf, sameStat, storeRecord } from "./root-cache.js";

export const FORMAT = "opml-model/1";

/** Element types of activations and most weights: one 32-bit word per element. */
export type DType = "q16" | "i32";
/**
 * Weights may also be i8 (int8 weights, docs/NUMERICS.md §8): one byte per element, held as
 * packed words (element i is byte i of the tensor's bytes).
 */
export type WeightDType = DType | "i8";

export interface TensorInfo {
  name: string;
  shape: number[];
  dtype: DType;
}

export interface WeightTensorInfo {
  name: string;
  shape: number[];
  dtype: WeightDType;
}

export interface WeightInfo extends WeightTensorInfo {
  /** Byte offset in weights.bin (32-byte aligned). */
  offset: number;
  root: `0x${string}`;
}

/** Kernel-node input: a weight index or an activation slot. */
export type Ref = ["w", number] | ["a", number];

export interface KernelNode {
  /** ONNX node name (or a derived one) and op type, for messages. */
  name: string;
  onnxOp: string;
  op: number;
  inputs: Ref[];
  /** Activation slots written by this node. */
  outputs: number[];
  params: number[];
}

export interface Manifest {
  format: typeof FORMAT;
  name: string;
  fracBits: 16;
  /** Activation slots: graph inputs first, then every node output in node order. */
  activations: TensorInfo[];
  inputs: number[];
  outputs: number[];
  weights: WeightInfo[];
  nodes: KernelNode[];
  modelRoot: `0x${string}`;
  /** Per-node VM step bound the registry enforces (docs/PROTOCOL.md §5.8); absent: 2^32. */
  maxSteps?: number;
  /** Where it came from (descriptive: in no root); sha256 of the ONNX file when convert recorded it. */
  source?: { file: string; opset: number; producer: string; sha256?: string };
}

export interface ModelPackage {
  dir?: string;
  manifest: Manifest;
  weights: Int32Array[];
  /** How loadPackage checked the weight roots: hashed them, or found a valid verified-root record. */
  rootCheck?: "hashed" | "cached";
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** 32-bit words a tensor occupies: one per element, or ⌈n/4⌉ for i8 (4 elements a word). */
export function wordsOf(info: { shape: readonly number[]; dtype: WeightDType }): number {
  const n = numel(info.shape);
  return info.dtype === "i8" ? Math.ceil(n / 4) : n;
}

/** A model package that cannot be read or does not verify against its roots. */
export class PackageError extends UserError {
  override readonly kind: string = "package";
}

/**
 * The whole file, read once (by both cores when big) into a fresh, so 4-byte aligned, buffer, with
 * fstat before and after.
 */
function readWeights(wpath: string) {
  const fd = openSync(wpath, "r");
  try {
    const before = fstatSync(fd, { bigint: true });
    const { bytes, read } = readFileInto(fd, Number(before.size));
    const after = fstatSync(fd, { bigint: true });
    // A file that shrank while being read: keep what was read; the checks below refuse what is missing.
    const buf = read < bytes.length ? bytes.subarray(0, read) : bytes;
    return { buf, before, stable: read === bytes.length && sameStat(before, after) };
  } catch (e) {
    throw new PackageError(`${wpath}: cannot read (${(e as Error).message})`, { file: wpath });
  } finally {
    closeSync(fd);
  }
}

const LITTLE_ENDIAN = endianness() === "LE";

/**
 * Each weight as an Int32Array over `buf` (no copy) where the host is little-endian and the buffer
 * 4-byte aligned; otherwise copied word by word. Refuses a weight outside the file.
 */
export function weightViews(buf: Uint8Array, weights: readonly WeightInfo[], wpath: string): Int32Array[] {
  const aligned = LITTLE_ENDIAN && buf.byteOffset % 4 === 0;
  return weights.map((w) => {
    const n = wordsOf(w);
    if (!Number.isInteger(w.offset) || w.offset < 0 || w.offset % 4 !== 0 || w.offset + 4 * n > buf.length) {
      throw new PackageError(`${wpath}: weight '${w.name}' lies outside the file (truncated?)`, {
        file: wpath,
      });
    }
    if (aligned) return new Int32Array(buf.buffer, buf.byteOffset + w.offset, n);
    const arr = new Int32Array(n);
    const dv = new DataView(buf.buffer, buf.byteOffset + w.offset, 4 * n);
    for (let i = 0; i < n; i++) arr[i] = dv.getInt32(4 * i, true);
    return arr;
  });
}

/**
 * Reads and verifies a package: every weight against its root (hashed on both cores, or vouched
 * for by a verified-root record of this very file, §3.1), and the model root against the roots.
 * The weights are views over one buffer holding weights.bin.
 */
export function loadPackage(dir: string): ModelPackage {
  const mpath = join(dir, "manifest.json");
  if (!existsSync(mpath))
    throw new PackageError(`${dir}: not a model package (no manifest.json)`, { file: dir });
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(mpath, "utf8"));
  } catch (e) {
    throw new PackageError(`${mpath}: invalid JSON (${(e as Error).message})`, { file: mpath });
  }
  if (manifest.format !== FORMAT)
    throw new PackageError(`${mpath}: unsupported format ${manifest.format}`, { file: mpath });
  const wpath = join(dir, "weights.bin");
  if (!existsSync(wpath)) throw new PackageError(`${dir}: weights.bin is missing`, { file: dir });
  const { buf, before, stable } = readWeights(wpath);
  const weights = weightViews(buf, manifest.weights, wpath);
  const id = cacheEnabled() && stable ? identityOf(before, contentChecksum(buf)) : undefined;
  const entries = entriesHash(manifest.weights.map((w, k) => [w.offset, 4 * weights[k].length, w.root]));
  const cached = id !== undefined && cacheHit(dir, id, entries);
  if (!cached) {
    const roots = tensorRoots(weights);
    manifest.weights.forEach((w, k) => {
      if (toHex(roots[k]) !== w.root)
        throw new PackageError(`${wpath}: weight '${w.name}' does not match its root`, { file: wpath });
    });
  }
  const root = toHex(modelRoot(manifest.weights.map((w) => fromHex(w.root))));
  if (root !== manifest.modelRoot)
    throw new PackageError(`${mpath}: modelRoot does not match the weight roots`, { file: mpath });
  if (id && !cached) storeRecord(dir, id, entries);
  return { dir, manifest, weights, rootCheck: cached ? "cached" : "hashed" };
}

/** weights.bin bytes: each tensor little-endian at its 32-byte-aligned offset. */
export function packWeights(weights: Int32Array[]): { bytes: Uint8Array; offsets: number[] } {
  const offsets: number[] = [];
  let off = 0;
  for (const w of weights) {
    offsets.push(off);
    off += Math.ceil((4 * w.length) / 32) * 32;
  }
  const bytes = new Uint8Array(off);
  const dv = new DataView(bytes.buffer);
  weights.forEach((w, k) => {
    for (let i = 0; i < w.length; i++) dv.setInt32(offsets[k] + 4 * i, w[i], true);
  });
  return { bytes, offsets };
}

export function weightRoots(weights: Int32Array[]): Hash[] {
  return tensorRoots(weights);
}

/**
 * User input JSON: {"shape":[…],"data":[…]} or {"inputs":{"name":{"shape","data"}}}, each tensor
 * with an optional "dtype" (ONNX's names: "float32", "int64", "bool", …). A scalar has shape []
 * and its data may be a bare number.
 */
export interface InputTensorJson {
  shape: number[];
  data: number[] | number;
  dtype?: string;
}

/** An input JSON that does not fit the model. */
export class InputError extends UserError {
  override readonly kind: string = "input";
}

/** An object: a JSON value that is neither null nor an array nor a scalar. */
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

const I32: [number, number] = [-(2 ** 31), 2 ** 31 - 1];
/**
 * Input dtypes: float ones are quantized (q16), integer ones are taken as they are (never
 * scaled) and must hold integers within the type's range and within int32, what the VM computes with.
 */
const DTYPES: Record<string, "float" | [number, number]> = {
  float: "float",
  float32: "float",
  float16: "float",
  bfloat16: "float",
  float64: "float",
  double: "float",
  int64: I32,
  int32: I32,
  int16: [-(2 ** 15), 2 ** 15 - 1],
  int8: [-128, 127],
  uint64: [0, I32[1]],
  uint32: [0, I32[1]],
  uint16: [0, 2 ** 16 - 1],
  uint8: [0, 255],
  bool: [0, 1],
};

/** One validated input tensor, its values as given (floats not yet quantized). */
export interface InputValues {
  name: string;
  shape: number[];
  dtype: DType;
  data: number[];
}

/**
 * Validates user inputs against the manifest: every input present, shapes and element counts as
 * the model's, the dtype (when given) of the model's kind, integer inputs integers in range.
 * Errors are one line naming the file, the input and the problem.
 */
export function inputValues(m: Manifest, json: unknown, source: string): InputValues[] {
  let byName: Record<string, unknown>;
  if (isObject(json) && "inputs" in json && json.inputs && isObject(json.inputs)) {
    byName = json.inputs;
  } else if (isObject(json) && "data" in json) {
    if (m.inputs.length !== 1) {
      throw new InputError(
        `${source}: the model has ${m.inputs.length} inputs; use {"inputs":{"<name>":…}}`,
        { file: source },
      );
    }
    byName = { [m.activations[m.inputs[0]].name]: json };
  } else {
    throw new InputError(`${source}: expected {"shape":[…],"data":[…]} or {"inputs":{…}}`, { file: source });
  }
  return m.inputs.map((slot) => {
    const info = m.activations[slot];
    const t = byName[info.name];
    const what = `${source}: input '${info.name}'`;
    const fail = (msg: string) => new InputError(`${what} ${msg}`, { file: source });
    if (t === undefined) throw new InputError(`${source}: missing input '${info.name}'`, { file: source });
    // A scalar's data may be a bare number.
    const raw =
      isObject(t) && !Array.isArray(t.data) && t.data !== undefined
        ? [t.data]
        : isObject(t)
          ? t.data
          : undefined;
    if (!isObject(t) || !Array.isArray(t.shape) || !Array.isArray(raw))
      throw fail(`needs "shape" and "data" arrays`);
    if (t.shape.length !== info.shape.length || t.shape.some((d, i) => d !== info.shape[i]))
      throw fail(`has shape [${t.shape}] but the model expects [${info.shape}]`);
    if (raw.length !== numel(info.shape))
      throw fail(`has ${raw.length} values; shape [${info.shape}] needs ${numel(info.shape)}`);
    const isInt = info.dtype === "i32";
    let range: [number, number] | undefined = isInt ? I32 : undefined;
    if (t.dtype !== undefined) {
      const d = typeof t.dtype === "string" ? DTYPES[t.dtype.toLowerCase()] : undefined;
      if (d === undefined)
        throw fail(`has dtype ${JSON.stringify(t.dtype)}; expected one of ${Object.keys(DTYPES).join(", ")}`);
      if ((d === "float") === isInt)
        throw fail(
          `has dtype '${t.dtype}' but the model's input is ${isInt ? 'an integer tensor (give integers, e.g. "int64")' : 'a float tensor (e.g. "float32")'}`,
        );
      if (d !== "float") range = d;
    }
    const data = raw.map((v, i) => {
      const x = typeof v === "boolean" && (t.dtype === "bool" || isInt) ? Number(v) : v;
      if (typeof x !== "number") throw fail(`element ${i} is ${JSON.stringify(v)}, not a number`);
      if (range) {
        if (!Number.isInteger(x)) throw fail(`element ${i} is ${x}; an integer input takes integers only`);
        if (x < range[0] || x > range[1])
          throw fail(
            `element ${i} is ${x}, outside ${t.dtype ?? "int32"} [${range[0]}, ${range[1]}]${range === I32 ? " (the VM computes with int32)" : ""}`,
          );
      }
      return x;
    });
    return { name: info.name, shape: info.shape, dtype: info.dtype, data };
  });
}

/**
 * Validates user inputs against the manifest (inputValues) and quantizes them (q16) or takes
 * them raw (i32: never scaled).
 */
export function prepareInputs(
  m: Manifest,
  json: unknown,
  source: string,
  opts: InputRangeOptions = {},
): Int32Array[] {
  return inputValues(m, json, source).map((t) => {
    const what = `${source}: input '${t.name}'`;
    let q: Int32Array;
    try {
      q = t.dtype === "q16" ? quantizeArray(t.data, what) : intArray(t.data, what);
    } catch (e) {
      throw new InputError((e as Error).message, { file: source, tensor: t.name });
    }
    if (t.dtype === "q16") checkQ16Range(t, what, source, opts);
    return q;
  });
}

/** What to do with float inputs outside the Q16.16 range (docs/NUMERICS.md §1). */
export interface InputRangeOptions {
  /** Saturate them to the range's limits (the quantization rule's own result) with a warning. */
  clamp?: boolean;
  /** Where the --clamp warning goes (one line naming the tensor and the count). */
  warn?: (message: string) => void;
}

/** The Q16.16 range as decimals: [-32768, (2^31 − 1) / 2^16]. */
const Q16_RANGE = `[${I32_MIN / SCALE}, ${(I32_MAX / SCALE).toFixed(5)}]`;

/**
 * A float input value that quantizes outside i32 (|x| ≳ 32768) would be saturated without a
 * word: refused (an error naming the tensor and the count), or with `clamp` a warning saying so.
 * The quantization rule itself is unchanged; this only decides whether its saturation is allowed.
 */
function checkQ16Range(t: InputValues, what: string, source: string, opts: InputRangeOptions): void {
  let count = 0;
  let first = -1;
  t.data.forEach((x, i) => {
    const r = Math.floor(x * SCALE + 0.5);
    if (r > I32_MAX || r < I32_MIN) {
      count++;
      if (first < 0) first = i;
    }
  });
  if (count === 0) return;
  const n = `${count} value${count === 1 ? "" : "s"}`;
  if (!opts.clamp)
    throw new InputError(
      `${what}: ${n} outside the Q16.16 range ${Q16_RANGE} (element ${first} is ${t.data[first]}); pass --clamp to saturate them to its limits`,
      { file: source, tensor: t.name },
    );
  opts.warn?.(`${what}: ${n} outside the Q16.16 range ${Q16_RANGE} clamped to its limits (--clamp)`);
}

export function decodeOutput(info: TensorInfo, q: Int32Array): number[] {
  return info.dtype === "q16" ? Array.from(dequantize(q)) : Array.from(q);
}
