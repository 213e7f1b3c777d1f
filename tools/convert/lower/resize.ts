// Resize / Upsample, Pad's index modes (reflect, edge, wrap) and ConvTranspose. All of them are
// linear maps whose coefficients are fixed once shapes are: nothing new runs in the VM.
// - Resize is separable: each resized axis is a constant matrix [out, in] (docs/NUMERICS.md §Resize).
//   A matrix with one 1 per row (nearest, or linear exactly on grid points) becomes a COPY (when
//   the source index is a + s·⌊o/k⌋: integer up/down-sampling) or a GATHER with constant indices;
//   any other becomes one MATMUL with the matrix quantized to Q16 (each row re-summed to exactly 1.0).
// - Pad reflect/edge/wrap: per padded axis one COPY whose descriptors are runs of the index map.
// - ConvTranspose: the input scattered into a zero buffer (COPY with fill) at stride positions, then
//   a stride-1 Conv with the kernel flipped and its channel axes swapped: one rounding, as Conv.
import { stepBound } from "../../../dnn/src/cost.js";
import { COPY_WORDS, Op } from "../../../dnn/src/opcodes.js";
import { type Const, ConvertError, type ONode } from "../onnx.js";
import { type CopyDesc, copyWords, normAxis, numel, stridesOf } from "../views.js";
import {
  attrFloat,
  attrInt,
  attrInts,
  attrStr,
  type Ctx,
  constOf,
  derived,
  type Handler,
  intsOf,
  isIntVal,
  kernel,
  mkConst,
  need,
  type OpDoc,
  shapeOf,
  type Val,
} from "./context.js";
import { contiguous } from "./copy-kernel.js";
import { copyK, indexAxis, step, view } from "./index-map.js";
import { lowerConv, lowerMatMul } from "./linalg.js";

const ONE = 65536;

// ---------- Resize / Upsample ----------

/**
 * Source coordinate of output index o. As ONNX's reference, `len` is the real-valued output length
 * (scale·in, the given size when sizes are given) and `outLen` the integer one.
 */
type Coord = (o: number, inLen: number, len: number, scale: number, outLen: number) => number;

const COORD: Record<string, Coord> = {
  half_pixel: (o, _i, _n, s) => (o + 0.5) / s - 0.5,
  half_pixel_symmetric: (o, i, n, s, outLen) => {
    const adj = outLen / n;
    return (i / 2) * (1 - adj) + (o + 0.5) / s - 0.5;
  },
  pytorch_half_pixel: (o, _i, n, s) => (n === 1 ? -0.5 : (o + 0.5) / s - 0.5),
  align_corners: (o, i, n) => (n === 1 ? 0 : (o * (i - 1)) / (n - 1)),
  asymmetric: (o, _i, _n, s) => o / s,
  tf_half_pixel_for_nn: (o, _i, _n, s) => (o + 0.5) / s,
};

type Nearest = (x: number, downsampling: boolean) => number;
const NEAREST: Record<string, Nearest> = {
  round_prefer_floor: (x) => (x === Math.floor(x) + 0.5 ? Math.floor(x) : Math.round(x)),
  round_prefer_ceil: (x) => Math.round(x),
  floor: (x) => Math.floor(x),
  ceil: (x) => Math.ceil(x),
  // Resize-10 and Upsample (onnxruntime's "simple"): ceil when downsampling, else truncate.
  simple: (x, down) => (down ? Math.ceil(x) : Math.trunc(x)),
};

function cubicCoeffs(r: number, A: number): number[] {
  const s = 1 - r;
  return [
    ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A,
    ((A + 2) * r - (A + 3)) * r * r + 1,
    ((A + 2) * s - (A + 3)) * s * s + 1,
    ((A * (s + 1) - 5 * A) * (s + 1) + 8 * A) * (s + 1) - 4 * A,
  ];
}

