// Indexing ops (GatherElements, GatherND, Scatter*, Compress, ReverseSequence, NonZero, Unique), the
// losses built on them (NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss), BatchNormalization's
// training mode, and constant generators (windows, BitShift). No new kernel: gathers and constant-index
// scatters are a GATHER over a flat view with an index tensor that is either constant (computed here)
// or computed at run time by integer BINARY kernels (flat = index·stride + wrap·(index < 0) + constant
// offsets); run-time scatters compare every output position with every target (one-hot EQ, WHERE,
// REDUCE SUM); the rest are BINARY/UNARY/REDUCE/SOFTMAX/LAYERNORM/CHANNEL_AFFINE kernels — all
// bit-identical in the VM.
import { stepBound } from "../../../dnn/src/cost.js";
import { Binary, Op, Reduce, Unary } from "../../../dnn/src/opcodes.js";
import type { DType } from "../../../dnn/src/package.js";
import { ConvertError, type ONode } from "../onnx.js";
import { normAxis, numel, stridesOf, view6 } from "../views.js";
import {
  attrFloat,
  attrInt,
  attrStr,
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
  type Val,
} from "./context.js";
import { contiguous, copyKernel, reshapeTo, transposeView } from "./copy.js";
import { binaryK, ELEMENTWISE_HANDLERS, unaryK } from "./elementwise.js";

/** A helper kernel of node n: its own name and output name, so the ONNX output names stay unique. */
const sub = (n: ONode, tag: string): ONode => ({
  ...n,
  name: `${n.name}#${tag}`,
  outputs: [`${n.outputs[0] || n.name}#${tag}`],
});
const intC = (shape: number[], data: ArrayLike<number>, name: string) => mkConst(shape, "int", data, name);
const dtypeOf = (v: Val): DType => (isIntVal(v) ? "i32" : "q16");

/** Gives the activation a handler produced last the ONNX output's name (helper kernels are tagged). */
function named(ctx: Ctx, v: Val, name: string | undefined, firstSlot: number): Val {
  if (name && v.kind === "act" && v.slot >= firstSlot) ctx.activations[v.slot].name = name;
  return v;
}

/** Multi-index of flat position i in a tensor of the given strides. */
function coords(i: number, st: number[]): number[] {
  return st.map((s) => {
    const c = Math.floor(i / s);
    i -= c * s;
    return c;
  });
}

function requireInt(v: Val, what: string, w: string) {
  if (!isIntVal(v)) throw new ConvertError(`${w}: ${what} must be an integer tensor`);
}

/** A constant index normalized into [0, dim) (negative counts from the end), or a ConvertError. */
function normIndex(k: number, dim: number, w: string, what = "index"): number {
  const j = k < 0 ? k + dim : k;
  if (!(j >= 0 && j < dim)) throw new ConvertError(`${w}: ${what} ${k} out of range for axis size ${dim}`);
  return j;
}

/**
 * GATHER of single elements of data's flat view: out[i] = data[flat[i]]. Constant indices over the
 * step budget become several GATHER nodes over slices of the index list and one COPY that joins
 * them (the GATHER kernel has no split of its own in split.ts).
 */
function gatherFlat(ctx: Ctx, n: ONode, data: Val, flat: Val, outShape: number[], w: string): Val {
  const N = numel(shapeOf(data));
  const m = numel(shapeOf(flat));
  const dtype = dtypeOf(data);
  const budget = ctx.budget?.steps;
  const perIndex = stepBound(Op.GATHER, [1, N, 1, 2]) - stepBound(Op.GATHER, [1, N, 1, 1]);
  const chunk = budget ? Math.floor((budget - stepBound(Op.GATHER, [1, N, 1, 0])) / perIndex) : m;
  const allConst = data.kind === "const" && flat.kind === "const";
  if (flat.kind === "act" || allConst || chunk >= m || chunk < 1) {
    return kernel(
      ctx,
      n,
      { op: Op.GATHER, params: [1, N, 1, m], inputs: [data, flat], outShapes: [outShape], outDtype: dtype },
      w,
    )[0];
  }
  const parts: Val[] = [];
  for (let lo = 0, k = 0; lo < m; lo += chunk, k++) {
    const len = Math.min(chunk, m - lo);
    const idx = intC([len], flat.c.data.subarray(lo, lo + len), `${flat.name}[${lo}:]`);
    parts.push(
      kernel(
        ctx,
        sub(n, `part${k}`),
        { op: Op.GATHER, params: [1, N, 1, len], inputs: [data, idx], outShapes: [[len]], outDtype: dtype },
        w,
      )[0],
    );
  }
  const descs = parts.map((_, i) => ({ ...contiguous(numel(shapeOf(parts[i]))), src: i, dstOff: i * chunk }));
  return copyKernel(ctx, n, parts, descs, [outShape], w)[0];
}

/**
 * Flat positions of run-time indices: idx·coef + (idx < 0)·wrap + offset, with integer BINARY
 * kernels (coef, wrap, offset broadcast against idx; wrap = axis size · coef makes negatives count
 * from the end). Out-of-range values are not detected here (ONNX declares them invalid): one that
 * leaves the flat tensor fails the GATHER node (ExecError.GATHER_INDEX).
 */
