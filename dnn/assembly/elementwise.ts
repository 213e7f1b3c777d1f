// Unary, binary (broadcast) and ternary elementwise kernels over rank-6 views.
import { copyWords, divq, mulq, ONE, sat } from "./fixed";
import {
  erfq,
  expm1Scaled,
  expq,
  geluq,
  geluTanhq,
  logq,
  powq,
  roundEvenq,
  sigmoidq,
  softplusq,
  sqrtq,
  tanhq,
} from "./nonlinear";
import {
  B_ADD,
  B_ADD_INT,
  B_AND,
  B_DIV,
  B_DIV_INT,
  B_EQ,
  B_GE,
  B_GT,
  B_LE,
  B_LT,
  B_MAX,
  B_MIN,
  B_MUL,
  B_MUL_INT,
  B_OR,
  B_POW,
  B_POW_INT,
  B_PRELU,
  B_SUB,
  B_SUB_INT,
  B_XOR,
  U_ABS,
  U_CEIL,
  U_CLIP,
  U_ELU,
  U_ERF,
  U_EXP,
  U_FLOOR,
  U_GELU,
  U_GELU_TANH,
  U_HARDSIGMOID,
  U_HARDSWISH,
  U_I2Q,
  U_IDENTITY,
  U_LEAKY,
  U_LOG,
  U_NEG,
  U_NOT,
  U_Q2I,
  U_RECIP,
  U_RELU,
  U_ROUND,
  U_SELU,
  U_SIGMOID,
  U_SIGN,
  U_SOFTPLUS,
  U_SOFTSIGN,
  U_SQRT,
  U_TANH,
} from "./opcodes";
import { inPtr, outPtr, prm } from "./params";

function unaryOne(fn: i32, x: i32, a: i32, b: i32): i32 {
  switch (fn) {
    case U_IDENTITY:
      return x;
    case U_RELU:
      return x > 0 ? x : 0;
    case U_LEAKY:
      return x < 0 ? mulq(x, a) : x;
    case U_SIGMOID:
      return sigmoidq(x);
    case U_TANH:
      return tanhq(x);
    case U_EXP:
      return expq(x);
    case U_LOG:
      return logq(x);
    case U_ERF:
      return erfq(x);
    case U_GELU:
      return geluq(x);
    case U_GELU_TANH:
      return geluTanhq(x);
    case U_SQRT:
      return sqrtq(x);
    case U_RECIP:
      return divq(ONE, x);
    case U_NEG:
      return sat(-(<i64>x));
    case U_ABS:
      return sat(x < 0 ? -(<i64>x) : <i64>x);
    case U_SIGN:
      return x > 0 ? ONE : x < 0 ? -ONE : 0;
    case U_FLOOR:
      return x & ~(ONE - 1);
    case U_CEIL:
      return sat(-(-(<i64>x) & ~(<i64>(ONE - 1))));
    case U_ROUND:
      return roundEvenq(x);
    case U_CLIP:
      return x < a ? a : x > b ? b : x;
    case U_HARDSIGMOID: {
      const v = <i64>mulq(a, x) + <i64>b;
      return v < 0 ? 0 : v > ONE ? ONE : <i32>v;
    }
    case U_HARDSWISH: {
      // x · clamp(x/6 + 1/2, 0, 1); a = 1/6 in Q16 supplied by the converter.
      const v = <i64>mulq(a, x) + ONE / 2;
      return mulq(x, v < 0 ? 0 : v > ONE ? ONE : <i32>v);
    }
    case U_SOFTPLUS:
      return softplusq(x);
    case U_SOFTSIGN: {
      const ax: i64 = x < 0 ? -(<i64>x) : <i64>x;
      return sat(((<i64>x) << 16) / (ONE + ax));
    }
    case U_ELU:
      return x < 0 ? expm1Scaled(x, a) : x;
    case U_SELU:
      return x > 0 ? mulq(x, b) : mulq(expm1Scaled(x, a), b);
    case U_Q2I:
      return x >= 0 ? x >> 16 : -((-x) >> 16);
    case U_I2Q:
      return sat((<i64>x) << 16);
    case U_NOT:
      return x == 0 ? 1 : 0;
    default:
      return 0;
  }
}

/** params: fn, n, a, b */
export function unary(): i32 {
  const fn = prm(0);
  const n = prm(1);
  const a = prm(2);
  const b = prm(3);
  let x = inPtr(0);
  let y = outPtr(0);
  const end = x + (<usize>n << 2);
  if (fn == U_RELU) {
    for (; x < end; x += 4, y += 4) {
      const v = load<i32>(x);
      store<i32>(y, v > 0 ? v : 0);
    }
  } else if (fn == U_IDENTITY) {
    copyWords(y, x, n);
  } else {
    for (; x < end; x += 4, y += 4) store<i32>(y, unaryOne(fn, load<i32>(x), a, b));
  }
  return 0;
}


