// Activation functions: UNARY kernels whose function is one of the fixed-point approximations of
// dnn/assembly/nonlinear.ts or a piecewise activation (Relu, LeakyRelu, HardSigmoid, …).
import { quantize } from "../../../dnn/src/fixed.js";
import { Binary, Unary } from "../../../dnn/src/opcodes.js";
import { ConvertError } from "../onnx.js";
import { attrFloat, attrStr, type Handler, isIntVal, mkConst, need, type OpDoc } from "./context.js";
import { binaryK, unaryK } from "./elementwise.js";
import { sub, whereK } from "./misc.js";

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

const floatIn = (v: Parameters<Handler>[2][number], w: string) => {
  if (v && isIntVal(v)) throw new ConvertError(`${w}: needs a float tensor`);
  return v;
};

// Mish: x·tanh(softplus(x)), three kernels.
H.Mish = (ctx, n, ins, w) => {
  const x = need(floatIn(ins[0], w), 0, n, w);
  const sp = unaryK(ctx, sub(n, "softplus"), x, Unary.SOFTPLUS, w);
  const th = unaryK(ctx, sub(n, "tanh"), sp, Unary.TANH, w);
  return [binaryK(ctx, n, x, th, Binary.MUL, w)];
};
// Celu: x for x > 0, else α·(e^(x/α) − 1): ELU(α) of x/α, and WHERE keeps positive x exact.
H.Celu = (ctx, n, ins, w) => {
  const x = need(floatIn(ins[0], w), 0, n, w);
  const alpha = attrFloat(n, "alpha", 1);
  if (!(alpha > 0)) throw new ConvertError(`${w}: attribute alpha = ${alpha} must be > 0`);
  if (alpha === 1) return [unaryK(ctx, n, x, Unary.ELU, w, quantize(1))];
  const scaled = binaryK(
    ctx,
    sub(n, "div"),
    x,
    mkConst([], "float", [1 / alpha], `${n.name}:1/alpha`),
    Binary.MUL,
    w,
  );
  const e = unaryK(ctx, sub(n, "elu"), scaled, Unary.ELU, w, quantize(alpha));
  const pos = binaryK(
    ctx,
    sub(n, "pos"),
    x,
    mkConst([], "float", [0], `${n.name}:zero`),
    Binary.GT,
    w,
    "i32",
  );
  return [whereK(ctx, n, pos, x, e, w)];
};
// ThresholdedRelu: x where x > α, else 0 (exact).
H.ThresholdedRelu = (ctx, n, ins, w) => {
  const x = need(floatIn(ins[0], w), 0, n, w);
  const alpha = mkConst([], "float", [attrFloat(n, "alpha", 1)], `${n.name}:alpha`);
  const gt = binaryK(ctx, sub(n, "gt"), x, alpha, Binary.GT, w, "i32");
  return [whereK(ctx, n, gt, x, mkConst([], "float", [0], `${n.name}:zero`), w)];
};
// Shrink: d = x − clip(x, −λ, λ) is x ∓ λ outside [−λ, λ] and 0 inside; then d + (λ − bias)·sign(d).
// Exact (sign is ±1.0, so the product is λ − bias itself).
H.Shrink = (ctx, n, ins, w) => {
  const x = need(floatIn(ins[0], w), 0, n, w);
  const lambd = attrFloat(n, "lambd", 0.5);
  const bias = attrFloat(n, "bias", 0);
  if (!(lambd >= 0)) throw new ConvertError(`${w}: attribute lambd = ${lambd} must be ≥ 0`);
  const ql = quantize(lambd);
  const c = unaryK(ctx, sub(n, "clip"), x, Unary.CLIP, w, -ql, ql);
  const same = quantize(bias) === ql;
  const d = binaryK(ctx, same ? n : sub(n, "d"), x, c, Binary.SUB, w);
  if (same) return [d];
  const s = unaryK(ctx, sub(n, "sign"), d, Unary.SIGN, w);
  const k = binaryK(
    ctx,
    sub(n, "k"),
    s,
    mkConst([], "float", [lambd - bias], `${n.name}:lambd-bias`),
    Binary.MUL,
    w,
  );
  return [binaryK(ctx, n, d, k, Binary.ADD, w)];
};

// Hyperbolic functions from exp, log and sqrt (no kernel of their own).
const fc = (n: Parameters<Handler>[1], v: number, tag: string) =>
  mkConst([], "float", [v], `${n.name}:${tag}`);
/** (e^x ∓ e^−x)/2. */
const expPair =
  (op: number): Handler =>
  (ctx, n, ins, w) => {
    const x = need(floatIn(ins[0], w), 0, n, w);
    const ep = unaryK(ctx, sub(n, "exp"), x, Unary.EXP, w);
    const en = unaryK(ctx, sub(n, "expneg"), unaryK(ctx, sub(n, "neg"), x, Unary.NEG, w), Unary.EXP, w);
    return [binaryK(ctx, n, binaryK(ctx, sub(n, "pair"), ep, en, op, w), fc(n, 0.5, "half"), Binary.MUL, w)];
  };