function flatIndex(
  ctx: Ctx,
  n: ONode,
  idx: Val,
  coef: Val,
  wrap: Val,
  offset: Val | undefined,
  w: string,
): Val {
  const scaled = binaryK(ctx, sub(n, "idx*stride"), idx, coef, Binary.MUL, w);
  const neg = binaryK(ctx, sub(n, "idx<0"), idx, intC([], [0], `${n.name}:0`), Binary.LT, w, "i32");
  const wrapped = binaryK(ctx, sub(n, "wrap"), neg, wrap, Binary.MUL, w);
  const pos = binaryK(ctx, sub(n, "pos"), scaled, wrapped, Binary.ADD, w);
  return offset ? binaryK(ctx, sub(n, "flat"), pos, offset, Binary.ADD, w) : pos;
}

/** GatherElements(data, idx, axis); idx may be a run-time tensor. */
export function gatherElements(
  ctx: Ctx,
  n: ONode,
  data: Val,
  idx: Val,
  axis: number,
  w: string,
  outShape?: number[],
): Val {
  requireInt(idx, "indices", w);
  const ds = shapeOf(data);
  const is = shapeOf(idx);
  const ax = normAxis(axis, ds.length, w);
  if (is.length !== ds.length || is.some((d, i) => i !== ax && d > ds[i]))
    throw new ConvertError(`${w}: indices shape [${is}] does not fit data shape [${ds}] (axis ${ax})`);
  const st = stridesOf(ds);
  const ist = stridesOf(is);
  const m = numel(is);
  // The flat position of every element but the indexed axis' contribution.
  const offset = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const c = coords(i, ist);
    offset[i] = c.reduce((a, x, d) => (d === ax ? a : a + x * st[d]), 0);
  }
  let flat: Val;
  if (idx.kind === "const") {
    const f = offset.map((o, i) => o + normIndex(idx.c.data[i], ds[ax], w) * st[ax]);
    flat = intC(is, f, `${n.name}:flat`);
  } else {
    flat = flatIndex(
      ctx,
      n,
      idx,
      intC([], [st[ax]], `${n.name}:stride`),
      intC([], [ds[ax] * st[ax]], `${n.name}:wrap`),
      offset.some((o) => o !== 0) ? intC(is, offset, `${n.name}:offset`) : undefined,
      w,
    );
  }
  return gatherFlat(ctx, n, data, flat, outShape ?? is, w);
}

/** GatherND(data, idx, batch_dims): rows of data's trailing dims, picked by the last axis of idx. */
function gatherND(ctx: Ctx, n: ONode, data: Val, idx: Val, b: number, w: string): Val {
  requireInt(idx, "indices", w);
  const ds = shapeOf(data);
  const is = shapeOf(idx);
  const k = is[is.length - 1];
  if (is.length < 1 || b < 0 || b >= Math.min(is.length, ds.length) || k === undefined || b + k > ds.length)
    throw new ConvertError(`${w}: indices shape [${is}] and batch_dims ${b} do not fit data shape [${ds}]`);
  for (let i = 0; i < b; i++)
    if (is[i] !== ds[i])
      throw new ConvertError(`${w}: batch dim ${i} of indices (${is[i]}) differs from data's (${ds[i]})`);
  const idxDims = ds.slice(b, b + k);
  const rowSt = stridesOf(idxDims);
  const rowsPerBatch = numel(idxDims);
  const inner = numel(ds.slice(b + k));
  const outShape = [...is.slice(0, -1), ...ds.slice(b + k)];
  const m = numel(is.slice(0, -1));
  const perBatch = numel(is.slice(b, -1));
  let rows: Val;
  if (idx.kind === "const") {
    const r = new Float64Array(m);
    for (let q = 0; q < m; q++) {
      let row = Math.floor(q / perBatch) * rowsPerBatch;
      for (let j = 0; j < k; j++) row += normIndex(idx.c.data[q * k + j], idxDims[j], w) * rowSt[j];
      r[q] = row;
    }
    rows = intC([m], r, `${n.name}:rows`);
  } else {
    // Then add each batch's base row.
    let r = tupleOffsets(ctx, n, idx, rowSt, idxDims, m, w);
    if (b > 0) {
      const base = Array.from({ length: m }, (_, q) => Math.floor(q / perBatch) * rowsPerBatch);
      r = binaryK(ctx, sub(n, "rows"), r, intC(shapeOf(r), base, `${n.name}:base`), Binary.ADD, w);
    }
    rows = r;
  }
  const params = [1, numel(ds.slice(0, b + k)), inner, m];
  return kernel(
    ctx,
    n,
    { op: Op.GATHER, params, inputs: [data, rows], outShapes: [outShape], outDtype: dtypeOf(data) },
    w,
  )[0];
}

const REDUCTIONS: Record<string, number | undefined> = {
  none: undefined,
  add: Binary.ADD,
  mul: Binary.MUL,
  max: Binary.MAX,
  min: Binary.MIN,
};

/**
 * Scatter with constant targets: targets[j] is the flat position in data that update element j goes
 * to. A GATHER from concat(data, updates[, identity]) with a constant index per output element; with
 * a reduction, one GATHER + BINARY per level of duplicates, applied in update order as ONNX does.
 */
