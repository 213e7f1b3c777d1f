// MatMul, Gemm and Conv: the ONNX ops that become MATMUL and CONV kernels (dnn/assembly/linalg.ts).
import { quantize } from "../../../dnn/src/fixed.js";
import { COPY_WORDS, Op } from "../../../dnn/src/opcodes.js";
import { type Const, ConvertError, type ONode } from "../onnx.js";
import { broadcastShapes, broadcastStrides, type CopyDesc, copyWords, numel } from "../views.js";
import {
  attrFloat,
  attrInt,
  attrInts,
  type Ctx,
  derived,
  type Handler,
  hw,
  kernel,
  need,
  shapeOf,
  spatialPads,
  to2,
  type Val,
} from "./context.js";
import { type BnParams, bnAffine } from "./norm.js";

const H: Record<string, Handler> = {};

function transposeLast2(c: Const): Const {
  const s = c.shape;
  const r = s.length;
  const rows = s[r - 2];
  const cols = s[r - 1];
  const batch = numel(s.slice(0, r - 2));
  const data = new Float64Array(c.data.length);
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++)
        data[b * rows * cols + j * rows + i] = c.data[b * rows * cols + i * cols + j];
  return { shape: [...s.slice(0, r - 2), cols, rows], dtype: c.dtype, data };
}

/**
 * Emits a MATMUL kernel: out[batch, M, N] = alpha·A·B (+ beta·C). A constant B is stored transposed
 * ([…, N, K]) so the inner product walks both operands contiguously.
 */
export function matmulK(
  ctx: Ctx,
  n: ONode,
  a: Val,
  aShape: number[],
  aT: boolean,
  b: Val,
  bShape: number[],
  bT: boolean,
  bias: Val | undefined,
  outShape: number[],
  alpha: number,
  beta: number,
  w: string,
  declShape: number[] = outShape,
): Val {
  const r = aShape.length;
  const [M, K] = aT ? [aShape[r - 1], aShape[r - 2]] : [aShape[r - 2], aShape[r - 1]];
  const rb = bShape.length;
  const [Kb, N] = bT ? [bShape[rb - 1], bShape[rb - 2]] : [bShape[rb - 2], bShape[rb - 1]];
  if (K !== Kb) throw new ConvertError(`${w}: inner dimensions differ (${K} vs ${Kb})`);
  let bv = b;
  let bTrans = bT;
  if (b.kind === "const") {
    let c = bT ? b.c : transposeLast2({ ...b.c, shape: bShape });
    if (alpha !== 1) c = { ...c, data: c.data.map((x) => x * alpha) };
    bv = derived(c, `${b.name}${bT ? "" : "^T"}${alpha !== 1 ? `*${alpha}` : ""}`);
    bTrans = true;
    alpha = 1;
  }
  let biasV = bias;
  if (bias && bias.kind === "const" && beta !== 1) {
    biasV = derived({ ...bias.c, data: bias.c.data.map((x) => x * beta) }, `${bias.name}*${beta}`);
    beta = 1;
  }
  const batchOut = outShape.slice(0, outShape.length - 2);
  if (batchOut.length > 4) throw new ConvertError(`${w}: more than 4 batch dimensions`);
  const batchStrides = (shape: number[], matSize: number) => {
    const bs = shape.slice(0, Math.max(0, shape.length - 2));
    const st = broadcastStrides(bs, batchOut).map((s) => s * matSize);
    return st;
  };
  const pad4 = (xs: number[], fill: number) => [...new Array(4 - xs.length).fill(fill), ...xs];
  const aBS = batchStrides(aShape, M * K);
  const bBS = batchStrides(bTrans ? [...bShape.slice(0, rb - 2), N, K] : bShape, K * N);
  let cBS: number[] = new Array(batchOut.length).fill(0);
  let sCm = 0;
  let sCn = 0;
  if (biasV) {
    const full = [...batchOut, M, N];
    const st = broadcastStrides(shapeOf(biasV), full);
    cBS = st.slice(0, batchOut.length);
    sCm = st[batchOut.length];
    sCn = st[batchOut.length + 1];
  }
  const params = [
    ...pad4(batchOut, 1),
    ...pad4(aBS, 0),
    ...pad4(bBS, 0),
    ...pad4(cBS, 0),
    M,
    K,
    N,
    aT ? 1 : K,
    aT ? M : 1,
    bTrans ? 1 : N,
    bTrans ? K : 1,
    biasV ? 1 : 0,
    sCm,
    sCn,
    quantize(alpha),
    quantize(beta),
  ];
  const inputs = biasV ? [a, bv, biasV] : [a, bv];
  return kernel(
    ctx,
    n,
    { op: Op.MATMUL, params, inputs, outShapes: [declShape], outDtype: "q16", foldable: false },
    w,
  )[0];
}

