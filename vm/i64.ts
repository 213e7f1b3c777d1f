// Fast i64 (and the non-trivial i32) integer ops for the interpreter's hot loop: no BigInt and no
// allocation on the common path. vm/numeric.ts is the specification; test/vm/numeric.test.ts checks
// these against it and against V8's WebAssembly engine.
//
// Representation: an i64 is a pair of int32 numbers (hi, lo) — the high and low 32 bits, each in
// signed form (`x | 0`). An i32 is one int32 number.
//
// Calling convention: a binary op takes (aHi, aLo, bHi, bLo) with `a` the first operand (deeper on
// the stack) and `b` the second (top); a unary op takes (aHi, aLo). Every function returns the LOW
// half of its result as an int32 and stores the HIGH half in the exported mutable binding `hi`:
//
//   import * as i64 from "./i64.js";
//   const lo = i64.mul(aHi, aLo, bHi, bLo);
//   const hi = i64.hi; // read immediately, before the next i64 call
//
// Functions whose result is an i32 (eqz, the comparisons, wrap) also set `hi = 0`, so the pair is
// always the zero-extended 64-bit value. Shift and rotate counts are taken mod 64 from bLo (bHi is
// ignored, as in WASM).
//
// Traps: divS/divU/remS/remU (and their 32-bit forms) THROW a `TrapError` whose `trap` (and
// `message`) is exactly "integer divide by zero" or "integer overflow". Nothing else here traps.
//
// Why a live binding: measured on Node 20 with tsc-compiled ESM (ns per op incl. typed-array
// loads/stores, best of 5): add 2.7, mul 4.3–5; an exported `Int32Array(1)` scratch cell instead
// of `hi` was ~1 ns slower per op (add 4.3, mul 5.1). Caveat: under vitest (Vite's module runner)
// every imported binding is a getter, so each `i64.hi` read costs ~10 ns there — hoist the
// function refs (`const { mul } = i64`) and benchmark natively, not under vitest.
import type { TrapMessage } from "./numeric.js";

/** High half (int32) of the last result returned by a function of this module. */
export let hi = 0;

/** Thrown by the division/remainder ops; `trap` is the WASM trap message. */
export class TrapError extends Error {
  override readonly name = "TrapError";
  readonly trap: TrapMessage;
  constructor(trap: TrapMessage) {
    super(trap);
    this.trap = trap;
  }
}

const TWO32 = 4294967296;

// ---- arithmetic --------------------------------------------------------------------------------

export function add(aHi: number, aLo: number, bHi: number, bLo: number): number {
  const lo = (aLo + bLo) | 0;
  hi = (aHi + bHi + (lo >>> 0 < aLo >>> 0 ? 1 : 0)) | 0;
  return lo;
}

export function sub(aHi: number, aLo: number, bHi: number, bLo: number): number {
  hi = (aHi - bHi - (aLo >>> 0 < bLo >>> 0 ? 1 : 0)) | 0;
  return (aLo - bLo) | 0;
}

/** Low 64 bits of the product: lo·lo as a full 32×32→64 product (16-bit limbs), plus the cross terms. */
export function mul(aHi: number, aLo: number, bHi: number, bLo: number): number {
  const a0 = aLo & 0xffff;
  const a1 = aLo >>> 16;
  const b0 = bLo & 0xffff;
  const b1 = bLo >>> 16;
  const p00 = a0 * b0; // each partial product < 2^32, exact
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff); // < 3·2^16
  const carry = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16); // high 32 bits of aLo·bLo (< 2^32)
  hi = (carry + Math.imul(aHi, bLo) + Math.imul(aLo, bHi)) | 0;
  return Math.imul(aLo, bLo);
}

// ---- bitwise -----------------------------------------------------------------------------------

export function and(aHi: number, aLo: number, bHi: number, bLo: number): number {
  hi = aHi & bHi;
  return aLo & bLo;
}

export function or(aHi: number, aLo: number, bHi: number, bLo: number): number {
  hi = aHi | bHi;
  return aLo | bLo;
}