interface ResizeOpts {
  mode: string;
  coord: Coord;
  nearest: Nearest;
  cubicA: number;
  exclude: boolean;
  /** tf_crop_and_resize: [start, end] of the axis's roi, and the value outside it. */
  crop?: { start: number; end: number; extrapolation: number };
}

/**
 * The float interpolation matrix [out, in] of one axis, as ONNX's reference computes it
 * (onnx/reference/ops/op_resize.py): nearest picks one source; linear/cubic weigh the 2 or 4
 * neighbours of the source coordinate (edge-clamped, or dropped and renormalized with
 * exclude_outside). A row outside tf_crop_and_resize's roi is all zero (its value is the bias).
 */
function axisMatrix(inLen: number, outLen: number, scale: number, len: number, o: ResizeOpts): Float64Array {
  const m = new Float64Array(outLen * inLen);
  for (let r = 0; r < outLen; r++) {
    let x: number;
    if (o.crop) {
      const { start, end } = o.crop;
      x =
        len !== 1
          ? start * (inLen - 1) + (r * (end - start) * (inLen - 1)) / (len - 1)
          : 0.5 * (start + end) * (inLen - 1);
      if (x < 0 || x > inLen - 1) continue;
    } else x = o.coord(r, inLen, len, scale, outLen);
    if (o.mode === "nearest") {
      const i = Math.min(inLen - 1, Math.max(0, o.nearest(x, scale < 1)));
      m[r * inLen + i] = 1;
      continue;
    }
    const taps = o.mode === "linear" ? 2 : 4;
    // The reference's neighbours: the `taps` nearest indices of the edge-padded axis (pad ⌈taps/2⌉),
    // ties to the lower index; with x on the grid it takes ratio 1 (the same values).
    const f = Math.ceil(x) - 1;
    const ratio = x - f;
    const pad = taps / 2;
    let first = f - taps / 2 + 1;
    first = Math.max(-pad, Math.min(inLen - 1 + pad - (taps - 1), first));
    const c = o.mode === "linear" ? [1 - ratio, ratio] : cubicCoeffs(ratio, o.cubicA);
    const idx = c.map((_, t) => first + t);
    if (o.exclude) {
      let sum = 0;
      idx.forEach((i, t) => {
        if (i < 0 || i >= inLen) c[t] = 0;
        sum += c[t];
      });
      for (let t = 0; t < taps; t++) c[t] /= sum;
    }
    idx.forEach((i, t) => {
      const k = Math.min(inLen - 1, Math.max(0, i));
      m[r * inLen + k] += c[t];
    });
  }
  return m;
}

/** Q16 weights, each row re-summed to its exact rounded float sum (1.0 for every interpolating row). */
function quantizeRows(m: Float64Array, rows: number, cols: number): Float64Array {
  const q = new Float64Array(m.length);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    let qsum = 0;
    let big = r * cols;
    for (let c = r * cols; c < (r + 1) * cols; c++) {
      q[c] = Math.round(m[c] * ONE);
      sum += m[c];
      qsum += q[c];
      if (Math.abs(m[c]) > Math.abs(m[big])) big = c;
    }
    q[big] += Math.round(sum * ONE) - qsum;
  }
  return q.map((v) => v / ONE);
}