function scatterFlat(
  ctx: Ctx,
  n: ONode,
  data: Val,
  updates: Val,
  targets: number[],
  reduction: string,
  w: string,
): Val {
  if (!(reduction in REDUCTIONS))
    throw new ConvertError(
      `${w}: attribute reduction '${reduction}' is not supported (none, add, mul, max, min)`,
    );
  if (isIntVal(data) !== isIntVal(updates))
    throw new ConvertError(`${w}: data and updates must both be integer or both be float tensors`);
  const ds = shapeOf(data);
  const N = numel(ds);
  const U = targets.length;
  if (U === 0) return reshapeTo(ctx, n, data, ds, w);
  const fn = REDUCTIONS[reduction];
  const ident = fn === Binary.ADD ? 0 : fn === Binary.MUL ? 1 : undefined;
  const parts: Val[] = [data, updates];
  if (ident !== undefined)
    parts.push(mkConst([1], isIntVal(data) ? "int" : "float", [ident], `${n.name}:identity`));
  const total = N + U + (ident !== undefined ? 1 : 0);
  const descs = [0, N, N + U].slice(0, parts.length).map((off, i) => ({
    ...contiguous(numel(shapeOf(parts[i]))),
    src: i,
    dstOff: off,
  }));
  const src = copyKernel(ctx, sub(n, "src"), parts, descs, [[total]], w)[0];
  const perTarget: number[][] = Array.from({ length: N }, () => []);
  targets.forEach((t, j) => {
    perTarget[t].push(j);
  });
  if (fn === undefined) {
    // Duplicates: the last update wins (ONNX leaves their order undefined; onnxruntime does this).
    const map = perTarget.map((js, t) => (js.length ? N + js[js.length - 1] : t));
    return gatherFlat(ctx, n, src, intC(ds, map, `${n.name}:map`), ds, w);
  }
  const levels = Math.max(...perTarget.map((js) => js.length));
  let acc = data;
  for (let lv = 0; lv < levels; lv++) {
    const map = perTarget.map((js, t) => (lv < js.length ? N + js[lv] : ident !== undefined ? N + U : t));
    const layer = gatherFlat(ctx, sub(n, `level${lv}`), src, intC(ds, map, `${n.name}:map${lv}`), ds, w);
    acc = binaryK(ctx, sub(n, `reduce${lv}`), acc, layer, fn, w);
  }
  return acc;
}

/**
 * Scatter with run-time targets T (flat positions in data, one per update element; an activation):
 * a one-hot comparison E[t, j] = (T[j] = t) of every output position with every update, then
 * per position the sum of its updates, Σ_j E[t, j]·u[j] (WHERE + REDUCE SUM: exact). `add` adds it
 * to data; `none` takes it where some update hits and data elsewhere, so duplicate targets (invalid
 * in ONNX) add up instead of the last winning. Work is numel(data)·numel(updates) per kernel.
 */
function scatterRuntime(
  ctx: Ctx,
  n: ONode,
  data: Val,
  updates: Val,
  T: Val,
  reduction: string,
  w: string,
): Val {
  if (reduction !== "none" && reduction !== "add")
    throw new ConvertError(
      `${w}: attribute reduction '${reduction}' needs constant indices (run-time indices: none, add)`,
    );
  if (isIntVal(data) !== isIntVal(updates))
    throw new ConvertError(`${w}: data and updates must both be integer or both be float tensors`);
  const ds = shapeOf(data);
  const N = numel(ds);
  const M = numel(shapeOf(T));
  const iota = intC(
    [N, 1],
    Array.from({ length: N }, (_, t) => t),
    `${n.name}:positions`,
  );
  const hit = binaryK(ctx, sub(n, "onehot"), reshapeShape(T, [1, M]), iota, Binary.EQ, w, "i32");
  const zero = mkConst([], isIntVal(data) ? "int" : "float", [0], `${n.name}:zero`);
  const picked = ELEMENTWISE_HANDLERS.Where(
    ctx,
    sub(n, "picked"),
    [hit, reshapeShape(updates, [1, M]), zero],
    w,
  )[0];
  const rowSum = (v: Val, tag: string, dtype: DType) =>
    kernel(
      ctx,
      sub(n, tag),
      { op: Op.REDUCE, params: [Reduce.SUM, N, M, 1], inputs: [v], outShapes: [ds], outDtype: dtype },
      w,
    )[0];
  const sum = rowSum(picked, "sum", dtypeOf(data));
  if (reduction === "add") return binaryK(ctx, sub(n, "add"), data, sum, Binary.ADD, w);
  const count = rowSum(hit, "count", "i32");
  const any = binaryK(ctx, sub(n, "hit"), count, intC([], [0], `${n.name}:0`), Binary.GT, w, "i32");
  return ELEMENTWISE_HANDLERS.Where(ctx, sub(n, "scatter"), [any, sum, data], w)[0];
}

function scatterElements(ctx: Ctx, n: ONode, ins: (Val | undefined)[], w: string): Val {
  const data = need(ins[0], 0, n, w);
  const idxV = need(ins[1], 1, n, w);
  const updates = need(ins[2], 2, n, w);
  requireInt(idxV, "indices", w);
  const ds = shapeOf(data);
  const us = shapeOf(updates);
  const ax = normAxis(attrInt(n, "axis", 0), ds.length, w);
  if (
    shapeOf(idxV).join() !== us.join() ||
    us.length !== ds.length ||
    us.some((d, i) => i !== ax && d > ds[i])
  )
    throw new ConvertError(`${w}: indices [${shapeOf(idxV)}] / updates [${us}] do not fit data [${ds}]`);
  const st = stridesOf(ds);
  const ust = stridesOf(us);
  const reduction = attrStr(n, "reduction", "none");
  if (idxV.kind === "act") {
    const offset = Array.from({ length: numel(us) }, (_, j) =>
      coords(j, ust).reduce((a, x, d) => (d === ax ? a : a + x * st[d]), 0),
    );
    const T = flatIndex(
      ctx,
      n,
      idxV,
      intC([], [st[ax]], `${n.name}:stride`),
      intC([], [ds[ax] * st[ax]], `${n.name}:wrap`),
      intC(us, offset, `${n.name}:offset`),
      w,
    );
    return scatterRuntime(ctx, n, data, updates, T, reduction, w);
  }
  const idx = idxV.c;
  const targets = Array.from(idx.data, (k, j) => {
    const c = coords(j, ust);
    c[ax] = normIndex(k, ds[ax], w);
    return c.reduce((a, x, d) => a + x * st[d], 0);
  });
  return scatterFlat(ctx, n, data, updates, targets, reduction, w);
}