export function xor(aHi: number, aLo: number, bHi: number, bLo: number): number {
  hi = aHi ^ bHi;
  return aLo ^ bLo;
}

export function shl(aHi: number, aLo: number, _bHi: number, bLo: number): number {
  const n = bLo & 63;
  if (n === 0) {
    hi = aHi;
    return aLo;
  }
  if (n < 32) {
    hi = (aHi << n) | (aLo >>> (32 - n));
    return aLo << n;
  }
  hi = aLo << (n - 32);
  return 0;
}

export function shrU(aHi: number, aLo: number, _bHi: number, bLo: number): number {
  const n = bLo & 63;
  if (n === 0) {
    hi = aHi;
    return aLo;
  }
  if (n < 32) {
    hi = aHi >>> n;
    return (aLo >>> n) | (aHi << (32 - n));
  }
  hi = 0;
  return (aHi >>> (n - 32)) | 0;
}

export function shrS(aHi: number, aLo: number, _bHi: number, bLo: number): number {
  const n = bLo & 63;
  if (n === 0) {
    hi = aHi;
    return aLo;
  }
  if (n < 32) {
    hi = aHi >> n;
    return (aLo >>> n) | (aHi << (32 - n));
  }
  hi = aHi >> 31;
  return aHi >> (n - 32);
}

export function rotl(aHi: number, aLo: number, _bHi: number, bLo: number): number {
  let n = bLo & 63;
  let h = aHi;
  let l = aLo;
  if (n >= 32) {
    h = aLo;
    l = aHi;
    n -= 32;
  }
  if (n === 0) {
    hi = h;
    return l;
  }
  hi = (h << n) | (l >>> (32 - n));
  return (l << n) | (h >>> (32 - n));
}

export function rotr(aHi: number, aLo: number, _bHi: number, bLo: number): number {
  return rotl(aHi, aLo, 0, (64 - (bLo & 63)) & 63);
}

// ---- counting (results < 65, so hi = 0) --------------------------------------------------------

/** Trailing zeros of an int32 (32 for 0). */
export function ctz32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}

/** Set bits of an int32. */
export function popcnt32(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  v = (v + (v >>> 4)) & 0x0f0f0f0f;
  return Math.imul(v, 0x01010101) >>> 24;
}

export function clz(aHi: number, aLo: number): number {
  hi = 0;
  return aHi !== 0 ? Math.clz32(aHi) : 32 + Math.clz32(aLo);
}

export function ctz(aHi: number, aLo: number): number {
  hi = 0;
  return aLo !== 0 ? ctz32(aLo) : 32 + ctz32(aHi);
}

export function popcnt(aHi: number, aLo: number): number {
  hi = 0;
  return popcnt32(aHi) + popcnt32(aLo);
}

// ---- tests and comparisons (i32 results 0/1, hi = 0) -------------------------------------------

export function eqz(aHi: number, aLo: number): number {
  hi = 0;
  return (aHi | aLo) === 0 ? 1 : 0;
}

export function eq(aHi: number, aLo: number, bHi: number, bLo: number): number {
  hi = 0;
  return aHi === bHi && aLo === bLo ? 1 : 0;
}

export function ne(aHi: number, aLo: number, bHi: number, bLo: number): number {
  hi = 0;
  return aHi !== bHi || aLo !== bLo ? 1 : 0;
}

export function ltS(aHi: number, aLo: number, bHi: number, bLo: number): number {
  hi = 0;
  return aHi < bHi || (aHi === bHi && aLo >>> 0 < bLo >>> 0) ? 1 : 0;
}

export function ltU(aHi: number, aLo: number, bHi: number, bLo: number): number {
  hi = 0;
  return aHi >>> 0 < bHi >>> 0 || (aHi === bHi && aLo >>> 0 < bLo >>> 0) ? 1 : 0;
}

export function gtS(aHi: number, aLo: number, bHi: number, bLo: number): number {
  return ltS(bHi, bLo, aHi, aLo);
}

export function gtU(aHi: number, aLo: number, bHi: number, bLo: number): number {
  return ltU(bHi, bLo, aHi, aLo);
}