H.Sinh = expPair(Binary.SUB);
H.Cosh = expPair(Binary.ADD);
// asinh(x) = sign(x)·ln(|x| + √(x² + 1)) (odd, so no cancellation for x < 0).
H.Asinh = (ctx, n, ins, w) => {
  const x = need(floatIn(ins[0], w), 0, n, w);
  const a = unaryK(ctx, sub(n, "abs"), x, Unary.ABS, w);
  const sq = binaryK(ctx, sub(n, "sq"), a, a, Binary.MUL, w);
  const r = unaryK(
    ctx,
    sub(n, "sqrt"),
    binaryK(ctx, sub(n, "sq+1"), sq, fc(n, 1, "one"), Binary.ADD, w),
    Unary.SQRT,
    w,
  );
  const l = unaryK(ctx, sub(n, "log"), binaryK(ctx, sub(n, "sum"), r, a, Binary.ADD, w), Unary.LOG, w);
  return [binaryK(ctx, n, l, unaryK(ctx, sub(n, "sign"), x, Unary.SIGN, w), Binary.MUL, w)];
};
// acosh(x) = ln(x + √(x − 1)·√(x + 1)): each square root is of an exact sum, so x near 1 keeps precision.
H.Acosh = (ctx, n, ins, w) => {
  const x = need(floatIn(ins[0], w), 0, n, w);
  const one = fc(n, 1, "one");
  const lo = unaryK(ctx, sub(n, "sqrt-"), binaryK(ctx, sub(n, "x-1"), x, one, Binary.SUB, w), Unary.SQRT, w);
  const hi = unaryK(ctx, sub(n, "sqrt+"), binaryK(ctx, sub(n, "x+1"), x, one, Binary.ADD, w), Unary.SQRT, w);
  const s = binaryK(
    ctx,
    sub(n, "sum"),
    x,
    binaryK(ctx, sub(n, "prod"), lo, hi, Binary.MUL, w),
    Binary.ADD,
    w,
  );
  return [unaryK(ctx, n, s, Unary.LOG, w)];
};
// atanh(x) = ln((1 + x)/(1 − x))/2.
H.Atanh = (ctx, n, ins, w) => {
  const x = need(floatIn(ins[0], w), 0, n, w);
  const one = fc(n, 1, "one");
  const q = binaryK(
    ctx,
    sub(n, "ratio"),
    binaryK(ctx, sub(n, "1+x"), one, x, Binary.ADD, w),
    binaryK(ctx, sub(n, "1-x"), one, x, Binary.SUB, w),
    Binary.DIV,
    w,
  );
  return [binaryK(ctx, n, unaryK(ctx, sub(n, "log"), q, Unary.LOG, w), fc(n, 0.5, "half"), Binary.MUL, w)];
};

export const NONLINEAR_HANDLERS = H;

export const NONLINEAR_DOCS: Record<string, OpDoc> = {
  Mish: { opsets: "18+", attrs: "all", notes: "UNARY softplus, UNARY tanh, MUL; ≤ 3 ulp + 1e-6·|y|" },
  Celu: {
    opsets: "12+",
    attrs: "all (alpha)",
    notes: "α = 1: UNARY ELU; else MUL 1/α, UNARY ELU(α), GT, WHERE (positive x exact)",
  },
  ThresholdedRelu: { opsets: "10-22+", attrs: "all (alpha)", notes: "GT + WHERE; exact" },
  Shrink: {
    opsets: "9+",
    attrs: "all (lambd, bias); float tensors",
    notes: "UNARY CLIP + SUB (+ SIGN, MUL, ADD when bias ≠ lambd); exact",
  },
  HardSigmoid: {
    opsets: "6-22+",
    attrs: "all (alpha, beta)",
    notes: "UNARY HARDSIGMOID: clamp(α·x (rounded) + β, 0, 1); ≤ 1 ulp",
  },
  HardSwish: {
    opsets: "14-22+",
    attrs: "all",
    notes: "UNARY HARDSWISH: x·clamp(x/6 + 1/2, 0, 1), two roundings; ≤ 1 ulp + |x|·2^-17",
  },
  Sinh: {
    opsets: "9+",
    attrs: "all",
    notes: "(e^x − e^−x)/2: UNARY NEG, EXP ×2, SUB, MUL; saturates beyond abs(x) ≈ 10.4",
  },
  Cosh: {
    opsets: "9+",
    attrs: "all",
    notes: "(e^x + e^−x)/2: UNARY NEG, EXP ×2, ADD, MUL; saturates beyond abs(x) ≈ 10.4",
  },
  Asinh: {
    opsets: "9+",
    attrs: "all",
    notes: "sign(x)·ln(abs(x) + √(x² + 1)): 8 UNARY/BINARY kernels; x² saturates beyond abs(x) ≈ 181",
  },
  Acosh: {
    opsets: "9+",
    attrs: "all",
    notes: "ln(x + √(x − 1)·√(x + 1)): 7 kernels; x < 1 (NaN in float) gives ln(x + √(x+1)·0) = ln(x)",
  },
  Atanh: {
    opsets: "9+",
    attrs: "all",
    notes: "ln((1 + x)/(1 − x))/2: ADD, SUB, DIV, LOG, MUL; abs(x) ≥ 1 saturates",
  },
  PRelu: {
    opsets: "7-16+",
    attrs: "all",
    notes: "BINARY PRELU with numpy broadcasting of the slope (e.g. torch's [C, 1, 1]); one rounded product",
  },
};