const H: Record<string, Handler> = {};

H.GatherElements = (ctx, n, ins, w) => [
  gatherElements(ctx, n, need(ins[0], 0, n, w), need(ins[1], 1, n, w), attrInt(n, "axis", 0), w),
];
/**
 * Flat offsets Σ_j idx[q, j]·strides[j] of m index tuples of length k held in a runtime tensor
 * (negative entries wrapped by dims[j]): per-entry products by flatIndex, then an exact integer
 * REDUCE SUM over each tuple.
 */
function tupleOffsets(
  ctx: Ctx,
  n: ONode,
  idx: Val,
  strides: number[],
  dims: number[],
  m: number,
  w: string,
): Val {
  const k = strides.length;
  const parts = flatIndex(
    ctx,
    n,
    idx,
    intC([k], strides, `${n.name}:stride`),
    intC(
      [k],
      strides.map((v, j) => v * dims[j]),
      `${n.name}:wrap`,
    ),
    undefined,
    w,
  );
  if (k === 1) return parts;
  const op = { op: Op.REDUCE, params: [Reduce.SUM, m, k, 1], inputs: [parts], outShapes: [[m]] };
  return kernel(ctx, sub(n, "row"), { ...op, outDtype: "i32" }, w)[0];
}

H.GatherND = (ctx, n, ins, w) => [
  gatherND(ctx, n, need(ins[0], 0, n, w), need(ins[1], 1, n, w), attrInt(n, "batch_dims", 0), w),
];
H.ScatterElements = (ctx, n, ins, w) => {
  const first = ctx.activations.length;
  return [named(ctx, scatterElements(ctx, n, ins, w), n.outputs[0], first)];
};
H.Scatter = H.ScatterElements;
H.ScatterND = (ctx, n, ins, w) => {
  const data = need(ins[0], 0, n, w);
  const idxV = need(ins[1], 1, n, w);
  const updates = need(ins[2], 2, n, w);
  requireInt(idxV, "indices", w);
  const ds = shapeOf(data);
  const is = shapeOf(idxV);
  const k = is[is.length - 1];
  const us = shapeOf(updates);
  const want = [...is.slice(0, -1), ...ds.slice(k)];
  if (k === undefined || k > ds.length || us.join() !== want.join())
    throw new ConvertError(`${w}: indices [${is}] / updates [${us}] do not fit data [${ds}]`);
  const st = stridesOf(ds);
  const inner = numel(ds.slice(k));
  const m = numel(is.slice(0, -1));
  const first = ctx.activations.length;
  const reduction = attrStr(n, "reduction", "none");
  if (idxV.kind === "act") {
    // Row starts Σ_j idx[q, j]·stride_j (negatives wrapped), then + e for the row's elements.
    const rows = tupleOffsets(ctx, n, idxV, st.slice(0, k), ds.slice(0, k), m, w);
    const T = binaryK(
      ctx,
      sub(n, "targets"),
      reshapeShape(rows, [m, 1]),
      intC(
        [1, inner],
        Array.from({ length: inner }, (_, e) => e),
        `${n.name}:inner`,
      ),
      Binary.ADD,
      w,
    );
    return [named(ctx, scatterRuntime(ctx, n, data, updates, T, reduction, w), n.outputs[0], first)];
  }
  const idx = idxV.c;
  const targets: number[] = [];
  for (let q = 0; q < m; q++) {
    let base = 0;
    for (let j = 0; j < k; j++) base += normIndex(idx.data[q * k + j], ds[j], w) * st[j];
    for (let e = 0; e < inner; e++) targets.push(base + e);
  }
  const y = scatterFlat(ctx, n, data, updates, targets, reduction, w);
  return [named(ctx, y, n.outputs[0], first)];
};

H.Compress = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const cond = constOf(ins[1], "condition", w);
  const hasAxis = typeof n.attrs.axis === "number";
  const xs = hasAxis ? shapeOf(x) : [numel(shapeOf(x))];
  const ax = hasAxis ? normAxis(attrInt(n, "axis", 0), xs.length, w) : 0;
  if (cond.data.length > xs[ax])
    throw new ConvertError(`${w}: condition has ${cond.data.length} entries, axis has ${xs[ax]}`);
  const keep = Array.from(cond.data.keys()).filter((i) => cond.data[i] !== 0);
  if (keep.length === 0) throw new ConvertError(`${w}: condition selects nothing (empty output)`);
  const outShape = xs.map((d, i) => (i === ax ? keep.length : d));
  const params = [numel(xs.slice(0, ax)), xs[ax], numel(xs.slice(ax + 1)), keep.length];
  return kernel(
    ctx,
    n,
    {
      op: Op.GATHER,
      params,
      inputs: [x, intC([keep.length], keep, `${n.name}:kept`)],
      outShapes: [outShape],
      outDtype: dtypeOf(x),
    },
    w,
  );
};

