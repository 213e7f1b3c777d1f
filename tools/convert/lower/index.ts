// Lowers ONNX nodes to DNN-library kernel nodes. Shapes are static: every Shape-like computation is
// folded to a constant here, and constant subgraphs are folded in float64 before quantization.
// One file per kernel family, as in the DNN library (dnn/assembly/); this one is the dispatch table.
import type { AttrValue } from "../onnx.js";
import { CONSTANT_HANDLERS } from "./constant.js";
import { attrFloat, attrInt, type Handler, type OpDoc } from "./context.js";
import { CONTROL_DOCS, CONTROL_HANDLERS } from "./control.js";
import { COPY_HANDLERS } from "./copy.js";
import { BASE_DOCS } from "./docs.js";
import { EINSUM_DOCS, EINSUM_HANDLERS } from "./einsum.js";
import { ELEMENTWISE_HANDLERS } from "./elementwise.js";
import { INDEX_DOCS, INDEX_HANDLERS } from "./index-ops.js";
import { LINALG_HANDLERS } from "./linalg.js";
import { MISC_DOCS, MISC_HANDLERS } from "./misc.js";
import { NONLINEAR_DOCS, NONLINEAR_HANDLERS } from "./nonlinear.js";
import { NORM_DOCS, NORM_HANDLERS } from "./norm.js";
import { POOL_HANDLERS } from "./pool.js";
import { REDUCE_HANDLERS } from "./reduce.js";
import { RESIZE_DOCS, RESIZE_HANDLERS } from "./resize.js";
import { RNN_DOCS, RNN_HANDLERS } from "./rnn.js";
import { SPECTRAL_DOCS, SPECTRAL_HANDLERS } from "./spectral.js";

const H: Record<string, Handler> = {};
for (const family of [
  ELEMENTWISE_HANDLERS,
  NONLINEAR_HANDLERS,
  COPY_HANDLERS,
  INDEX_HANDLERS,
  CONSTANT_HANDLERS,
  LINALG_HANDLERS,
  NORM_HANDLERS,
  POOL_HANDLERS,
  REDUCE_HANDLERS,
  MISC_HANDLERS,
  RNN_HANDLERS,
  RESIZE_HANDLERS,
  SPECTRAL_HANDLERS,
  EINSUM_HANDLERS,
]) {
  for (const [op, h] of Object.entries(family)) {
    // Two families lowering the same op would silently drop one of them.
    if (H[op]) throw new Error(`ONNX op ${op} is lowered by two kernel families`);
    H[op] = h;
  }
}

for (const op of Object.keys(CONTROL_HANDLERS))
  if (H[op]) throw new Error(`ONNX op ${op} is lowered by two kernel families`);

/** ONNX op type → its lowering. */
export const HANDLERS = H;
/** Ops with subgraphs (If, Loop, Scan): convert.ts lends them a Scope to lower their bodies. */
export { CONTROL_DOCS, CONTROL_HANDLERS, type Scope } from "./control.js";
export const SUPPORTED_OPS = [...Object.keys(H), ...Object.keys(CONTROL_HANDLERS)].sort();

// docs/OPERATORS.md rows: the base table, then each later family's own rows (which may refine a base row).
const D: Record<string, OpDoc> = { ...BASE_DOCS };
for (const family of [
  NONLINEAR_DOCS,
  NORM_DOCS,
  INDEX_DOCS,
  MISC_DOCS,
  RESIZE_DOCS,
  RNN_DOCS,
  EINSUM_DOCS,
  SPECTRAL_DOCS,
  CONTROL_DOCS,
])
  Object.assign(D, family);
/** ONNX op type → its row in docs/OPERATORS.md (every supported op has one: test/tools/convert/operators.test.ts). */
export const OP_DOCS: Readonly<Record<string, OpDoc>> = D;
export { type BnParams, bnAffine, bnParamsOf } from "./bn.js";
export { Ctx, isIntVal, type OpDoc, shapeOf, type Val, type WeightSink } from "./context.js";
export { materialize } from "./copy.js";
export { int8Kernel } from "./int8.js";
export { lowerConv, lowerMatMul } from "./linalg.js";
export { layerNormK } from "./norm.js";
export { splitKernel } from "./split.js";
export type { AttrValue };
export { attrFloat, attrInt };
