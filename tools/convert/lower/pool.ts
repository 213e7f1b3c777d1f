// Max and average pooling: the ONNX ops that become POOL kernels (dnn/assembly/pool.ts).
import { Binary, COPY_WORDS, Op } from "../../../dnn/src/opcodes.js";
import type { DType } from "../../../dnn/src/package.js";
import { ConvertError, type ONode } from "../onnx.js";
import { type CopyDesc, copyWords, numel } from "../views.js";
import {
  attrInt,
  attrInts,
  type Ctx,
  type Handler,
  hw,
  isIntVal,
  kernel,
  mkConst,
  need,
  shapeOf,
  spatialPads,
  to2,
  type Val,
} from "./context.js";

const H: Record<string, Handler> = {};

/** Output length of a pooled axis (ceil_mode: a last window must start inside input + begin pad). */
const outDimOf =
  (ceil: boolean) => (inp: number, k: number, s: number, d: number, p0: number, p1: number) => {
    const span = inp + p0 + p1 - d * (k - 1) - 1;
    let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
    if (ceil && (o - 1) * s >= inp + p0) o--;
    return o;
  };

/**
 * 3-D pooling as two POOL kernels: over (H, W) for every depth plane, then over depth with a
 * (kD × 1) window on the [N·C, D, OH·OW] view. Max is separable exactly. So is the average: the
 * window is a box, so its divisor (kD·kH·kW, or the in-input count with count_include_pad = 0) is
 * the product of the per-pass divisors; it rounds twice (error ≤ 1 unit in the last place).
 */
function pool3d(ctx: Ctx, n: ONode, x: Val, isAvg: boolean, w: string): Val {
  const [N, C, D, H_, W_] = shapeOf(x);
  if (n.outputs[1])
    throw new ConvertError(`${w}: MaxPool's Indices output is supported for 1-D and 2-D pools only`);
  const ks = attrInts(n, "kernel_shape") ?? [];
  if (ks.length !== 3) throw new ConvertError(`${w}: kernel_shape needs 3 values (got [${ks}])`);
  const strides = attrInts(n, "strides") ?? [1, 1, 1];
  const dil = attrInts(n, "dilations") ?? [1, 1, 1];
  const pads = spatialPads(n, [D, H_, W_], ks, strides, dil, w);
  const outDim = outDimOf(attrInt(n, "ceil_mode", 0) === 1);
  const cip = attrInt(n, "count_include_pad", 0);
  const OD = outDim(D, ks[0], strides[0], dil[0], pads[0], pads[3]);
  const OH = outDim(H_, ks[1], strides[1], dil[1], pads[1], pads[4]);
  const OW = outDim(W_, ks[2], strides[2], dil[2], pads[2], pads[5]);
  if (OD <= 0 || OH <= 0 || OW <= 0) throw new ConvertError(`${w}: output would be empty`);
  const dtype: DType = isIntVal(x) ? "i32" : "q16";
  const mode = isAvg ? 1 : 0;
  const p1 = [
    mode,
    N * C * D,
    H_,
    W_,
    OH,
    OW,
    ks[1],
    ks[2],
    strides[1],
    strides[2],
    pads[1],
    pads[2],
    dil[1],
    dil[2],
    cip,
  ];
  const hwTag = { ...n, name: `${n.name}#hw`, outputs: [`${n.outputs[0]}#hw`] };
  const planes = kernel(
    ctx,
    hwTag,
    {
      op: Op.POOL,
      params: p1,
      inputs: [x],
      outShapes: [[N, C, D, OH, OW]],
      outDtype: dtype,
      foldable: false,
    },
    w,
  )[0];
  const Q = OH * OW;
  const p2 = [mode, N * C, D, Q, OD, Q, ks[0], 1, strides[0], 1, pads[0], 0, dil[0], 1, cip];
  return kernel(
    ctx,
    n,
    {
      op: Op.POOL,
      params: p2,
      inputs: [planes],
      outShapes: [[N, C, OD, OH, OW]],
      outDtype: dtype,
      foldable: false,
    },
    w,
  )[0];
}