function resizeCore(
  ctx: Ctx,
  n: ONode,
  x: Val,
  outShape: number[],
  scales: number[],
  lens: number[],
  o: ResizeOpts,
  roi: number[] | undefined,
  w: string,
): Val {
  const xs = shapeOf(x);
  const r = xs.length;
  const axes = xs.map((_, i) => i).filter((i) => outShape[i] !== xs[i] || scales[i] !== 1 || o.crop);
  // Downsampling axes first: later matrices then multiply fewer rows.
  axes.sort((a, b) => outShape[a] / xs[a] - outShape[b] / xs[b] || a - b);
  const mats = axes.map((ax) => {
    const oo: ResizeOpts =
      o.crop && roi ? { ...o, crop: { ...o.crop, start: roi[ax], end: roi[ax + r] } } : o;
    return axisMatrix(xs[ax], outShape[ax], scales[ax], lens[ax], oo);
  });
  const oneHot = mats.map((m, k) => {
    const L = xs[axes[k]];
    const idx: number[] = [];
    for (let row = 0; row < m.length / L; row++) {
      const i = m.subarray(row * L, (row + 1) * L).indexOf(1);
      if (i < 0 || m.subarray(row * L, (row + 1) * L).some((v, j) => j !== i && v !== 0)) return undefined;
      idx.push(i);
    }
    return idx;
  });
  if (o.mode !== "nearest" && isIntVal(x) && oneHot.some((i) => !i))
    throw new ConvertError(`${w}: mode '${o.mode}' on an integer tensor is not supported`);
  let v = x;
  let shape = [...xs];
  axes.forEach((ax, k) => {
    const last = k === axes.length - 1;
    const nk = last ? n : step(n, `axis${ax}`);
    const L = shape[ax];
    const O = outShape[ax];
    const idx = oneHot[k];
    const next = shape.map((d, i) => (i === ax ? O : d));
    // One-hot rows (never a row outside a crop roi, which is all zero): an exact index map.
    if (idx) {
      v = indexAxis(ctx, nk, v, ax, idx, w);
    } else {
      const q = quantizeRows(mats[k], O, L);
      const outer = numel(shape.slice(0, ax));
      const inner = numel(shape.slice(ax + 1));
      // Rows outside a crop roi (all zero) take the extrapolation value through the bias; later
      // axes keep it, since their rows sum to exactly 1.
      const ext = o.crop?.extrapolation ?? 0;
      let bias: Val | undefined;
      if (ext !== 0) {
        const b = new Float64Array(O);
        for (let row = 0; row < O; row++)
          if (mats[k].subarray(row * L, (row + 1) * L).every((t) => t === 0)) b[row] = ext;
        bias = mkConst(inner === 1 ? [O] : [O, 1], "float", b, `${n.name}:ext${ax}`);
      }
      if (inner === 1) {
        // [outer, L] · Mᵀ[L, O]
        const mt = new Float64Array(L * O);
        for (let row = 0; row < O; row++) for (let c = 0; c < L; c++) mt[c * O + row] = q[row * L + c];
        const b = mkConst([L, O], "float", mt, `${n.name}:resize${ax}`);
        v = rowChunkedMatmul(ctx, nk, view(v, [outer, L]), b, bias, w);
      } else {
        // M[O, L] · x[outer, L, inner]
        const a = mkConst([O, L], "float", q, `${n.name}:resize${ax}`);
        v = lowerMatMul(ctx, nk, [a, view(v, [outer, L, inner])], bias, w)[0];
      }
      // The MATMUL declared its 2-D/3-D view; the activation is the resized tensor.
      if (v.kind === "act") ctx.activations[v.slot].shape = next;
      v = view(v, next);
    }
    shape = next;
  });
  if (v === x) {
    // An identity resize still needs its own output value.
    v = copyK(ctx, n, x, [contiguous(numel(xs))], xs, w);
  }
  return view(v, outShape);
}

/**
 * x[rows, L] · B[L, O] in chunks of whole rows when one MATMUL is over the step budget: the generic
 * splitter (lower/split.ts) would cut B's columns into 4-wide chunks, whose strided join costs about
 * twice the contiguous row copies done here.
 */
