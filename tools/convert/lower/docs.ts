// docs/OPERATORS.md rows for the ops the original kernel families lower (elementwise, nonlinear,
// copy, constant, linalg, norm, pool, reduce). Families added later export their own *_DOCS beside
// their handlers; a row there overrides one here. "§n" points into docs/NUMERICS.md.
import type { OpDoc } from "./context.js";

const all = "all";
const row = (opsets: string, attrs: string, notes: string): OpDoc => ({ opsets, attrs, notes });

const unary = (what: string) => row("1+", all, `UNARY ${what} (§4 for its approximation and bound)`);
const exact = (what: string) => row("1+", all, `UNARY ${what}: exact on Q16.16`);
const binary = (what: string) =>
  row("1+", all, `BINARY ${what} with numpy broadcasting (rank ≤ 6); int operands stay int (§2, §3)`);
const compare = (what: string) => row("1+", all, `BINARY ${what}: exact; bool (int) result`);
const reduce = (what: string) =>
  row("1+", "axes (attribute or input), keepdims, noop_with_empty_axes", `REDUCE ${what} (§3, §4)`);

export const BASE_DOCS: Record<string, OpDoc> = {
  // elementwise
  Abs: exact("ABS"),
  Neg: exact("NEG (saturating)"),
  Sign: exact("SIGN"),
  Floor: exact("FLOOR"),
  Ceil: exact("CEIL"),
  Round: exact("ROUND, half to even"),
  Not: exact("NOT on bool"),
  Reciprocal: unary("RECIP: one rounded division"),
  Clip: row(
    "1+",
    "min, max (attributes before opset 11, constant inputs after)",
    "UNARY CLIP; bounds rounded to Q16.16 (§2)",
  ),
  Cast: row(
    "1+",
    "to (float, float16, double, bfloat16, int*, uint*, bool)",
    "float→int truncates toward zero (UNARY Q2I), int→float is exact (I2Q); runtime float→bool and any string cast are refused",
  ),
  Add: binary("ADD (saturating)"),
  Sub: binary("SUB (saturating)"),
  Mul: binary("MUL: one rounding of the 64-bit product"),
  Div: binary("DIV: one rounded division; int division truncates"),
  Pow: binary("POW: exact integer powers by squaring, else exp(y·log x)"),
  PRelu: binary("PRELU: slope broadcast to the input"),
  And: compare("AND"),
  Or: compare("OR"),
  Xor: compare("XOR"),
  Equal: compare("EQ"),
  Less: compare("LT"),
  Greater: compare("GT"),
  LessOrEqual: compare("LE"),
  GreaterOrEqual: compare("GE"),
  Min: row("1+", "variadic", "a chain of BINARY MIN nodes; exact"),
  Max: row("1+", "variadic", "a chain of BINARY MAX nodes; exact"),
  Sum: row("1+", "variadic", "a chain of BINARY ADD nodes (saturating)"),
  Mean: row("1+", "variadic", "BINARY ADD chain, then one MUL by the rounded 1/n"),
  Where: row("9+", all, "WHERE with broadcasting; exact"),
  // nonlinear
  Relu: exact("RELU"),
  LeakyRelu: row("1+", "alpha", "UNARY LEAKY: one rounding of alpha·x (alpha rounded to Q16.16)"),
  Sigmoid: unary("SIGMOID"),
  Tanh: unary("TANH"),
  Exp: unary("EXP (saturates above ln 32768)"),
  Log: unary("LOG (x ≤ 0 gives the most negative value)"),
  Erf: unary("ERF"),
  Sqrt: unary("SQRT: integer square root, rounded"),
  Softplus: unary("SOFTPLUS"),
  Softsign: unary("SOFTSIGN"),
  Elu: row("1+", "alpha", "UNARY ELU (§4)"),
  Selu: row("1+", "alpha, gamma", "UNARY SELU (§4)"),
  HardSigmoid: row("1+", "alpha, beta", "UNARY HARDSIGMOID: one rounding of alpha·x + beta, clamped"),
  HardSwish: row("14+", all, "UNARY HARDSWISH: x·hardsigmoid(x) with alpha 1/6 rounded to Q16.16"),
  Gelu: row("20+", "approximate (none, tanh)", "UNARY GELU / GELU_TANH (§4)"),
  // copy (strided views; exact)
  Identity: row("1+", all, "COPY (folded away when its input is a constant)"),
  Dropout: row(
    "1+",
    "ratio, training_mode (inference only)",
    "identity; mask output all true; training mode with a random ratio is refused",
  ),
  Reshape: row("1+", "shape (attribute before opset 5), allowzero", "a view: COPY only when materialized"),
  Flatten: row("1+", "axis", "a view"),
  Squeeze: row("1+", "axes (attribute before opset 13, input after)", "a view"),
  Unsqueeze: row("1+", "axes (attribute before opset 13, input after)", "a view"),
  Transpose: row("1+", "perm", "COPY with permuted strides (rank ≤ 6)"),
  Concat: row("1+", "axis", "one COPY per input into the output"),
  Split: row("1+", "axis, split (attribute or input), num_outputs", "one COPY per output"),
  Slice: row(
    "1+",
    "starts, ends, axes, steps (attributes before opset 10)",
    "COPY with strides; negative steps",
  ),
  Expand: row("8+", all, "COPY with zero strides"),
  Tile: row("6+", all, "COPY per repetition"),
  Pad: row(
    "2–21",
    "pads, constant_value, axes (opset 18); mode constant",
    "COPY into a constant-filled output",
  ),
  DepthToSpace: row("1+", "blocksize, mode (DCR, CRD)", "COPY with a 6-D view"),
  SpaceToDepth: row("1+", "blocksize", "COPY with a 6-D view"),
  Gather: row(
    "1+",
    "axis; negative indices",
    "GATHER; runtime indices are range-checked by the kernel (exec error)",
  ),
  // constant (folded at conversion)
  Shape: row("1+", "start, end", "folded to a constant (shapes are static)"),
  Size: row("1+", all, "folded to a constant"),
  Constant: row("1+", "value, value_float(s), value_int(s)", "folded; float values are quantized once (§2)"),
  ConstantOfShape: row("9+", all, "folded"),
  Range: row("11+", all, "folded (start, limit, delta must be constants)"),
  // linalg
  MatMul: row(
    "1+",
    "broadcast batch dims (≤ 4)",
    "MATMUL: 64-bit accumulation, one rounding per output (§3)",
  ),
  Gemm: row(
    "1+",
    "alpha, beta, transA, transB",
    "MATMUL with bias; alpha/beta folded into constant operands",
  ),
  Conv: row(
    "1+",
    "kernel_shape, strides, pads, dilations, group, auto_pad (1-D and 2-D)",
    "CONV: 64-bit accumulation, one rounding per output; a following BatchNormalization is folded into the weights",
  ),
  // norm
  BatchNormalization: row(
    "1+",
    "epsilon (inference mode)",
    "folded into the previous Conv/Gemm, else CHANNEL_AFFINE",
  ),
  Softmax: row(
    "1+",
    "axis (opset < 13 flattens from axis)",
    "SOFTMAX: max-subtracted EXP, one rounded division (§4)",
  ),
  LogSoftmax: row("1+", "axis", "SOFTMAX in log form (§4)"),
  LayerNormalization: row(
    "17–21",
    "axis, epsilon (also torch's ReduceMean…Sqrt pattern, fused)",
    "LAYERNORM: exact integer mean and variance, integer square root (§4)",
  ),
  // pool
  MaxPool: row(
    "1+",
    "kernel_shape, strides, pads, dilations, ceil_mode, auto_pad (1-D and 2-D)",
    "POOL max; exact",
  ),
  AveragePool: row(
    "1+",
    "kernel_shape, strides, pads, ceil_mode, count_include_pad, auto_pad (1-D and 2-D)",
    "POOL average: one rounded division per output",
  ),
  GlobalAveragePool: row("1+", all, "POOL average over all positions"),
  GlobalMaxPool: row("1+", all, "POOL max over all positions"),
  // reduce
  ReduceSum: reduce("SUM (saturating)"),
  ReduceMean: reduce("MEAN: one rounded division"),
  ReduceMax: reduce("MAX, exact"),
  ReduceMin: reduce("MIN, exact"),
  ReduceProd: reduce("PROD: one rounding per product"),
  ReduceL1: reduce("L1"),
  ReduceL2: reduce("L2: integer square root"),
  ReduceSumSquare: reduce("SUMSQUARE"),
  ReduceLogSumExp: reduce("LOGSUMEXP, max-subtracted"),
  ReduceLogSum: reduce("LOGSUM"),
  ArgMax: row("1+", "axis, keepdims, select_last_index", "ARGMAX; int64 result; exact"),
  ArgMin: row("1+", "axis, keepdims, select_last_index", "ARGMAX on the negated order; exact"),
};