function poolK(ctx: Ctx, n: ONode, x: Val, isAvg: boolean, global: boolean, w: string): Val[] {
  const xs = shapeOf(x);
  const rank = xs.length - 2;
  if (rank === 3 && !global) return [pool3d(ctx, n, x, isAvg, w)];
  let [H_, W_] = global ? [1, 1] : hw(xs, w);
  let kH: number;
  let kW: number;
  let params: number[];
  let outShape: number[];
  if (global) {
    W_ = numel(xs.slice(2));
    H_ = 1;
    params = [isAvg ? 1 : 0, xs[0] * xs[1], 1, W_, 1, 1, 1, W_, 1, 1, 0, 0, 1, 1, 0];
    outShape = [xs[0], xs[1], ...new Array(rank).fill(1)];
  } else {
    const ks = attrInts(n, "kernel_shape");
    if (!ks) throw new ConvertError(`${w}: kernel_shape is required`);
    const strides = attrInts(n, "strides") ?? new Array(rank).fill(1);
    const dil = attrInts(n, "dilations") ?? new Array(rank).fill(1);
    const pads = spatialPads(n, xs.slice(2), ks, strides, dil, w);
    [kH, kW] = rank === 1 ? [1, ks[0]] : ks;
    const [sH, sW] = to2(strides, 1, rank);
    const [dH, dW] = to2(dil, 1, rank);
    const [pT, pL, pB, pR] = rank === 1 ? [0, pads[0], 0, pads[1]] : pads;
    const outDim = outDimOf(attrInt(n, "ceil_mode", 0) === 1);
    const OH = outDim(H_, kH, sH, dH, pT, pB);
    const OW = outDim(W_, kW, sW, dW, pL, pR);
    params = [
      isAvg ? 1 : 0,
      xs[0] * xs[1],
      H_,
      W_,
      OH,
      OW,
      kH,
      kW,
      sH,
      sW,
      pT,
      pL,
      dH,
      dW,
      attrInt(n, "count_include_pad", 0),
    ];
    outShape = rank === 1 ? [xs[0], xs[1], OW] : [xs[0], xs[1], OH, OW];
  }
  const dtype: DType = isIntVal(x) ? "i32" : "q16";
  const y = kernel(
    ctx,
    n,
    { op: Op.POOL, params, inputs: [x], outShapes: [outShape], outDtype: dtype, foldable: false },
    w,
  );
  if (n.outputs[1]) y.push(maxPoolIndices(ctx, n, x, params, outShape, w));
  return y;
}

/**
 * MaxPool's Indices (flat NCHW positions; storage_order 1: planes column-major): the windows laid out as [kH·kW, N·C·OH·OW] by a COPY
 * (padding filled with the smallest word, so it never wins), ARGMAX over the window axis (the first
 * maximum, as onnxruntime), a GATHER of each window position's offset kh·dH·W + kw·dW, and an
 * integer ADD of each window's origin (n·C + c)·H·W + (oh·sH − pT)·W + ow·sW − pL. Exact integers.
 */
