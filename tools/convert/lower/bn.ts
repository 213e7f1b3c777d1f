// BatchNormalization's parameters and their per-channel affine form, shared by the BN lowering
// (norm.ts) and the Conv/Gemm lowering that folds a following BN into its weights (linalg.ts).
import type { Const, ONode } from "../onnx.js";
import { attrFloat, constOf, type Val } from "./context.js";

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
