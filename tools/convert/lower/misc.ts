// Index-shaped and selection ops composed from existing kernels (no kernel of their own): CumSum as
// shifted COPY + ADD rounds, TopK as comparison ranks + one-hot selection, Hardmax as ARGMAX +
// equality with an iota, Trilu as WHERE with a constant mask, Mod as integer division on the raw
// words, OneHot as equality with an iota, LRN as a band MATMUL (here, not in norm.ts, which linalg.ts
// imports). IsInf/IsNaN/CastLike/EyeLike fold or become one kernel.
// Every composition is exact integer work, so the VM runs it bit-identically (docs/NUMERICS.md §6).
import { quantize } from "../../../dnn/src/fixed.js";
import { Binary, Op, Reduce, Unary } from "../../../dnn/src/opcodes.js";
import type { DType } from "../../../dnn/src/package.js";
import { type Const, ConvertError, FLOAT_TYPES, type ONode } from "../onnx.js";
import { broadcastShapes, normAxis, numel, stridesOf } from "../views.js";
import {
  attrFloat,
  attrInt,
  type Ctx,
  constOf,
  type Handler,
  intsOf,
  isIntVal,
  kernel,
  mkConst,
  need,
  type OpDoc,
  shapeOf,
  sub,
  type Val,
  viewAs,
} from "./context.js";
import { copyKernel, reshapeTo } from "./copy.js";
import { binaryK, ELEMENTWISE_HANDLERS, unaryK } from "./elementwise.js";
import { lowerMatMul } from "./linalg.js";
import { rank3 } from "./norm.js";

/** [outer, axis, inner] around axis `ax`. */
const around = (xs: number[], ax: number) =>
  [numel(xs.slice(0, ax)), xs[ax], numel(xs.slice(ax + 1))] as const;

export const whereK = (ctx: Ctx, n: ONode, c: Val, x: Val, y: Val, w: string) =>
  ELEMENTWISE_HANDLERS.Where(ctx, n, [c, x, y], w)[0];

export function reduceSumK(
  ctx: Ctx,
  n: ONode,
  x: Val,
  [outer, red, inner]: readonly number[],
  outShape: number[],
  w: string,
): Val {
  const spec = {
    op: Op.REDUCE,
    params: [Reduce.SUM, outer, red, inner],
    inputs: [x],
    outShapes: [outShape],
    outDtype: (isIntVal(x) ? "i32" : "q16") as DType,
  };
  return kernel(ctx, n, spec, w)[0];
}

const zeroLike = (x: Val, name: string) => mkConst([], isIntVal(x) ? "int" : "float", [0], name);
const iota = (shape: number[], name: string, kind: "int" | "float" = "int") =>
  mkConst(
    shape,
    kind,
    Array.from({ length: numel(shape) }, (_, i) => i),
    name,
  );

const H: Record<string, Handler> = {};

// ---------- CumSum: ⌈log2 A⌉ rounds of y += shift(y, r) (Hillis–Steele), exact integer adds ----------
H.CumSum = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const xs = shapeOf(x);
  const axis = intsOf(constOf(ins[1], "axis", w));
  if (axis.length !== 1) throw new ConvertError(`${w}: axis must hold one value, got [${axis}]`);
  const ax = normAxis(axis[0], xs.length, w);
  const exclusive = attrInt(n, "exclusive", 0) !== 0;
  const reverse = attrInt(n, "reverse", 0) !== 0;
  const [O, A, I] = around(xs, ax);
  if (A === 1 && exclusive)
    return [mkConst(xs, isIntVal(x) ? "int" : "float", new Float64Array(numel(xs)), n.outputs[0])];
  if (A === 1) return [reshapeTo(ctx, n, x, xs, w)];
  const st = [A * I, I, 1];
  // y[a] = v[a − r] (reverse: v[a + r]), 0 where that falls outside the axis.
  const shift = (v: Val, r: number, node: ONode) =>
    copyKernel(
      ctx,
      node,
      [v],
      [
        {
          src: 0,
          dst: 0,
          dims: [O, A - r, I],
          srcOff: reverse ? r * I : 0,
          srcStrides: st,
          dstOff: reverse ? 0 : r * I,
          dstStrides: st,
        },
      ],
      [xs],
      w,
      { value: 0, count: numel(xs) },
    )[0];
  let cur = exclusive ? shift(x, 1, sub(n, "excl")) : x;
  for (let r = 1; r < A; r *= 2) {
    const last = r * 2 >= A;
    cur = binaryK(ctx, last ? n : sub(n, `add${r}`), cur, shift(cur, r, sub(n, `shift${r}`)), Binary.ADD, w);
  }
  return [cur];
};