H.Gemm = (ctx, n, ins, w) => {
  const a = need(ins[0], 0, n, w);
  const b = need(ins[1], 1, n, w);
  const aT = attrInt(n, "transA", 0) === 1;
  const bT = attrInt(n, "transB", 0) === 1;
  const as = shapeOf(a);
  const bs = shapeOf(b);
  if (as.length !== 2 || bs.length !== 2) throw new ConvertError(`${w}: Gemm needs 2-D A and B`);
  const M = aT ? as[1] : as[0];
  const N = bT ? bs[0] : bs[1];
  return [
    matmulK(
      ctx,
      n,
      a,
      as,
      aT,
      b,
      bs,
      bT,
      ins[2],
      [M, N],
      attrFloat(n, "alpha", 1),
      attrFloat(n, "beta", 1),
      w,
    ),
  ];
};

/** MatMul, optionally with a fused constant bias from a following Add (see convert.ts). */
export function lowerMatMul(
  ctx: Ctx,
  n: ONode,
  ins: (Val | undefined)[],
  bias: Val | undefined,
  w: string,
): Val[] {
  const a = need(ins[0], 0, n, w);
  const b = need(ins[1], 1, n, w);
  let as = shapeOf(a);
  let bs = shapeOf(b);
  const aVec = as.length === 1;
  const bVec = bs.length === 1;
  if (aVec) as = [1, as[0]];
  if (bVec) bs = [bs[0], 1];
  const batch = broadcastShapes([as.slice(0, -2), bs.slice(0, -2)], w);
  const full = [...batch, as[as.length - 2], bs[bs.length - 1]];
  const bb = b.kind === "const" && bVec ? derived({ ...b.c, shape: bs }, b.name) : b;
  const aa = a.kind === "const" && aVec ? derived({ ...a.c, shape: as }, a.name) : a;
  const outShape = full.filter(
    (_, i) => !(aVec && i === full.length - 2) && !(bVec && i === full.length - 1),
  );
  return [matmulK(ctx, n, aa, as, false, bb, bs, false, bias, full, 1, 1, w, outShape)];
}
H.MatMul = (ctx, n, ins, w) => lowerMatMul(ctx, n, ins, undefined, w);

export function lowerConv(
  ctx: Ctx,
  n: ONode,
  ins: (Val | undefined)[],
  bn: BnParams | undefined,
  w: string,
): Val[] {
  const x = need(ins[0], 0, n, w);
  let wt = need(ins[1], 1, n, w);
  let bias = ins[2];
  const xs = shapeOf(x);
  const ws = shapeOf(wt);
  if (xs.length !== ws.length)
    throw new ConvertError(`${w}: input rank ${xs.length} and weight rank ${ws.length} differ`);
  const rank = xs.length - 2;
  const kernelShape = attrInts(n, "kernel_shape") ?? ws.slice(2);
  const strides = attrInts(n, "strides") ?? new Array(rank).fill(1);
  const dil = attrInts(n, "dilations") ?? new Array(rank).fill(1);
  const pads = spatialPads(n, xs.slice(2), kernelShape, strides, dil, w);
  const group = attrInt(n, "group", 1);
  const [kH, kW] = rank === 1 ? [1, kernelShape[0]] : kernelShape;
  const [sH, sW] = to2(strides, 1, rank);
  const [dH, dW] = to2(dil, 1, rank);
  const [pT, pL, pB, pR] = rank === 1 ? [0, pads[0], 0, pads[1]] : pads;
  const M = ws[0];
  const C = xs[1];
  if (ws[1] * group !== C)
    throw new ConvertError(`${w}: weight has ${ws[1]} channels per group × ${group} groups, input has ${C}`);
  if (bn) {
    if (wt.kind !== "const" || (bias && bias.kind !== "const"))
      throw new ConvertError(`${w}: cannot fold BatchNormalization into a conv with runtime weights`);
    const { s, t } = bnAffine(bn);
    const per = numel(ws) / M;
    const wd = wt.c.data.map((v, i) => v * s[Math.floor(i / per)]);
    const bd = new Float64Array(M).map((_, m) => (bias ? (bias as { c: Const }).c.data[m] : 0) * s[m] + t[m]);
    wt = derived({ ...wt.c, data: wd }, `${wt.name}+bn`);
    bias = derived({ shape: [M], dtype: "float", data: bd }, `${n.name}:bias+bn`);
  }
  if (rank === 3) return [conv3d(ctx, n, x, wt, bias, { kernelShape, strides, dil, pads, group }, w)];
  const [H_, W_] = hw(xs, w);
  const OH = Math.floor((H_ + pT + pB - dH * (kH - 1) - 1) / sH) + 1;
  const OW = Math.floor((W_ + pL + pR - dW * (kW - 1) - 1) / sW) + 1;
  if (OH <= 0 || OW <= 0) throw new ConvertError(`${w}: output would be empty (${OH}×${OW})`);
  const outShape = rank === 1 ? [xs[0], M, OW] : [xs[0], M, OH, OW];
  const params = [xs[0], C, H_, W_, M, OH, OW, kH, kW, sH, sW, pT, pL, dH, dW, group, bias ? 1 : 0];
  const inputs = bias ? [x, wt, bias] : [x, wt];
  return kernel(
    ctx,
    n,
    { op: Op.CONV, params, inputs, outShapes: [outShape], outDtype: "q16", foldable: false },
    w,
  );
}
H.Conv = (ctx, n, ins, w) => lowerConv(ctx, n, ins, undefined, w);