function maxPoolIndices(ctx: Ctx, n: ONode, x: Val, p: number[], outShape: number[], w: string): Val {
  const order = attrInt(n, "storage_order", 0);
  if (order !== 0 && order !== 1)
    throw new ConvertError(`${w}: attribute storage_order=${order} is not supported (0 or 1)`);
  const [, NC, H_, W_, OH, OW, kH, kW, sH, sW, pT, pL, dH, dW] = p;
  const P = NC * OH * OW;
  const tag = (t: string): ONode => ({ ...n, name: `${n.name}#${t}`, outputs: [`${n.outputs[1]}#${t}`] });
  const descs: CopyDesc[] = [];
  let holes = false;
  const range = (k: number, s: number, d: number, pad: number, L: number, O: number) => {
    const off = k * d - pad;
    const lo = Math.max(0, Math.ceil(-off / s));
    const hi = Math.min(O - 1, Math.floor((L - 1 - off) / s));
    return [off, lo, hi];
  };
  for (let kh = 0; kh < kH; kh++)
    for (let kw = 0; kw < kW; kw++) {
      const [oh0, h0, h1] = range(kh, sH, dH, pT, H_, OH);
      const [ow0, w0, w1] = range(kw, sW, dW, pL, W_, OW);
      if (h0 > 0 || w0 > 0 || h1 < OH - 1 || w1 < OW - 1) holes = true;
      if (h0 > h1 || w0 > w1) continue;
      descs.push({
        src: 0,
        dst: 0,
        dims: [NC, h1 - h0 + 1, w1 - w0 + 1],
        srcOff: (h0 * sH + oh0) * W_ + w0 * sW + ow0,
        srcStrides: [H_ * W_, sH * W_, sW],
        dstOff: (kh * kW + kw) * P + h0 * OW + w0,
        dstStrides: [OH * OW, OW, 1],
      });
    }
  const words = descs.flatMap((d) => copyWords(d, w));
  const dtype: DType = isIntVal(x) ? "i32" : "q16";
  const cols = kernel(
    ctx,
    tag("windows"),
    {
      op: Op.COPY,
      params: [
        holes ? 1 : 0,
        holes ? -(2 ** 31) : 0,
        holes ? kH * kW * P : 0,
        words.length / COPY_WORDS,
        ...words,
      ],
      inputs: [x],
      outShapes: [[kH * kW, P]],
      outDtype: dtype,
      foldable: false,
    },
    w,
  )[0];
  const k = kernel(
    ctx,
    tag("argmax"),
    {
      op: Op.ARGMAX,
      params: [1, kH * kW, P, 0, 0],
      inputs: [cols],
      outShapes: [[P]],
      outDtype: "i32",
      foldable: false,
    },
    w,
  )[0];
  // Row-major planes (storage_order 0) step W per row, column-major (1) step H per column.
  const [rs, cs] = order === 0 ? [W_, 1] : [1, H_];
  const offs = Array.from({ length: kH * kW }, (_, t) => Math.floor(t / kW) * dH * rs + (t % kW) * dW * cs);
  const off = kernel(
    ctx,
    tag("offset"),
    {
      op: Op.GATHER,
      params: [1, kH * kW, 1, P],
      inputs: [mkConst([kH * kW], "int", offs, `${n.name}:window-offsets`), k],
      outShapes: [[P]],
      outDtype: "i32",
    },
    w,
  )[0];
  const origin = new Float64Array(P);
  for (let c = 0; c < NC; c++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        origin[(c * OH + oh) * OW + ow] = c * H_ * W_ + (oh * sH - pT) * rs + (ow * sW - pL) * cs;
  const one = [1, 1, 1, 1, 1, P];
  const st = [0, 0, 0, 0, 0, 1];
  return kernel(
    ctx,
    { ...n, name: `${n.name}#indices`, outputs: [n.outputs[1]] },
    {
      op: Op.BINARY,
      params: [Binary.ADD_INT, ...one, ...st, ...st],
      inputs: [off, mkConst([P], "int", origin, `${n.name}:window-origins`)],
      outShapes: [outShape],
      outDtype: "i32",
    },
    w,
  )[0];
}
H.MaxPool = (ctx, n, ins, w) => poolK(ctx, n, need(ins[0], 0, n, w), false, false, w);
H.AveragePool = (ctx, n, ins, w) => poolK(ctx, n, need(ins[0], 0, n, w), true, false, w);
H.GlobalAveragePool = (ctx, n, ins, w) => poolK(ctx, n, need(ins[0], 0, n, w), true, true, w);
H.GlobalMaxPool = (ctx, n, ins, w) => poolK(ctx, n, need(ins[0], 0, n, w), false, true, w);

export const POOL_HANDLERS = H;
