// Spectral ops as MATMUL with constant matrices (dnn/assembly/matmul.ts): DFT and STFT multiply
// (framed, transposed) signals by a [length·c, 2·bins] matrix of cos/sin values computed here in
// float64 and quantized once; MelWeightMatrix is a constant generator folded at conversion.
import { Binary } from "../../../dnn/src/opcodes.js";
import { ConvertError } from "../onnx.js";
import { normAxis, numel, stridesOf } from "../views.js";
import {
  attrInt,
  constOf,
  derived,
  type Handler,
  intsOf,
  mkConst,
  need,
  type OpDoc,
  shapeOf,
  type Val,
} from "./context.js";
import { copyKernel, transposeView } from "./copy.js";
import { binaryK } from "./elementwise.js";
import { lowerMatMul } from "./linalg.js";

/**
 * Rows (n, part of x: re[, im]), columns (k, re/im of y): y[k] = Σ_n x[n]·e^(s·2πi·kn/N),
 * s = −1 forward, +1 inverse; rows n ≥ N stay zero (truncation), n ≥ L do not exist (zero
 * padding). window[n] multiplies row n. The inverse's 1/N is a DIV after the MATMUL: folded into
 * the matrix, each entry's quantization error (2^-17) would not shrink with it.
 */
function dftMatrix(L: number, c: number, N: number, K: number, inverse: boolean, window?: ArrayLike<number>) {
  const m = new Float64Array(L * c * K * 2);
  const s = inverse ? 1 : -1;
  for (let n = 0; n < Math.min(L, N); n++) {
    const wn = window ? window[n] : 1;
    for (let k = 0; k < K; k++) {
      // k·n mod N keeps the angle small, so cos/sin are as exact as float64 allows.
      const th = (2 * Math.PI * ((k * n) % N)) / N;
      const cs = Math.cos(th) * wn;
      const sn = s * Math.sin(th) * wn;
      const row = n * c;
      m[row * K * 2 + 2 * k] = cs;
      m[row * K * 2 + 2 * k + 1] = sn;
      if (c === 2) {
        m[(row + 1) * K * 2 + 2 * k] = -sn;
        m[(row + 1) * K * 2 + 2 * k + 1] = cs;
      }
    }
  }
  return m;
}

/** The same activation with another shape of as many elements (the kernels read flat buffers). */
const viewAs = (v: Val, shape: number[]): Val =>
  v.kind === "act" ? { ...v, shape } : { ...v, c: { ...v.c, shape } };

const H: Record<string, Handler> = {};

H.DFT = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const xs = shapeOf(x);
  const r = xs.length;
  const c = xs[r - 1];
  if (r < 3 || (c !== 1 && c !== 2))
    throw new ConvertError(`${w}: input must be [batch, …, signal, …, 1 or 2] (got [${xs}])`);
  const axisIn =
    ctx.opset >= 20 ? (ins[2] ? intsOf(constOf(ins[2], "axis", w))[0] : -2) : attrInt(n, "axis", 1);
  const ax = normAxis(axisIn, r, w);
  if (ax === 0 || ax === r - 1)
    throw new ConvertError(`${w}: axis ${axisIn} must be a signal axis (not batch or last)`);
  const L = xs[ax];
  const N = ins[1] ? intsOf(constOf(ins[1], "dft_length", w))[0] : L;
  if (!(N >= 1)) throw new ConvertError(`${w}: dft_length ${N} must be positive`);
  const inverse = attrInt(n, "inverse", 0) === 1;
  const onesided = attrInt(n, "onesided", 0) === 1;
  if (onesided && inverse)
    throw new ConvertError(`${w}: attribute onesided 1 with inverse 1 is not supported`);
  const K = onesided ? Math.floor(N / 2) + 1 : N;
  const outer = numel(xs.slice(0, ax));
  const inner = numel(xs.slice(ax + 1, r - 1));
  const outShape = [...xs.slice(0, ax), K, ...xs.slice(ax + 1, r - 1), 2];
  const W = derived(
    { shape: [L * c, 2 * K], dtype: "float", data: dftMatrix(L, c, N, K, inverse) },
    `${n.name}:dft${inverse ? "^-1" : ""}`,
  );
  const sub = (tag: string) => ({ ...n, name: `${n.name}#${tag}`, outputs: [`${n.outputs[0]}#${tag}`] });
  // A DIV by N rounds once; a Mul by the quantized 1/N would add its relative error (6e-5 for N = 10).
  const nC = mkConst([], "float", [N], `${n.name}:N`);
  if (inner === 1) {
    const y = lowerMatMul(ctx, inverse ? sub("dft") : n, [viewAs(x, [outer, L * c]), W], undefined, w)[0];
    return [inverse ? binaryK(ctx, n, viewAs(y, outShape), nC, Binary.DIV, w) : fixShape(ctx, y, outShape)];
  }
  // Bring the signal axis next to the last one: [outer, inner, L·c] rows, then back.
  const xt = transposeView(
    ctx,
    sub("signal-last"),
    x,
    [outer, L, inner, c],
    [0, 2, 1, 3],
    [outer, inner, L, c],
    w,
  );
  let y = lowerMatMul(ctx, sub("dft"), [viewAs(xt, [outer * inner, L * c]), W], undefined, w)[0];
  if (inverse) y = binaryK(ctx, sub("/N"), y, nC, Binary.DIV, w);
  return [transposeView(ctx, n, y, [outer, inner, K, 2], [0, 2, 1, 3], outShape, w)];
};