/**
 * 3-D convolution as one 2-D CONV: a COPY lays out, for every output depth od, the kD input depth
 * planes its window reads (zeros where it leaves the input) as channels c·kD + kd of a batch item
 * n·OD + od; the weight [M, C/g, kD, kH, kW] is then already the 2-D weight [M, C/g·kD, kH, kW].
 * Each output is the same exact sum with one rounding as a direct 3-D conv; a second COPY moves
 * depth back behind the channels. Cheaper in VM steps than kD 2-D convs and kD − 1 adds (one
 * rounding instead of kD, no per-depth call overhead).
 */
function conv3d(
  ctx: Ctx,
  n: ONode,
  x: Val,
  wt: Val,
  bias: Val | undefined,
  a: { kernelShape: number[]; strides: number[]; dil: number[]; pads: number[]; group: number },
  w: string,
): Val {
  const [N, C, D, H_, W_] = shapeOf(x);
  const ws = shapeOf(wt);
  const [kD, kH, kW] = a.kernelShape;
  const [sD, sH, sW] = a.strides;
  const [dD, dH, dW] = a.dil;
  const [pF, pT, pL, pK, pB, pR] = a.pads;
  const M = ws[0];
  const OD = Math.floor((D + pF + pK - dD * (kD - 1) - 1) / sD) + 1;
  if (OD <= 0) throw new ConvertError(`${w}: output depth would be empty (${OD})`);
  const P = H_ * W_;
  const colShape = [N * OD, C * kD, H_, W_];
  const descs: CopyDesc[] = [];
  let holes = false;
  for (let kd = 0; kd < kD; kd++) {
    const off = kd * dD - pF; // input depth of od = 0
    const lo = Math.max(0, Math.ceil(-off / sD));
    const hi = Math.min(OD - 1, Math.floor((D - 1 - off) / sD));
    if (lo > 0 || hi < OD - 1) holes = true;
    if (lo > hi) continue;
    descs.push({
      src: 0,
      dst: 0,
      dims: [N, hi - lo + 1, C, P],
      srcOff: (lo * sD + off) * P,
      srcStrides: [C * D * P, sD * P, D * P, 1],
      dstOff: (lo * C * kD + kd) * P,
      dstStrides: [OD * C * kD * P, C * kD * P, kD * P, 1],
    });
  }
  const tag = (t: string): ONode => ({ ...n, name: `${n.name}#${t}`, outputs: [`${n.outputs[0]}#${t}`] });
  const dtype = "q16" as const;
  const words = descs.flatMap((d) => copyWords(d, w));
  const col = kernel(
    ctx,
    tag("col"),
    {
      op: Op.COPY,
      params: [holes ? 1 : 0, 0, holes ? numel(colShape) : 0, words.length / COPY_WORDS, ...words],
      inputs: [x],
      outShapes: [colShape],
      outDtype: dtype,
    },
    w,
  )[0];
  const w2shape = [M, ws[1] * kD, kH, kW];
  const w2: Val =
    wt.kind === "const" ? derived({ ...wt.c, shape: w2shape }, wt.name) : { ...wt, shape: w2shape };
  const n2: ONode = {
    ...tag("conv"),
    attrs: {
      kernel_shape: [kH, kW],
      strides: [sH, sW],
      dilations: [dH, dW],
      pads: [pT, pL, pB, pR],
      group: a.group,
    },
  };
  const y = lowerConv(ctx, n2, bias ? [col, w2, bias] : [col, w2], undefined, w)[0];
  const [, , OH, OW] = shapeOf(y);
  const Q = OH * OW;
  const tr: CopyDesc = {
    src: 0,
    dst: 0,
    dims: [N, M, OD, Q],
    srcOff: 0,
    srcStrides: [OD * M * Q, Q, M * Q, 1],
    dstOff: 0,
    dstStrides: [M * OD * Q, OD * Q, Q, 1],
  };
  const tw = copyWords(tr, w);
  return kernel(
    ctx,
    n,
    {
      op: Op.COPY,
      params: [0, 0, 0, tw.length / COPY_WORDS, ...tw],
      inputs: [y],
      outShapes: [[N, M, OD, OH, OW]],
      outDtype: dtype,
    },
    w,
  )[0];
}

export const LINALG_HANDLERS = H;