export function leS(aHi: number, aLo: number, bHi: number, bLo: number): number {
  return ltS(bHi, bLo, aHi, aLo) ^ 1;
}

export function leU(aHi: number, aLo: number, bHi: number, bLo: number): number {
  return ltU(bHi, bLo, aHi, aLo) ^ 1;
}

export function geS(aHi: number, aLo: number, bHi: number, bLo: number): number {
  return ltS(aHi, aLo, bHi, bLo) ^ 1;
}

export function geU(aHi: number, aLo: number, bHi: number, bLo: number): number {
  return ltU(aHi, aLo, bHi, bLo) ^ 1;
}

// ---- conversions and sign extension ------------------------------------------------------------

/** i32.wrap_i64: the low half (hi = 0). */
export function wrap(_aHi: number, aLo: number): number {
  hi = 0;
  return aLo;
}

/** i64.extend_i32_s: takes the i32 operand alone. */
export function extendI32S(a: number): number {
  hi = a >> 31;
  return a | 0;
}

/** i64.extend_i32_u: takes the i32 operand alone. */
export function extendI32U(a: number): number {
  hi = 0;
  return a | 0;
}

/** i64.extend8_s (i32.extend8_s is the returned low half). */
export function extend8S(_aHi: number, aLo: number): number {
  const lo = (aLo << 24) >> 24;
  hi = lo >> 31;
  return lo;
}

/** i64.extend16_s (i32.extend16_s is the returned low half). */
export function extend16S(_aHi: number, aLo: number): number {
  const lo = (aLo << 16) >> 16;
  hi = lo >> 31;
  return lo;
}

/** i64.extend32_s. */
export function extend32S(_aHi: number, aLo: number): number {
  hi = aLo >> 31;
  return aLo | 0;
}

// ---- division and remainder (rare: a double fast path below 2^53, else BigInt) -----------------

/** Splits an integer-valued double with |q| <= 2^53 into the halves (low returned, high in `hi`). */
function split(q: number): number {
  hi = Math.floor(q / TWO32) | 0;
  return q | 0; // ToInt32 is exact mod 2^32 for any integer-valued double
}

function big(h: number, l: number): bigint {
  return (BigInt(h >>> 0) << 32n) | BigInt(l >>> 0);
}

function fromBig(v: bigint): number {
  hi = Number(BigInt.asIntN(32, v >> 32n));
  return Number(BigInt.asIntN(32, v));
}

/** Both operands are signed values in [-2^53, 2^53) (exact as doubles). */
function fitsS(aHi: number, bHi: number): boolean {
  const x = aHi >> 21;
  const y = bHi >> 21;
  return (x === 0 || x === -1) && (y === 0 || y === -1);
}

export function divU(aHi: number, aLo: number, bHi: number, bLo: number): number {
  if ((bHi | bLo) === 0) throw new TrapError("integer divide by zero");
  if ((aHi | bHi) >>> 21 === 0) {
    // Both < 2^53: a % b is exact (fmod), so (a - r) / b is an exact integer division.
    const a = (aHi >>> 0) * TWO32 + (aLo >>> 0);
    const b = (bHi >>> 0) * TWO32 + (bLo >>> 0);
    return split((a - (a % b)) / b);
  }
  return fromBig(big(aHi, aLo) / big(bHi, bLo));
}

export function remU(aHi: number, aLo: number, bHi: number, bLo: number): number {
  if ((bHi | bLo) === 0) throw new TrapError("integer divide by zero");
  if ((aHi | bHi) >>> 21 === 0) {
    const a = (aHi >>> 0) * TWO32 + (aLo >>> 0);
    const b = (bHi >>> 0) * TWO32 + (bLo >>> 0);
    return split(a % b);
  }
  return fromBig(big(aHi, aLo) % big(bHi, bLo));
}

