// Normalization: the ONNX ops that become SOFTMAX, LAYERNORM and CHANNEL_AFFINE kernels
// (dnn/assembly/norm.ts), and the BatchNormalization folding that Conv uses.
import { Op } from "../../../dnn/src/opcodes.js";
import { type Const, ConvertError, type ONode } from "../onnx.js";
import { broadcastShapes, broadcastStrides, normAxis, numel, stridesOf } from "../views.js";
import {
  attrFloat,
  attrInt,
  type Ctx,
  constOf,
  derived,
  type Handler,
  kernel,
  need,
  shapeOf,
  type Val,
} from "./context.js";
import { batchNormTraining } from "./index-ops.js";

const H: Record<string, Handler> = {};

export interface BnParams {
  scale: Const;
  bias: Const;
  mean: Const;
  var: Const;
  eps: number;
}

/** Per-channel affine equivalent of BatchNormalization, in float64: y = x·s + t. */
export function bnAffine(bn: BnParams): { s: number[]; t: number[] } {
  const C = bn.scale.data.length;
  const s: number[] = [];
  const t: number[] = [];
  for (let c = 0; c < C; c++) {
    const k = bn.scale.data[c] / Math.sqrt(bn.var.data[c] + bn.eps);
    s.push(k);
    t.push(bn.bias.data[c] - bn.mean.data[c] * k);
  }
  return { s, t };
}

export function bnParamsOf(n: ONode, ins: (Val | undefined)[], w: string): BnParams {
  return {
    scale: constOf(ins[1], "BatchNormalization scale", w),
    bias: constOf(ins[2], "BatchNormalization B", w),
    mean: constOf(ins[3], "BatchNormalization mean", w),
    var: constOf(ins[4], "BatchNormalization var", w),
    eps: attrFloat(n, "epsilon", 1e-5),
  };
}

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

export const NORM_HANDLERS = H;