// ---------- TopK: rank_i = #{j: x_j beats x_i} + #{j < i: x_j = x_i}; output p takes rank p ----------
/** Largest [outer·A·A·inner] comparison tensor TopK builds (16M words = 64 MiB). */
export const TOPK_MAX_PAIRS = 2 ** 24;
H.TopK = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const xs = shapeOf(x);
  const ax = normAxis(attrInt(n, "axis", -1), xs.length, w);
  const k = ctx.opset >= 10 ? intsOf(constOf(ins[1], "K", w))[0] : attrInt(n, "k", -1);
  const [O, A, I] = around(xs, ax);
  if (!(k >= 1 && k <= A)) throw new ConvertError(`${w}: K = ${k} must be in 1..${A} (size of axis ${ax})`);
  if (O * A * A * I > TOPK_MAX_PAIRS)
    throw new ConvertError(
      `${w}: TopK over an axis of ${A} with ${O * I} rows needs ${O * A * A * I} comparisons, over ${TOPK_MAX_PAIRS}`,
    );
  const largest = attrInt(n, "largest", 1) !== 0;
  const xj = viewAs(x, [O, 1, A, I]);
  const xi = viewAs(x, [O, A, 1, I]);
  // cmp[o, i, j, ·] = x_j strictly before x_i in the order; ties go to the lower index (ONNX).
  const beats = binaryK(ctx, sub(n, "beats"), xj, xi, largest ? Binary.GT : Binary.LT, w, "i32");
  const eq = binaryK(ctx, sub(n, "eq"), xj, xi, Binary.EQ, w, "i32");
  const lower = new Float64Array(A * A);
  for (let i = 0; i < A; i++) for (let j = 0; j < i; j++) lower[i * A + j] = 1;
  const tie = binaryK(
    ctx,
    sub(n, "tie"),
    eq,
    mkConst([1, A, A, 1], "int", lower, `${n.name}:j<i`),
    Binary.AND,
    w,
    "i32",
  );
  const before = binaryK(ctx, sub(n, "before"), beats, tie, Binary.ADD, w);
  const rank = reduceSumK(ctx, sub(n, "rank"), before, [O * A, A, I], [O, A, 1, I], w);
  // onehot[o, i, p, ·] = (rank_i == p): exactly one i per output position p.
  const oh = binaryK(
    ctx,
    sub(n, "onehot"),
    rank,
    iota([1, 1, k, 1], `${n.name}:iota${k}`),
    Binary.EQ,
    w,
    "i32",
  );
  const outShape = xs.map((d, i) => (i === ax ? k : d));
  const picked = whereK(ctx, sub(n, "pick"), oh, xi, zeroLike(x, `${n.name}:zero`), w);
  const values = reduceSumK(ctx, { ...n, outputs: [n.outputs[0]] }, picked, [O, A, k * I], outShape, w);
  const pos = binaryK(ctx, sub(n, "pos"), oh, iota([1, A, 1, 1], `${n.name}:iota${A}`), Binary.MUL, w);
  const indices = reduceSumK(
    ctx,
    { ...n, name: `${n.name}#indices`, outputs: [n.outputs[1] ?? `${n.name}#indices`] },
    pos,
    [O, A, k * I],
    outShape,
    w,
  );
  return [values, indices];
};

