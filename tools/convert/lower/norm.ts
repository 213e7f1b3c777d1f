// Normalization: the ONNX ops that become SOFTMAX, LAYERNORM and CHANNEL_AFFINE kernels
// (dnn/assembly/norm.ts), and the BatchNormalization folding that Conv uses.
import { Op } from "../../../dnn/src/opcodes.js";
import { ConvertError, type ONode } from "../onnx.js";
import { broadcastShapes, broadcastStrides, normAxis, numel, stridesOf } from "../views.js";
import { bnAffine, bnParamsOf } from "./bn.js";
import {
  attrFloat,
  attrInt,
  attrInts,
  type Ctx,
  constOf,
  derived,
  type Handler,
  isIntVal,
  kernel,
  need,
  type OpDoc,
  shapeOf,
  sub,
  type Val,
  viewAs,
} from "./context.js";
import { transposeView } from "./copy.js";
import { batchNormTraining } from "./index-ops.js";

const H: Record<string, Handler> = {};

H.BatchNormalization = (ctx, n, ins, w) => {
  if (attrInt(n, "training_mode", 0) === 1) return batchNormTraining(ctx, n, ins, w);
  if (n.outputs.slice(1).some((o) => o))
    throw new ConvertError(`${w}: training-mode outputs are not supported`);
  const x = need(ins[0], 0, n, w);
  const { s, t } = bnAffine(bnParamsOf(n, ins, w));
  const xs = shapeOf(x);
  const C = xs[1];
  const params = [xs[0], C, numel(xs.slice(2))];
  const sc = derived({ shape: [C], dtype: "float", data: Float64Array.from(s) }, `${n.name}:scale`);
  const bi = derived({ shape: [C], dtype: "float", data: Float64Array.from(t) }, `${n.name}:shift`);
  return kernel(
    ctx,
    n,
    { op: Op.CHANNEL_AFFINE, params, inputs: [x, sc, bi], outShapes: [xs], outDtype: "q16", foldable: false },
    w,
  );
};

function softmaxK(ctx: Ctx, n: ONode, ins: (Val | undefined)[], isLog: boolean, w: string): Val[] {
  const x = need(ins[0], 0, n, w);
  const xs = shapeOf(x);
  let outer: number;
  let axisDim: number;
  let inner: number;
  if (ctx.opset < 13) {
    const ax = normAxis(attrInt(n, "axis", 1), xs.length, w);
    outer = numel(xs.slice(0, ax));
    axisDim = numel(xs.slice(ax));
    inner = 1;
  } else {
    const ax = normAxis(attrInt(n, "axis", -1), xs.length, w);
    outer = numel(xs.slice(0, ax));
    axisDim = xs[ax];
    inner = numel(xs.slice(ax + 1));
  }
  return kernel(
    ctx,
    n,
    {
      op: Op.SOFTMAX,
      params: [outer, axisDim, inner, isLog ? 1 : 0],
      inputs: [x],
      outShapes: [xs],
      outDtype: "q16",
      foldable: false,
    },
    w,
  );
}
H.Softmax = (ctx, n, ins, w) => softmaxK(ctx, n, ins, false, w);
H.LogSoftmax = (ctx, n, ins, w) => softmaxK(ctx, n, ins, true, w);