/** A MATMUL output declared with the ONNX shape (same elements, row-major). */
function fixShape(ctx: import("./context.js").Ctx, v: Val, shape: number[]): Val {
  if (v.kind === "const") return viewAs(v, shape);
  ctx.activations[v.slot] = { ...ctx.activations[v.slot], shape };
  return { ...v, shape };
}

H.STFT = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const xs = shapeOf(x);
  if (xs.length !== 3 || (xs[2] !== 1 && xs[2] !== 2))
    throw new ConvertError(`${w}: signal must be [batch, length, 1 or 2] (got [${xs}])`);
  const [B, L, c] = xs;
  const step = intsOf(constOf(ins[1], "frame_step", w))[0];
  const win = ins[2] ? constOf(ins[2], "window", w).data : undefined;
  const fl = ins[3] ? intsOf(constOf(ins[3], "frame_length", w))[0] : win?.length;
  if (fl === undefined) throw new ConvertError(`${w}: needs a window or a frame_length`);
  if (win && win.length !== fl)
    throw new ConvertError(`${w}: window has ${win.length} values, frame_length is ${fl}`);
  if (!(step >= 1) || !(fl >= 1) || fl > L)
    throw new ConvertError(`${w}: frame_step ${step} / frame_length ${fl} do not fit a signal of ${L}`);
  const onesided = attrInt(n, "onesided", 1) === 1;
  const K = onesided ? Math.floor(fl / 2) + 1 : fl;
  const F = Math.floor((L - fl) / step) + 1;
  // Frames as one strided COPY (overlapping reads), then one MATMUL with the windowed DFT matrix.
  const framed = copyKernel(
    ctx,
    { ...n, name: `${n.name}#frames`, outputs: [`${n.outputs[0]}#frames`] },
    [x],
    [
      {
        src: 0,
        dst: 0,
        dims: [B, F, fl * c],
        srcOff: 0,
        srcStrides: [L * c, step * c, 1],
        dstOff: 0,
        dstStrides: stridesOf([B, F, fl * c]),
      },
    ],
    [[B * F, fl * c]],
    w,
  )[0];
  const W = derived(
    { shape: [fl * c, 2 * K], dtype: "float", data: dftMatrix(fl, c, fl, K, false, win) },
    `${n.name}:stft`,
  );
  const y = lowerMatMul(ctx, n, [framed, W], undefined, w)[0];
  return [fixShape(ctx, y, [B, F, K, 2])];
};

H.MelWeightMatrix = (_ctx, n, ins, w) => {
  const [bins, dftLen, rate] = [0, 1, 2].map(
    (i) => intsOf(constOf(ins[i], ["num_mel_bins", "dft_length", "sample_rate"][i], w))[0],
  );
  const lo = constOf(ins[3], "lower_edge_hertz", w).data[0];
  const hi = constOf(ins[4], "upper_edge_hertz", w).data[0];
  if (!(bins >= 1 && dftLen >= 1 && rate >= 1 && hi > lo && lo >= 0))
    throw new ConvertError(
      `${w}: num_mel_bins ${bins}, dft_length ${dftLen}, sample_rate ${rate} or edges invalid`,
    );
  const nSpec = Math.floor(dftLen / 2) + 1;
  const mel = (f: number) => 2595 * Math.log10(1 + f / 700);
  const lowMel = mel(lo);
  const melStep = (mel(hi) - lowMel) / (bins + 2);
  // ONNX's reference: bin edges on the mel scale, back to Hz, then to DFT bins by floor division.
  const edge = Array.from({ length: bins + 2 }, (_, i) => {
    const hz = 700 * (10 ** ((i * melStep + lowMel) / 2595) - 1);
    return Math.trunc(Math.floor(((dftLen + 1) * hz) / rate));
  });
  const out = new Float64Array(nSpec * bins);
  const set = (j: number, i: number, v: number) => {
    if (j < 0 || j >= nSpec) throw new ConvertError(`${w}: mel bin edge ${j} outside the ${nSpec} DFT bins`);
    out[j * bins + i] = v;
  };
  for (let i = 0; i < bins; i++) {
    const [l, ce, h] = [edge[i], edge[i + 1], edge[i + 2]];
    if (ce === l) set(ce, i, 1);
    else for (let j = l; j <= ce; j++) set(j, i, (j - l) / (ce - l));
    if (h > ce) for (let j = ce; j < h; j++) set(j, i, (h - j) / (h - ce));
  }
  const dt = attrInt(n, "output_datatype", 1);
  const isInt = ![1, 10, 11, 16].includes(dt);
  return [mkConst([nSpec, bins], isInt ? "int" : "float", isInt ? out.map(Math.trunc) : out, n.outputs[0])];
};

export const SPECTRAL_HANDLERS = H;

export const SPECTRAL_DOCS: Record<string, OpDoc> = {
  DFT: {
    opsets: "17+",
    attrs: "axis (17: attribute, 20: constant input), inverse, onesided (forward only); constant dft_length",
    notes:
      "one MATMUL with a constant [length·c, 2·bins] cos/sin matrix (float64, quantized once), with COPY " +
      "transposes when the signal axis is not next to the last; zero padding / truncation to dft_length",
  },
  STFT: {
    opsets: "17+",
    attrs: "onesided; constant frame_step, window, frame_length",
    notes: "frames by one strided COPY, then one MATMUL with the windowed DFT matrix",
  },
  MelWeightMatrix: {
    opsets: "17+",
    attrs: "output_datatype",
    notes: "constant inputs only: folded in float64 as ONNX's reference computes it",
  },
};
