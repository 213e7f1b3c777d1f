// Shape arithmetic shared by lowering and constant folding: strides, broadcasting, and the rank-6
// strided views the kernels iterate over (dims coalesced where every operand is contiguous).
import { MAX_RANK } from "../../dnn/src/opcodes.js";
import { ConvertError } from "./onnx.js";

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

export const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function broadcastShapes(shapes: number[][], where: string): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v === 1) continue;
      if (d !== 1 && d !== v)
        throw new ConvertError(`${where}: shapes ${shapes.map((x) => `[${x}]`).join(", ")} do not broadcast`);
      d = v;
    }
    out.push(d);
  }
  return out;
}

/** Element strides of `inShape` viewed as broadcast to `outShape` (0 on broadcast dims). */
export function broadcastStrides(inShape: readonly number[], outShape: readonly number[]): number[] {
  const st = stridesOf(inShape);
  const off = outShape.length - inShape.length;
  return outShape.map((d, i) => {
    const k = i - off;
    if (k < 0) return 0;
    return inShape[k] === 1 && d !== 1 ? 0 : st[k];
  });
}

/**
 * Drops size-1 dims and merges adjacent dims that are contiguous in every stride list, then pads on
 * the left to rank 6. Errors if the view needs more than 6 dims.
 */
export function view6(
  dims: number[],
  strides: number[][],
  where: string,
): { dims: number[]; strides: number[][] } {
  let d: number[] = [];
  let s: number[][] = strides.map(() => []);
  dims.forEach((v, i) => {
    if (v === 1) return;
    d.push(v);
    strides.forEach((st, j) => {
      s[j].push(st[i]);
    });
  });
  for (let i = d.length - 2; i >= 0; i--) {
    if (s.every((st) => st[i] === st[i + 1] * d[i + 1])) {
      d[i] *= d[i + 1];
      s.forEach((st) => {
        st[i] = st[i + 1];
        st.splice(i + 1, 1);
      });
      d.splice(i + 1, 1);
    }
  }
  if (d.length > MAX_RANK)
    throw new ConvertError(`${where}: needs a rank-${d.length} view; at most ${MAX_RANK} is supported`);
  while (d.length < MAX_RANK) {
    d = [1, ...d];
    s = s.map((st) => [0, ...st]);
  }
  return { dims: d, strides: s };
}

/** A COPY kernel descriptor (22 words, see dnn/assembly/copy.ts). */
export interface CopyDesc {
  src: number;
  dst: number;
  dims: number[];
  srcOff: number;
  srcStrides: number[];
  dstOff: number;
  dstStrides: number[];
}

/** Kernel words for a copy; a view above rank 6 is split along its first dim into several copies. */
export function copyWords(c: CopyDesc, where: string): number[] {
  return splitCopy(c, where).flatMap((d) => {
    const v = view6(d.dims, [d.srcStrides, d.dstStrides], where);
    return [d.src, d.dst, ...v.dims, d.srcOff, ...v.strides[0], d.dstOff, ...v.strides[1]];
  });
}

function splitCopy(c: CopyDesc, where: string): CopyDesc[] {
  try {
    view6(c.dims, [c.srcStrides, c.dstStrides], where);
    return [c];
  } catch (e) {
    const k = c.dims.findIndex((d) => d > 1);
    if (k < 0 || c.dims[k] > 4096) throw e;
    const rest = (xs: number[]) => xs.filter((_, i) => i !== k);
    return Array.from({ length: c.dims[k] }, (_, i) => ({
      ...c,
      dims: rest(c.dims),
      srcOff: c.srcOff + i * c.srcStrides[k],
      srcStrides: rest(c.srcStrides),
      dstOff: c.dstOff + i * c.dstStrides[k],
      dstStrides: rest(c.dstStrides),
    })).flatMap((d) => splitCopy(d, where));
  }
}

/** Normalizes a possibly negative axis for a tensor of the given rank. */
export function normAxis(axis: number, rank: number, where: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new ConvertError(`${where}: axis ${axis} out of range for rank ${rank}`);
  return a;
}