export function layerNormK(
  ctx: Ctx,
  n: ONode,
  x: Val,
  scale: Val | undefined,
  bias: Val | undefined,
  axis: number,
  eps: number,
  w: string,
): Val[] {
  const xs = shapeOf(x);
  const ax = normAxis(axis, xs.length, w);
  const inner = numel(xs.slice(ax));
  const fitInner = (v: Val | undefined, what: string): Val | undefined => {
    if (!v) return undefined;
    if (numel(shapeOf(v)) === inner) return v;
    if (v.kind !== "const") throw new ConvertError(`${w}: ${what} must have ${inner} elements`);
    const out = broadcastShapes([shapeOf(v), xs.slice(ax)], w);
    const st = broadcastStrides(shapeOf(v), out);
    const data = new Float64Array(inner);
    const ost = stridesOf(out);
    for (let i = 0; i < inner; i++) {
      let src = 0;
      let r = i;
      for (let d = 0; d < out.length; d++) {
        src += Math.floor(r / ost[d]) * st[d];
        r %= ost[d];
      }
      data[i] = v.c.data[src];
    }
    return derived({ shape: xs.slice(ax), dtype: "float", data }, `${v.name}:expanded`);
  };
  const s = fitInner(scale, "Scale");
  const b = fitInner(bias, "B");
  const epsQ32 = Math.floor(eps * 2 ** 32 + 0.5);
  if (epsQ32 > 2 ** 31 - 1) throw new ConvertError(`${w}: epsilon ${eps} too large`);
  const inputs = [x, ...(s ? [s] : []), ...(b ? [b] : [])];
  const params = [numel(xs.slice(0, ax)), inner, epsQ32, s ? 1 : 0, b ? 1 : 0];
  // Mean and InvStdDev (ONNX outputs 1, 2) only when the graph uses them.
  const nOut = n.outputs[2] ? 3 : n.outputs[1] ? 2 : 1;
  const statShape = xs.map((d, i) => (i < ax ? d : 1));
  const outShapes = [xs, statShape, statShape].slice(0, nOut);
  return kernel(ctx, n, { op: Op.LAYERNORM, params, inputs, outShapes, outDtype: "q16", foldable: false }, w);
}
H.LayerNormalization = (ctx, n, ins, w) => {
  return layerNormK(
    ctx,
    n,
    need(ins[0], 0, n, w),
    ins[1],
    ins[2],
    attrInt(n, "axis", -1),
    attrFloat(n, "epsilon", 1e-5),
    w,
  );
};

/** ε in Q32, as the LAYERNORM kernel adds it to the variance. */
function epsQ32(eps: number, w: string): number {
  const q = Math.floor(eps * 2 ** 32 + 0.5);
  if (!(q >= 0 && q <= 2 ** 31 - 1))
    throw new ConvertError(`${w}: attribute epsilon = ${eps} is out of range`);
  return q;
}

/** LAYERNORM without scale or bias over the `inner` trailing words of each of `outer` rows. */
function normRows(
  ctx: Ctx,
  n: ONode,
  x: Val,
  outer: number,
  inner: number,
  eps: number,
  outShape: number[],
  w: string,
): Val {
  if (isIntVal(x)) throw new ConvertError(`${w}: needs a float tensor`);
  const params = [outer, inner, epsQ32(eps, w), 0, 0];
  const spec = { op: Op.LAYERNORM, params, inputs: [x], outShapes: [outShape], outDtype: "q16" as const };
  return kernel(ctx, n, { ...spec, foldable: false }, w)[0];
}

/** y[n, c, ·] = x·scale[c] + bias[c] (scale, bias with C elements). */
function channelAffineK(ctx: Ctx, n: ONode, x: Val, scale: Val, bias: Val, w: string): Val {
  const xs = shapeOf(x);
  const C = xs[1];
  for (const [v, what] of [
    [scale, "scale"],
    [bias, "B"],
  ] as const) {
    if (numel(shapeOf(v)) !== C)
      throw new ConvertError(`${w}: ${what} has ${numel(shapeOf(v))} elements, expected C = ${C}`);
  }
  const flat = (v: Val) => viewAs(v, [C]);
  return kernel(
    ctx,
    n,
    {
      op: Op.CHANNEL_AFFINE,
      params: [xs[0], C, numel(xs.slice(2))],
      inputs: [x, flat(scale), flat(bias)],
      outShapes: [xs],
      outDtype: "q16",
      foldable: false,
    },
    w,
  )[0];
}

export function rank3(x: Val, w: string): number[] {
  const xs = shapeOf(x);
  if (xs.length < 3) throw new ConvertError(`${w}: input must be [N, C, D1, …], got [${xs}]`);
  return xs;
}

// InstanceNormalization: LAYERNORM per (n, c) row over the spatial words, then CHANNEL_AFFINE.
H.InstanceNormalization = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const xs = rank3(x, w);
  const [N, C] = xs;
  const inner = numel(xs.slice(2));
  const y = normRows(ctx, sub(n, "norm"), x, N * C, inner, attrFloat(n, "epsilon", 1e-5), xs, w);
  return [channelAffineK(ctx, n, y, need(ins[1], 1, n, w), need(ins[2], 2, n, w), w)];
};