H.ReverseSequence = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const lens = intsOf(constOf(ins[1], "sequence_lens", w));
  const xs = shapeOf(x);
  const ta = normAxis(attrInt(n, "time_axis", 0), xs.length, w);
  const ba = normAxis(attrInt(n, "batch_axis", 1), xs.length, w);
  if (ta === ba || xs.length < 2) throw new ConvertError(`${w}: time_axis and batch_axis must differ`);
  if (lens.length !== xs[ba] || lens.some((l) => l < 0 || l > xs[ta]))
    throw new ConvertError(`${w}: sequence_lens [${lens}] do not fit batch ${xs[ba]} × time ${xs[ta]}`);
  const st = stridesOf(xs);
  const map = Array.from({ length: numel(xs) }, (_, i) => {
    const c = coords(i, st);
    const l = lens[c[ba]];
    if (c[ta] < l) c[ta] = l - 1 - c[ta];
    return c.reduce((a, v, d) => a + v * st[d], 0);
  });
  return [gatherFlat(ctx, n, x, intC(xs, map, `${n.name}:map`), xs, w)];
};

H.NonZero = (_ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  if (x.kind !== "const")
    throw new ConvertError(
      `${w}: NonZero of a run-time tensor has a data-dependent shape; only constants fold`,
    );
  const xs = x.c.shape;
  const st = stridesOf(xs);
  const hits = Array.from(x.c.data.keys()).filter((i) => x.c.data[i] !== 0);
  if (hits.length === 0) throw new ConvertError(`${w}: NonZero of an all-zero constant is empty`);
  const out = new Float64Array(xs.length * hits.length);
  hits.forEach((i, j) => {
    coords(i, st).forEach((c, d) => {
      out[d * hits.length + j] = c;
    });
  });
  return [intC([xs.length, hits.length], out, n.outputs[0])];
};

H.Unique = (_ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  if (x.kind !== "const")
    throw new ConvertError(
      `${w}: Unique of a run-time tensor has a data-dependent shape; only constants fold`,
    );
  const xs = x.c.shape;
  const sorted = attrInt(n, "sorted", 1) === 1;
  const hasAxis = typeof n.attrs.axis === "number";
  const ax = hasAxis ? normAxis(attrInt(n, "axis", 0), xs.length, w) : 0;
  const view = hasAxis ? xs : [numel(xs)];
  const outer = numel(view.slice(0, ax));
  const len = view[ax];
  const inner = numel(view.slice(ax + 1));
  // Slice s along the axis, as a tuple of numbers.
  const slice = (s: number) => {
    const v: number[] = [];
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) v.push(x.c.data[(o * len + s) * inner + i]);
    return v;
  };
  const keys = Array.from({ length: len }, (_, s) => slice(s));
  const firstOf = new Map<string, number>();
  const order: number[] = [];
  keys.forEach((k, s) => {
    const key = k.join(",");
    if (!firstOf.has(key)) {
      firstOf.set(key, s);
      order.push(s);
    }
  });
  const cmp = (a: number, b: number) => {
    for (let i = 0; i < keys[a].length; i++) if (keys[a][i] !== keys[b][i]) return keys[a][i] - keys[b][i];
    return 0;
  };
  if (sorted) order.sort(cmp);
  const pos = new Map(order.map((s, u) => [keys[s].join(","), u]));
  const u = order.length;
  const y = new Float64Array(outer * u * inner);
  order.forEach((s, j) => {
    const v = keys[s];
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) y[(o * u + j) * inner + i] = v[o * inner + i];
  });
  const inverse = keys.map((k) => pos.get(k.join(","))!);
  const counts = order.map((_, j) => inverse.filter((v) => v === j).length);
  return [
    mkConst(
      view.map((d, i) => (i === ax ? u : d)),
      x.c.dtype,
      y,
      n.outputs[0],
    ),
    intC([u], order, n.outputs[1] ?? `${n.name}:indices`),
    intC([len], inverse, n.outputs[2] ?? `${n.name}:inverse`),
    intC([u], counts, n.outputs[3] ?? `${n.name}:counts`),
  ];
};

/**
 * NegativeLogLikelihoodLoss of log-probabilities x [N, C, d…] at target t [N, d…]:
 * loss = −x[n, t, d…]·weight[t] (0 where t = ignore_index), reduced per `reduction`; mean divides by
 * the sum of the gathered weights.
 */