export function divS(aHi: number, aLo: number, bHi: number, bLo: number): number {
  if ((bHi | bLo) === 0) throw new TrapError("integer divide by zero");
  if (aHi === -0x80000000 && aLo === 0 && (bHi & bLo) === -1) throw new TrapError("integer overflow");
  if (fitsS(aHi, bHi)) {
    // Signed % keeps the dividend's sign and is exact, so (a - r) / b is the truncated quotient.
    const a = aHi * TWO32 + (aLo >>> 0);
    const b = bHi * TWO32 + (bLo >>> 0);
    return split((a - (a % b)) / b);
  }
  return fromBig(BigInt.asIntN(64, big(aHi, aLo)) / BigInt.asIntN(64, big(bHi, bLo)));
}

export function remS(aHi: number, aLo: number, bHi: number, bLo: number): number {
  if ((bHi | bLo) === 0) throw new TrapError("integer divide by zero");
  if (fitsS(aHi, bHi)) {
    const a = aHi * TWO32 + (aLo >>> 0);
    const b = bHi * TWO32 + (bLo >>> 0);
    return split(a % b); // -0 (e.g. -4 % 2) becomes 0 in split
  }
  // MIN rem -1 = 0 falls out of bigint %, which has no overflow.
  return fromBig(BigInt.asIntN(64, big(aHi, aLo)) % BigInt.asIntN(64, big(bHi, bLo)));
}

// ---- 32-bit forms of the non-trivial i32 ops (int32 in, int32 out; `hi` untouched) -------------

export function divS32(a: number, b: number): number {
  if (b === 0) throw new TrapError("integer divide by zero");
  if (a === -0x80000000 && b === -1) throw new TrapError("integer overflow");
  return (a / b) | 0; // exact: for 32-bit operands the rounded double quotient truncates correctly
}

export function divU32(a: number, b: number): number {
  if (b === 0) throw new TrapError("integer divide by zero");
  return ((a >>> 0) / (b >>> 0)) | 0;
}

export function remS32(a: number, b: number): number {
  if (b === 0) throw new TrapError("integer divide by zero");
  return (a % b) | 0; // MIN % -1 = -0 → 0
}

export function remU32(a: number, b: number): number {
  if (b === 0) throw new TrapError("integer divide by zero");
  return ((a >>> 0) % (b >>> 0)) | 0;
}

/** JS shift counts are already taken mod 32, so `32 - n` is the complementary count (0 when n ≡ 0). */
export function rotl32(a: number, n: number): number {
  return (a << n) | (a >>> (32 - n));
}

export function rotr32(a: number, n: number): number {
  return (a >>> n) | (a << (32 - n));
}

// ---- dispatch by WASM opcode -------------------------------------------------------------------

/**
 * Executes any accepted integer numeric op (the same set as numeric.ts's evalNumeric) in the fast
 * representation: returns the low half, sets `hi`. i32 operands are read from aLo/bLo only (aHi/bHi
 * ignored); i32 results come back as an int32 low half with `hi = 0`. Unary ops ignore b. Traps
 * throw TrapError; a float or unknown op throws a plain Error. A switch for tests and slow paths —
 * the interpreter should inline its own.
 */
