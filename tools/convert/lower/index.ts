// Lowers ONNX nodes to DNN-library kernel nodes. Shapes are static: every Shape-like computation is
// folded to a constant here, and constant subgraphs are folded in float64 before quantization.
// One file per kernel family, as in the DNN library (dnn/assembly/); this one is the dispatch table.
import type { AttrValue } from "../onnx.js";
import { CONSTANT_HANDLERS } from "./constant.js";
import { attrFloat, attrInt, type Handler } from "./context.js";
import { COPY_HANDLERS } from "./copy.js";
import { EINSUM_HANDLERS } from "./einsum.js";
import { ELEMENTWISE_HANDLERS } from "./elementwise.js";
import { LINALG_HANDLERS } from "./linalg.js";
import { NONLINEAR_HANDLERS } from "./nonlinear.js";
import { NORM_HANDLERS } from "./norm.js";
import { POOL_HANDLERS } from "./pool.js";
import { REDUCE_HANDLERS } from "./reduce.js";
import { RNN_HANDLERS } from "./rnn.js";

const H: Record<string, Handler> = {};
for (const family of [
  ELEMENTWISE_HANDLERS,
  NONLINEAR_HANDLERS,
  COPY_HANDLERS,
  CONSTANT_HANDLERS,
  LINALG_HANDLERS,
  NORM_HANDLERS,
  POOL_HANDLERS,
  REDUCE_HANDLERS,
  RNN_HANDLERS,
  EINSUM_HANDLERS,
]) {
  for (const [op, h] of Object.entries(family)) {
    // Two families lowering the same op would silently drop one of them.
    if (H[op]) throw new Error(`ONNX op ${op} is lowered by two kernel families`);
    H[op] = h;
  }
}

/** ONNX op type → its lowering. */
export const HANDLERS = H;
export const SUPPORTED_OPS = Object.keys(H).sort();
export { Ctx, isIntVal, shapeOf, type Val, type WeightSink } from "./context.js";
export { materialize } from "./copy.js";
export { lowerConv, lowerMatMul } from "./linalg.js";
export { type BnParams, bnAffine, bnParamsOf, layerNormK } from "./norm.js";
export { splitKernel } from "./split.js";
export type { AttrValue };
export { attrFloat, attrInt };