function rowChunkedMatmul(ctx: Ctx, n: ONode, x: Val, b: Val, bias: Val | undefined, w: string): Val {
  const [rows, L] = shapeOf(x);
  const O = shapeOf(b)[1];
  const budget = ctx.budget?.steps ?? Number.POSITIVE_INFINITY;
  const whole = [1, 1, 1, 1, ...new Array(12).fill(0), rows, L, O, L, 1, 1, L, bias ? 1 : 0, 0, 1, 0, 0];
  if (x.kind === "const" || stepBound(Op.MATMUL, whole) <= budget)
    return lowerMatMul(ctx, n, [x, b], bias, w)[0];
  let per = rows;
  while (
    per > 1 &&
    stepBound(
      Op.MATMUL,
      whole.map((v, i) => (i === 16 ? per : v)),
    ) > budget
  )
    per = Math.ceil(per / 2);
  const parts: Val[] = [];
  for (let r0 = 0; r0 < rows; r0 += per) {
    const r1 = Math.min(rows, r0 + per);
    const d: CopyDesc = {
      src: 0,
      dst: 0,
      dims: [(r1 - r0) * L],
      srcOff: r0 * L,
      srcStrides: [1],
      dstOff: 0,
      dstStrides: [1],
    };
    const xs = copyK(ctx, step(n, `rows${r0}`), x, [d], [r1 - r0, L], w);
    parts.push(lowerMatMul(ctx, step(n, `mm${r0}`), [xs, b], bias, w)[0]);
  }
  const descs = parts.map(
    (_, i): CopyDesc => ({
      src: i,
      dst: 0,
      dims: [(Math.min(rows, (i + 1) * per) - i * per) * O],
      srcOff: 0,
      srcStrides: [1],
      dstOff: i * per * O,
      dstStrides: [1],
    }),
  );
  const words = descs.flatMap((d) => copyWords(d, w));
  return kernel(
    ctx,
    n,
    {
      op: Op.COPY,
      params: [0, 0, 0, words.length / COPY_WORDS, ...words],
      inputs: parts,
      outShapes: [[rows, O]],
      outDtype: "q16",
      foldable: false,
    },
    w,
  )[0];
}

const MODES = new Set(["nearest", "linear", "cubic"]);

function lowerResize(
  ctx: Ctx,
  n: ONode,
  x: Val,
  scalesIn: number[] | undefined,
  sizesIn: number[] | undefined,
  roiIn: number[] | undefined,
  legacy: boolean,
  w: string,
): Val {
  const xs = shapeOf(x);
  const r = xs.length;
  let mode = attrStr(n, "mode", "nearest");
  if (legacy && mode === "bilinear") mode = "linear";
  if (!MODES.has(mode))
    throw new ConvertError(`${w}: attribute mode='${mode}' is not supported (nearest, linear, cubic)`);
  const antialias = attrInt(n, "antialias", 0);
  if (antialias !== 0)
    throw new ConvertError(`${w}: attribute antialias=${antialias} is not supported (only antialias=0)`);
  const ctm = legacy ? "asymmetric" : attrStr(n, "coordinate_transformation_mode", "half_pixel");
  const nm = legacy ? "simple" : attrStr(n, "nearest_mode", "round_prefer_floor");
  const crop = ctm === "tf_crop_and_resize";
  if (!crop && !COORD[ctm])
    throw new ConvertError(`${w}: attribute coordinate_transformation_mode='${ctm}' is not supported`);
  if (!NEAREST[nm] || (nm === "simple") !== legacy)
    throw new ConvertError(`${w}: attribute nearest_mode='${nm}' is not supported`);
  const axesAttr = attrInts(n, "axes");
  const axes = axesAttr ? axesAttr.map((a) => normAxis(a, r, w)) : xs.map((_, i) => i);
  const full = (vals: number[], fill: number, what: string) => {
    if (vals.length !== axes.length)
      throw new ConvertError(`${w}: ${what} has ${vals.length} values for ${axes.length} axes`);
    const f = new Array(r).fill(fill);
    axes.forEach((a, i) => {
      f[a] = vals[i];
    });
    return f;
  };
  let scales: number[];
  let out: number[];
  let sizesGiven = false;
  if (sizesIn && sizesIn.length > 0) {
    const sizes = full(sizesIn, 0, "sizes").map((d, i) => (axes.includes(i) ? d : xs[i]));
    const policy = attrStr(n, "keep_aspect_ratio_policy", "stretch");
    if (policy === "stretch") {
      sizesGiven = true;
      out = sizes;
      scales = sizes.map((d, i) => d / xs[i]);
    } else if (policy === "not_larger" || policy === "not_smaller") {
      const ratios = axes.map((a) => sizes[a] / xs[a]);
      const s = policy === "not_larger" ? Math.min(...ratios) : Math.max(...ratios);
      scales = xs.map((_, i) => (axes.includes(i) ? s : 1));
      out = xs.map((d, i) => (axes.includes(i) ? Math.floor(s * d + 0.5) : d));
    } else throw new ConvertError(`${w}: attribute keep_aspect_ratio_policy='${policy}' is not supported`);
  } else if (scalesIn && scalesIn.length > 0) {
    scales = full(scalesIn, 1, "scales");
    out = xs.map((d, i) => Math.floor(d * scales[i]));
  } else throw new ConvertError(`${w}: Resize needs scales or sizes`);
  if (out.some((d) => d <= 0)) throw new ConvertError(`${w}: output shape [${out}] is empty`);
  if (scales.some((s) => !(s > 0))) throw new ConvertError(`${w}: scales [${scales}] must be positive`);
  let roi: number[] | undefined;
  if (crop) {
    if (!roiIn || roiIn.length === 0)
      throw new ConvertError(`${w}: coordinate_transformation_mode='tf_crop_and_resize' needs roi`);
    roi =
      roiIn.length === 2 * r
        ? roiIn
        : [...full(roiIn.slice(0, axes.length), 0, "roi"), ...full(roiIn.slice(axes.length), 1, "roi")];
  }
  const opts: ResizeOpts = {
    mode,
    coord: COORD[ctm] ?? COORD.asymmetric,
    nearest: NEAREST[nm],
    cubicA: attrFloat(n, "cubic_coeff_a", -0.75),
    exclude: attrInt(n, "exclude_outside", 0) === 1,
    crop: crop ? { start: 0, end: 1, extrapolation: attrFloat(n, "extrapolation_value", 0) } : undefined,
  };
  const lens = sizesGiven ? out : xs.map((d, i) => d * scales[i]);
  return resizeCore(ctx, n, x, out, scales, lens, opts, roi, w);
}

