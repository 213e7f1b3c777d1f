// Arithmetic, comparison and selection: the ONNX ops that become UNARY, BINARY and WHERE kernels
// (dnn/assembly/elementwise.ts); the activation functions among the unaries are in nonlinear.ts.
import { Binary, Op, Unary } from "../../../dnn/src/opcodes.js";
import type { DType } from "../../../dnn/src/package.js";
import { ConvertError, type ONode } from "../onnx.js";
import { broadcastShapes, broadcastStrides, numel, view6 } from "../views.js";
import {
  attrInt,
  type Ctx,
  constOf,
  type Handler,
  isIntVal,
  type KSpec,
  kernel,
  mkConst,
  need,
  shapeOf,
  type Val,
} from "./context.js";
import { reshapeTo } from "./copy.js";

export function unaryK(
  ctx: Ctx,
  n: ONode,
  x: Val,
  fn: number,
  where: string,
  a = 0,
  b = 0,
  outDtype?: DType,
): Val {
  const shape = shapeOf(x);
  return kernel(
    ctx,
    n,
    {
      op: Op.UNARY,
      params: [fn, numel(shape), a, b],
      inputs: [x],
      outShapes: [shape],
      outDtype: outDtype ?? (isIntVal(x) ? "i32" : "q16"),
    },
    where,
  )[0];
}

export function binaryK(
  ctx: Ctx,
  n: ONode,
  a: Val,
  b: Val,
  fn: number,
  where: string,
  outDtype?: DType,
): Val {
  const out = broadcastShapes([shapeOf(a), shapeOf(b)], where);
  const v = view6(out, [broadcastStrides(shapeOf(a), out), broadcastStrides(shapeOf(b), out)], where);
  if (fn === Binary.POW && !isIntVal(a) && isIntVal(b) && b.kind === "const")
    b = { ...b, c: { ...b.c, dtype: "float" } };
  // An integer base with a constant float exponent of whole numbers (test_pow_types_*): ONNX's result
  // keeps the base's integer type, so the exponent is an integer too.
  if (
    fn === Binary.POW &&
    isIntVal(a) &&
    !isIntVal(b) &&
    b.kind === "const" &&
    b.c.data.every(Number.isInteger)
  )
    b = { ...b, c: { ...b.c, dtype: "int" } };
  const isInt = isIntVal(a) && isIntVal(b);
  let f = fn;
  if (isInt && fn === Binary.DIV) f = Binary.DIV_INT;
  if (isInt && fn === Binary.POW) f = Binary.POW_INT;
  if (isInt && fn === Binary.ADD) f = Binary.ADD_INT;
  if (isInt && fn === Binary.SUB) f = Binary.SUB_INT;
  if (isInt && fn === Binary.MUL) f = Binary.MUL_INT;
  if (isIntVal(a) !== isIntVal(b)) throw new ConvertError(`${where}: mixed integer and float operands`);
  const params = [f, ...v.dims, ...v.strides[0], ...v.strides[1]];
  const spec: KSpec = {
    op: Op.BINARY,
    params,
    inputs: [a, b],
    outShapes: [out],
    outDtype: outDtype ?? (isInt ? "i32" : "q16"),
  };
  return kernel(ctx, n, spec, where)[0];
}

const UNARY_OPS: Record<string, number> = {
  Reciprocal: Unary.RECIP,
  Neg: Unary.NEG,
  Abs: Unary.ABS,
  Sign: Unary.SIGN,
  Floor: Unary.FLOOR,
  Ceil: Unary.CEIL,
  Round: Unary.ROUND,
  Not: Unary.NOT,
};

const BINARY_OPS: Record<string, number> = {
  Add: Binary.ADD,
  Sub: Binary.SUB,
  Mul: Binary.MUL,
  Div: Binary.DIV,
  Pow: Binary.POW,
  PRelu: Binary.PRELU,
  And: Binary.AND,
  Or: Binary.OR,
  Xor: Binary.XOR,
};
const COMPARE_OPS: Record<string, number> = {
  Equal: Binary.EQ,
  Less: Binary.LT,
  Greater: Binary.GT,
  LessOrEqual: Binary.LE,
  GreaterOrEqual: Binary.GE,
};

const H: Record<string, Handler> = {};

