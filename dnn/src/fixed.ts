// Host-side fixed-point boundary (docs/NUMERICS.md §1). Floats exist only here, where user-supplied
// floats enter (quantize) and where results leave for display (dequantize). quantize() is exact
// IEEE-754 arithmetic (scaling by 2^16 is exact in binary64), so every machine gets the same bits.

import { UserError } from "../../errors/index.js";
export const FRAC_BITS = 16;
export const SCALE = 2 ** FRAC_BITS;
export const I32_MAX = 2 ** 31 - 1;
export const I32_MIN = -(2 ** 31);

export class NonFiniteError extends UserError {
  override readonly kind: string = "number";
}

/** Round half up (floor(v + 1/2)) then saturate to i32. */
export function roundSat(v: number): number {
  const r = Math.floor(v + 0.5);
  return Math.min(I32_MAX, Math.max(I32_MIN, r));
}

/** float → Q16.16, round half up, saturating. Throws on NaN/±Inf. */
export function quantize(x: number): number {
  if (!Number.isFinite(x)) throw new NonFiniteError(`non-finite value ${x}`);
  return roundSat(x * SCALE);
}

/**
 * float[] → Q16.16. NaN is always refused. ±Infinity is refused unless `saturateInfinities` (model
 * constants: attention masks written as `masked_fill(mask == 0, -inf)`), where it maps to the i32
 * extreme of its sign, the same value a finite float extreme such as `finfo(float32).min` saturates
 * to (docs/NUMERICS.md §3.1), so a masked logit contributes exactly 0 to a softmax.
 */
export function quantizeArray(xs: ArrayLike<number>, what: string, saturateInfinities = false): Int32Array {
  const out = new Int32Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (!Number.isFinite(x) && !(saturateInfinities && (x === Infinity || x === -Infinity))) {
      throw new NonFiniteError(`${what}: element ${i} is ${x} (NaN/Inf not allowed)`);
    }
    out[i] = roundSat(x * SCALE);
  }
  return out;
}

/** Integer tensors (indices, booleans) are stored raw; values must be integers within i32. */
export function intArray(xs: ArrayLike<number>, what: string): Int32Array {
  const out = new Int32Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (!Number.isFinite(x)) throw new NonFiniteError(`${what}: element ${i} is ${x}`);
    out[i] = Math.max(I32_MIN, Math.min(I32_MAX, Math.trunc(x)));
  }
  return out;
}

export function dequantize(q: Int32Array): Float64Array {
  const out = new Float64Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = q[i] / SCALE;
  return out;
}
