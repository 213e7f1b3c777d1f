// Reference semantics of every integer numeric instruction the VM accepts (WASM opcodes 0x45..0xc4
// minus the float ones, see isa.ts). Written the way the onchain verifier has to be written: pure
// functions on unsigned integers, no host integer tricks. An i32 value is a bigint in [0, 2^32), an
// i64 value a bigint in [0, 2^64); every result is normalized to the unsigned range of its width.
//
// This is the specification; vm/i64.ts is the fast path the interpreter runs, and
// test/vm/numeric.test.ts checks both against V8's own WebAssembly engine.
import { isFloatNumeric, NUMERIC_FIRST, NUMERIC_LAST, numericPops } from "./isa.js";

/** The two WASM trap messages a numeric instruction can raise. */
export type TrapMessage = "integer divide by zero" | "integer overflow";

/** A trap result: the instruction has no value, execution stops with this message. */
export interface Trap {
  readonly trap: TrapMessage;
}

export const TRAP_DIV_ZERO: Trap = Object.freeze({ trap: "integer divide by zero" });
export const TRAP_OVERFLOW: Trap = Object.freeze({ trap: "integer overflow" });

export function isTrap(r: bigint | Trap): r is Trap {
  return typeof r !== "bigint";
}

/** Test/compare ops, in opcode order from 0x45 (i32) and 0x50 (i64). Results are always i32 0/1. */
const COMPARE = ["eqz", "eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"] as const;
/** Arithmetic ops, in opcode order from 0x67 (i32) and 0x79 (i64). Result width = operand width. */
const ARITH = [
  "clz",
  "ctz",
  "popcnt",
  "add",
  "sub",
  "mul",
  "div_s",
  "div_u",
  "rem_s",
  "rem_u",
  "and",
  "or",
  "xor",
  "shl",
  "shr_s",
  "shr_u",
  "rotl",
  "rotr",
] as const;

const I32_CMP = 0x45;
const I64_CMP = 0x50;
const I32_ARITH = 0x67;
const I64_ARITH = 0x79;
const I32_WRAP_I64 = 0xa7;
const I64_EXTEND_I32_S = 0xac;
const I64_EXTEND_I32_U = 0xad;
const I32_EXTEND8_S = 0xc0;
const I32_EXTEND16_S = 0xc1;
const I64_EXTEND8_S = 0xc2;
const I64_EXTEND16_S = 0xc3;
const I64_EXTEND32_S = 0xc4;

/** Throws unless `op` is an integer numeric instruction the VM accepts. */
function checkOp(op: number): void {
  if (!Number.isInteger(op) || op < NUMERIC_FIRST || op > NUMERIC_LAST || isFloatNumeric(op)) {
    const hex = Number.isInteger(op) && op >= 0 ? `0x${op.toString(16)}` : String(op);
    const what = Number.isInteger(op) && op >= NUMERIC_FIRST && op <= NUMERIC_LAST ? "float" : "non-numeric";
    throw new Error(`evalNumeric: opcode ${hex} is a ${what} instruction, not an integer numeric op`);
  }
}

/** The WASM text-format mnemonic, e.g. "i64.rem_s", "i32.wrap_i64". Throws for a non-accepted op. */
export function numericName(op: number): string {
  checkOp(op);
  if (op >= I32_CMP && op < I32_CMP + COMPARE.length) return `i32.${COMPARE[op - I32_CMP]}`;
  if (op >= I64_CMP && op < I64_CMP + COMPARE.length) return `i64.${COMPARE[op - I64_CMP]}`;
  if (op >= I32_ARITH && op < I32_ARITH + ARITH.length) return `i32.${ARITH[op - I32_ARITH]}`;
  if (op >= I64_ARITH && op < I64_ARITH + ARITH.length) return `i64.${ARITH[op - I64_ARITH]}`;
  switch (op) {
    case I32_WRAP_I64:
      return "i32.wrap_i64";
    case I64_EXTEND_I32_S:
      return "i64.extend_i32_s";
    case I64_EXTEND_I32_U:
      return "i64.extend_i32_u";
    case I32_EXTEND8_S:
      return "i32.extend8_s";
    case I32_EXTEND16_S:
      return "i32.extend16_s";
    case I64_EXTEND8_S:
      return "i64.extend8_s";
    case I64_EXTEND16_S:
      return "i64.extend16_s";
    case I64_EXTEND32_S:
      return "i64.extend32_s";
  }
  throw new Error(`numericName: no name for opcode 0x${op.toString(16)}`); // unreachable: isa.ts changed
}