for (const [op, fn] of Object.entries(UNARY_OPS)) {
  H[op] = (ctx, n, ins, w) => [unaryK(ctx, n, need(ins[0], 0, n, w), fn, w)];
}
H.Clip = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const isInt = isIntVal(x);
  const lim = (i: number, attr: string, d: number) => {
    let v: number | undefined;
    if (ctx.opset < 11) v = typeof n.attrs[attr] === "number" ? (n.attrs[attr] as number) : undefined;
    else if (ins[i]) v = constOf(ins[i], `Clip ${attr}`, w).data[0];
    if (v === undefined) return d;
    return isInt ? Math.trunc(v) : Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.floor(v * 65536 + 0.5)));
  };
  return [unaryK(ctx, n, x, Unary.CLIP, w, lim(1, "min", -(2 ** 31)), lim(2, "max", 2 ** 31 - 1))];
};
H.Cast = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const to = attrInt(n, "to", 1);
  const toFloat = to === 1 || to === 10 || to === 11 || to === 16;
  if (to === 8) throw new ConvertError(`${w}: Cast to string is not supported`);
  if (x.kind === "const") {
    const data = toFloat ? x.c.data : x.c.data.map((v) => (to === 9 ? (v !== 0 ? 1 : 0) : Math.trunc(v)));
    return [mkConst(x.c.shape, toFloat ? "float" : "int", data, n.outputs[0])];
  }
  const fromInt = isIntVal(x);
  if (toFloat === !fromInt) return [reshapeTo(ctx, n, x, x.shape, w)];
  if (to === 9) throw new ConvertError(`${w}: Cast of a runtime float tensor to bool is not supported`);
  return [unaryK(ctx, n, x, toFloat ? Unary.I2Q : Unary.Q2I, w, 0, 0, toFloat ? "q16" : "i32")];
};

for (const [op, fn] of Object.entries(BINARY_OPS)) {
  H[op] = (ctx, n, ins, w) => [binaryK(ctx, n, need(ins[0], 0, n, w), need(ins[1], 1, n, w), fn, w)];
}
for (const [op, fn] of Object.entries(COMPARE_OPS)) {
  H[op] = (ctx, n, ins, w) => [binaryK(ctx, n, need(ins[0], 0, n, w), need(ins[1], 1, n, w), fn, w, "i32")];
}
// Variadic Min/Max/Sum/Mean: a chain of binary kernels, each a node of its own.
for (const [op, fn] of [
  ["Min", Binary.MIN],
  ["Max", Binary.MAX],
  ["Sum", Binary.ADD],
  ["Mean", Binary.ADD],
] as const) {
  H[op] = (ctx, n, ins, w) => {
    const xs = ins.filter((v): v is Val => !!v);
    if (xs.length === 0) throw new ConvertError(`${w}: needs at least one input`);
    let acc = xs[0];
    for (let i = 1; i < xs.length; i++)
      acc = binaryK(ctx, { ...n, name: `${n.name}#${i}` }, acc, xs[i], fn, w);
    if (op === "Mean" && xs.length > 1) {
      acc = binaryK(
        ctx,
        { ...n, name: `${n.name}#mean` },
        acc,
        mkConst([], "float", [1 / xs.length], `${n.name}:1/n`),
        Binary.MUL,
        w,
      );
    }
    if (xs.length === 1) acc = reshapeTo(ctx, n, acc, shapeOf(acc), w);
    return [acc];
  };
}
H.Where = (ctx, n, ins, w) => {
  const [c, x, y] = [need(ins[0], 0, n, w), need(ins[1], 1, n, w), need(ins[2], 2, n, w)];
  const out = broadcastShapes([shapeOf(c), shapeOf(x), shapeOf(y)], w);
  const v = view6(
    out,
    [shapeOf(c), shapeOf(x), shapeOf(y)].map((s) => broadcastStrides(s, out)),
    w,
  );
  const dtype: DType = isIntVal(x) ? "i32" : "q16";
  return kernel(
    ctx,
    n,
    {
      op: Op.WHERE,
      params: [...v.dims, ...v.strides.flat()],
      inputs: [c, x, y],
      outShapes: [out],
      outDtype: dtype,
    },
    w,
  );
};

export const ELEMENTWISE_HANDLERS = H;