const optFloats = (v: Val | undefined, what: string, w: string) =>
  v ? Array.from(constOf(v, what, w).data) : undefined;

const H: Record<string, Handler> = {};

H.Resize = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  if (ctx.opset < 11)
    return [lowerResize(ctx, n, x, optFloats(ins[1], "scales", w), undefined, undefined, true, w)];
  const roi = optFloats(ins[1], "roi", w);
  const scales = optFloats(ins[2], "scales", w);
  const sizes = ins[3] ? intsOf(constOf(ins[3], "sizes", w)) : undefined;
  return [lowerResize(ctx, n, x, scales, sizes, roi, false, w)];
};

H.Upsample = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const scales = ctx.opset < 9 ? attrInts(n, "scales") : optFloats(ins[1], "scales", w);
  return [lowerResize(ctx, n, x, scales, undefined, undefined, true, w)];
};

// ---------- ConvTranspose ----------

H.ConvTranspose = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const wt = need(ins[1], 1, n, w);
  if (wt.kind !== "const") throw new ConvertError(`${w}: ConvTranspose weights must be a constant`);
  const xs = shapeOf(x);
  const ws = wt.c.shape;
  const rank = xs.length - 2;
  if (rank < 1 || rank > 3 || ws.length !== xs.length)
    throw new ConvertError(`${w}: ConvTranspose needs 1-D, 2-D or 3-D input and matching weights`);
  const group = attrInt(n, "group", 1);
  const C = xs[1];
  if (ws[0] !== C || C % group !== 0)
    throw new ConvertError(`${w}: weight has ${ws[0]} input channels, input has ${C} (group ${group})`);
  const Cg = C / group;
  const Mg = ws[1];
  const M = Mg * group;
  const k = attrInts(n, "kernel_shape") ?? ws.slice(2);
  const s = attrInts(n, "strides") ?? new Array(rank).fill(1);
  const d = attrInts(n, "dilations") ?? new Array(rank).fill(1);
  const outPad = attrInts(n, "output_padding") ?? new Array(rank).fill(0);
  const inSp = xs.slice(2);
  const span = inSp.map((L, i) => s[i] * (L - 1) + outPad[i] + (k[i] - 1) * d[i] + 1);
  const autoPad = attrStr(n, "auto_pad", "NOTSET");
  const outShapeAttr = attrInts(n, "output_shape");
  let pads: number[];
  if (outShapeAttr || autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
    // ONNX: total = span − out; SAME_UPPER puts the odd unit at the end, else at the start.
    const target = outShapeAttr ? outShapeAttr.slice(-rank) : inSp.map((L, i) => L * s[i]);
    // A negative total (output_shape past the full output) extends the end: zeros there.
    const total = span.map((t, i) => t - target[i]);
    pads = total.map((t) => (autoPad === "SAME_LOWER" ? t - Math.trunc(t / 2) : Math.trunc(t / 2)));
    pads.push(...total.map((t, i) => t - pads[i]));
  } else if (autoPad === "VALID" || autoPad === "NOTSET") {
    pads =
      autoPad === "VALID"
        ? new Array(2 * rank).fill(0)
        : (attrInts(n, "pads") ?? new Array(2 * rank).fill(0));
  } else throw new ConvertError(`${w}: attribute auto_pad='${autoPad}' is not supported`);
  const outSp = span.map((t, i) => t - pads[i] - pads[i + rank]);
  if (outSp.some((o) => o <= 0)) throw new ConvertError(`${w}: output would be empty [${outSp}]`);
  // Buffer: x scattered at stride positions, framed by (k−1)·d − pad zeros (negative: cropped).
  const lo = k.map((kk, i) => (kk - 1) * d[i] - pads[i]);
  const buf = outSp.map((o, i) => o + (k[i] - 1) * d[i]);
  const first = inSp.map((_, i) => Math.max(0, Math.ceil(-lo[i] / s[i])));
  const last = inSp.map((L, i) => Math.min(L - 1, Math.floor((buf[i] - 1 - lo[i]) / s[i])));
  if (first.some((f, i) => f > last[i])) throw new ConvertError(`${w}: pads crop away the whole input`);
  const bufShape = [xs[0], C, ...buf];
  const ist = stridesOf(xs);
  const bst = stridesOf(bufShape);
  const identity = s.every((v) => v === 1) && lo.every((v, i) => v === 0 && buf[i] === inSp[i]);
  const desc: CopyDesc = {
    src: 0,
    dst: 0,
    dims: [xs[0], C, ...first.map((f, i) => last[i] - f + 1)],
    srcOff: first.reduce((a, f, i) => a + f * ist[i + 2], 0),
    srcStrides: ist,
    dstOff: first.reduce((a, f, i) => a + (f * s[i] + lo[i]) * bst[i + 2], 0),
    dstStrides: bst.map((b, i) => (i < 2 ? b : b * s[i - 2])),
  };
  const xb = identity ? x : copyK(ctx, step(n, "scatter"), x, [desc], bufShape, w, true);
  // Conv weight [M, C/g, k…]: w'[g·Mg + m, c, k'] = w[g·Cg + c, m, k − 1 − k'].
  const kv = numel(k);
  const kst = stridesOf(k);
  const wd = new Float64Array(M * Cg * kv);
  for (let g = 0; g < group; g++)
    for (let m = 0; m < Mg; m++)
      for (let c = 0; c < Cg; c++)
        for (let t = 0; t < kv; t++) {
          // flipped spatial position
          let ft = 0;
          let rem = t;
          for (let i = 0; i < rank; i++) {
            const q = Math.floor(rem / kst[i]);
            rem -= q * kst[i];
            ft += (k[i] - 1 - q) * kst[i];
          }
          wd[((g * Mg + m) * Cg + c) * kv + t] = wt.c.data[((g * Cg + c) * Mg + m) * kv + ft];
        }
  const wc: Const = { shape: [M, Cg, ...k], dtype: "float", data: wd };
  const conv: ONode = {
    ...n,
    op: "Conv",
    attrs: {
      kernel_shape: k,
      strides: new Array(rank).fill(1),
      dilations: d,
      group,
      pads: new Array(2 * rank).fill(0),
    },
  };
  return lowerConv(ctx, conv, [xb, derived(wc, `${wt.name}^T`), ins[2]], undefined, w);
};

