import { COPY_WORDS, Op } from "../../../dnn/src/opcodes.js";
import type { DType } from "../../../dnn/src/package.js";
import { ConvertError, type ONode } from "../onnx.js";
import {
  broadcastShapes,
  broadcastStrides,
  type CopyDesc,
  copyWords,
  normAxis,
  numel,
  stridesOf,
} from "../views.js";
import {
  attrFloat,
  attrInt,
  attrInts,
  attrStr,
  type Ctx,
  constOf,
  type Handler,
  intsOf,
  isIntVal,
  kernel,
  mkConst,
  need,
  shapeOf,
  type Val,
} from "./context.js";
import { contiguous, copyKernel } from "./copy-kernel.js";
import { padIndexed } from "./index-map.js";

export { contiguous, copyKernel };

/** Copies a constant into a fresh activation (used for graph outputs that fold completely). */
export function materialize(ctx: Ctx, n: ONode, v: Val, where: string): Val {
  const shape = shapeOf(v);
  const dtype: DType = isIntVal(v) ? "i32" : "q16";
  const words = copyWords(contiguous(numel(shape)), where);
  const params = [0, 0, 0, words.length / COPY_WORDS, ...words];
  return kernel(
    ctx,
    n,
    { op: Op.COPY, params, inputs: [v], outShapes: [shape], outDtype: dtype, foldable: false },
    where,
  )[0];
}

/** Contiguous copy with a new shape (Reshape, Flatten, Squeeze, Unsqueeze, Identity). */
export function reshapeTo(ctx: Ctx, n: ONode, x: Val, shape: number[], where: string): Val {
  const size = numel(shapeOf(x));
  if (numel(shape) !== size) {
    throw new ConvertError(`${where}: cannot reshape [${shapeOf(x)}] (${size} elements) to [${shape}]`);
  }
  if (x.kind === "const") return mkConst(shape, x.c.dtype, x.c.data, n.outputs[0]);
  return copyKernel(ctx, n, [x], [contiguous(size)], [shape], where)[0];
}

/** Generic permutation of a (possibly re-viewed) tensor. */
export function transposeView(
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

const H: Record<string, Handler> = {};

H.Identity = (ctx, n, ins, w) => [reshapeTo(ctx, n, need(ins[0], 0, n, w), shapeOf(ins[0]!), w)];
H.Dropout = (ctx, n, ins, w) => {
  const x = need(ins[0], 0, n, w);
  const training = ins[2] ? constOf(ins[2], "training_mode", w).data[0] !== 0 : false;
  // Training with ratio 0 drops nothing: deterministic, the same as inference.
  const ratio = training && ins[1] ? constOf(ins[1], "ratio", w).data[0] : 0.5;
  if (training && ratio !== 0)
    throw new ConvertError(`${w}: training-mode Dropout is random and cannot be made deterministic`);
  // Inference: identity, and an all-true mask.
  const outs = H.Identity(ctx, n, ins, w);
  if (n.outputs[1])
    outs.push(mkConst(shapeOf(x), "int", new Float64Array(numel(shapeOf(x))).fill(1), n.outputs[1]));
  return outs;
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
  // A constant (e.g. a Shape) may slice to nothing: fold it here, empty results included.
  if (x.kind === "const") {
    const out = new Float64Array(numel(dims));
    const ost = stridesOf(dims);
    for (let i = 0; i < out.length; i++) {
      let src = srcOff;
      let r = i;
      for (let d = 0; d < dims.length; d++) {
        const c = Math.floor(r / ost[d]);
        r -= c * ost[d];
        src += c * srcStrides[d];
      }
      out[i] = x.c.data[src];
    }
    return [mkConst(dims, x.c.dtype, out, n.outputs[0])];
  }
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
  if (!["constant", "reflect", "edge", "wrap"].includes(mode))
    throw new ConvertError(`${w}: attribute mode='${mode}' is not supported (constant, reflect, edge, wrap)`);
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
  if (mode !== "constant") return [padIndexed(ctx, n, x, pads, mode, w)];
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

export const COPY_HANDLERS = H;