// ---------- Hardmax: one-hot of the first maximum ----------
H.Hardmax = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const xs = shapeOf(x);
  // Before opset 13 the input is coerced to 2-D [before axis, from axis on].
  const legacy = ctx.opset < 13;
  const ax = normAxis(attrInt(n, "axis", legacy ? 1 : -1), xs.length, w);
  const [O, A, I] = legacy ? [numel(xs.slice(0, ax)), numel(xs.slice(ax)), 1] : around(xs, ax);
  const idx = kernel(
    ctx,
    sub(n, "argmax"),
    {
      op: Op.ARGMAX,
      params: [O, A, I, 0, 0],
      inputs: [x],
      outShapes: [[O, 1, I]],
      outDtype: "i32",
      foldable: false,
    },
    w,
  )[0];
  const eq = binaryK(ctx, sub(n, "eq"), idx, iota([1, A, 1], `${n.name}:iota${A}`), Binary.EQ, w, "i32");
  return [unaryK(ctx, n, viewAs(eq, xs), Unary.I2Q, w, 0, 0, "q16")];
};

// ---------- Trilu: WHERE with a constant [rows, cols] mask ----------
H.Trilu = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const xs = shapeOf(x);
  if (xs.length < 2) throw new ConvertError(`${w}: input must have rank ≥ 2, got [${xs}]`);
  const k = ins[1] ? intsOf(constOf(ins[1], "k", w))[0] : 0;
  const upper = attrInt(n, "upper", 1) !== 0;
  const [R, C] = xs.slice(-2);
  const mask = new Float64Array(R * C);
  for (let r = 0; r < R; r++)
    for (let c = 0; c < C; c++) mask[r * C + c] = (upper ? c - r >= k : c - r <= k) ? 1 : 0;
  const m = mkConst([R, C], "int", mask, `${n.name}:${upper ? "upper" : "lower"}${k}`);
  return [whereK(ctx, n, m, x, zeroLike(x, `${n.name}:zero`), w)];
};

// ---------- Mod: integer remainder of the raw words (exact for Q16 too: fmod(A·s, B·s) = fmod(A,B)·s) ----------
H.Mod = (ctx, n, ins, w) => {
  const a = need(ins[0], 0, n, w);
  const b = need(ins[1], 1, n, w);
  const fmod = attrInt(n, "fmod", 0);
  const isInt = isIntVal(a);
  if (isInt !== isIntVal(b)) throw new ConvertError(`${w}: mixed integer and float operands`);
  if (fmod !== 0 && fmod !== 1) throw new ConvertError(`${w}: attribute fmod = ${fmod} must be 0 or 1`);
  if (!isInt && fmod === 0)
    throw new ConvertError(`${w}: attribute fmod = 0 on float tensors is not allowed by ONNX (set fmod = 1)`);
  const rem = (p: number, q: number) => {
    if (q === 0) return p; // same as the kernel chain: integer x/0 = 0
    const r = p % q; // C fmod: sign of the dividend
    return fmod === 0 && r !== 0 && r < 0 !== q < 0 ? r + q : r;
  };
  if (a.kind === "const" && b.kind === "const") {
    const out = broadcastShapes([shapeOf(a), shapeOf(b)], w);
    return [broadcastFold(a.c, b.c, out, rem, n.outputs[0])];
  }
  // Q16 operands are processed as their integer words; constants are quantized first.
  const asInt = (v: Val): Val =>
    isInt
      ? v
      : v.kind === "const"
        ? mkConst(v.c.shape, "int", Array.from(v.c.data, quantize), `${v.name}:q16`)
        : { ...v, dtype: "i32" };
  const A = asInt(a);
  const B = asInt(b);
  const outDtype: DType = isInt ? "i32" : "q16";
  const q = binaryK(ctx, sub(n, "quot"), A, B, Binary.DIV, w); // DIV_INT: truncates toward 0
  const qb = binaryK(ctx, sub(n, "qb"), q, B, Binary.MUL, w);
  if (fmod === 1) return [binaryK(ctx, n, A, qb, Binary.SUB, w, outDtype)];
  const r = binaryK(ctx, sub(n, "fmod"), A, qb, Binary.SUB, w);
  // Python mod: add b where r ≠ 0 and sign(r) ≠ sign(b), i.e. r > 0 for b < 0, r < 0 for b ≥ 0.
  const zero = mkConst([], "int", [0], `${n.name}:zero`);
  const bNeg = binaryK(ctx, sub(n, "bneg"), B, zero, Binary.LT, w, "i32");
  const rPos = binaryK(ctx, sub(n, "rpos"), r, zero, Binary.GT, w, "i32");
  const rNeg = binaryK(ctx, sub(n, "rneg"), r, zero, Binary.LT, w, "i32");
  const wrong = whereK(ctx, sub(n, "wrong"), bNeg, rPos, rNeg, w);
  const adj = whereK(ctx, sub(n, "adj"), wrong, B, zero, w);
  return [binaryK(ctx, n, r, adj, Binary.ADD, w, outDtype)];
};
/** Folds an elementwise binary function of two constants with numpy broadcasting, in float64. */
function broadcastFold(
  ca: Const,
  cb: Const,
  out: number[],
  f: (p: number, q: number) => number,
  name: string,
): Val {
  const ost = stridesOf(out);
  const idx = (shape: number[], flat: number) => {
    let off = 0;
    let mul = 1;
    for (let d = out.length - 1, s = shape.length - 1; d >= 0; d--, s--) {
      const i = Math.floor(flat / ost[d]) % out[d];
      if (s >= 0 && shape[s] !== 1) off += i * mul;
      if (s >= 0) mul *= shape[s];
    }
    return off;
  };
  const data = Array.from({ length: numel(out) }, (_, i) =>
    f(ca.data[idx(ca.shape, i)], cb.data[idx(cb.shape, i)]),
  );
  return mkConst(out, ca.dtype, data, name);
}