function nllLoss(ctx: Ctx, n: ONode, x: Val, t: Val, weight: Val | undefined, w: string): Val {
  requireInt(t, "target", w);
  const xs = shapeOf(x);
  const ts = shapeOf(t);
  if (
    xs.length < 2 ||
    ts.length !== xs.length - 1 ||
    ts[0] !== xs[0] ||
    ts.some((d, i) => i > 0 && d !== xs[i + 1])
  )
    throw new ConvertError(`${w}: target shape [${ts}] does not fit input shape [${xs}]`);
  const C = xs[1];
  if (weight && numel(shapeOf(weight)) !== C)
    throw new ConvertError(`${w}: weight must have C = ${C} elements (got [${shapeOf(weight)}])`);
  const reduction = attrStr(n, "reduction", "mean");
  if (!["none", "sum", "mean"].includes(reduction))
    throw new ConvertError(`${w}: attribute reduction '${reduction}' is not supported (none, sum, mean)`);
  const ii = typeof n.attrs.ignore_index === "number" ? (n.attrs.ignore_index as number) : undefined;
  const idxShape = [xs[0], 1, ...xs.slice(2)];
  const m = numel(ts);
  let picked: Val;
  let wts: Val | undefined; // −weight per element (0 where ignored); undefined: all −1
  let sumW: Val | undefined; // Σ weight over the elements, for mean
  if (t.kind === "const") {
    const tv = Array.from(t.c.data);
    const ignored = tv.map((k) => ii !== undefined && k === ii);
    const safe = tv.map((k, i) => (ignored[i] ? 0 : normIndex(k, C, w, "target")));
    picked = gatherElements(ctx, sub(n, "pick"), x, intC(idxShape, safe, `${n.name}:target`), 1, w, ts);
    if (weight?.kind === "act") {
      const g = gatherFlat(ctx, sub(n, "w"), weight, intC(ts, safe, `${n.name}:target1`), ts, w);
      const mask = mkConst(
        ts,
        "float",
        ignored.map((z) => (z ? 0 : -1)),
        `${n.name}:mask`,
      );
      wts = binaryK(ctx, sub(n, "wmask"), g, mask, Binary.MUL, w);
      sumW = unaryK(ctx, sub(n, "-w"), wts, Unary.NEG, w);
    } else if (weight || ignored.some((z) => z)) {
      const wv = safe.map((k, i) => (ignored[i] ? 0 : weight?.kind === "const" ? weight.c.data[k] : 1));
      wts = mkConst(
        ts,
        "float",
        wv.map((v) => -v),
        `${n.name}:-weight`,
      );
      sumW = mkConst([], "float", [wv.reduce((a, b) => a + b, 0)], `${n.name}:sumw`);
    }
  } else {
    let safe: Val = t;
    let keep: Val | undefined; // i32 1 where counted
    if (ii !== undefined) {
      const wv = view6([m], [[1], [1], [1]], w);
      const isIgn = binaryK(ctx, sub(n, "ignored"), t, intC([], [ii], `${n.name}:ii`), Binary.EQ, w, "i32");
      safe = kernel(
        ctx,
        sub(n, "safe"),
        {
          op: Op.WHERE,
          params: [...wv.dims, ...wv.strides.flat()],
          inputs: [isIgn, intC([m], new Array(m).fill(0), `${n.name}:zeros`), t],
          outShapes: [ts],
          outDtype: "i32",
        },
        w,
      )[0];
      keep = unaryK(ctx, sub(n, "keep"), isIgn, Unary.NOT, w);
    }
    picked = gatherElements(ctx, sub(n, "pick"), x, reshapeShape(safe, idxShape), 1, w, ts);
    let g: Val | undefined;
    if (weight) g = gatherFlat(ctx, sub(n, "w"), weight, safe, ts, w);
    if (keep) {
      const k = unaryK(ctx, sub(n, "keepq"), keep, Unary.I2Q, w, 0, 0, "q16");
      g = g ? binaryK(ctx, sub(n, "wkeep"), g, k, Binary.MUL, w) : k;
    }
    if (g) {
      wts = unaryK(ctx, sub(n, "-w"), g, Unary.NEG, w);
      sumW = g;
    }
  }
  let loss = wts
    ? binaryK(ctx, sub(n, "loss"), picked, wts, Binary.MUL, w)
    : unaryK(ctx, sub(n, "loss"), picked, Unary.NEG, w);
  if (reduction === "none") return loss;
  const sum = (v: Val, tag: string) =>
    kernel(
      ctx,
      sub(n, tag),
      { op: Op.REDUCE, params: [Reduce.SUM, 1, m, 1], inputs: [v], outShapes: [[]], outDtype: "q16" },
      w,
    )[0];
  if (reduction === "sum") return sum(loss, "sum");
  if (!sumW) {
    return kernel(
      ctx,
      sub(n, "mean"),
      { op: Op.REDUCE, params: [Reduce.MEAN, 1, m, 1], inputs: [loss], outShapes: [[]], outDtype: "q16" },
      w,
    )[0];
  }
  loss = sum(loss, "sum");
  const den = sumW.kind === "const" && sumW.c.shape.length === 0 ? sumW : sum(sumW, "sumw");
  return binaryK(ctx, sub(n, "mean"), loss, den, Binary.DIV, w);
}

/** The same activation viewed with another shape of as many elements (kernels read flat buffers). */
function reshapeShape(v: Val, shape: number[]): Val {
  return v.kind === "act" ? { ...v, shape } : { ...v, c: { ...v.c, shape } };
}

H.NegativeLogLikelihoodLoss = (ctx, n, ins, w) => {
  const first = ctx.activations.length;
  const loss = nllLoss(ctx, n, need(ins[0], 0, n, w), need(ins[1], 1, n, w), ins[2], w);
  return [named(ctx, loss, n.outputs[0], first)];
};

H.SoftmaxCrossEntropyLoss = (ctx, n, ins, w) => {
  const first = ctx.activations.length;
  const x = need(ins[0], 0, n, w);
  const xs = shapeOf(x);
  if (xs.length < 2) throw new ConvertError(`${w}: scores must be [N, C, …] (got [${xs}])`);
  const logp = kernel(
    ctx,
    sub(n, "log_prob"),
    {
      op: Op.SOFTMAX,
      params: [xs[0], xs[1], numel(xs.slice(2)), 1],
      inputs: [x],
      outShapes: [xs],
      outDtype: "q16",
      foldable: false,
    },
    w,
  )[0];
  const loss = nllLoss(ctx, n, logp, need(ins[1], 1, n, w), ins[2], w);
  return [named(ctx, loss, n.outputs[0], first), named(ctx, logp, n.outputs[1], first)];
};

/**
 * BatchNormalization with training_mode = 1: Y normalizes with the batch statistics (mean and
 * population variance over all axes but 1), via a transpose to [C, N·S], one LAYERNORM row per
 * channel, a transpose back and CHANNEL_AFFINE with scale and B; running_mean/var =
 * input·momentum + batch·(1 − momentum) with REDUCE MEAN, BINARY kernels.
 */