/** True when the result is an i64 (false: an i32; every compare/test result is an i32). */
export function numericResultIs64(op: number): boolean {
  checkOp(op);
  return (
    (op >= I64_ARITH && op < I64_ARITH + ARITH.length) ||
    op === I64_EXTEND_I32_S ||
    op === I64_EXTEND_I32_U ||
    (op >= I64_EXTEND8_S && op <= I64_EXTEND32_S)
  );
}

/** True when the operand(s) are i64 (wrap_i64 takes an i64; extend_i32_s/u take an i32). */
export function numericOperandIs64(op: number): boolean {
  checkOp(op);
  return (
    (op >= I64_CMP && op < I64_CMP + COMPARE.length) ||
    (op >= I64_ARITH && op < I64_ARITH + ARITH.length) ||
    op === I32_WRAP_I64 ||
    (op >= I64_EXTEND8_S && op <= I64_EXTEND32_S)
  );
}

// ---- width helpers (w = 32 or 64) -------------------------------------------------------------

function mask(w: bigint): bigint {
  return (1n << w) - 1n;
}
/** Unsigned w-bit value → signed (two's complement). */
function toSigned(x: bigint, w: bigint): bigint {
  return x >= 1n << (w - 1n) ? x - (1n << w) : x;
}
/** Any integer → unsigned w-bit (mod 2^w). */
function toUnsigned(x: bigint, w: bigint): bigint {
  return ((x % (1n << w)) + (1n << w)) % (1n << w);
}
/** Sign-extends the low `from` bits of x to w bits. */
function signExtend(x: bigint, from: bigint, w: bigint): bigint {
  return toUnsigned(toSigned(x % (1n << from), from), w);
}
function bool(c: boolean): bigint {
  return c ? 1n : 0n;
}

function compare(k: number, w: bigint, a: bigint, b: bigint): bigint {
  switch (COMPARE[k]) {
    case "eqz":
      return bool(a === 0n);
    case "eq":
      return bool(a === b);
    case "ne":
      return bool(a !== b);
    case "lt_s":
      return bool(toSigned(a, w) < toSigned(b, w));
    case "lt_u":
      return bool(a < b);
    case "gt_s":
      return bool(toSigned(a, w) > toSigned(b, w));
    case "gt_u":
      return bool(a > b);
    case "le_s":
      return bool(toSigned(a, w) <= toSigned(b, w));
    case "le_u":
      return bool(a <= b);
    case "ge_s":
      return bool(toSigned(a, w) >= toSigned(b, w));
    case "ge_u":
      return bool(a >= b);
  }
  throw new Error(`compare: bad index ${k}`);
}