// ---------- IsInf / IsNaN ----------
// Fixed-point values are finite. A constant folds in float64 (its true ±Inf/NaN); at run time the
// saturated words ±2^31 stand for ±Inf (model constants ±Inf quantize to them), and nothing is NaN.
H.IsInf = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const neg = attrInt(n, "detect_negative", 1) !== 0;
  const pos = attrInt(n, "detect_positive", 1) !== 0;
  const xs = shapeOf(x);
  if (x.kind === "const") {
    const d = Array.from(x.c.data, (v) => ((v === Infinity && pos) || (v === -Infinity && neg) ? 1 : 0));
    return [mkConst(xs, "int", d, n.outputs[0])];
  }
  if (isIntVal(x)) throw new ConvertError(`${w}: IsInf needs a float tensor`);
  if (!pos && !neg) return [mkConst(xs, "int", new Float64Array(numel(xs)), n.outputs[0])];
  const hit = (v: number, node: ONode) =>
    binaryK(ctx, node, x, mkConst([], "float", [v], `${n.name}:${v}`), Binary.EQ, w, "i32");
  if (!neg) return [hit(Infinity, n)];
  if (!pos) return [hit(-Infinity, n)];
  return [binaryK(ctx, n, hit(Infinity, sub(n, "pos")), hit(-Infinity, sub(n, "neg")), Binary.OR, w, "i32")];
};
H.IsNaN = (_ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const xs = shapeOf(x);
  const d =
    x.kind === "const" ? Array.from(x.c.data, (v) => (Number.isNaN(v) ? 1 : 0)) : new Float64Array(numel(xs));
  return [mkConst(xs, "int", d, n.outputs[0])];
};

