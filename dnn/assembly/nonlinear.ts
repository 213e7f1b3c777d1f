// Nonlinear functions in fixed point. Internals run in Q30 (i64) and round once at the end, so every
// function here is within about 1 ulp (2^-16) of the real function plus the approximation error
// documented in docs/NUMERICS.md §4.
import { divq, divRound, floorDiv, FRAC, I32_MIN, isqrtRound, mulq, ONE, ONE30, rshr, rshrAny, sat } from "./fixed";

const LN2_Q30: i64 = 744261118;
const SQRT1_2_Q30: i64 = 759250125;
const SQRT_2_PI_Q30: i64 = 856722024;
const GELU_C_Q30: i64 = 48012366;
// Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7), coefficients in Q30.
const ERF_P_Q30: i64 = 351748265;
const ERF_A1: i64 = 273621191;
const ERF_A2: i64 = -305476044;
const ERF_A3: i64 = 1526231383;
const ERF_A4: i64 = -1560310108;
const ERF_A5: i64 = 1139675401;
const BIG: i64 = <i64>1 << 62;

/** e^(x30 / 2^30) scaled by 2^outFrac, rounded half up. Results beyond 2^62 return 2^62. */
export function expQ30(x30: i64, outFrac: i32): i64 {
  if (x30 > (<i64>21) << 30) return BIG;
  if (x30 < -((<i64>45) << 30)) return 0;
  // x = k·ln2 + r with r in [-ln2/2, ln2/2); e^r by a degree-7 Taylor polynomial (error < 6e-9 rel).
  const k = floorDiv(x30 + (LN2_Q30 >> 1), LN2_Q30);
  const r = x30 - k * LN2_Q30;
  let t: i64 = ONE30;
  for (let i: i64 = 7; i >= 1; i--) t = ONE30 + divRound(rshr(r * t, 30), i);
  const shift = 30 - outFrac - <i32>k;
  if (shift >= 0) return rshrAny(t, shift);
  if (-shift > 31) return BIG;
  return t << -shift;
}

/** ln(x / 2^inFrac) in Q30 for x > 0. */
export function logQ30(x: i64, inFrac: i32): i64 {
  const p = 63 - <i32>clz(x);
  // m = x / 2^p in [1,2] as Q30; ln m = 2·atanh(s), s = (m-1)/(m+1) in [0,1/3]; series to s^13.
  const m: i64 = p > 30 ? rshr(x, p - 30) : x << (30 - p);
  const s = divRound((m - ONE30) << 30, m + ONE30);
  const s2 = rshr(s * s, 30);
  let t: i64 = divRound(ONE30, 13);
  for (let j: i64 = 5; j >= 0; j--) t = divRound(ONE30, 2 * j + 1) + rshr(s2 * t, 30);
  const lnm = 2 * rshr(s * t, 30);
  return <i64>(p - inFrac) * LN2_Q30 + lnm;
}

export function expq(x: i32): i32 {
  return sat(expQ30(<i64>x << 14, FRAC));
}

export function logq(x: i32): i32 {
  if (x <= 0) return <i32>I32_MIN;
  return sat(rshr(logQ30(<i64>x, FRAC), 14));
}

export function sqrtq(x: i32): i32 {
  if (x <= 0) return 0;
  return sat(<i64>isqrtRound(<u64>x << FRAC));
}

export function sigmoidq(x: i32): i32 {
  const ax: i64 = x < 0 ? -(<i64>x) : <i64>x;
  const e = expQ30(-(ax << 14), 30);
  if (x >= 0) return sat(divRound(ONE30 << FRAC, ONE30 + e));
  return sat(divRound(e << FRAC, ONE30 + e));
}

/** tanh of a Q16 argument, in Q30. */
function tanhQ30(z: i64): i64 {
  const az: i64 = z < 0 ? -z : z;
  if (az > (<i64>24) << FRAC) return z < 0 ? -ONE30 : ONE30;
  const e = expQ30(-(az << 15), 30);
  const th = divRound((ONE30 - e) << 30, ONE30 + e);
  return z < 0 ? -th : th;
}

export function tanhq(x: i32): i32 {
  return sat(rshr(tanhQ30(<i64>x), 14));
}