export function batchNormTraining(ctx: Ctx, n: ONode, ins: (Val | undefined)[], w: string): Val[] {
  const first = ctx.activations.length;
  const x = need(ins[0], 0, n, w);
  const xs = shapeOf(x);
  if (xs.length < 2) throw new ConvertError(`${w}: input must be [N, C, …] (got [${xs}])`);
  const [N, C] = xs;
  const S = numel(xs.slice(2));
  const eps = attrFloat(n, "epsilon", 1e-5);
  const mom = attrFloat(n, "momentum", 0.9);
  const scale = need(ins[1], 1, n, w);
  const bias = need(ins[2], 2, n, w);
  const view = [N, C, S];
  const xt = transposeView(ctx, sub(n, "CxNS"), x, view, [1, 0, 2], [C, N, S], w);
  const epsQ32 = Math.floor(eps * 2 ** 32 + 0.5);
  if (epsQ32 > 2 ** 31 - 1) throw new ConvertError(`${w}: attribute epsilon ${eps} too large`);
  const normed = kernel(
    ctx,
    sub(n, "norm"),
    {
      op: Op.LAYERNORM,
      params: [C, N * S, epsQ32, 0, 0],
      inputs: [xt],
      outShapes: [[C, N, S]],
      outDtype: "q16",
      foldable: false,
    },
    w,
  )[0];
  const back = transposeView(ctx, sub(n, "NCS"), normed, [C, N, S], [1, 0, 2], xs, w);
  const y = kernel(
    ctx,
    sub(n, "affine"),
    {
      op: Op.CHANNEL_AFFINE,
      params: [N, C, S],
      inputs: [back, scale, bias],
      outShapes: [xs],
      outDtype: "q16",
      foldable: false,
    },
    w,
  )[0];
  const outs: Val[] = [named(ctx, y, n.outputs[0], first)];
  if (n.outputs[1] || n.outputs[2]) {
    const mean = kernel(
      ctx,
      sub(n, "mean"),
      { op: Op.REDUCE, params: [Reduce.MEAN, C, N * S, 1], inputs: [xt], outShapes: [[C]], outDtype: "q16" },
      w,
    )[0];
    const centered = binaryK(
      ctx,
      sub(n, "centered"),
      reshapeShape(xt, [C, N * S]),
      reshapeShape(mean, [C, 1]),
      Binary.SUB,
      w,
    );
    const sq = binaryK(ctx, sub(n, "sq"), centered, centered, Binary.MUL, w);
    const variance = kernel(
      ctx,
      sub(n, "var"),
      { op: Op.REDUCE, params: [Reduce.MEAN, C, N * S, 1], inputs: [sq], outShapes: [[C]], outDtype: "q16" },
      w,
    )[0];
    const running = (stat: Val, input: Val, tag: string) => {
      const a = binaryK(
        ctx,
        sub(n, `${tag}*m`),
        input,
        mkConst([], "float", [mom], `${n.name}:momentum`),
        Binary.MUL,
        w,
      );
      const b = binaryK(
        ctx,
        sub(n, `${tag}*(1-m)`),
        stat,
        mkConst([], "float", [1 - mom], `${n.name}:1-momentum`),
        Binary.MUL,
        w,
      );
      return binaryK(ctx, sub(n, `running_${tag}`), a, b, Binary.ADD, w);
    };
    outs.push(named(ctx, running(mean, need(ins[3], 3, n, w), "mean"), n.outputs[1], first));
    outs.push(named(ctx, running(variance, need(ins[4], 4, n, w), "var"), n.outputs[2], first));
  }
  return outs;
}

// ---------- constant generators ----------
function windowHandler(coef: (k: number) => number[]): Handler {
  return (_ctx, n, ins, w) => {
    const size = intsOf(constOf(ins[0], "size", w))[0];
    if (!(size >= 1)) throw new ConvertError(`${w}: window size ${size} must be positive`);
    const periodic = attrInt(n, "periodic", 1) === 1;
    const dtype = attrInt(n, "output_datatype", 1);
    const isInt = dtype !== 1 && dtype !== 10 && dtype !== 11 && dtype !== 16;
    const N = periodic ? size : size - 1;
    const a = coef(0);
    const data = Array.from({ length: size }, (_, i) =>
      a.reduce(
        (acc, c, j) => acc + (j % 2 ? -1 : 1) * c * (N === 0 ? 1 : Math.cos((2 * Math.PI * j * i) / N)),
        0,
      ),
    );
    return [mkConst([size], isInt ? "int" : "float", isInt ? data.map(Math.trunc) : data, n.outputs[0])];
  };
}
H.HannWindow = windowHandler(() => [0.5, 0.5]);
H.HammingWindow = windowHandler(() => [25 / 46, 21 / 46]);
H.BlackmanWindow = windowHandler(() => [0.42, 0.5, 0.08]);

