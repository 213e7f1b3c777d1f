// The COPY kernel's parameter block (docs/PROTOCOL.md §2): one place that builds it, for copy.ts
// and for index-map.ts, which copy.ts itself imports (so neither can hold it for the other).
import { quantize } from "../../../dnn/src/fixed.js";
import { COPY_WORDS, Op } from "../../../dnn/src/opcodes.js";
import type { DType } from "../../../dnn/src/package.js";
import type { ONode } from "../onnx.js";
import { type CopyDesc, copyWords } from "../views.js";
import { type Ctx, isIntVal, kernel, type Val } from "./context.js";

/** Input 0's first `size` words, in order, to output 0. */
export const contiguous = (size: number): CopyDesc => ({
  src: 0,
  dst: 0,
  dims: [size],
  srcOff: 0,
  srcStrides: [1],
  dstOff: 0,
  dstStrides: [1],
});

/** One COPY kernel node: `descs` from `inputs` into fresh outputs, optionally filled first. */
export function copyKernel(
  ctx: Ctx,
  n: ONode,
  inputs: Val[],
  descs: CopyDesc[],
  outShapes: number[][],
  where: string,
  fill?: { value: number; count: number },
): Val[] {
  const dtype: DType = isIntVal(inputs[0]) ? "i32" : "q16";
  const words = descs.flatMap((d) => copyWords(d, where));
  const params = [
    fill ? 1 : 0,
    fill ? (dtype === "q16" ? quantize(fill.value) : Math.trunc(fill.value)) : 0,
    fill ? fill.count : 0,
    words.length / COPY_WORDS,
    ...words,
  ];
  return kernel(ctx, n, { op: Op.COPY, params, inputs, outShapes, outDtype: dtype }, where);
}