export function exec64(op: number, aHi: number, aLo: number, bHi = 0, bLo = 0): number {
  switch (op) {
    // i32 tests and comparisons
    case 0x45:
      return r32(aLo === 0 ? 1 : 0);
    case 0x46:
      return r32(aLo === bLo ? 1 : 0);
    case 0x47:
      return r32(aLo !== bLo ? 1 : 0);
    case 0x48:
      return r32(aLo < bLo ? 1 : 0);
    case 0x49:
      return r32(aLo >>> 0 < bLo >>> 0 ? 1 : 0);
    case 0x4a:
      return r32(aLo > bLo ? 1 : 0);
    case 0x4b:
      return r32(aLo >>> 0 > bLo >>> 0 ? 1 : 0);
    case 0x4c:
      return r32(aLo <= bLo ? 1 : 0);
    case 0x4d:
      return r32(aLo >>> 0 <= bLo >>> 0 ? 1 : 0);
    case 0x4e:
      return r32(aLo >= bLo ? 1 : 0);
    case 0x4f:
      return r32(aLo >>> 0 >= bLo >>> 0 ? 1 : 0);
    // i64 tests and comparisons
    case 0x50:
      return eqz(aHi, aLo);
    case 0x51:
      return eq(aHi, aLo, bHi, bLo);
    case 0x52:
      return ne(aHi, aLo, bHi, bLo);
    case 0x53:
      return ltS(aHi, aLo, bHi, bLo);
    case 0x54:
      return ltU(aHi, aLo, bHi, bLo);
    case 0x55:
      return gtS(aHi, aLo, bHi, bLo);
    case 0x56:
      return gtU(aHi, aLo, bHi, bLo);
    case 0x57:
      return leS(aHi, aLo, bHi, bLo);
    case 0x58:
      return leU(aHi, aLo, bHi, bLo);
    case 0x59:
      return geS(aHi, aLo, bHi, bLo);
    case 0x5a:
      return geU(aHi, aLo, bHi, bLo);
    // i32 arithmetic
    case 0x67:
      return r32(Math.clz32(aLo));
    case 0x68:
      return r32(ctz32(aLo));
    case 0x69:
      return r32(popcnt32(aLo));
    case 0x6a:
      return r32((aLo + bLo) | 0);
    case 0x6b:
      return r32((aLo - bLo) | 0);
    case 0x6c:
      return r32(Math.imul(aLo, bLo));
    case 0x6d:
      return r32(divS32(aLo, bLo));
    case 0x6e:
      return r32(divU32(aLo, bLo));
    case 0x6f:
      return r32(remS32(aLo, bLo));
    case 0x70:
      return r32(remU32(aLo, bLo));
    case 0x71:
      return r32(aLo & bLo);
    case 0x72:
      return r32(aLo | bLo);
    case 0x73:
      return r32(aLo ^ bLo);
    case 0x74:
      return r32(aLo << bLo); // JS shifts already take the count mod 32
    case 0x75:
      return r32(aLo >> bLo);
    case 0x76:
      return r32((aLo >>> bLo) | 0);
    case 0x77:
      return r32(rotl32(aLo, bLo));
    case 0x78:
      return r32(rotr32(aLo, bLo));
    // i64 arithmetic
    case 0x79:
      return clz(aHi, aLo);
    case 0x7a:
      return ctz(aHi, aLo);
    case 0x7b:
      return popcnt(aHi, aLo);
    case 0x7c:
      return add(aHi, aLo, bHi, bLo);
    case 0x7d:
      return sub(aHi, aLo, bHi, bLo);
    case 0x7e:
      return mul(aHi, aLo, bHi, bLo);
    case 0x7f:
      return divS(aHi, aLo, bHi, bLo);
    case 0x80:
      return divU(aHi, aLo, bHi, bLo);
    case 0x81:
      return remS(aHi, aLo, bHi, bLo);
    case 0x82:
      return remU(aHi, aLo, bHi, bLo);
    case 0x83:
      return and(aHi, aLo, bHi, bLo);
    case 0x84:
      return or(aHi, aLo, bHi, bLo);
    case 0x85:
      return xor(aHi, aLo, bHi, bLo);
    case 0x86:
      return shl(aHi, aLo, bHi, bLo);
    case 0x87:
      return shrS(aHi, aLo, bHi, bLo);
    case 0x88:
      return shrU(aHi, aLo, bHi, bLo);
    case 0x89:
      return rotl(aHi, aLo, bHi, bLo);
    case 0x8a:
      return rotr(aHi, aLo, bHi, bLo);
    // conversions and sign extension
    case 0xa7:
      return wrap(aHi, aLo);
    case 0xac:
      return extendI32S(aLo);
    case 0xad:
      return extendI32U(aLo);
    case 0xc0:
      return r32((aLo << 24) >> 24);
    case 0xc1:
      return r32((aLo << 16) >> 16);
    case 0xc2:
      return extend8S(aHi, aLo);
    case 0xc3:
      return extend16S(aHi, aLo);
    case 0xc4:
      return extend32S(aHi, aLo);
  }
  throw new Error(`exec64: opcode 0x${op.toString(16)} is not an integer numeric instruction`);
}

/** An i32 result: hi = 0, low half as int32. */
function r32(v: number): number {
  hi = 0;
  return v | 0;
}
