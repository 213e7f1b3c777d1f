// Lowers ONNX nodes to DNN-library kernel nodes. Shapes are static: every Shape-like computation is
// folded to a constant here, and constant subgraphs are folded in float64 before quantization.
import { intArray, NonFiniteError, quantize, quantizeArray } from "../../dnn/src/fixed.js";
import { Binary, COPY_WORDS, Op, Reduce, Unary } from "../../dnn/src/opcodes.js";
import type { DType, KernelNode, Ref, TensorInfo } from "../../dnn/src/package.js";
import { interpret } from "./interp.js";
import { type AttrValue, type Const, ConvertError, type ONode } from "./onnx.js";
import {
  broadcastShapes,
  broadcastStrides,
  type CopyDesc,
  copyWords,
  normAxis,
  numel,
  stridesOf,
  view6,
} from "./views.js";

export type Val =
  | { kind: "const"; c: Const; name: string }
  | { kind: "act"; slot: number; shape: number[]; dtype: DType };

export const shapeOf = (v: Val) => (v.kind === "const" ? v.c.shape : v.shape);
export const isIntVal = (v: Val) => (v.kind === "const" ? v.c.dtype === "int" : v.dtype === "i32");

export class Ctx {
  activations: TensorInfo[] = [];
  nodes: KernelNode[] = [];
  weights: { info: TensorInfo; data: Int32Array }[] = [];
  private weightIndex = new Map<string, number>();
  constructor(
    readonly opset: number,
    readonly file: string,
  ) {}

  addActivation(info: TensorInfo): number {
    this.activations.push(info);
    return this.activations.length - 1;
  }

  /** Materializes a constant as a weight tensor (deduplicated by name + dtype). */
  weight(c: Const, name: string, where: string, dtype: DType = c.dtype === "float" ? "q16" : "i32"): Ref {
    const key = `${name}|${dtype}|${c.shape.join("x")}`;
    let idx = this.weightIndex.get(key);
    if (idx === undefined) {
      let data: Int32Array;
      try {
        data =
          dtype === "q16"
            ? quantizeArray(c.data, `${where}: tensor '${name}'`)
            : intArray(c.data, `${where}: tensor '${name}'`);
      } catch (e) {
        if (e instanceof NonFiniteError) throw new ConvertError(`${this.file}: ${e.message}`);
        throw e;
      }
      this.weights.push({ info: { name, shape: c.shape, dtype }, data });
      idx = this.weights.length - 1;
      this.weightIndex.set(key, idx);
    }
    return ["w", idx];
  }
}

/** One kernel invocation to emit (or fold, when all inputs are constant). */
interface KSpec {
  op: number;
  params: number[];
  inputs: Val[];
  outShapes: number[][];
  outDtype: DType;
  /** Allow folding when every input is constant. */
  foldable?: boolean;
}

type Handler = (ctx: Ctx, n: ONode, ins: (Val | undefined)[], where: string) => Val[];

// ---------- attribute and input helpers ----------
const attrInt = (n: ONode, k: string, d: number) =>
  typeof n.attrs[k] === "number" ? (n.attrs[k] as number) : d;
const attrFloat = attrInt;
const attrInts = (n: ONode, k: string): number[] | undefined =>
  Array.isArray(n.attrs[k]) ? (n.attrs[k] as number[]) : undefined;
const attrStr = (n: ONode, k: string, d: string) =>
  typeof n.attrs[k] === "string" ? (n.attrs[k] as string) : d;

function need(v: Val | undefined, i: number, _n: ONode, where: string): Val {
  if (!v) throw new ConvertError(`${where}: missing required input ${i}`);
  return v;
}
function constOf(v: Val | undefined, what: string, where: string): Const {
  if (!v) throw new ConvertError(`${where}: missing ${what}`);
  if (v.kind !== "const")
    throw new ConvertError(`${where}: ${what} must be a constant known at conversion time`);
  return v.c;
}
const intsOf = (c: Const) => Array.from(c.data, (x) => Math.trunc(x));

const mkConst = (shape: number[], dtype: "float" | "int", data: ArrayLike<number>, name: string): Val => ({
  kind: "const",
  c: { shape, dtype, data: Float64Array.from(data) },
  name,
});

/** Emits (or folds) a kernel; returns one Val per output. */
function kernel(ctx: Ctx, n: ONode, spec: KSpec, where: string): Val[] {
  const isInt = spec.outDtype === "i32" || spec.inputs.some((v) => isIntVal(v));
  if (spec.foldable !== false && spec.inputs.every((v) => v.kind === "const")) {
    const r = interpret(
      spec.op,
      spec.params,
      spec.inputs.map((v) => (v as { c: Const }).c.data),
      spec.outShapes.map(numel),
      isInt,
    );
    if (r) {
      return r.map((data, i) =>
        mkConst(
          spec.outShapes[i],
          spec.outDtype === "i32" ? "int" : "float",
          data,
          `${n.outputs[i] ?? n.name}`,
        ),
      );
    }
  }
  const inputs: Ref[] = spec.inputs.map((v, i) => {
    if (v.kind === "act") return ["a", v.slot];
    const dtype: DType = v.c.dtype === "int" ? "i32" : "q16";
    return ctx.weight(v.c, v.name || `${n.name}:in${i}`, where, dtype);
  });
  const outVals: Val[] = spec.outShapes.map((shape, i) => {
    const slot = ctx.addActivation({
      name: n.outputs[i] || `${n.name}:out${i}`,
      shape,
      dtype: spec.outDtype,
    });
    return { kind: "act", slot, shape, dtype: spec.outDtype };
  });
  ctx.nodes.push({
    name: n.name,
    onnxOp: n.op,
    op: spec.op,
    inputs,
    outputs: outVals.map((v) => (v as { slot: number }).slot),
    params: spec.params,
  });
  return outVals;
}