export const RESIZE_HANDLERS = H;

/** Rows for the ops this family adds or extends (Conv, pools: rank 5, MaxPool's Indices). */
export const RESIZE_DOCS: Record<string, OpDoc> = {
  Conv: {
    opsets: "1+",
    attrs: "1-D, 2-D, 3-D; strides, pads, dilations, group, auto_pad",
    notes:
      "CONV: 64-bit accumulation, one rounding per output; a following BatchNormalization is folded into the " +
      "weights; 3-D: a COPY laying out each output depth's kD input planes as channels, one 2-D CONV, a COPY " +
      "back (same exact sum, one rounding)",
  },
  MaxPool: {
    opsets: "1+",
    attrs:
      "1-D, 2-D, 3-D; kernel_shape, strides, pads, dilations, ceil_mode, auto_pad; Indices (1-D, 2-D; storage_order 0, 1)",
    notes:
      "a POOL kernel (3-D: one over H, W then one over depth, exact); Indices: COPY of the windows, ARGMAX, " +
      "GATHER of window offsets, integer ADD of window origins (exact; quantized ties take the first)",
  },
  AveragePool: {
    opsets: "1+",
    attrs: "1-D, 2-D, 3-D; kernel_shape, strides, pads, dilations, ceil_mode, count_include_pad, auto_pad",
    notes:
      "a POOL kernel, one rounded division (≤ 0.5 ulp); 3-D: two POOL passes (box divisor factors), ≤ 1 ulp",
  },
  Resize: {
    opsets: "10+",
    attrs:
      "mode nearest (nearest_mode round_prefer_floor, round_prefer_ceil, floor, ceil), linear (any rank, separable), " +
      "cubic (cubic_coeff_a, exclude_outside); coordinate_transformation_mode half_pixel, half_pixel_symmetric, " +
      "pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn, tf_crop_and_resize (roi, " +
      "extrapolation_value); scales or sizes (constant); axes, keep_aspect_ratio_policy; antialias=0 only",
    notes:
      "separable, one kernel per resized axis: a one-hot axis (nearest) is a COPY (integer factors) or a GATHER " +
      "with constant indices (exact); linear/cubic is a MATMUL with the Q16 interpolation matrix, rows re-summed " +
      "to exactly 1 (error ≤ 0.5 ulp + taps·max|x| ulp per axis, docs/NUMERICS.md §4, Resize); non-integer scale·in " +
      "follows ONNX's reference (real output length), where onnxruntime uses the integer one",
  },
  Upsample: {
    opsets: "7–9",
    attrs: "mode nearest, linear/bilinear; scales (attribute in 7, constant input in 9)",
    notes: "as Resize with coordinate mode asymmetric and onnxruntime's nearest rule (truncate)",
  },
  Pad: {
    opsets: "2+",
    attrs: "mode constant, reflect, edge, wrap; axes (18+); non-negative pads",
    notes:
      "constant: one COPY with fill; reflect/edge/wrap: one COPY per padded axis whose descriptors are the " +
      "index runs (exact); reflect needs pads smaller than the axis",
  },
  ConvTranspose: {
    opsets: "1+",
    attrs:
      "1-D, 2-D, 3-D; strides, pads, dilations, group, output_padding, output_shape, auto_pad; constant weights",
    notes:
      "COPY scattering the input into a zero buffer at stride positions, then a stride-1 Conv with the kernel " +
      "flipped and transposed: one rounding per output, as Conv",
  },
};