// ---------- CastLike, EyeLike, OneHot ----------
H.CastLike = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const like = need(ins[1], 1, n, w);
  // Only the like tensor's number kind is known here (float or integer); 7 = INT64, 1 = FLOAT.
  return ELEMENTWISE_HANDLERS.Cast(ctx, { ...n, attrs: { ...n.attrs, to: isIntVal(like) ? 7 : 1 } }, [x], w);
};
H.EyeLike = (_ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const xs = shapeOf(x);
  if (xs.length !== 2) throw new ConvertError(`${w}: input must be 2-D, got [${xs}]`);
  const k = attrInt(n, "k", 0);
  const dt = typeof n.attrs.dtype === "number" ? (n.attrs.dtype as number) : undefined;
  const isFloat = dt === undefined ? !isIntVal(x) : FLOAT_TYPES.has(dt);
  const [R, C] = xs;
  const d = new Float64Array(R * C);
  for (let r = 0; r < R; r++) if (r + k >= 0 && r + k < C) d[r * C + r + k] = 1;
  return [mkConst(xs, isFloat ? "float" : "int", d, n.outputs[0])];
};
H.OneHot = (ctx, n, ins, w) => {
  const idx = need(ins[0], 0, n, w);
  const depthC = constOf(ins[1], "depth", w);
  const vals = constOf(ins[2], "values", w);
  const depth = Math.trunc(depthC.data[0]);
  if (!(depth >= 1)) throw new ConvertError(`${w}: depth = ${depthC.data[0]} must be ≥ 1`);
  if (vals.data.length !== 2)
    throw new ConvertError(`${w}: values must hold [off, on], got ${vals.data.length} elements`);
  const is = shapeOf(idx);
  const ax = normAxis(attrInt(n, "axis", -1), is.length + 1, w);
  const outShape = [...is.slice(0, ax), depth, ...is.slice(ax)];
  const [off, on] = vals.data;
  if (idx.kind === "const") {
    const inner = numel(is.slice(ax));
    const d = new Float64Array(numel(outShape)).fill(off);
    idx.c.data.forEach((v, i) => {
      const t = v < 0 ? v + depth : v;
      if (Number.isInteger(t) && t >= 0 && t < depth)
        d[Math.floor(i / inner) * depth * inner + t * inner + (i % inner)] = on;
    });
    return [mkConst(outShape, vals.dtype, d, n.outputs[0])];
  }
  // Float indices stay Q16 and are compared with the iota as they are: a non-integer index matches
  // no position (onnxruntime and ONNX's reference do the same).
  const kind = isIntVal(idx) ? "int" : "float";
  const k = (v: number, tag: string) => mkConst([], kind, [v], `${n.name}:${tag}`);
  // Negative indices count from the end: i + depth where i < 0.
  const neg = binaryK(ctx, sub(n, "neg"), idx, k(0, "zero"), Binary.LT, w, "i32");
  const wrapped = binaryK(ctx, sub(n, "wrap"), idx, k(depth, "depth"), Binary.ADD, w);
  const iv = whereK(ctx, sub(n, "norm"), neg, wrapped, idx, w);
  const hot = binaryK(
    ctx,
    sub(n, "eq"),
    viewAs(iv, [...is.slice(0, ax), 1, ...is.slice(ax)]),
    iota(
      outShape.map((d, i) => (i === ax ? d : 1)),
      `${n.name}:iota${depth}`,
      kind,
    ),
    Binary.EQ,
    w,
    "i32",
  );
  const c = (v: number, tag: string) => mkConst([], vals.dtype, [v], `${n.name}:${tag}`);
  return [whereK(ctx, n, hot, c(on, "on"), c(off, "off"), w)];
};