/** Copies a constant into a fresh activation (used for graph outputs that fold completely). */
export function materialize(ctx: Ctx, n: ONode, v: Val, where: string): Val {
  const shape = shapeOf(v);
  const size = numel(shape);
  const desc: CopyDesc = {
    src: 0,
    dst: 0,
    dims: [size],
    srcOff: 0,
    srcStrides: [1],
    dstOff: 0,
    dstStrides: [1],
  };
  const dtype: DType = isIntVal(v) ? "i32" : "q16";
  const words = copyWords(desc, where);
  const params = [0, 0, 0, words.length / COPY_WORDS, ...words];
  return kernel(
    ctx,
    n,
    { op: Op.COPY, params, inputs: [v], outShapes: [shape], outDtype: dtype, foldable: false },
    where,
  )[0];
}

/** Float constant rewritten (e.g. folded BN); the name keeps the weight unique. */
function derived(c: Const, name: string): Val {
  return { kind: "const", c, name };
}

// ---------- data movement ----------
function copyKernel(
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

/** Contiguous copy with a new shape (Reshape, Flatten, Squeeze, Unsqueeze, Identity). */
function reshapeTo(ctx: Ctx, n: ONode, x: Val, shape: number[], where: string): Val {
  const size = numel(shapeOf(x));
  if (numel(shape) !== size) {
    throw new ConvertError(`${where}: cannot reshape [${shapeOf(x)}] (${size} elements) to [${shape}]`);
  }
  if (x.kind === "const") return mkConst(shape, x.c.dtype, x.c.data, n.outputs[0]);
  const desc: CopyDesc = {
    src: 0,
    dst: 0,
    dims: [size],
    srcOff: 0,
    srcStrides: [1],
    dstOff: 0,
    dstStrides: [1],
  };
  return copyKernel(ctx, n, [x], [desc], [shape], where)[0];
}

/** Generic permutation of a (possibly re-viewed) tensor. */
function transposeView(
  ctx: Ctx,
  n: ONode,
  x: Val,
  view: number[],
  perm: number[],
  outShape: number[],
  where: string,
) {
  const st = stridesOf(view);
  const dims = perm.map((p) => view[p]);
  const desc: CopyDesc = {
    src: 0,
    dst: 0,
    dims,
    srcOff: 0,
    srcStrides: perm.map((p) => st[p]),
    dstOff: 0,
    dstStrides: stridesOf(dims),
  };
  return copyKernel(ctx, n, [x], [desc], [outShape], where)[0];
}

// ---------- elementwise ----------
function unaryK(ctx: Ctx, n: ONode, x: Val, fn: number, where: string, a = 0, b = 0, outDtype?: DType): Val {
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

function binaryK(ctx: Ctx, n: ONode, a: Val, b: Val, fn: number, where: string, outDtype?: DType): Val {
  const out = broadcastShapes([shapeOf(a), shapeOf(b)], where);
  const v = view6(out, [broadcastStrides(shapeOf(a), out), broadcastStrides(shapeOf(b), out)], where);
  if (fn === Binary.POW && !isIntVal(a) && isIntVal(b) && b.kind === "const")
    b = { ...b, c: { ...b.c, dtype: "float" } };
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
  Relu: Unary.RELU,
  Sigmoid: Unary.SIGMOID,
  Tanh: Unary.TANH,
  Exp: Unary.EXP,
  Log: Unary.LOG,
  Erf: Unary.ERF,
  Sqrt: Unary.SQRT,
  Reciprocal: Unary.RECIP,
  Neg: Unary.NEG,
  Abs: Unary.ABS,
  Sign: Unary.SIGN,
  Floor: Unary.FLOOR,
  Ceil: Unary.CEIL,
  Round: Unary.ROUND,
  Softplus: Unary.SOFTPLUS,
  Softsign: Unary.SOFTSIGN,
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

// ---------- spatial helpers ----------
function spatialPads(
  n: ONode,
  inHW: number[],
  kernelHW: number[],
  strides: number[],
  dil: number[],
  where: string,
): number[] {
  const autoPad = attrStr(n, "auto_pad", "NOTSET");
  const rank = inHW.length;
  if (autoPad === "NOTSET") return attrInts(n, "pads") ?? new Array(2 * rank).fill(0);
  if (autoPad === "VALID") return new Array(2 * rank).fill(0);
  if (autoPad !== "SAME_UPPER" && autoPad !== "SAME_LOWER")
    throw new ConvertError(`${where}: auto_pad '${autoPad}' unknown`);
  const pads = new Array(2 * rank).fill(0);
  for (let i = 0; i < rank; i++) {
    const out = Math.ceil(inHW[i] / strides[i]);
    const total = Math.max(0, (out - 1) * strides[i] + (kernelHW[i] - 1) * dil[i] + 1 - inHW[i]);
    const small = Math.floor(total / 2);
    pads[i] = autoPad === "SAME_UPPER" ? small : total - small;
    pads[i + rank] = total - pads[i];
  }
  return pads;
}

/** Views [N, C, spatial…] with 1 or 2 spatial dims as H, W (1-D gets H = 1). */
function hw(shape: number[], where: string): [number, number] {
  if (shape.length === 4) return [shape[2], shape[3]];
  if (shape.length === 3) return [1, shape[2]];
  throw new ConvertError(
    `${where}: only 1-D and 2-D spatial inputs are supported (got rank ${shape.length})`,
  );
}
const to2 = (xs: number[] | undefined, d: number, rank: number) => {
  const v = xs ?? new Array(rank).fill(d);
  return rank === 1 ? [d === 0 ? 0 : 1, v[0]] : v;
};

// ---------- handlers ----------
const H: Record<string, Handler> = {};

for (const [op, fn] of Object.entries(UNARY_OPS)) {
  H[op] = (ctx, n, ins, w) => [unaryK(ctx, n, need(ins[0], 0, n, w), fn, w)];
}
H.Identity = (ctx, n, ins, w) => [reshapeTo(ctx, n, need(ins[0], 0, n, w), shapeOf(ins[0]!), w)];
H.Dropout = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const training = ins[2] ? constOf(ins[2], "training_mode", w).data[0] !== 0 : false;
  if (training)
    throw new ConvertError(`${w}: training-mode Dropout is random and cannot be made deterministic`);
  // Inference: identity, and an all-true mask.
  const outs = H.Identity(ctx, n, ins, w);
  if (n.outputs[1])
    outs.push(mkConst(shapeOf(x), "int", new Float64Array(numel(shapeOf(x))).fill(1), n.outputs[1]));
  return outs;
};
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

// ----- MatMul / Gemm -----
function transposeLast2(c: Const): Const {
  const s = c.shape;
  const r = s.length;
  const rows = s[r - 2];
  const cols = s[r - 1];
  const batch = numel(s.slice(0, r - 2));
  const data = new Float64Array(c.data.length);
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++)
        data[b * rows * cols + j * rows + i] = c.data[b * rows * cols + i * cols + j];
  return { shape: [...s.slice(0, r - 2), cols, rows], dtype: c.dtype, data };
}

/**
 * Emits a MATMUL kernel: out[batch, M, N] = alpha·A·B (+ beta·C). A constant B is stored transposed
 * ([…, N, K]) so the inner product walks both operands contiguously.
 */
function matmulK(
  ctx: Ctx,
  n: ONode,
  a: Val,
  aShape: number[],
  aT: boolean,
  b: Val,
  bShape: number[],
  bT: boolean,
  bias: Val | undefined,
  outShape: number[],
  alpha: number,
  beta: number,
  w: string,
  declShape: number[] = outShape,
): Val {
  const r = aShape.length;
  const [M, K] = aT ? [aShape[r - 1], aShape[r - 2]] : [aShape[r - 2], aShape[r - 1]];
  const rb = bShape.length;
  const [Kb, N] = bT ? [bShape[rb - 1], bShape[rb - 2]] : [bShape[rb - 2], bShape[rb - 1]];
  if (K !== Kb) throw new ConvertError(`${w}: inner dimensions differ (${K} vs ${Kb})`);
  let bv = b;
  let bTrans = bT;
  if (b.kind === "const") {
    let c = bT ? b.c : transposeLast2({ ...b.c, shape: bShape });
    if (alpha !== 1) c = { ...c, data: c.data.map((x) => x * alpha) };
    bv = derived(c, `${b.name}${bT ? "" : "^T"}${alpha !== 1 ? `*${alpha}` : ""}`);
    bTrans = true;
    alpha = 1;
  }
  let biasV = bias;
  if (bias && bias.kind === "const" && beta !== 1) {
    biasV = derived({ ...bias.c, data: bias.c.data.map((x) => x * beta) }, `${bias.name}*${beta}`);
    beta = 1;
  }
  const batchOut = outShape.slice(0, outShape.length - 2);
  if (batchOut.length > 4) throw new ConvertError(`${w}: more than 4 batch dimensions`);
  const batchStrides = (shape: number[], matSize: number) => {
    const bs = shape.slice(0, Math.max(0, shape.length - 2));
    const st = broadcastStrides(bs, batchOut).map((s) => s * matSize);
    return st;
  };
  const pad4 = (xs: number[], fill: number) => [...new Array(4 - xs.length).fill(fill), ...xs];
  const aBS = batchStrides(aShape, M * K);
  const bBS = batchStrides(bTrans ? [...bShape.slice(0, rb - 2), N, K] : bShape, K * N);
  let cBS: number[] = new Array(batchOut.length).fill(0);
  let sCm = 0;
  let sCn = 0;
  if (biasV) {
    const full = [...batchOut, M, N];
    const st = broadcastStrides(shapeOf(biasV), full);
    cBS = st.slice(0, batchOut.length);
    sCm = st[batchOut.length];
    sCn = st[batchOut.length + 1];
  }
  const params = [
    ...pad4(batchOut, 1),
    ...pad4(aBS, 0),
    ...pad4(bBS, 0),
    ...pad4(cBS, 0),
    M,
    K,
    N,
    aT ? 1 : K,
    aT ? M : 1,
    bTrans ? 1 : N,
    bTrans ? K : 1,
    biasV ? 1 : 0,
    sCm,
    sCn,
    quantize(alpha),
    quantize(beta),
  ];
  const inputs = biasV ? [a, bv, biasV] : [a, bv];
  return kernel(
    ctx,
    n,
    { op: Op.MATMUL, params, inputs, outShapes: [declShape], outDtype: "q16", foldable: false },
    w,
  )[0];
}

H.Gemm = (ctx, n, ins, w) => {
  const a = need(ins[0], 0, n, w);
  const b = need(ins[1], 1, n, w);
  const aT = attrInt(n, "transA", 0) === 1;
  const bT = attrInt(n, "transB", 0) === 1;
  const as = shapeOf(a);
  const bs = shapeOf(b);
  if (as.length !== 2 || bs.length !== 2) throw new ConvertError(`${w}: Gemm needs 2-D A and B`);
  const M = aT ? as[1] : as[0];
  const N = bT ? bs[0] : bs[1];
  return [
    matmulK(
      ctx,
      n,
      a,
      as,
      aT,
      b,
      bs,
      bT,
      ins[2],
      [M, N],
      attrFloat(n, "alpha", 1),
      attrFloat(n, "beta", 1),
      w,
    ),
  ];
};

/** MatMul, optionally with a fused constant bias from a following Add (see convert.ts). */
export function lowerMatMul(
  ctx: Ctx,
  n: ONode,
  ins: (Val | undefined)[],
  bias: Val | undefined,
  w: string,
): Val[] {
  const a = need(ins[0], 0, n, w);
  const b = need(ins[1], 1, n, w);
  let as = shapeOf(a);
  let bs = shapeOf(b);
  const aVec = as.length === 1;
  const bVec = bs.length === 1;
  if (aVec) as = [1, as[0]];
  if (bVec) bs = [bs[0], 1];
  const batch = broadcastShapes([as.slice(0, -2), bs.slice(0, -2)], w);
  const full = [...batch, as[as.length - 2], bs[bs.length - 1]];
  const bb = b.kind === "const" && bVec ? derived({ ...b.c, shape: bs }, b.name) : b;
  const aa = a.kind === "const" && aVec ? derived({ ...a.c, shape: as }, a.name) : a;
  const outShape = full.filter(
    (_, i) => !(aVec && i === full.length - 2) && !(bVec && i === full.length - 1),
  );
  return [matmulK(ctx, n, aa, as, false, bb, bs, false, bias, full, 1, 1, w, outShape)];
}
H.MatMul = (ctx, n, ins, w) => lowerMatMul(ctx, n, ins, undefined, w);

// ----- Conv / BatchNorm / pooling -----
export interface BnParams {
  scale: Const;
  bias: Const;
  mean: Const;
  var: Const;
  eps: number;
}

/** Per-channel affine equivalent of BatchNormalization, in float64: y = x·s + t. */
export function bnAffine(bn: BnParams): { s: number[]; t: number[] } {
  const C = bn.scale.data.length;
  const s: number[] = [];
  const t: number[] = [];
  for (let c = 0; c < C; c++) {
    const k = bn.scale.data[c] / Math.sqrt(bn.var.data[c] + bn.eps);
    s.push(k);
    t.push(bn.bias.data[c] - bn.mean.data[c] * k);
  }
  return { s, t };
}

export function lowerConv(
  ctx: Ctx,
  n: ONode,
  ins: (Val | undefined)[],
  bn: BnParams | undefined,
  w: string,
): Val[] {
  const x = need(ins[0], 0, n, w);
  let wt = need(ins[1], 1, n, w);
  let bias = ins[2];
  const xs = shapeOf(x);
  const ws = shapeOf(wt);
  if (xs.length !== ws.length)
    throw new ConvertError(`${w}: input rank ${xs.length} and weight rank ${ws.length} differ`);
  const rank = xs.length - 2;
  const [H_, W_] = hw(xs, w);
  const kernelShape = attrInts(n, "kernel_shape") ?? ws.slice(2);
  const strides = attrInts(n, "strides") ?? new Array(rank).fill(1);
  const dil = attrInts(n, "dilations") ?? new Array(rank).fill(1);
  const pads = spatialPads(n, xs.slice(2), kernelShape, strides, dil, w);
  const group = attrInt(n, "group", 1);
  const [kH, kW] = rank === 1 ? [1, kernelShape[0]] : kernelShape;
  const [sH, sW] = to2(strides, 1, rank);
  const [dH, dW] = to2(dil, 1, rank);
  const [pT, pL, pB, pR] = rank === 1 ? [0, pads[0], 0, pads[1]] : pads;
  const M = ws[0];
  const C = xs[1];
  if (ws[1] * group !== C)
    throw new ConvertError(`${w}: weight has ${ws[1]} channels per group × ${group} groups, input has ${C}`);
  const OH = Math.floor((H_ + pT + pB - dH * (kH - 1) - 1) / sH) + 1;
  const OW = Math.floor((W_ + pL + pR - dW * (kW - 1) - 1) / sW) + 1;
  if (OH <= 0 || OW <= 0) throw new ConvertError(`${w}: output would be empty (${OH}×${OW})`);
  if (bn) {
    if (wt.kind !== "const" || (bias && bias.kind !== "const"))
      throw new ConvertError(`${w}: cannot fold BatchNormalization into a conv with runtime weights`);
    const { s, t } = bnAffine(bn);
    const per = numel(ws) / M;
    const wd = wt.c.data.map((v, i) => v * s[Math.floor(i / per)]);
    const bd = new Float64Array(M).map((_, m) => (bias ? (bias as { c: Const }).c.data[m] : 0) * s[m] + t[m]);
    wt = derived({ ...wt.c, data: wd }, `${wt.name}+bn`);
    bias = derived({ shape: [M], dtype: "float", data: bd }, `${n.name}:bias+bn`);
  }
  const outShape = rank === 1 ? [xs[0], M, OW] : [xs[0], M, OH, OW];
  const params = [xs[0], C, H_, W_, M, OH, OW, kH, kW, sH, sW, pT, pL, dH, dW, group, bias ? 1 : 0];
  const inputs = bias ? [x, wt, bias] : [x, wt];
  return kernel(
    ctx,
    n,
    { op: Op.CONV, params, inputs, outShapes: [outShape], outDtype: "q16", foldable: false },
    w,
  );
}
H.Conv = (ctx, n, ins, w) => lowerConv(ctx, n, ins, undefined, w);

export function bnParamsOf(n: ONode, ins: (Val | undefined)[], w: string): BnParams {
  return {
    scale: constOf(ins[1], "BatchNormalization scale", w),
    bias: constOf(ins[2], "BatchNormalization B", w),
    mean: constOf(ins[3], "BatchNormalization mean", w),
    var: constOf(ins[4], "BatchNormalization var", w),
    eps: attrFloat(n, "epsilon", 1e-5),
  };
}

H.BatchNormalization = (ctx, n, ins, w) => {
  if (n.outputs.slice(1).some((o) => o))
    throw new ConvertError(`${w}: training-mode outputs are not supported`);
  const x = need(ins[0], 0, n, w);
  const { s, t } = bnAffine(bnParamsOf(n, ins, w));
  const xs = shapeOf(x);
  const C = xs[1];
  const params = [xs[0], C, numel(xs.slice(2))];
  const sc = derived({ shape: [C], dtype: "float", data: Float64Array.from(s) }, `${n.name}:scale`);
  const bi = derived({ shape: [C], dtype: "float", data: Float64Array.from(t) }, `${n.name}:shift`);
  return kernel(
    ctx,
    n,
    { op: Op.CHANNEL_AFFINE, params, inputs: [x, sc, bi], outShapes: [xs], outDtype: "q16", foldable: false },
    w,
  );
};

function poolK(ctx: Ctx, n: ONode, x: Val, isAvg: boolean, global: boolean, w: string): Val[] {
  if (n.outputs[1]) throw new ConvertError(`${w}: MaxPool's Indices output is not supported`);
  const xs = shapeOf(x);
  const rank = xs.length - 2;
  let [H_, W_] = hw(xs, w);
  let kH: number;
  let kW: number;
  let params: number[];
  let outShape: number[];
  if (global) {
    W_ = numel(xs.slice(2));
    H_ = 1;
    params = [isAvg ? 1 : 0, xs[0] * xs[1], 1, W_, 1, 1, 1, W_, 1, 1, 0, 0, 1, 1, 0];
    outShape = [xs[0], xs[1], ...new Array(rank).fill(1)];
  } else {
    const ks = attrInts(n, "kernel_shape");
    if (!ks) throw new ConvertError(`${w}: kernel_shape is required`);
    const strides = attrInts(n, "strides") ?? new Array(rank).fill(1);
    const dil = attrInts(n, "dilations") ?? new Array(rank).fill(1);
    const pads = spatialPads(n, xs.slice(2), ks, strides, dil, w);
    [kH, kW] = rank === 1 ? [1, ks[0]] : ks;
    const [sH, sW] = to2(strides, 1, rank);
    const [dH, dW] = to2(dil, 1, rank);
    const [pT, pL, pB, pR] = rank === 1 ? [0, pads[0], 0, pads[1]] : pads;
    const ceil = attrInt(n, "ceil_mode", 0) === 1;
    const outDim = (inp: number, k: number, s: number, d: number, p0: number, p1: number) => {
      const span = inp + p0 + p1 - d * (k - 1) - 1;
      let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
      if (ceil && (o - 1) * s >= inp + p0) o--;
      return o;
    };
    const OH = outDim(H_, kH, sH, dH, pT, pB);
    const OW = outDim(W_, kW, sW, dW, pL, pR);
    params = [
      isAvg ? 1 : 0,
      xs[0] * xs[1],
      H_,
      W_,
      OH,
      OW,
      kH,
      kW,
      sH,
      sW,
      pT,
      pL,
      dH,
      dW,
      attrInt(n, "count_include_pad", 0),
    ];
    outShape = rank === 1 ? [xs[0], xs[1], OW] : [xs[0], xs[1], OH, OW];
  }
  const dtype: DType = isIntVal(x) ? "i32" : "q16";
  return kernel(
    ctx,
    n,
    { op: Op.POOL, params, inputs: [x], outShapes: [outShape], outDtype: dtype, foldable: false },
    w,
  );
}
H.MaxPool = (ctx, n, ins, w) => poolK(ctx, n, need(ins[0], 0, n, w), false, false, w);
H.AveragePool = (ctx, n, ins, w) => poolK(ctx, n, need(ins[0], 0, n, w), true, false, w);
H.GlobalAveragePool = (ctx, n, ins, w) => poolK(ctx, n, need(ins[0], 0, n, w), true, true, w);
H.GlobalMaxPool = (ctx, n, ins, w) => poolK(ctx, n, need(ins[0], 0, n, w), false, true, w);

// ----- normalization -----
function softmaxK(ctx: Ctx, n: ONode, ins: (Val | undefined)[], isLog: boolean, w: string): Val[] {
  const x = need(ins[0], 0, n, w);
  const xs = shapeOf(x);
  let outer: number;
  let axisDim: number;
  let inner: number;
  if (ctx.opset < 13) {
    const ax = normAxis(attrInt(n, "axis", 1), xs.length, w);
    outer = numel(xs.slice(0, ax));
    axisDim = numel(xs.slice(ax));
    inner = 1;
  } else {
    const ax = normAxis(attrInt(n, "axis", -1), xs.length, w);
    outer = numel(xs.slice(0, ax));
    axisDim = xs[ax];
    inner = numel(xs.slice(ax + 1));
  }
  return kernel(
    ctx,
    n,
    {
      op: Op.SOFTMAX,
      params: [outer, axisDim, inner, isLog ? 1 : 0],
      inputs: [x],
      outShapes: [xs],
      outDtype: "q16",
      foldable: false,
    },
    w,
  );
}
H.Softmax = (ctx, n, ins, w) => softmaxK(ctx, n, ins, false, w);
H.LogSoftmax = (ctx, n, ins, w) => softmaxK(ctx, n, ins, true, w);

export function layerNormK(
  ctx: Ctx,
  n: ONode,
  x: Val,
  scale: Val | undefined,
  bias: Val | undefined,
  axis: number,
  eps: number,
  w: string,
): Val[] {
  const xs = shapeOf(x);
  const ax = normAxis(axis, xs.length, w);
  const inner = numel(xs.slice(ax));
  const fitInner = (v: Val | undefined, what: string): Val | undefined => {
    if (!v) return undefined;
    if (numel(shapeOf(v)) === inner) return v;
    if (v.kind !== "const") throw new ConvertError(`${w}: ${what} must have ${inner} elements`);
    const out = broadcastShapes([shapeOf(v), xs.slice(ax)], w);
    const st = broadcastStrides(shapeOf(v), out);
    const data = new Float64Array(inner);
    const ost = stridesOf(out);
    for (let i = 0; i < inner; i++) {
      let src = 0;
      let r = i;
      for (let d = 0; d < out.length; d++) {
        src += Math.floor(r / ost[d]) * st[d];
        r %= ost[d];
      }
      data[i] = v.c.data[src];
    }
    return derived({ shape: xs.slice(ax), dtype: "float", data }, `${v.name}:expanded`);
  };
  const s = fitInner(scale, "Scale");
  const b = fitInner(bias, "B");
  const epsQ32 = Math.floor(eps * 2 ** 32 + 0.5);
  if (epsQ32 > 2 ** 31 - 1) throw new ConvertError(`${w}: epsilon ${eps} too large`);
  const inputs = [x, ...(s ? [s] : []), ...(b ? [b] : [])];
  const params = [numel(xs.slice(0, ax)), inner, epsQ32, s ? 1 : 0, b ? 1 : 0];
  // Mean and InvStdDev (ONNX outputs 1, 2) only when the graph uses them.
  const nOut = n.outputs[2] ? 3 : n.outputs[1] ? 2 : 1;
  const statShape = xs.map((d, i) => (i < ax ? d : 1));
  const outShapes = [xs, statShape, statShape].slice(0, nOut);
  return kernel(ctx, n, { op: Op.LAYERNORM, params, inputs, outShapes, outDtype: "q16", foldable: false }, w);
}
H.LayerNormalization = (ctx, n, ins, w) => {
  return layerNormK(
    ctx,
    n,
    need(ins[0], 0, n, w),
    ins[1],
    ins[2],
    attrInt(n, "axis", -1),
    attrFloat(n, "epsilon", 1e-5),
    w,
  );
};

// ----- reductions -----
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

// ----- shapes and data movement -----
H.Shape = (_ctx, n, ins, w) => {
  const s = shapeOf(need(ins[0], 0, n, w));
  const r = s.length;
  let start = attrInt(n, "start", 0);
  let end = attrInt(n, "end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  return [mkConst([0], "int", [], n.outputs[0])].map(() => {
    const v = s.slice(Math.max(0, start), Math.min(r, end));
    return mkConst([v.length], "int", v, n.outputs[0]);
  });
};
H.Size = (_ctx, n, ins, w) => [mkConst([], "int", [numel(shapeOf(need(ins[0], 0, n, w)))], n.outputs[0])];
H.Constant = (_ctx, n, _ins, w) => {
  const a = n.attrs;
  if (a.value && typeof a.value === "object" && !Array.isArray(a.value))
    return [{ kind: "const", c: a.value as Const, name: n.outputs[0] }];
  if (typeof a.value_float === "number") return [mkConst([], "float", [a.value_float], n.outputs[0])];
  if (Array.isArray(a.value_floats))
    return [mkConst([a.value_floats.length], "float", a.value_floats as number[], n.outputs[0])];
  if (typeof a.value_int === "number") return [mkConst([], "int", [a.value_int], n.outputs[0])];
  if (Array.isArray(a.value_ints))
    return [mkConst([a.value_ints.length], "int", a.value_ints as number[], n.outputs[0])];
  throw new ConvertError(`${w}: unsupported Constant attribute (${Object.keys(a).join(", ")})`);
};
H.ConstantOfShape = (_ctx, n, ins, w) => {
  const shape = intsOf(constOf(ins[0], "shape", w));
  const v = n.attrs.value as Const | undefined;
  const val = v ? v.data[0] : 0;
  return [mkConst(shape, v?.dtype ?? "float", new Float64Array(numel(shape)).fill(val), n.outputs[0])];
};
H.Range = (_ctx, n, ins, w) => {
  const [s, l, d] = [0, 1, 2].map((i) => constOf(ins[i], ["start", "limit", "delta"][i], w));
  const cnt = Math.max(0, Math.ceil((l.data[0] - s.data[0]) / d.data[0]));
  return [
    mkConst(
      [cnt],
      s.dtype,
      Array.from({ length: cnt }, (_, i) => s.data[0] + i * d.data[0]),
      n.outputs[0],
    ),
  ];
};
H.Reshape = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const xs = shapeOf(x);
  const spec = ctx.opset < 5 ? (attrInts(n, "shape") ?? []) : intsOf(constOf(ins[1], "shape", w));
  const allowZero = attrInt(n, "allowzero", 0) === 1;
  const shape = spec.map((d, i) => (d === 0 && !allowZero ? xs[i] : d));
  const neg = shape.indexOf(-1);
  if (neg >= 0) {
    const known = numel(shape.filter((_, i) => i !== neg));
    if (known === 0 || numel(xs) % known !== 0)
      throw new ConvertError(`${w}: cannot infer -1 in shape [${spec}] from [${xs}]`);
    shape[neg] = numel(xs) / known;
  }
  return [reshapeTo(ctx, n, x, shape, w)];
};
H.Flatten = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const xs = shapeOf(x);
  const ax = attrInt(n, "axis", 1);
  const a = ax < 0 ? ax + xs.length : ax;
  return [reshapeTo(ctx, n, x, [numel(xs.slice(0, a)), numel(xs.slice(a))], w)];
};
H.Squeeze = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const xs = shapeOf(x);
  const axes =
    ctx.opset >= 13 ? (ins[1] ? intsOf(constOf(ins[1], "axes", w)) : undefined) : attrInts(n, "axes");
  const ax = axes
    ? axes.map((a) => normAxis(a, xs.length, w))
    : xs.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
  for (const a of ax)
    if (xs[a] !== 1) throw new ConvertError(`${w}: cannot squeeze axis ${a} of size ${xs[a]}`);
  return [
    reshapeTo(
      ctx,
      n,
      x,
      xs.filter((_, i) => !ax.includes(i)),
      w,
    ),
  ];
};
H.Unsqueeze = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const xs = shapeOf(x);
  const axes = ctx.opset >= 13 ? intsOf(constOf(ins[1], "axes", w)) : (attrInts(n, "axes") ?? []);
  const r = xs.length + axes.length;
  const ax = axes.map((a) => normAxis(a, r, w));
  const out: number[] = [];
  let k = 0;
  for (let i = 0; i < r; i++) out.push(ax.includes(i) ? 1 : xs[k++]);
  return [reshapeTo(ctx, n, x, out, w)];
};
H.Transpose = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const xs = shapeOf(x);
  const perm = attrInts(n, "perm") ?? xs.map((_, i) => xs.length - 1 - i);
  return [
    transposeView(
      ctx,
      n,
      x,
      xs,
      perm,
      perm.map((p) => xs[p]),
      w,
    ),
  ];
};
H.Concat = (ctx, n, ins, w) => {
  const xs = ins.filter((v): v is Val => !!v);
  const s0 = shapeOf(xs[0]);
  const ax = normAxis(attrInt(n, "axis", 0), s0.length, w);
  const out = [...s0];
  out[ax] = xs.reduce((a, v) => a + shapeOf(v)[ax], 0);
  const ost = stridesOf(out);
  let off = 0;
  const descs: CopyDesc[] = xs.map((v, i) => {
    const s = shapeOf(v);
    if (s.length !== s0.length || s.some((d, k) => k !== ax && d !== s0[k])) {
      throw new ConvertError(`${w}: input ${i} shape [${s}] does not match [${s0}] outside axis ${ax}`);
    }
    const d: CopyDesc = {
      src: i,
      dst: 0,
      dims: s,
      srcOff: 0,
      srcStrides: stridesOf(s),
      dstOff: off * ost[ax],
      dstStrides: ost,
    };
    off += s[ax];
    return d;
  });
  return copyKernel(ctx, n, xs, descs, [out], w);
};
H.Split = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const xs = shapeOf(x);
  const ax = normAxis(attrInt(n, "axis", 0), xs.length, w);
  const nOut = n.outputs.length;
  let split =
    ctx.opset >= 13 ? (ins[1] ? intsOf(constOf(ins[1], "split", w)) : undefined) : attrInts(n, "split");
  if (!split) {
    const chunk = Math.ceil(xs[ax] / nOut);
    split = Array.from({ length: nOut }, (_, i) => Math.min(chunk, xs[ax] - i * chunk));
  }
  if (split.reduce((a, b) => a + b, 0) !== xs[ax])
    throw new ConvertError(`${w}: split sizes [${split}] do not sum to ${xs[ax]}`);
  const st = stridesOf(xs);
  let off = 0;
  const outs = split.map((len) => xs.map((d, i) => (i === ax ? len : d)));
  const descs: CopyDesc[] = outs.map((s, i) => {
    const d: CopyDesc = {
      src: 0,
      dst: i,
      dims: s,
      srcOff: off * st[ax],
      srcStrides: st,
      dstOff: 0,
      dstStrides: stridesOf(s),
    };
    off += split[i];
    return d;
  });
  return copyKernel(ctx, n, [x], descs, outs, w);
};
H.Slice = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const xs = shapeOf(x);
  let starts: number[];
  let ends: number[];
  let axes: number[] | undefined;
  let steps: number[] | undefined;
  if (ctx.opset < 10) {
    starts = attrInts(n, "starts") ?? [];
    ends = attrInts(n, "ends") ?? [];
    axes = attrInts(n, "axes");
  } else {
    starts = intsOf(constOf(ins[1], "starts", w));
    ends = intsOf(constOf(ins[2], "ends", w));
    axes = ins[3] ? intsOf(constOf(ins[3], "axes", w)) : undefined;
    steps = ins[4] ? intsOf(constOf(ins[4], "steps", w)) : undefined;
  }
  const ax = (axes ?? starts.map((_, i) => i)).map((a) => normAxis(a, xs.length, w));
  const st = stridesOf(xs);
  const dims = [...xs];
  const srcStrides = [...st];
  let srcOff = 0;
  ax.forEach((a, i) => {
    const step = steps?.[i] ?? 1;
    if (step === 0) throw new ConvertError(`${w}: step 0`);
    const d = xs[a];
    const clampIdx = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v < 0 ? v + d : v));
    let s: number;
    let e: number;
    if (step > 0) {
      s = clampIdx(starts[i], 0, d);
      e = clampIdx(ends[i], 0, d);
    } else {
      s = clampIdx(starts[i], -1, d - 1);
      e = clampIdx(ends[i], -1, d - 1);
    }
    const len = step > 0 ? Math.max(0, Math.ceil((e - s) / step)) : Math.max(0, Math.ceil((s - e) / -step));
    dims[a] = len;
    srcStrides[a] = st[a] * step;
    srcOff += s * st[a];
  });
  if (numel(dims) === 0) throw new ConvertError(`${w}: slice is empty`);
  return copyKernel(
    ctx,
    n,
    [x],
    [{ src: 0, dst: 0, dims, srcOff, srcStrides, dstOff: 0, dstStrides: stridesOf(dims) }],
    [dims],
    w,
  );
};
H.Expand = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const out = broadcastShapes([shapeOf(x), intsOf(constOf(ins[1], "shape", w))], w);
  const desc: CopyDesc = {
    src: 0,
    dst: 0,
    dims: out,
    srcOff: 0,
    srcStrides: broadcastStrides(shapeOf(x), out),
    dstOff: 0,
    dstStrides: stridesOf(out),
  };
  return copyKernel(ctx, n, [x], [desc], [out], w);
};
H.Tile = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const xs = shapeOf(x);
  const reps = intsOf(constOf(ins[1], "repeats", w));
  const out = xs.map((d, i) => d * reps[i]);
  const ost = stridesOf(out);
  const ist = stridesOf(xs);
  const dims: number[] = [];
  const ss: number[] = [];
  const ds: number[] = [];
  xs.forEach((d, i) => {
    dims.push(reps[i], d);
    ss.push(0, ist[i]);
    ds.push(d * ost[i], ost[i]);
  });
  return copyKernel(
    ctx,
    n,
    [x],
    [{ src: 0, dst: 0, dims, srcOff: 0, srcStrides: ss, dstOff: 0, dstStrides: ds }],
    [out],
    w,
  );
};
H.Pad = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const xs = shapeOf(x);
  const mode = attrStr(n, "mode", "constant");
  if (mode !== "constant")
    throw new ConvertError(`${w}: Pad mode '${mode}' is not supported (only 'constant')`);
  let pads = ctx.opset < 11 ? (attrInts(n, "pads") ?? []) : intsOf(constOf(ins[1], "pads", w));
  const value =
    ctx.opset < 11 ? attrFloat(n, "value", 0) : ins[2] ? constOf(ins[2], "constant_value", w).data[0] : 0;
  if (ctx.opset >= 18 && ins[3]) {
    const axes = intsOf(constOf(ins[3], "axes", w)).map((a) => normAxis(a, xs.length, w));
    const full = new Array(2 * xs.length).fill(0);
    axes.forEach((a, i) => {
      full[a] = pads[i];
      full[a + xs.length] = pads[i + axes.length];
    });
    pads = full;
  }
  if (pads.some((p) => p < 0)) throw new ConvertError(`${w}: negative pads are not supported`);
  const r = xs.length;
  const out = xs.map((d, i) => d + pads[i] + pads[i + r]);
  const ost = stridesOf(out);
  const dstOff = xs.reduce((a, _, i) => a + pads[i] * ost[i], 0);
  const desc: CopyDesc = {
    src: 0,
    dst: 0,
    dims: xs,
    srcOff: 0,
    srcStrides: stridesOf(xs),
    dstOff,
    dstStrides: ost,
  };
  return copyKernel(ctx, n, [x], [desc], [out], w, { value, count: numel(out) });
};
H.DepthToSpace = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const [N, C, Hh, Ww] = shapeOf(x);
  const b = attrInt(n, "blocksize", 1);
  const crd = attrStr(n, "mode", "DCR") === "CRD";
  const view = crd ? [N, C / (b * b), b, b, Hh, Ww] : [N, b, b, C / (b * b), Hh, Ww];
  const perm = crd ? [0, 1, 4, 2, 5, 3] : [0, 3, 4, 1, 5, 2];
  return [transposeView(ctx, n, x, view, perm, [N, C / (b * b), Hh * b, Ww * b], w)];
};
H.SpaceToDepth = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const [N, C, Hh, Ww] = shapeOf(x);
  const b = attrInt(n, "blocksize", 1);
  return [
    transposeView(
      ctx,
      n,
      x,
      [N, C, Hh / b, b, Ww / b, b],
      [0, 3, 5, 1, 2, 4],
      [N, C * b * b, Hh / b, Ww / b],
      w,
    ),
  ];
};
H.Gather = (ctx, n, ins, w) => {
  const data = need(ins[0], 0, n, w);
  const idx = need(ins[1], 1, n, w);
  const ds = shapeOf(data);
  const is = shapeOf(idx);
  const ax = normAxis(attrInt(n, "axis", 0), ds.length, w);
  const outShape = [...ds.slice(0, ax), ...is, ...ds.slice(ax + 1)];
  if (!isIntVal(idx)) throw new ConvertError(`${w}: indices must be an integer tensor`);
  const params = [numel(ds.slice(0, ax)), ds[ax], numel(ds.slice(ax + 1)), numel(is)];
  const dtype: DType = isIntVal(data) ? "i32" : "q16";
  if (idx.kind === "const") {
    for (const k of idx.c.data) {
      if (k < -ds[ax] || k >= ds[ax])
        throw new ConvertError(`${w}: index ${k} out of range for axis size ${ds[ax]}`);
    }
  }
  return kernel(
    ctx,
    n,
    { op: Op.GATHER, params, inputs: [data, idx], outShapes: [outShape], outDtype: dtype },
    w,
  );
};

export const HANDLERS = H;
export const SUPPORTED_OPS = Object.keys(H).sort();
export type { AttrValue };
export { attrFloat, attrInt };
