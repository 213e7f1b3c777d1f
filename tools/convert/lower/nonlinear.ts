// Activation functions: UNARY kernels whose function is one of the fixed-point approximations of
// dnn/assembly/nonlinear.ts or a piecewise activation (Relu, LeakyRelu, HardSigmoid, …).
import { quantize } from "../../../dnn/src/fixed.js";
import { Unary } from "../../../dnn/src/opcodes.js";
import { attrFloat, attrStr, type Handler, need } from "./context.js";
import { unaryK } from "./elementwise.js";

const ACTIVATIONS: Record<string, number> = {
  Relu: Unary.RELU,
  Sigmoid: Unary.SIGMOID,
  Tanh: Unary.TANH,
  Exp: Unary.EXP,
  Log: Unary.LOG,
  Erf: Unary.ERF,
  Sqrt: Unary.SQRT,
  Softplus: Unary.SOFTPLUS,
  Softsign: Unary.SOFTSIGN,
};

const H: Record<string, Handler> = {};

for (const [op, fn] of Object.entries(ACTIVATIONS)) {
  H[op] = (ctx, n, ins, w) => [unaryK(ctx, n, need(ins[0], 0, n, w), fn, w)];
}
H.LeakyRelu = (ctx, n, ins, w) => [
  unaryK(ctx, n, need(ins[0], 0, n, w), Unary.LEAKY, w, quantize(attrFloat(n, "alpha", 0.01))),
];
H.Elu = (ctx, n, ins, w) => [
  unaryK(ctx, n, need(ins[0], 0, n, w), Unary.ELU, w, quantize(attrFloat(n, "alpha", 1))),
];
H.Selu = (ctx, n, ins, w) => [
  unaryK(
    ctx,
    n,
    need(ins[0], 0, n, w),
    Unary.SELU,
    w,
    quantize(attrFloat(n, "alpha", 1.6732632423543772)),
    quantize(attrFloat(n, "gamma", 1.0507009873554805)),
  ),
];
H.HardSigmoid = (ctx, n, ins, w) => [
  unaryK(
    ctx,
    n,
    need(ins[0], 0, n, w),
    Unary.HARDSIGMOID,
    w,
    quantize(attrFloat(n, "alpha", 0.2)),
    quantize(attrFloat(n, "beta", 0.5)),
  ),
];
H.HardSwish = (ctx, n, ins, w) => [
  unaryK(ctx, n, need(ins[0], 0, n, w), Unary.HARDSWISH, w, quantize(1 / 6)),
];
H.Gelu = (ctx, n, ins, w) => {
  const approx = attrStr(n, "approximate", "none");
  return [unaryK(ctx, n, need(ins[0], 0, n, w), approx === "tanh" ? Unary.GELU_TANH : Unary.GELU, w)];
};

export const NONLINEAR_HANDLERS = H;
