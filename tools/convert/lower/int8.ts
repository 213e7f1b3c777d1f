// `convert --weights int8` (docs/NUMERICS.md §8): a MATMUL's constant B or a CONV's constant weights
// become int8 values q with one Q16.16 scale s per output channel (MATMUL: column n; CONV: output
// channel m), run by MATMUL_Q8 / CONV_Q8. The kernels compute exactly what MATMUL / CONV compute on
// the weights q·s, so the only new error is the rounding of each weight to its channel's grid.
// Floats are used here only on constants, before anything is committed.
import { Op } from "../../../dnn/src/opcodes.js";
import type { Ref } from "../../../dnn/src/package.js";
import type { Const, ONode } from "../onnx.js";
import { numel } from "../views.js";
import type { Ctx, KSpec, Q8Kernel } from "./context.js";

const ONE = 65536;
/** Largest scale with 127·s < 2^31: the dequantized weights q·s stay Q16.16 words. */
const MAX_SCALE = Math.floor((2 ** 31 - 1) / 127);

/**
 * One channel's int8 grid: s = ⌈max|w|·2^16 / 127⌉ (≥ 1, so |w|/s ≤ 127 needs no clamp but the
 * Q16.16 range's), q = round-half-away(w·2^16 / s).
 */
export function channelScale(maxAbs: number): number {
  if (!(maxAbs > 0)) return 1;
  return Math.min(MAX_SCALE, Math.max(1, Math.ceil((maxAbs * ONE) / 127)));
}

export function quantizeQ8(w: number, scale: number): number {
  const q = Math.round((Math.abs(w) * ONE) / scale) * Math.sign(w);
  return Math.max(-127, Math.min(127, q)) | 0;
}

/** Packs int8 values four to a little-endian word (element i is byte i): the i8 dtype's words. */
export function packI8(q: Int8Array): Int32Array {
  const words = new Int32Array(Math.ceil(q.length / 4));
  new Uint8Array(words.buffer).set(new Uint8Array(q.buffer, q.byteOffset, q.length));
  return words;
}

/** int8 values and per-channel scales of `get(ch, i)`, i < per, for ch < channels. */
function quantizeChannels(channels: number, per: number, get: (ch: number, i: number) => number) {
  const q = new Int8Array(channels * per);
  const scales = new Int32Array(channels);
  for (let ch = 0; ch < channels; ch++) {
    let max = 0;
    for (let i = 0; i < per; i++) max = Math.max(max, Math.abs(get(ch, i)));
    const s = channelScale(max);
    scales[ch] = s;
    for (let i = 0; i < per; i++) q[ch * per + i] = quantizeQ8(get(ch, i), s);
  }
  return { q, scales };
}

/** f's value, computed on the first call only. */
function once<T>(f: () => T): () => T {
  let v: T | undefined;
  return () => {
    v ??= f();
    return v;
  };
}

const isFloatConst = (
  v: KSpec["inputs"][number] | undefined,
): v is { kind: "const"; c: Const; name: string } => v?.kind === "const" && v.c.dtype === "float";

/**
 * The Q8 form of a MATMUL or CONV whose weights are a float constant (else undefined: the kernel
 * stays Q16). Returned as a thunk: lowering makes the weights only for a kernel it does not split.
 */
export function int8Kernel(ctx: Ctx, n: ONode, spec: KSpec, where: string): (() => Q8Kernel) | undefined {
  const w = spec.inputs[1];
  if (!isFloatConst(w)) return undefined;
  const name = w.name || `${n.name}:in1`;
  const other = (i: number): Ref | undefined => {
    const v = spec.inputs[i];
    if (!v) return undefined;
    if (v.kind === "act") return ["a", v.slot];
    return ctx.weight(v.c, v.name || `${n.name}:in${i}`, where, v.c.dtype === "int" ? "i32" : "q16");
  };
  if (spec.op === Op.MATMUL) {
    const p = spec.params;
    // B with batch strides is a stack of matrices, not one weight with output columns: stays Q16.
    if (p[8] !== 0 || p[9] !== 0 || p[10] !== 0 || p[11] !== 0) return undefined;
    const [K, N, sBk, sBn] = [p[17], p[18], p[21], p[22]];
    if (K <= 0 || N <= 0) return undefined;
    return () => {
      // B(k, n) is element k·sBk + n·sBn of the constant; the int8 copy is row-major [K, N].
      const made = once(() => quantizeChannels(N, K, (ch, i) => w.c.data[i * sBk + ch * sBn]));
      const bq = ctx.rawWeight({ name: `${name}:q8`, shape: [K, N], dtype: "i8" }, () => {
        const { q } = made(); // channels first, [N][K]
        const t = new Int8Array(K * N);
        for (let c = 0; c < N; c++) for (let k = 0; k < K; k++) t[k * N + c] = q[c * K + k];
        return packI8(t);
      });
      const sc = ctx.rawWeight({ name: `${name}:q8scale`, shape: [N], dtype: "q16" }, () => made().scales);
      const params = [...p];
      params[21] = N; // sBk
      params[22] = 1; // sBn
      const a = other(0)!;
      const bias = other(2);
      return { op: Op.MATMUL_Q8, params, inputs: bias ? [a, bq, sc, bias] : [a, bq, sc] };
    };
  }
  if (spec.op === Op.CONV) {
    const M = spec.params[4];
    const total = numel(w.c.shape);
    if (M <= 0 || total % M !== 0) return undefined;
    const per = total / M; // weights are [M, C/group, kH, kW], contiguous per output channel
    return () => {
      const get = once(() => quantizeChannels(M, per, (ch, i) => w.c.data[ch * per + i]));
      const wq = ctx.rawWeight({ name: `${name}:q8`, shape: w.c.shape, dtype: "i8" }, () => packI8(get().q));
      const sc = ctx.rawWeight({ name: `${name}:q8scale`, shape: [M], dtype: "q16" }, () => get().scales);
      const x = other(0)!;
      const bias = other(2);
      return { op: Op.CONV_Q8, params: spec.params, inputs: bias ? [x, wq, sc, bias] : [x, wq, sc] };
    };
  }
  return undefined;
}