// GroupNormalization: LAYERNORM per (n, group) row, then CHANNEL_AFFINE with per-channel scale and
// bias (opset 21 gives [C]; opset 18 gives [num_groups], repeated over each group's channels here).
H.GroupNormalization = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const xs = rank3(x, w);
  const [N, C] = xs;
  const G = attrInt(n, "num_groups", 0);
  if (!(G >= 1 && C % G === 0))
    throw new ConvertError(`${w}: attribute num_groups = ${G} must divide the ${C} channels`);
  const perChannel = (v: Val, what: string): Val => {
    const k = numel(shapeOf(v));
    if (k === C) return v;
    if (k !== G)
      throw new ConvertError(`${w}: ${what} has ${k} elements, expected num_groups = ${G} or C = ${C}`);
    const c = constOf(v, `${what} (per group, to repeat per channel)`, w);
    const data = Float64Array.from({ length: C }, (_, ch) => c.data[Math.floor(ch / (C / G))]);
    return derived({ shape: [C], dtype: "float", data }, `${n.name}:${what}:per-channel`);
  };
  const y = normRows(
    ctx,
    sub(n, "norm"),
    x,
    N * G,
    (C / G) * numel(xs.slice(2)),
    attrFloat(n, "epsilon", 1e-5),
    xs,
    w,
  );
  return [
    channelAffineK(
      ctx,
      n,
      y,
      perChannel(need(ins[1], 1, n, w), "scale"),
      perChannel(need(ins[2], 2, n, w), "bias"),
      w,
    ),
  ];
};

// MeanVarianceNormalization: (x − mean)/σ over `axes` (default [0, 2, 3]); the normalized axes are
// moved last with a COPY when they are not already trailing, and moved back after.
H.MeanVarianceNormalization = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const xs = shapeOf(x);
  const axes = [...new Set((attrInts(n, "axes") ?? [0, 2, 3]).map((a) => normAxis(a, xs.length, w)))].sort(
    (a, b) => a - b,
  );
  const kept = xs.map((_, i) => i).filter((i) => !axes.includes(i));
  const perm = [...kept, ...axes];
  const outer = numel(kept.map((k) => xs[k]));
  const inner = numel(axes.map((a) => xs[a]));
  // ONNX adds ε = 1e-9 to σ; its square is below Q32 resolution, so the variance gets ε = 0 (σ = 0 gives 0, as 0/1e-9 does).
  if (perm.every((p, i) => p === i)) return [normRows(ctx, n, x, outer, inner, 0, xs, w)];
  const ps = perm.map((p) => xs[p]);
  const xt = transposeView(ctx, sub(n, "perm"), x, xs, perm, ps, w);
  const y = normRows(ctx, sub(n, "norm"), xt, outer, inner, 0, ps, w);
  const inv = perm.map((_, i) => perm.indexOf(i));
  return [transposeView(ctx, n, y, ps, inv, xs, w)];
};

export const NORM_HANDLERS = H;

export const NORM_DOCS: Record<string, OpDoc> = {
  InstanceNormalization: {
    opsets: "6+",
    attrs: "all (epsilon)",
    notes: "LAYERNORM per (n, c) row over the spatial elements, then CHANNEL_AFFINE (scale, B)",
  },
  GroupNormalization: {
    opsets: "18+",
    attrs: "num_groups, epsilon (stash_type: always integer statistics)",
    notes:
      "LAYERNORM per (n, group) row, then CHANNEL_AFFINE; scale/bias per channel (opset 21) or per group (opset 18, constants repeated per channel)",
  },
  MeanVarianceNormalization: {
    opsets: "9+",
    attrs: "all (axes)",
    notes:
      "LAYERNORM over the axes (COPY transposes them last and back when they are not trailing); σ = 0 gives 0; ONNX's ε = 1e-9 on σ is dropped (below Q16)",
  },
};