/** erf(a) in Q30 for a = ax24 / 2^24 >= 0. */
function erfQ30(ax24: i64): i64 {
  if (ax24 >= (<i64>6) << 24) return ONE30;
  const pax = rshr(ERF_P_Q30 * ax24, 24);
  const t = divRound(ONE30 << 30, ONE30 + pax);
  let poly: i64 = ERF_A5;
  poly = ERF_A4 + rshr(t * poly, 30);
  poly = ERF_A3 + rshr(t * poly, 30);
  poly = ERF_A2 + rshr(t * poly, 30);
  poly = ERF_A1 + rshr(t * poly, 30);
  poly = rshr(t * poly, 30);
  const e = expQ30(-rshr(ax24 * ax24, 18), 30);
  return ONE30 - rshr(poly * e, 30);
}

export function erfq(x: i32): i32 {
  const ax: i64 = x < 0 ? -(<i64>x) : <i64>x;
  const r = rshr(erfQ30(ax << 8), 14);
  return sat(x < 0 ? -r : r);
}

/** Exact GELU: x·(1 + erf(x/√2))/2. */
export function geluq(x: i32): i32 {
  const ax: i64 = x < 0 ? -(<i64>x) : <i64>x;
  const e = erfQ30(rshr(ax * SQRT1_2_Q30, 22));
  const f = x < 0 ? ONE30 - e : ONE30 + e;
  return sat(rshr(<i64>x * f, 31));
}

/** tanh-approximated GELU (ONNX Gelu approximate="tanh"). */
export function geluTanhq(x: i32): i32 {
  if (x >= 8 * ONE) return x;
  if (x <= -8 * ONE) return 0;
  const x64 = <i64>x;
  const x3 = rshr(rshr(x64 * x64, FRAC) * x64, FRAC);
  const inner = x64 + rshr(GELU_C_Q30 * x3, 30);
  const th = tanhQ30(rshr(SQRT_2_PI_Q30 * inner, 30));
  return sat(rshr(x64 * (ONE30 + th), 31));
}

export function softplusq(x: i32): i32 {
  const ax: i64 = x < 0 ? -(<i64>x) : <i64>x;
  const l = logQ30(ONE30 + expQ30(-(ax << 14), 30), 30);
  return sat((x > 0 ? <i64>x : 0) + rshr(l, 14));
}

/** alpha·(e^x − 1) for x < 0, Q16 alpha. */
export function expm1Scaled(x: i32, alpha: i32): i32 {
  const em1 = expQ30(<i64>x << 14, 30) - ONE30;
  return sat(rshr(<i64>alpha * em1, 30));
}

/** a^b for Q16 a, b. Integer exponents use exact repeated squaring; others exp(b·ln a), a > 0. */
export function powq(a: i32, b: i32): i32 {
  if (b == 0) return ONE;
  if (b == ONE) return a;
  if (b == 2 * ONE) return mulq(a, a);
  if (b == ONE / 2) return sqrtq(a);
  if ((b & (ONE - 1)) == 0 && b <= 64 * ONE && b >= -64 * ONE) {
    let n = (b < 0 ? -b : b) >> FRAC;
    let base = a;
    let acc = ONE;
    while (n != 0) {
      if (n & 1) acc = mulq(acc, base);
      n >>= 1;
      if (n != 0) base = mulq(base, base);
    }
    return b < 0 ? divq(ONE, acc) : acc;
  }
  if (a <= 0) return 0; // real result undefined (NaN in float); documented.
  const bc: i64 = b > 256 * ONE ? 256 * ONE : b < -256 * ONE ? -256 * ONE : <i64>b;
  return sat(expQ30(rshr(logQ30(<i64>a, FRAC) * bc, FRAC), FRAC));
}

export function roundEvenq(x: i32): i32 {
  const x64 = <i64>x;
  const fl = x64 & ~(<i64>(ONE - 1));
  const frac = x64 - fl;
  const half: i64 = ONE / 2;
  let r = fl;
  if (frac > half || (frac == half && ((fl >> FRAC) & 1) != 0)) r = fl + ONE;
  return sat(r);
}
