// Reductions and ArgMax/ArgMin: the ONNX ops that become REDUCE and ARGMAX kernels
// (dnn/assembly/reduce.ts).
import { Op, Reduce } from "../../../dnn/src/opcodes.js";
import { normAxis, numel } from "../views.js";
import {
  attrInt,
  attrInts,
  constOf,
  type Handler,
  intsOf,
  isIntVal,
  kernel,
  need,
  shapeOf,
} from "./context.js";
import { reshapeTo, transposeView } from "./copy.js";

const REDUCE_OPS: Record<string, number> = {
  ReduceSum: Reduce.SUM,
  ReduceMean: Reduce.MEAN,
  ReduceMax: Reduce.MAX,
  ReduceMin: Reduce.MIN,
  ReduceProd: Reduce.PROD,
  ReduceL1: Reduce.L1,
  ReduceL2: Reduce.L2,
  ReduceSumSquare: Reduce.SUMSQUARE,
  ReduceLogSumExp: Reduce.LOGSUMEXP,
  ReduceLogSum: Reduce.LOGSUM,
};
const H: Record<string, Handler> = {};

for (const [op, fn] of Object.entries(REDUCE_OPS)) {
  H[op] = (ctx, n, ins, w) => {
    let x = need(ins[0], 0, n, w);
    const xs = shapeOf(x);
    const axesInput = ctx.opset >= 18 || (op === "ReduceSum" && ctx.opset >= 13);
    let axes = axesInput ? (ins[1] ? intsOf(constOf(ins[1], "axes", w)) : undefined) : attrInts(n, "axes");
    if (!axes || axes.length === 0) {
      if (attrInt(n, "noop_with_empty_axes", 0) === 1) return [reshapeTo(ctx, n, x, xs, w)];
      axes = xs.map((_, i) => i);
    }
    const ax = [...new Set(axes.map((a) => normAxis(a, xs.length, w)))].sort((a, b) => a - b);
    const keep = attrInt(n, "keepdims", 1) === 1;
    const outShape = keep ? xs.map((d, i) => (ax.includes(i) ? 1 : d)) : xs.filter((_, i) => !ax.includes(i));
    const contiguous = ax[ax.length - 1] - ax[0] === ax.length - 1;
    let outer: number;
    let red: number;
    let inner: number;
    if (contiguous) {
      outer = numel(xs.slice(0, ax[0]));
      red = numel(ax.map((a) => xs[a]));
      inner = numel(xs.slice(ax[ax.length - 1] + 1));
    } else {
      // Move the reduced axes last with a transpose node, then reduce the trailing block.
      const kept = xs.map((_, i) => i).filter((i) => !ax.includes(i));
      const perm = [...kept, ...ax];
      x = transposeView(
        ctx,
        { ...n, name: `${n.name}#perm`, outputs: [`${n.outputs[0]}#perm`] },
        x,
        xs,
        perm,
        perm.map((p) => xs[p]),
        w,
      );
      outer = numel(kept.map((k) => xs[k]));
      red = numel(ax.map((a) => xs[a]));
      inner = 1;
    }
    return kernel(
      ctx,
      n,
      {
        op: Op.REDUCE,
        params: [fn, outer, red, inner],
        inputs: [x],
        outShapes: [outShape],
        outDtype: isIntVal(x) ? "i32" : "q16",
      },
      w,
    );
  };
}
for (const [op, isMin] of [
  ["ArgMax", 0],
  ["ArgMin", 1],
] as const) {
  H[op] = (ctx, n, ins, w) => {
    const x = need(ins[0], 0, n, w);
    const xs = shapeOf(x);
    const ax = normAxis(attrInt(n, "axis", 0), xs.length, w);
    const keep = attrInt(n, "keepdims", 1) === 1;
    const outShape = keep ? xs.map((d, i) => (i === ax ? 1 : d)) : xs.filter((_, i) => i !== ax);
    const params = [
      numel(xs.slice(0, ax)),
      xs[ax],
      numel(xs.slice(ax + 1)),
      isMin,
      attrInt(n, "select_last_index", 0),
    ];
    return kernel(
      ctx,
      n,
      { op: Op.ARGMAX, params, inputs: [x], outShapes: [outShape], outDtype: "i32", foldable: false },
      w,
    );
  };
}

export const REDUCE_HANDLERS = H;