/** Integer power with wrapping multiplication; negative exponents give 0 (|a| > 1), 1 or ±1. */
function powInt(a: i32, b: i32): i32 {
  if (b < 0) return a == 1 ? 1 : a == -1 ? ((b & 1) != 0 ? -1 : 1) : 0;
  let r: i32 = 1;
  let base = a;
  let e = b;
  while (e != 0) {
    if (e & 1) r *= base;
    base *= base;
    e >>= 1;
  }
  return r;
}

@inline
function binaryOne(fn: i32, a: i32, b: i32): i32 {
  switch (fn) {
    case B_ADD:
      return sat(<i64>a + <i64>b);
    case B_SUB:
      return sat(<i64>a - <i64>b);
    case B_MUL:
      return mulq(a, b);
    case B_DIV:
      return divq(a, b);
    case B_POW:
      return powq(a, b);
    case B_MIN:
      return a < b ? a : b;
    case B_MAX:
      return a > b ? a : b;
    case B_PRELU:
      return a < 0 ? mulq(a, b) : a;
    case B_EQ:
      return a == b ? 1 : 0;
    case B_LT:
      return a < b ? 1 : 0;
    case B_GT:
      return a > b ? 1 : 0;
    case B_LE:
      return a <= b ? 1 : 0;
    case B_GE:
      return a >= b ? 1 : 0;
    case B_ADD_INT:
      return a + b;
    case B_SUB_INT:
      return a - b;
    case B_MUL_INT:
      return a * b;
    case B_AND:
      return a != 0 && b != 0 ? 1 : 0;
    case B_OR:
      return a != 0 || b != 0 ? 1 : 0;
    case B_XOR:
      return (a != 0) != (b != 0) ? 1 : 0;
    case B_POW_INT:
      return powInt(a, b);
    case B_DIV_INT:
      // Truncating integer division; x/0 = 0 and MIN/-1 = MIN instead of trapping.
      return b == 0 ? 0 : a == <i32>0x80000000 && b == -1 ? a : a / b;
    default:
      return 0;
  }
}

/** params: fn, dims[6], aStrides[6], bStrides[6] (element strides, 0 = broadcast). */
export function binary(): i32 {
  const fn = prm(0);
  const d0 = prm(1), d1 = prm(2), d2 = prm(3), d3 = prm(4), d4 = prm(5), d5 = prm(6);
  const a0 = prm(7), a1 = prm(8), a2 = prm(9), a3 = prm(10), a4 = prm(11), a5 = <usize>prm(12) << 2;
  const b0 = prm(13), b1 = prm(14), b2 = prm(15), b3 = prm(16), b4 = prm(17), b5 = <usize>prm(18) << 2;
  const A = inPtr(0);
  const B = inPtr(1);
  let y = outPtr(0);
  for (let i0 = 0; i0 < d0; i0++)
    for (let i1 = 0; i1 < d1; i1++)
      for (let i2 = 0; i2 < d2; i2++)
        for (let i3 = 0; i3 < d3; i3++)
          for (let i4 = 0; i4 < d4; i4++) {
            let pa = A + (<usize>(i0 * a0 + i1 * a1 + i2 * a2 + i3 * a3 + i4 * a4) << 2);
            let pb = B + (<usize>(i0 * b0 + i1 * b1 + i2 * b2 + i3 * b3 + i4 * b4) << 2);
            for (let i5 = 0; i5 < d5; i5++) {
              store<i32>(y, binaryOne(fn, load<i32>(pa), load<i32>(pb)));
              pa += a5;
              pb += b5;
              y += 4;
            }
          }
  return 0;
}

/** Where(cond, x, y). params: dims[6], cStrides[6], xStrides[6], yStrides[6]. */
export function where(): i32 {
  const d0 = prm(0), d1 = prm(1), d2 = prm(2), d3 = prm(3), d4 = prm(4), d5 = prm(5);
  const C = inPtr(0);
  const X = inPtr(1);
  const Y = inPtr(2);
  let out = outPtr(0);
  for (let i0 = 0; i0 < d0; i0++)
    for (let i1 = 0; i1 < d1; i1++)
      for (let i2 = 0; i2 < d2; i2++)
        for (let i3 = 0; i3 < d3; i3++)
          for (let i4 = 0; i4 < d4; i4++)
            for (let i5 = 0; i5 < d5; i5++) {
              const c = load<i32>(C + (<usize>(i0 * prm(6) + i1 * prm(7) + i2 * prm(8) + i3 * prm(9) + i4 * prm(10) + i5 * prm(11)) << 2));
              const off = c != 0
                ? X + (<usize>(i0 * prm(12) + i1 * prm(13) + i2 * prm(14) + i3 * prm(15) + i4 * prm(16) + i5 * prm(17)) << 2)
                : Y + (<usize>(i0 * prm(18) + i1 * prm(19) + i2 * prm(20) + i3 * prm(21) + i4 * prm(22) + i5 * prm(23)) << 2);
              store<i32>(out, load<i32>(off));
              out += 4;
            }
  return 0;
}