function arith(k: number, w: bigint, a: bigint, b: bigint): bigint | Trap {
  const m = mask(w);
  switch (ARITH[k]) {
    case "clz": {
      // Number of zero bits above the highest set bit (w for 0).
      let n = 0n;
      for (let i = w - 1n; i >= 0n && ((a >> i) & 1n) === 0n; i--) n++;
      return n;
    }
    case "ctz": {
      let n = 0n;
      for (let i = 0n; i < w && ((a >> i) & 1n) === 0n; i++) n++;
      return n;
    }
    case "popcnt": {
      let n = 0n;
      for (let i = 0n; i < w; i++) n += (a >> i) & 1n;
      return n;
    }
    case "add":
      return (a + b) % (1n << w);
    case "sub":
      return toUnsigned(a - b, w);
    case "mul":
      return (a * b) % (1n << w);
    case "div_s": {
      if (b === 0n) return TRAP_DIV_ZERO;
      const sa = toSigned(a, w);
      const sb = toSigned(b, w);
      // The only quotient that does not fit: MIN / -1 = 2^(w-1).
      if (sa === -(1n << (w - 1n)) && sb === -1n) return TRAP_OVERFLOW;
      return toUnsigned(sa / sb, w); // bigint division truncates toward zero, as WASM does
    }
    case "div_u":
      if (b === 0n) return TRAP_DIV_ZERO;
      return a / b;
    case "rem_s": {
      if (b === 0n) return TRAP_DIV_ZERO;
      const sa = toSigned(a, w);
      const sb = toSigned(b, w);
      // MIN rem -1 is 0 (no trap). Otherwise the remainder has the sign of the dividend:
      // rem = sa - trunc(sa / sb) * sb, which bigint % computes.
      if (sb === -1n) return 0n;
      return toUnsigned(sa % sb, w);
    }
    case "rem_u":
      if (b === 0n) return TRAP_DIV_ZERO;
      return a % b;
    case "and":
      return a & b;
    case "or":
      return a | b;
    case "xor":
      return a ^ b;
    case "shl":
      return (a << (b % w)) & m; // every shift/rotate count is taken mod the width
    case "shr_s":
      return toUnsigned(toSigned(a, w) >> (b % w), w); // bigint >> on a negative value is arithmetic
    case "shr_u":
      return a >> (b % w);
    case "rotl": {
      const n = b % w;
      return ((a << n) | (a >> (w - n))) & m;
    }
    case "rotr": {
      const n = b % w;
      return ((a >> n) | (a << (w - n))) & m;
    }
  }
  throw new Error(`arith: bad index ${k}`);
}

function checkOperand(op: number, name: string, v: bigint | undefined, is64: boolean): bigint {
  if (typeof v !== "bigint")
    throw new Error(`evalNumeric: ${numericName(op)} needs a bigint operand ${name}`);
  const limit = is64 ? 1n << 64n : 1n << 32n;
  if (v < 0n || v >= limit) {
    throw new RangeError(
      `evalNumeric: ${numericName(op)} operand ${name} = ${v} is not an unsigned ${is64 ? "i64" : "i32"}`,
    );
  }
  return v;
}

/**
 * Executes one integer numeric instruction. `a` is the operand of a unary op, or the first operand
 * (deeper on the stack) of a binary op; `b` is the second (top of stack) and must be absent for
 * unary ops. Operands must be unsigned values of the operand width (`numericOperandIs64`); the
 * result is an unsigned value of the result width (`numericResultIs64`), or a Trap.
 * Throws an Error for a float or non-numeric opcode, a missing/extra operand or an out-of-range one.
 */
export function evalNumeric(op: number, a: bigint, b?: bigint): bigint | Trap {
  checkOp(op);
  const in64 = numericOperandIs64(op);
  const x = checkOperand(op, "a", a, in64);
  const binary = numericPops(op) === 2;
  if (!binary && b !== undefined)
    throw new Error(`evalNumeric: ${numericName(op)} is unary, got two operands`);
  const y = binary ? checkOperand(op, "b", b, in64) : 0n;

  if (op >= I32_CMP && op < I32_CMP + COMPARE.length) return compare(op - I32_CMP, 32n, x, y);
  if (op >= I64_CMP && op < I64_CMP + COMPARE.length) return compare(op - I64_CMP, 64n, x, y);
  if (op >= I32_ARITH && op < I32_ARITH + ARITH.length) return arith(op - I32_ARITH, 32n, x, y);
  if (op >= I64_ARITH && op < I64_ARITH + ARITH.length) return arith(op - I64_ARITH, 64n, x, y);
  switch (op) {
    case I32_WRAP_I64:
      return x % (1n << 32n);
    case I64_EXTEND_I32_S:
      return signExtend(x, 32n, 64n);
    case I64_EXTEND_I32_U:
      return x;
    case I32_EXTEND8_S:
      return signExtend(x, 8n, 32n);
    case I32_EXTEND16_S:
      return signExtend(x, 16n, 32n);
    case I64_EXTEND8_S:
      return signExtend(x, 8n, 64n);
    case I64_EXTEND16_S:
      return signExtend(x, 16n, 64n);
    case I64_EXTEND32_S:
      return signExtend(x, 32n, 64n);
  }
  throw new Error(`evalNumeric: unhandled opcode 0x${op.toString(16)}`); // unreachable: isa.ts changed
}
