// The VM's flat instruction set (docs/PROTOCOL.md §4.2). The loader turns a validated WASM module
// into one flat list of these; structured control flow is gone (block/loop/if/else/end become
// jumps with resolved targets), so one step never searches a block structure. Every instruction is
// an opcode (u16) plus one 64-bit immediate `arg`, and is committed as one 32-byte code leaf.

/** Opcodes kept from WASM (same numbers as the binary format). Integer subset only. */
export const Wasm = {
  UNREACHABLE: 0x00,
  NOP: 0x01,
  RETURN: 0x0f,
  CALL: 0x10,
  DROP: 0x1a,
  SELECT: 0x1b,
  LOCAL_GET: 0x20,
  LOCAL_SET: 0x21,
  LOCAL_TEE: 0x22,
  GLOBAL_GET: 0x23,
  GLOBAL_SET: 0x24,
  I32_LOAD: 0x28,
  I64_LOAD: 0x29,
  I32_LOAD8_S: 0x2c,
  I32_LOAD8_U: 0x2d,
  I32_LOAD16_S: 0x2e,
  I32_LOAD16_U: 0x2f,
  I64_LOAD8_S: 0x30,
  I64_LOAD8_U: 0x31,
  I64_LOAD16_S: 0x32,
  I64_LOAD16_U: 0x33,
  I64_LOAD32_S: 0x34,
  I64_LOAD32_U: 0x35,
  I32_STORE: 0x36,
  I64_STORE: 0x37,
  I32_STORE8: 0x3a,
  I32_STORE16: 0x3b,
  I64_STORE8: 0x3c,
  I64_STORE16: 0x3d,
  I64_STORE32: 0x3e,
  MEMORY_SIZE: 0x3f,
  MEMORY_GROW: 0x40,
  I32_CONST: 0x41,
  I64_CONST: 0x42,
} as const;

/** Internal control opcodes (not WASM). */
export const Ctl = {
  /** arg = target | drop << 32 | keep << 48: keep the top `keep` values, discard `drop` below them, jump. */
  BR: 0x8000,
  /** Pops an i32; if non-zero behaves as BR (same arg layout). */
  BR_IF: 0x8001,
  /** Pops an i32; if zero jumps to arg (the else/end of an `if`); never drops. */
  BR_UNLESS: 0x8002,
  /** arg = n. Pops index i; jumps to pc + 1 + min(i, n), where n + 1 BR entries follow. */
  BR_TABLE: 0x8003,
} as const;

/** Numeric instructions: every i32/i64 test, compare, arithmetic, conversion and sign-extension op. */
export const NUMERIC_FIRST = 0x45;
export const NUMERIC_LAST = 0xc4;
/** WASM opcodes inside 0x45..0xc4 that are float instructions (rejected). */
export function isFloatNumeric(op: number): boolean {
  return (
    (op >= 0x5b && op <= 0x66) ||
    (op >= 0x8b && op <= 0xa6) ||
    (op >= 0xa8 && op <= 0xbf && !isIntConversion(op))
  );
}
function isIntConversion(op: number): boolean {
  // i32.wrap_i64 0xa7, i64.extend_i32_s/u 0xac/0xad; reinterpret/trunc/convert are float-related.
  return op === 0xa7 || op === 0xac || op === 0xad;
}

/** Arity of each accepted numeric op: [pops, pushes] are always [1,1] (unary/test) or [2,1]. */
export function numericPops(op: number): 1 | 2 {
  if (op === 0x45 || op === 0x50) return 1; // eqz
  if (op >= 0x67 && op <= 0x69) return 1; // i32 clz ctz popcnt
  if (op >= 0x79 && op <= 0x7b) return 1; // i64 clz ctz popcnt
  if (op === 0xa7 || op === 0xac || op === 0xad) return 1; // wrap, extend
  if (op >= 0xc0 && op <= 0xc4) return 1; // sign extension
  return 2;
}

/** Call immediate: entry pc, parameter count, local count (parameters included), result count. */
export function packCall(entryPc: number, nParams: number, nLocals: number, nResults: number): bigint {
  return BigInt(entryPc) | (BigInt(nParams) << 32n) | (BigInt(nLocals) << 40n) | (BigInt(nResults) << 56n);
}
export function unpackCall(arg: bigint) {
  return {
    entryPc: Number(arg & 0xffffffffn),
    nParams: Number((arg >> 32n) & 0xffn),
    nLocals: Number((arg >> 40n) & 0xffffn),
    nResults: Number((arg >> 56n) & 0xffn),
  };
}

export function packBr(target: number, drop: number, keep: number): bigint {
  return BigInt(target) | (BigInt(drop) << 32n) | (BigInt(keep) << 48n);
}
export function unpackBr(arg: bigint) {
  return {
    target: Number(arg & 0xffffffffn),
    drop: Number((arg >> 32n) & 0xffffn),
    keep: Number((arg >> 48n) & 0xffn),
  };
}

/** Limits the state layout depends on (docs/PROTOCOL.md §4). */
export const LIMITS = {
  /** Locals tree depth: at most 256 locals (params included) per function. */
  LOCALS_DEPTH: 8,
  /** Globals tree depth: at most 16 globals. */
  GLOBALS_DEPTH: 4,
  /** Memory tree depth: 2^27 leaves of 32 bytes = the whole 4 GiB wasm32 address space. */
  MEMORY_DEPTH: 27,
  /** Call depth at which a call traps. */
  MAX_FRAMES: 1024,
  /** Largest memory in 64 KiB pages (memory.grow beyond returns -1). */
  MAX_PAGES: 65536,
} as const;

/** Function index → return pc that means "return from the entry function: halt". */
export const HALT_PC = 0xffffffff;

export interface Instr {
  op: number;
  arg: bigint;
}

export interface FunctionInfo {
  index: number;
  name: string;
  entryPc: number;
  nParams: number;
  nLocals: number;
  nResults: number;
}

/** A loaded program: flat code plus the initial module state. */
export interface Program {
  code: Instr[];
  functions: FunctionInfo[];
  /** Initial global values (i32 as unsigned 32-bit, i64 as unsigned 64-bit). */
  globals: bigint[];
  /** Initial memory size in pages; memory starts zeroed (the DNN module has no data segments). */
  memoryPages: number;
  maxPages: number;
  exports: Record<string, number>;
}

/** Code leaf: op (2 bytes, big-endian) ‖ arg (8 bytes, big-endian) ‖ 22 zero bytes. */
export function instrLeaf(i: Instr): Uint8Array {
  const leaf = new Uint8Array(32);
  leaf[0] = i.op >> 8;
  leaf[1] = i.op & 0xff;
  const dv = new DataView(leaf.buffer);
  dv.setBigUint64(2, i.arg & 0xffffffffffffffffn);
  return leaf;
}
