// Constant index maps along one axis (Pad's reflect/edge/wrap, nearest Resize): COPY descriptors
// for runs of the map, else one GATHER with the indices as a constant. Exact: words are copied.
// Kept apart from resize.ts so that copy.ts (Pad) can use it without an import cycle.
import { Op } from "../../../dnn/src/opcodes.js";
import type { DType } from "../../../dnn/src/package.js";
import { ConvertError, type ONode } from "../onnx.js";
import { type CopyDesc, numel } from "../views.js";
import { type Ctx, derived, isIntVal, kernel, mkConst, shapeOf, type Val } from "./context.js";
import { copyKernel } from "./copy-kernel.js";

/** A node for an intermediate kernel of a multi-kernel lowering (its own output name). */
export const step = (n: ONode, tag: string): ONode => ({
  ...n,
  name: `${n.name}#${tag}`,
  outputs: [`${n.outputs[0] || n.name}#${tag}`],
});

/** The same words under another (same-size) shape: free for both constants and activations. */
export function view(v: Val, shape: number[]): Val {
  if (v.kind === "const") return derived({ ...v.c, shape }, v.name);
  return { ...v, shape };
}

/** One COPY of x by `descs` into a fresh output of shape `out` (zero-filled first with `fill`). */
export function copyK(
  ctx: Ctx,
  n: ONode,
  x: Val,
  descs: CopyDesc[],
  out: number[],
  w: string,
  fill = false,
): Val {
  return copyKernel(ctx, n, [x], descs, [out], w, fill ? { value: 0, count: numel(out) } : undefined)[0];
}

/**
 * Output = x with axis `ax` replaced by x[..., idx[o], ...] (every idx in range). COPY when the map is
 * a + s·⌊o/k⌋ or has few runs of a constant step; else GATHER with the indices as a constant.
 */
export function indexAxis(ctx: Ctx, n: ONode, x: Val, ax: number, idx: number[], w: string): Val {
  const xs = shapeOf(x);
  const L = xs[ax];
  const O = idx.length;
  if (O === L && idx.every((v, i) => v === i)) return x;
  const outer = numel(xs.slice(0, ax));
  const inner = numel(xs.slice(ax + 1));
  const out = xs.map((d, i) => (i === ax ? O : d));
  // a + s·⌊o/k⌋ with k | O: one strided descriptor with a broadcast (stride-0) axis.
  let k = 1;
  while (k < O && idx[k] === idx[0]) k++;
  const s = k < O ? idx[k] - idx[0] : 0;
  if (O % k === 0 && idx.every((v, o) => v === idx[0] + s * Math.floor(o / k))) {
    const desc: CopyDesc = {
      src: 0,
      dst: 0,
      dims: [outer, O / k, k, inner],
      srcOff: idx[0] * inner,
      srcStrides: [L * inner, s * inner, 0, 1],
      dstOff: 0,
      dstStrides: [O * inner, k * inner, inner, 1],
    };
    return copyK(ctx, n, x, [desc], out, w);
  }
  // Runs of a constant step (−1, 0, 1…): Pad's reflect/edge/wrap maps have at most three.
  const runs: [number, number, number][] = []; // start o, length, step
  for (let o = 0; o < O; ) {
    let len = 1;
    const st = o + 1 < O ? idx[o + 1] - idx[o] : 0;
    while (o + len < O && idx[o + len] - idx[o + len - 1] === st) len++;
    runs.push([o, len, len > 1 ? st : 0]);
    o += len;
  }
  if (runs.length <= 8) {
    const descs = runs.map(
      ([o, len, st]): CopyDesc => ({
        src: 0,
        dst: 0,
        dims: [outer, len, inner],
        srcOff: idx[o] * inner,
        srcStrides: [L * inner, st * inner, 1],
        dstOff: o * inner,
        dstStrides: [O * inner, inner, 1],
      }),
    );
    return copyK(ctx, n, x, descs, out, w);
  }
  const dtype: DType = isIntVal(x) ? "i32" : "q16";
  const ic = mkConst([O], "int", idx, `${n.name}:idx${ax}`);
  return kernel(
    ctx,
    n,
    { op: Op.GATHER, params: [outer, L, inner, O], inputs: [x, ic], outShapes: [out], outDtype: dtype },
    w,
  )[0];
}

// ---------- Pad: reflect, edge, wrap ----------

/** Pad with mode reflect | edge | wrap (non-negative pads, [begin…, end…]); one COPY per padded axis. */
export function padIndexed(ctx: Ctx, n: ONode, x: Val, pads: number[], mode: string, w: string): Val {
  const xs = shapeOf(x);
  const r = xs.length;
  let v = x;
  const axes = xs.map((_, i) => i).filter((i) => pads[i] !== 0 || pads[i + r] !== 0);
  for (const ax of axes) {
    const L = xs[ax];
    const b = pads[ax];
    const e = pads[ax + r];
    // (numpy reflects a single element onto itself: the edge map below.)
    if (mode === "reflect" && L > 1 && (b >= L || e >= L))
      throw new ConvertError(
        `${w}: Pad mode 'reflect' needs pads smaller than the axis (axis ${ax} has ${L}, pads ${b}, ${e})`,
      );
    const idx = Array.from({ length: L + b + e }, (_, o) => {
      const i = o - b;
      if (mode === "edge" || L === 1) return Math.min(L - 1, Math.max(0, i));
      if (mode === "wrap") return ((i % L) + L) % L;
      return i < 0 ? -i : i >= L ? 2 * (L - 1) - i : i; // reflect (no edge repeat)
    });
    const last = ax === axes[axes.length - 1];
    v = indexAxis(ctx, last ? n : step(n, `pad${ax}`), v, ax, idx, w);
  }
  return v;
}