// LRN: y = x·(bias + α/size·Σ_window x²)^−β. The window sum over channels is a MATMUL with a
// constant band matrix holding α/size·2^p (in [1, 2) for small α/size, so its Q16 weight keeps 17
// bits), scaled back by exact MULs with 2^−16…; the power is BINARY POW (exp(−β·ln t)).
H.LRN = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const xs = rank3(x, w);
  const size = attrInt(n, "size", 0);
  if (!(size >= 1)) throw new ConvertError(`${w}: attribute size = ${size} must be ≥ 1`);
  const alpha = attrFloat(n, "alpha", 1e-4);
  const beta = attrFloat(n, "beta", 0.75);
  const bias = attrFloat(n, "bias", 1);
  const [N, C] = xs;
  const inner = numel(xs.slice(2));
  const k = alpha / size;
  let p = 0;
  while (k > 0 && k * 2 ** p < 1 && p < 48) p++;
  const lo = Math.floor((size - 1) / 2);
  const hi = Math.ceil((size - 1) / 2);
  const band = new Float64Array(C * C);
  for (let c = 0; c < C; c++)
    for (let d = Math.max(0, c - lo); d <= Math.min(C - 1, c + hi); d++) band[c * C + d] = k * 2 ** p;
  const sq = binaryK(ctx, sub(n, "sq"), x, x, Binary.MUL, w);
  const bandC = mkConst([C, C], "float", band, `${n.name}:band`);
  let t = lowerMatMul(ctx, sub(n, "window"), [bandC, viewAs(sq, [N, C, inner])], undefined, w)[0];
  for (let rest = p, i = 0; rest > 0; i++) {
    const s = Math.min(16, rest);
    t = binaryK(
      ctx,
      sub(n, `down${i}`),
      t,
      mkConst([], "float", [2 ** -s], `${n.name}:2^-${s}`),
      Binary.MUL,
      w,
    );
    rest -= s;
  }
  t = binaryK(ctx, sub(n, "bias"), t, mkConst([], "float", [bias], `${n.name}:bias`), Binary.ADD, w);
  const r = binaryK(ctx, sub(n, "pow"), t, mkConst([], "float", [-beta], `${n.name}:-beta`), Binary.POW, w);
  return [binaryK(ctx, n, x, viewAs(r, xs), Binary.MUL, w)];
};

export const MISC_HANDLERS = H;

export const MISC_DOCS: Record<string, OpDoc> = {
  LRN: {
    opsets: "1+",
    attrs: "all (alpha, beta, bias, size)",
    notes:
      "MUL (x²), MATMUL with a constant channel-band matrix (α/size·2^p), exact MULs by 2^−16, ADD bias, POW −β (exp·log), MUL",
  },
  CumSum: {
    opsets: "11+",
    attrs: "all (exclusive, reverse; axis a constant input)",
    notes: "⌈log2 n⌉ rounds of COPY (shift, zero fill) + ADD; exact (Q16 adds saturate, integer adds wrap)",
  },
  TopK: {
    opsets: "1+",
    attrs: "all (axis, largest, sorted; K a constant input)",
    notes:
      "BINARY comparisons of every pair along the axis, REDUCE ranks, EQ with an iota, WHERE + REDUCE picks values and indices; exact; ties: lower index first; always sorted; refuses rows·n² > 2^24",
  },
  Hardmax: {
    opsets: "1+",
    attrs: "all (axis; opset < 13 coerces to 2-D)",
    notes: "ARGMAX (first maximum) + EQ with an iota + I2Q; exact",
  },
  Trilu: {
    opsets: "14+",
    attrs: "all (upper; k a constant input)",
    notes: "WHERE with a constant 0/1 mask; exact",
  },
  Mod: {
    opsets: "10+",
    attrs: "fmod 0 (integers) and 1 (integers, floats)",
    notes:
      "integer DIV (truncating) + MUL + SUB on the raw words, also for Q16 (exact: fmod(A·2^-16, B·2^-16) = fmod(A, B)·2^-16); fmod 0 adds b where the signs differ (COMPARE + WHERE + ADD); x mod 0 = x",
  },
  IsInf: {
    opsets: "10+",
    attrs: "all (detect_negative, detect_positive)",
    notes: "constants fold in float64; at run time EQ with the saturated words ±2^31 (how ±Inf quantizes)",
  },
  IsNaN: {
    opsets: "9+",
    attrs: "all",
    notes: "constants fold in float64; a runtime tensor is never NaN (inputs refuse NaN): all-false constant",
  },
  CastLike: {
    opsets: "15+",
    attrs: "all",
    notes:
      "Cast to the number kind (float or integer) of the second input; bool/string targets are not distinguished",
  },
  EyeLike: {
    opsets: "9+",
    attrs: "all (k, dtype)",
    notes: "folds to a constant (only the input's shape is used)",
  },
  OneHot: {
    opsets: "9+",
    attrs: "all (axis; depth and values constant inputs)",
    notes:
      "indices may be activations: negative wrap (LT, ADD, WHERE) + EQ with an iota + WHERE(on, off); exact; out-of-range and non-integer (float) indices give an all-off row, as in onnxruntime",
  },
};
