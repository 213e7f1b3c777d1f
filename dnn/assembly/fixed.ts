// Fixed-point core (docs/NUMERICS.md). Values are Q16.16 in i32; products accumulate in i64.
// ONE rounding rule everywhere: round half up, i.e. floor(v + 1/2) (ties go toward +inf).
// ONE overflow rule: saturate to the i32 range when narrowing.

export const FRAC: i32 = 16;
export const ONE: i32 = 1 << FRAC;
export const ONE30: i64 = 1 << 30;
export const I32_MAX: i64 = 0x7fffffff;
export const I32_MIN: i64 = -0x80000000;

/** Saturating narrow to i32. */
@inline
export function sat(x: i64): i32 {
  return x > I32_MAX ? <i32>I32_MAX : x < I32_MIN ? <i32>I32_MIN : <i32>x;
}

/** x / 2^s rounded half up (arithmetic shift after adding half). s in 1..62. */
@inline
export function rshr(x: i64, s: i32): i64 {
  return (x + (<i64>1 << (s - 1))) >> s;
}

/** Like rshr but accepts any s >= 0 (s = 0 is identity; s >= 63 gives 0 or -1 floor semantics). */
export function rshrAny(x: i64, s: i32): i64 {
  if (s <= 0) return x;
  if (s >= 63) return x < 0 ? (x >= -(<i64>1 << 62) ? 0 : -1) : 0;
  return rshr(x, s);
}

/** floor(n / d) for d > 0. */
@inline
export function floorDiv(n: i64, d: i64): i64 {
  let q = n / d;
  if (n % d != 0 && n < 0) q -= 1;
  return q;
}

/** n / d rounded half up: floor((2n + d) / 2d). d != 0; sign folded into n. */
export function divRound(n: i64, d: i64): i64 {
  if (d < 0) {
    n = -n;
    d = -d;
  }
  // 2n may overflow only for |n| >= 2^62, which the callers never produce.
  return floorDiv(2 * n + d, 2 * d);
}

/** Q16 product, rounded half up, saturated. */
@inline
export function mulq(a: i32, b: i32): i32 {
  return sat(rshr(<i64>a * <i64>b, FRAC));
}

/** Q16 quotient a/b rounded half up, saturated; b == 0 saturates toward the sign of a (0/0 = 0). */
export function divq(a: i32, b: i32): i32 {
  if (b == 0) return a > 0 ? <i32>I32_MAX : a < 0 ? <i32>I32_MIN : 0;
  return sat(divRound(<i64>a << FRAC, <i64>b));
}

/** Integer square root: floor(sqrt(n)) for n >= 0 (bit-by-bit, exact). */
export function isqrt(n: u64): u64 {
  let res: u64 = 0;
  let bit: u64 = <u64>1 << 62;
  while (bit > n) bit >>= 2;
  while (bit != 0) {
    if (n >= res + bit) {
      n -= res + bit;
      res = (res >> 1) + bit;
    } else {
      res >>= 1;
    }
    bit >>= 2;
  }
  return res;
}

/** sqrt(n) rounded to nearest (no ties exist for integers). */
export function isqrtRound(n: u64): u64 {
  const r = isqrt(n);
  return n - r * r > r ? r + 1 : r;
}

/** Copies n i32 words. A plain loop, not memory.copy: the VM accepts no bulk-memory instructions. */
export function copyWords(dst: usize, src: usize, n: i32): void {
  const end = src + (<usize>n << 2);
  while (src < end) {
    store<i32>(dst, load<i32>(src));
    src += 4;
    dst += 4;
  }
}
