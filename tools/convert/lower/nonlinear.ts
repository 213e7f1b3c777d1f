// Activation functions: UNARY kernels whose function is one of the fixed-point approximations of
// dnn/assembly/nonlinear.ts or a piecewise activation (Relu, LeakyRelu, HardSigmoid, …).
import { quantize } from "../../../dnn/src/fixed.js";
import { Binary, Unary } from "../../../dnn/src/opcodes.js";
import { ConvertError, type ONode } from "../onnx.js";
import {
  attrFloat,
  attrStr,
  type Ctx,
  type Handler,
  isIntVal,
  mkConst,
  need,
  type OpDoc,
  sub,
  type Val,
} from "./context.js";
import { binaryK, unaryK } from "./elementwise.js";
import { whereK } from "./misc.js";

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

const floatIn = (v: Val | undefined, w: string) => {
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
const fc = (n: ONode, v: number, tag: string) => mkConst([], "float", [v], `${n.name}:${tag}`);
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

// Circular functions: no kernel of their own, so they are built from exact-rounding pieces (MUL,
// DIV by integers, ADD, CLIP, ROUND, WHERE, SQRT). Each step is a node; the VM replays them exactly.
/** Emits a chain of kernels for node n: intermediate nodes n#1, n#2, …; `last` names the result n. */
class Chain {
  private i = 0;
  constructor(
    readonly ctx: Ctx,
    readonly n: ONode,
    readonly w: string,
  ) {}
  private node(last: boolean) {
    return last ? this.n : sub(this.n, `${++this.i}`);
  }
  k = (v: number) => mkConst([], "float", [v], `${this.n.name}:${v}`);
  u = (x: Val, fn: number, a = 0, b = 0, last = false) =>
    unaryK(this.ctx, this.node(last), x, fn, this.w, a, b);
  b = (x: Val, y: Val, fn: number, last = false) => binaryK(this.ctx, this.node(last), x, y, fn, this.w);
  cmp = (x: Val, y: Val, fn: number) => binaryK(this.ctx, this.node(false), x, y, fn, this.w, "i32");
  where = (c: Val, x: Val, y: Val, last = false) => whereK(this.ctx, this.node(last), c, x, y, this.w);
}

/** r = x − 2π·round(x/2π) ∈ [−π, π] (up to 2.6e-6·|k| from 2π's Q16 value). */
function reduce2pi(ch: Chain, x: Val): Val {
  const k = ch.u(ch.b(x, ch.k(1 / (2 * Math.PI)), Binary.MUL), Unary.ROUND);
  return ch.b(x, ch.b(k, ch.k(2 * Math.PI), Binary.MUL), Binary.SUB);
}
/** sin(r) for |r| ≤ π/2: r·(1 − s/6·(1 − s/20·(1 − s/42·(1 − s/72·(1 − s/110))))), s = r², Taylor to r^11 (≤ 6e-8). */
function sinPoly(ch: Chain, r: Val, last: boolean): Val {
  const s = ch.b(r, r, Binary.MUL);
  let q = ch.b(ch.k(1), ch.b(s, ch.k(110), Binary.DIV), Binary.SUB);
  for (const d of [72, 42, 20, 6])
    q = ch.b(ch.k(1), ch.b(ch.b(s, ch.k(d), Binary.DIV), q, Binary.MUL), Binary.SUB);
  return ch.b(r, q, Binary.MUL, last);
}
/** Folds r ∈ [−π, π] into [−π/2, π/2] with the same sine: 2·clip(r, ±π/2) − r. */
function foldHalfPi(ch: Chain, r: Val): Val {
  const h = quantize(Math.PI / 2);
  const c = ch.u(r, Unary.CLIP, -h, h);
  return ch.b(ch.b(c, c, Binary.ADD), r, Binary.SUB);
}
/** cos(r) = sin(π/2 − |r|) for r ∈ [−π, π]. */
const cosOf = (ch: Chain, r: Val, last: boolean) =>
  sinPoly(ch, ch.b(ch.k(Math.PI / 2), ch.u(r, Unary.ABS), Binary.SUB), last);

H.Sin = (ctx, n, ins, w) => {
  const ch = new Chain(ctx, n, w);
  return [sinPoly(ch, foldHalfPi(ch, reduce2pi(ch, need(floatIn(ins[0], w), 0, n, w))), true)];
};
H.Cos = (ctx, n, ins, w) => {
  const ch = new Chain(ctx, n, w);
  return [cosOf(ch, reduce2pi(ch, need(floatIn(ins[0], w), 0, n, w)), true)];
};
H.Tan = (ctx, n, ins, w) => {
  const ch = new Chain(ctx, n, w);
  const r = reduce2pi(ch, need(floatIn(ins[0], w), 0, n, w));
  return [ch.b(sinPoly(ch, foldHalfPi(ch, r), false), cosOf(ch, r, false), Binary.DIV, true)];
};

/**
 * atan(x): |x| > 1 → π/2 − atan(1/|x|); then u > tan(π/12) → π/6 + atan((√3·u − 1)/(u + √3)),
 * leaving |v| ≤ 0.268 for the Taylor series to v^11 (≤ 3e-9); the sign is restored last.
 */
function atanOf(ch: Chain, x: Val, last: boolean): Val {
  const a = ch.u(x, Unary.ABS);
  const big = ch.cmp(a, ch.k(1), Binary.GT);
  const u = ch.where(big, ch.u(a, Unary.RECIP), a);
  const far = ch.cmp(u, ch.k(Math.tan(Math.PI / 12)), Binary.GT);
  const moved = ch.b(
    ch.b(ch.b(u, ch.k(Math.sqrt(3)), Binary.MUL), ch.k(1), Binary.SUB),
    ch.b(u, ch.k(Math.sqrt(3)), Binary.ADD),
    Binary.DIV,
  );
  const v = ch.where(far, moved, u);
  const s = ch.b(v, v, Binary.MUL);
  let q = ch.b(ch.k(1 / 9), ch.b(s, ch.k(11), Binary.DIV), Binary.SUB);
  for (const c of [1 / 7, 1 / 5, 1 / 3, 1]) q = ch.b(ch.k(c), ch.b(s, q, Binary.MUL), Binary.SUB);
  let t = ch.b(ch.b(v, q, Binary.MUL), ch.where(far, ch.k(Math.PI / 6), ch.k(0)), Binary.ADD);
  t = ch.where(big, ch.b(ch.k(Math.PI / 2), t, Binary.SUB), t);
  return ch.b(t, ch.u(x, Unary.SIGN), Binary.MUL, last);
}
H.Atan = (ctx, n, ins, w) => [atanOf(new Chain(ctx, n, w), need(floatIn(ins[0], w), 0, n, w), true)];
/** asin(x) = atan(x/(√(1 − x)·√(1 + x))); both roots are of exact sums. |x| = 1 divides by 0 → ±max → ±π/2. */
function asinOf(ch: Chain, x: Val, last: boolean): Val {
  const one = ch.k(1);
  const c = ch.b(
    ch.u(ch.b(one, x, Binary.SUB), Unary.SQRT),
    ch.u(ch.b(one, x, Binary.ADD), Unary.SQRT),
    Binary.MUL,
  );
  return atanOf(ch, ch.b(x, c, Binary.DIV), last);
}
H.Asin = (ctx, n, ins, w) => [asinOf(new Chain(ctx, n, w), need(floatIn(ins[0], w), 0, n, w), true)];
H.Acos = (ctx, n, ins, w) => {
  const ch = new Chain(ctx, n, w);
  return [ch.b(ch.k(Math.PI / 2), asinOf(ch, need(floatIn(ins[0], w), 0, n, w), false), Binary.SUB, true)];
};

export const NONLINEAR_HANDLERS = H;

export const NONLINEAR_DOCS: Record<string, OpDoc> = {
  Mish: { opsets: "18+", attrs: "all", notes: "UNARY softplus, UNARY tanh, MUL; ≤ 3 ulp + 1e-6·|y|" },
  Celu: {
    opsets: "12+",
    attrs: "all (alpha)",
    notes: "α = 1: UNARY ELU; else MUL 1/α, UNARY ELU(α), GT, WHERE (positive x exact)",
  },
  ThresholdedRelu: { opsets: "10+", attrs: "all (alpha)", notes: "GT + WHERE; exact" },
  Shrink: {
    opsets: "9+",
    attrs: "all (lambd, bias); float tensors",
    notes: "UNARY CLIP + SUB (+ SIGN, MUL, ADD when bias ≠ lambd); exact",
  },
  HardSigmoid: {
    opsets: "6+",
    attrs: "all (alpha, beta)",
    notes: "UNARY HARDSIGMOID: clamp(α·x (rounded) + β, 0, 1); ≤ 1 ulp",
  },
  HardSwish: {
    opsets: "14+",
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
  Sin: {
    opsets: "7+",
    attrs: "all",
    notes:
      "no kernel of its own: 2π reduction (MUL, ROUND, MUL, SUB), fold to ±π/2 (CLIP, ADD, SUB), Taylor to x^11 in Horner form with exact DIVs: 23 kernel nodes",
  },
  Cos: { opsets: "7+", attrs: "all", notes: "sin(π/2 − abs(r)) after the 2π reduction: 22 kernel nodes" },
  Tan: {
    opsets: "7+",
    attrs: "all",
    notes: "sin/cos sharing one reduction, one DIV: 42 kernel nodes; large near cos = 0",
  },
  Atan: {
    opsets: "7+",
    attrs: "all",
    notes: "two argument reductions (1/x, then the π/6 shift) and Taylor to x^11: 28 kernel nodes",
  },
  Asin: { opsets: "7+", attrs: "all", notes: "atan(x/(√(1−x)·√(1+x))): 34 kernel nodes" },
  Acos: { opsets: "7+", attrs: "all", notes: "π/2 − asin(x): 35 kernel nodes" },
  PRelu: {
    opsets: "7+",
    attrs: "all",
    notes: "BINARY PRELU with numpy broadcasting of the slope (e.g. torch's [C, 1, 1]); one rounded product",
  },
};