H.BitShift = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const y = need(ins[1], 1, n, w);
  requireInt(x, "X", w);
  requireInt(y, "Y", w);
  const dir = attrStr(n, "direction", "");
  if (dir !== "LEFT" && dir !== "RIGHT")
    throw new ConvertError(`${w}: attribute direction '${dir}' must be LEFT or RIGHT`);
  if (y.kind !== "const")
    throw new ConvertError(`${w}: run-time shift amounts are not supported (Y must be a constant)`);
  const s = Array.from(y.c.data);
  if (s.some((v) => v < 0 || v > 30)) throw new ConvertError(`${w}: shift amounts must lie in 0..30`);
  if (x.kind === "act" && dir === "RIGHT")
    throw new ConvertError(
      `${w}: a right BitShift of a run-time tensor is not supported (needs a floor division)`,
    );
  // x·2^s (exact in i32 while it fits; folds on constants, floor(x / 2^s) for RIGHT).
  if (x.kind === "const" && dir === "RIGHT") {
    const fact = mkConst(
      y.c.shape,
      "int",
      s.map((v) => 2 ** v),
      `${n.name}:pow2`,
    );
    const out = binaryK(ctx, n, x, fact, Binary.DIV, w);
    if (out.kind !== "const") throw new Error("unreachable");
    return [{ ...out, c: { ...out.c, data: out.c.data.map(Math.floor) } }];
  }
  return [
    binaryK(
      ctx,
      n,
      x,
      mkConst(
        y.c.shape,
        "int",
        s.map((v) => 2 ** v),
        `${n.name}:pow2`,
      ),
      Binary.MUL,
      w,
    ),
  ];
};

export const INDEX_HANDLERS = H;

const GATHER_NOTE =
  "GATHER over the flat data with a flat index tensor: computed here for constant indices, else by " +
  "integer BINARY kernels (index·stride, + axis·stride where index < 0, + constant offsets); exact. " +
  "Run-time indices out of range are not detected unless they leave the tensor (GATHER_INDEX error)";
const SCATTER_NOTE =
  "constant indices: GATHER from concat(data, updates) with a constant index per output element " +
  "(duplicates with reduction none: the last wins); reductions: one GATHER + BINARY kernel per level " +
  "of duplicates, in update order (q16 mul rounds each product, add/max/min exact). Run-time " +
  "indices (reduction none/add only): integer index kernels, a one-hot EQ of every output position " +
  "with every update, WHERE + REDUCE SUM (exact; numel(data)·numel(updates) work; duplicates add)";
export const INDEX_DOCS: Record<string, OpDoc> = {
  GatherElements: { opsets: "11+", attrs: "all", notes: `${GATHER_NOTE}; negative indices` },
  GatherND: {
    opsets: "11+",
    attrs: "all (batch_dims)",
    notes: `${GATHER_NOTE}; rows of the trailing dims`,
  },
  ScatterElements: { opsets: "11+", attrs: "axis, reduction none/add/mul/max/min", notes: SCATTER_NOTE },
  Scatter: { opsets: "9–10", attrs: "axis", notes: SCATTER_NOTE },
  ScatterND: { opsets: "11+", attrs: "reduction none/add/mul/max/min", notes: SCATTER_NOTE },
  Compress: {
    opsets: "9+",
    attrs: "axis (or none: flattened)",
    notes: "condition must be constant: a GATHER with the kept positions; an empty result is refused",
  },
  ReverseSequence: {
    opsets: "10+",
    attrs: "all",
    notes: "sequence_lens must be constant: one GATHER with a constant permutation; exact",
  },
  NonZero: { opsets: "9+", attrs: "all", notes: "folds on constants only (data-dependent shape)" },
  Unique: { opsets: "11+", attrs: "all", notes: "folds on constants only (data-dependent shape)" },
  NegativeLogLikelihoodLoss: {
    opsets: "12+",
    attrs: "reduction none/sum/mean, ignore_index, weight",
    notes:
      "GatherElements of −input at the target (constant or run-time), × gathered weight (0 where " +
      "ignored), REDUCE SUM; mean divides by Σ weights (BINARY DIV). Error ≤ one q16 rounding per " +
      "element product plus the DIV's",
  },
  SoftmaxCrossEntropyLoss: {
    opsets: "12+",
    attrs: "reduction none/sum/mean, ignore_index, weight; log_prob output",
    notes: "SOFTMAX (log) over axis 1, then NegativeLogLikelihoodLoss's lowering",
  },
  BatchNormalization: {
    opsets: "1+",
    attrs: "epsilon, momentum, training_mode",
    notes:
      "inference: one CHANNEL_AFFINE with folded float64 scale/shift. training_mode = 1: transpose to " +
      "[C, N·S], LAYERNORM per channel (batch statistics), transpose back, CHANNEL_AFFINE; running " +
      "mean/var outputs by REDUCE MEAN and BINARY kernels",
  },
  Dropout: {
    opsets: "1+",
    attrs: "ratio, training_mode (constant)",
    notes:
      "inference, or training with ratio 0: a COPY (identity) and a constant all-true mask; " +
      "training with ratio > 0 is random and refused",
  },
  Slice: {
    opsets: "1+",
    attrs: "all (constant starts/ends/axes/steps)",
    notes:
      "one strided COPY; a constant input folds, an empty result included; an empty run-time slice is refused",
  },
  Pow: {
    opsets: "1+",
    attrs: "all",
    notes:
      "BINARY POW (see NUMERICS.md); an integer base with a constant float exponent of whole numbers is an " +
      "integer Pow (exact); mixed types otherwise refused",
  },
  HannWindow: { opsets: "17+", attrs: "all", notes: "size must be constant; folds in float64" },
  HammingWindow: { opsets: "17+", attrs: "all", notes: "size must be constant; folds in float64" },
  BlackmanWindow: { opsets: "17+", attrs: "all", notes: "size must be constant; folds in float64" },
  BitShift: {
    opsets: "11+",
    attrs: "direction",
    notes:
      "shift amounts must be constant: LEFT is MUL_INT by 2^s (wraps at 32 bits, not at the ONNX type's " +
      "width); RIGHT folds on constants only",
  },
};
