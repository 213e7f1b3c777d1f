// A small, strict decoder for the WebAssembly binary format (MVP structure plus the instruction
// encodings of WASM 2.0: reference types, bulk memory, saturating truncation, sign extension and
// SIMD, and the threads proposal). It checks the binary encoding only (LEB128 ranges, section order
// and sizes, expression nesting); semantic validation is the loader's job (vm/loader.ts), which is
// also where everything outside the VM's integer subset is rejected. Errors name the file, the
// place (section, or function index and name) and the byte offset.
import { UserError } from "../../errors/index.js";

/** Value type bytes. */
export const ValType = {
  I32: 0x7f,
  I64: 0x7e,
  F32: 0x7d,
  F64: 0x7c,
  V128: 0x7b,
  FUNCREF: 0x70,
  EXTERNREF: 0x6f,
} as const;

export function valTypeName(t: number): string {
  switch (t) {
    case ValType.I32:
      return "i32";
    case ValType.I64:
      return "i64";
    case ValType.F32:
      return "f32";
    case ValType.F64:
      return "f64";
    case ValType.V128:
      return "v128";
    case ValType.FUNCREF:
      return "funcref";
    case ValType.EXTERNREF:
      return "externref";
    default:
      return `type 0x${t.toString(16)}`;
  }
}

function isValTypeByte(b: number): boolean {
  return b === 0x7f || b === 0x7e || b === 0x7d || b === 0x7c || b === 0x7b || b === 0x70 || b === 0x6f;
}

// ---------------------------------------------------------------------------------------------
// Opcodes and mnemonics

export const PREFIX_GC = 0xfb;
export const PREFIX_MISC = 0xfc;
export const PREFIX_SIMD = 0xfd;
export const PREFIX_THREADS = 0xfe;

/** Opcode number of a prefixed instruction (0xFC/0xFD/0xFE): prefix << 16 | sub-opcode. */
export function prefixedOp(prefix: number, sub: number): number {
  return prefix * 0x10000 + sub;
}

// Mnemonics by opcode; "-" marks an unassigned opcode.
const ONE_BYTE = [
  "unreachable nop block loop if else try catch throw rethrow throw_ref end br br_if br_table",
  "return call call_indirect return_call return_call_indirect call_ref return_call_ref - - delegate",
  "catch_all drop select select - - try_table local.get local.set local.tee global.get global.set",
  "table.get table.set - i32.load i64.load f32.load f64.load i32.load8_s i32.load8_u i32.load16_s",
  "i32.load16_u i64.load8_s i64.load8_u i64.load16_s i64.load16_u i64.load32_s i64.load32_u",
  "i32.store i64.store f32.store f64.store i32.store8 i32.store16 i64.store8 i64.store16",
  "i64.store32 memory.size memory.grow i32.const i64.const f32.const f64.const i32.eqz i32.eq",
  "i32.ne i32.lt_s i32.lt_u i32.gt_s i32.gt_u i32.le_s i32.le_u i32.ge_s i32.ge_u i64.eqz i64.eq",
  "i64.ne i64.lt_s i64.lt_u i64.gt_s i64.gt_u i64.le_s i64.le_u i64.ge_s i64.ge_u f32.eq f32.ne",
  "f32.lt f32.gt f32.le f32.ge f64.eq f64.ne f64.lt f64.gt f64.le f64.ge i32.clz i32.ctz i32.popcnt",
  "i32.add i32.sub i32.mul i32.div_s i32.div_u i32.rem_s i32.rem_u i32.and i32.or i32.xor i32.shl",
  "i32.shr_s i32.shr_u i32.rotl i32.rotr i64.clz i64.ctz i64.popcnt i64.add i64.sub i64.mul",
  "i64.div_s i64.div_u i64.rem_s i64.rem_u i64.and i64.or i64.xor i64.shl i64.shr_s i64.shr_u",
  "i64.rotl i64.rotr f32.abs f32.neg f32.ceil f32.floor f32.trunc f32.nearest f32.sqrt f32.add",
  "f32.sub f32.mul f32.div f32.min f32.max f32.copysign f64.abs f64.neg f64.ceil f64.floor",
  "f64.trunc f64.nearest f64.sqrt f64.add f64.sub f64.mul f64.div f64.min f64.max f64.copysign",
  "i32.wrap_i64 i32.trunc_f32_s i32.trunc_f32_u i32.trunc_f64_s i32.trunc_f64_u i64.extend_i32_s",
  "i64.extend_i32_u i64.trunc_f32_s i64.trunc_f32_u i64.trunc_f64_s i64.trunc_f64_u",
  "f32.convert_i32_s f32.convert_i32_u f32.convert_i64_s f32.convert_i64_u f32.demote_f64",
  "f64.convert_i32_s f64.convert_i32_u f64.convert_i64_s f64.convert_i64_u f64.promote_f32",
  "i32.reinterpret_f32 i64.reinterpret_f64 f32.reinterpret_i32 f64.reinterpret_i64 i32.extend8_s",
  "i32.extend16_s i64.extend8_s i64.extend16_s i64.extend32_s - - - - - - - - - - - ref.null",
  "ref.is_null ref.func ref.eq ref.as_non_null br_on_null br_on_non_null",
]
  .join(" ")
  .split(" ");
const MISC = [
  "i32.trunc_sat_f32_s i32.trunc_sat_f32_u i32.trunc_sat_f64_s i32.trunc_sat_f64_u i64.trunc_sat_f32_s",
  "i64.trunc_sat_f32_u i64.trunc_sat_f64_s i64.trunc_sat_f64_u memory.init data.drop memory.copy",
  "memory.fill table.init elem.drop table.copy table.grow table.size table.fill",
]
  .join(" ")
  .split(" ");
const SIMD = [
  "v128.load v128.load8x8_s v128.load8x8_u v128.load16x4_s v128.load16x4_u v128.load32x2_s",
  "v128.load32x2_u v128.load8_splat v128.load16_splat v128.load32_splat v128.load64_splat",
  "v128.store v128.const i8x16.shuffle i8x16.swizzle i8x16.splat i16x8.splat i32x4.splat",
  "i64x2.splat f32x4.splat f64x2.splat i8x16.extract_lane_s i8x16.extract_lane_u i8x16.replace_lane",
  "i16x8.extract_lane_s i16x8.extract_lane_u i16x8.replace_lane i32x4.extract_lane",
  "i32x4.replace_lane i64x2.extract_lane i64x2.replace_lane f32x4.extract_lane f32x4.replace_lane",
  "f64x2.extract_lane f64x2.replace_lane i8x16.eq i8x16.ne i8x16.lt_s i8x16.lt_u i8x16.gt_s",
  "i8x16.gt_u i8x16.le_s i8x16.le_u i8x16.ge_s i8x16.ge_u i16x8.eq i16x8.ne i16x8.lt_s i16x8.lt_u",
  "i16x8.gt_s i16x8.gt_u i16x8.le_s i16x8.le_u i16x8.ge_s i16x8.ge_u i32x4.eq i32x4.ne i32x4.lt_s",
  "i32x4.lt_u i32x4.gt_s i32x4.gt_u i32x4.le_s i32x4.le_u i32x4.ge_s i32x4.ge_u f32x4.eq f32x4.ne",
  "f32x4.lt f32x4.gt f32x4.le f32x4.ge f64x2.eq f64x2.ne f64x2.lt f64x2.gt f64x2.le f64x2.ge",
  "v128.not v128.and v128.andnot v128.or v128.xor v128.bitselect v128.any_true v128.load8_lane",
  "v128.load16_lane v128.load32_lane v128.load64_lane v128.store8_lane v128.store16_lane",
  "v128.store32_lane v128.store64_lane v128.load32_zero v128.load64_zero f32x4.demote_f64x2_zero",
  "f64x2.promote_low_f32x4 i8x16.abs i8x16.neg i8x16.popcnt i8x16.all_true i8x16.bitmask",
  "i8x16.narrow_i16x8_s i8x16.narrow_i16x8_u f32x4.ceil f32x4.floor f32x4.trunc f32x4.nearest",
  "i8x16.shl i8x16.shr_s i8x16.shr_u i8x16.add i8x16.add_sat_s i8x16.add_sat_u i8x16.sub",
  "i8x16.sub_sat_s i8x16.sub_sat_u f64x2.ceil f64x2.floor i8x16.min_s i8x16.min_u i8x16.max_s",
  "i8x16.max_u f64x2.trunc i8x16.avgr_u i16x8.extadd_pairwise_i8x16_s i16x8.extadd_pairwise_i8x16_u",
  "i32x4.extadd_pairwise_i16x8_s i32x4.extadd_pairwise_i16x8_u i16x8.abs i16x8.neg",
  "i16x8.q15mulr_sat_s i16x8.all_true i16x8.bitmask i16x8.narrow_i32x4_s i16x8.narrow_i32x4_u",
  "i16x8.extend_low_i8x16_s i16x8.extend_high_i8x16_s i16x8.extend_low_i8x16_u",
  "i16x8.extend_high_i8x16_u i16x8.shl i16x8.shr_s i16x8.shr_u i16x8.add i16x8.add_sat_s",
  "i16x8.add_sat_u i16x8.sub i16x8.sub_sat_s i16x8.sub_sat_u f64x2.nearest i16x8.mul i16x8.min_s",
  "i16x8.min_u i16x8.max_s i16x8.max_u - i16x8.avgr_u i16x8.extmul_low_i8x16_s",
  "i16x8.extmul_high_i8x16_s i16x8.extmul_low_i8x16_u i16x8.extmul_high_i8x16_u i32x4.abs i32x4.neg",
  "- i32x4.all_true i32x4.bitmask - - i32x4.extend_low_i16x8_s i32x4.extend_high_i16x8_s",
  "i32x4.extend_low_i16x8_u i32x4.extend_high_i16x8_u i32x4.shl i32x4.shr_s i32x4.shr_u i32x4.add -",
  "- i32x4.sub - - - i32x4.mul i32x4.min_s i32x4.min_u i32x4.max_s i32x4.max_u i32x4.dot_i16x8_s -",
  "i32x4.extmul_low_i16x8_s i32x4.extmul_high_i16x8_s i32x4.extmul_low_i16x8_u",
  "i32x4.extmul_high_i16x8_u i64x2.abs i64x2.neg - i64x2.all_true i64x2.bitmask - -",
  "i64x2.extend_low_i32x4_s i64x2.extend_high_i32x4_s i64x2.extend_low_i32x4_u",
  "i64x2.extend_high_i32x4_u i64x2.shl i64x2.shr_s i64x2.shr_u i64x2.add - - i64x2.sub - - -",
  "i64x2.mul i64x2.eq i64x2.ne i64x2.lt_s i64x2.gt_s i64x2.le_s i64x2.ge_s i64x2.extmul_low_i32x4_s",
  "i64x2.extmul_high_i32x4_s i64x2.extmul_low_i32x4_u i64x2.extmul_high_i32x4_u f32x4.abs f32x4.neg",
  "- f32x4.sqrt f32x4.add f32x4.sub f32x4.mul f32x4.div f32x4.min f32x4.max f32x4.pmin f32x4.pmax",
  "f64x2.abs f64x2.neg - f64x2.sqrt f64x2.add f64x2.sub f64x2.mul f64x2.div f64x2.min f64x2.max",
  "f64x2.pmin f64x2.pmax i32x4.trunc_sat_f32x4_s i32x4.trunc_sat_f32x4_u f32x4.convert_i32x4_s",
  "f32x4.convert_i32x4_u i32x4.trunc_sat_f64x2_s_zero i32x4.trunc_sat_f64x2_u_zero",
  "f64x2.convert_low_i32x4_s f64x2.convert_low_i32x4_u i8x16.relaxed_swizzle",
  "i32x4.relaxed_trunc_f32x4_s i32x4.relaxed_trunc_f32x4_u i32x4.relaxed_trunc_f64x2_s_zero",
  "i32x4.relaxed_trunc_f64x2_u_zero f32x4.relaxed_madd f32x4.relaxed_nmadd f64x2.relaxed_madd",
  "f64x2.relaxed_nmadd i8x16.relaxed_laneselect i16x8.relaxed_laneselect i32x4.relaxed_laneselect",
  "i64x2.relaxed_laneselect f32x4.relaxed_min f32x4.relaxed_max f64x2.relaxed_min f64x2.relaxed_max",
  "i16x8.relaxed_q15mulr_s i16x8.relaxed_dot_i8x16_i7x16_s i32x4.relaxed_dot_i8x16_i7x16_add_s",
]
  .join(" ")
  .split(" ");
const THREADS = [
  "memory.atomic.notify memory.atomic.wait32 memory.atomic.wait64 atomic.fence - - - - - - - - - -",
  "- - i32.atomic.load i64.atomic.load i32.atomic.load8_u i32.atomic.load16_u i64.atomic.load8_u",
  "i64.atomic.load16_u i64.atomic.load32_u i32.atomic.store i64.atomic.store i32.atomic.store8",
  "i32.atomic.store16 i64.atomic.store8 i64.atomic.store16 i64.atomic.store32 i32.atomic.rmw.add",
  "i64.atomic.rmw.add i32.atomic.rmw8.add_u i32.atomic.rmw16.add_u i64.atomic.rmw8.add_u",
  "i64.atomic.rmw16.add_u i64.atomic.rmw32.add_u i32.atomic.rmw.sub i64.atomic.rmw.sub",
  "i32.atomic.rmw8.sub_u i32.atomic.rmw16.sub_u i64.atomic.rmw8.sub_u i64.atomic.rmw16.sub_u",
  "i64.atomic.rmw32.sub_u i32.atomic.rmw.and i64.atomic.rmw.and i32.atomic.rmw8.and_u",
  "i32.atomic.rmw16.and_u i64.atomic.rmw8.and_u i64.atomic.rmw16.and_u i64.atomic.rmw32.and_u",
  "i32.atomic.rmw.or i64.atomic.rmw.or i32.atomic.rmw8.or_u i32.atomic.rmw16.or_u",
  "i64.atomic.rmw8.or_u i64.atomic.rmw16.or_u i64.atomic.rmw32.or_u i32.atomic.rmw.xor",
  "i64.atomic.rmw.xor i32.atomic.rmw8.xor_u i32.atomic.rmw16.xor_u i64.atomic.rmw8.xor_u",
  "i64.atomic.rmw16.xor_u i64.atomic.rmw32.xor_u i32.atomic.rmw.xchg i64.atomic.rmw.xchg",
  "i32.atomic.rmw8.xchg_u i32.atomic.rmw16.xchg_u i64.atomic.rmw8.xchg_u i64.atomic.rmw16.xchg_u",
  "i64.atomic.rmw32.xchg_u i32.atomic.rmw.cmpxchg i64.atomic.rmw.cmpxchg i32.atomic.rmw8.cmpxchg_u",
  "i32.atomic.rmw16.cmpxchg_u i64.atomic.rmw8.cmpxchg_u i64.atomic.rmw16.cmpxchg_u",
  "i64.atomic.rmw32.cmpxchg_u",
]
  .join(" ")
  .split(" ");

function tableName(table: string[], i: number): string | undefined {
  const n = table[i];
  return n === undefined || n === "-" ? undefined : n;
}

/** The mnemonic of an opcode (prefixed opcodes as built by `prefixedOp`), e.g. "f32.add". */
export function opcodeName(op: number): string {
  let name: string | undefined;
  if (op < 0x100) name = tableName(ONE_BYTE, op);
  else {
    const prefix = Math.floor(op / 0x10000);
    const sub = op % 0x10000;
    if (prefix === PREFIX_MISC) name = tableName(MISC, sub);
    else if (prefix === PREFIX_SIMD) name = tableName(SIMD, sub);
    else if (prefix === PREFIX_THREADS) name = tableName(THREADS, sub);
  }
  return name ?? "unknown instruction";
}

function hex2(n: number): string {
  return `0x${n.toString(16).padStart(2, "0")}`;
}

/** The binary encoding of an opcode, e.g. "0x92" or "0xfc 0x0a". */
export function opcodeHex(op: number): string {
  return op < 0x100 ? hex2(op) : `${hex2(Math.floor(op / 0x10000))} ${hex2(op % 0x10000)}`;
}

/** "f32.add (0x92)". */
export function describeOpcode(op: number): string {
  return `${opcodeName(op)} (${opcodeHex(op)})`;
}

// ---------------------------------------------------------------------------------------------
// Decoded structures

export type BlockType =
  | { kind: "empty" }
  | { kind: "value"; type: number }
  | { kind: "index"; index: number };

export interface MemArg {
  /** log2 of the alignment hint. */
  align: number;
  /** Memory index (non-zero only with the multi-memory encoding). */
  memory: number;
  offset: bigint;
}

interface InstrBase {
  /** Opcode byte, or `prefixedOp(prefix, sub)` for prefixed instructions. */
  op: number;
  /** Byte offset of the opcode in the module. */
  pos: number;
}

/** One decoded instruction; `imm` tells which immediates it carries. */
export type Instruction = InstrBase &
  (
    | { imm: "none" }
    | { imm: "block"; blockType: BlockType }
    /** Label, function, local, global, table, memory, type, data or element index. */
    | { imm: "index"; index: number }
    /** call_indirect (type, table), memory.init (data, memory), memory.copy, table.init, table.copy. */
    | { imm: "index2"; index: number; index2: number }
    | { imm: "br_table"; labels: number[]; defaultLabel: number }
    | { imm: "memarg"; memarg: MemArg }
    | { imm: "memarg_lane"; memarg: MemArg; lane: number }
    | { imm: "lane"; lane: number }
    | { imm: "i32"; value: number }
    | { imm: "i64"; value: bigint }
    | { imm: "f32"; bits: number }
    | { imm: "f64"; bits: bigint }
    | { imm: "bytes16"; bytes: Uint8Array }
    | { imm: "types"; types: number[] }
    | { imm: "heaptype"; heapType: number }
  );

export interface FuncType {
  params: number[];
  results: number[];
}

export interface Limits {
  min: number;
  max: number | null;
  shared: boolean;
  index64: boolean;
}

export interface TableType {
  elemType: number;
  limits: Limits;
}

export interface GlobalType {
  type: number;
  mutable: boolean;
}

export type ExternKind = "func" | "table" | "memory" | "global" | "tag";

export type Import = { module: string; name: string; pos: number } & (
  | { kind: "func"; typeIndex: number }
  | { kind: "table"; table: TableType }
  | { kind: "memory"; limits: Limits }
  | { kind: "global"; global: GlobalType }
  | { kind: "tag"; typeIndex: number }
);

export interface Global {
  type: GlobalType;
  init: Instruction[];
  pos: number;
}

export interface Export {
  name: string;
  kind: ExternKind;
  index: number;
  pos: number;
}

export interface ElementSegment {
  mode: "active" | "passive" | "declarative";
  table: number;
  offset: Instruction[] | null;
  elemType: number;
  count: number;
  pos: number;
}

export interface DataSegment {
  mode: "active" | "passive";
  memory: number;
  offset: Instruction[] | null;
  bytes: Uint8Array;
  pos: number;
}

export interface LocalDecl {
  count: number;
  type: number;
}

export interface Code {
  locals: LocalDecl[];
  body: Instruction[];
  /** Byte range of the function body (after its size field). */
  pos: number;
  end: number;
}

export interface WasmModule {
  file: string;
  types: FuncType[];
  imports: Import[];
  /** Number of imported functions: defined function i has function index importedFunctions + i. */
  importedFunctions: number;
  /** Type index of each defined function. */
  functions: number[];
  tables: TableType[];
  memories: Limits[];
  globals: Global[];
  exports: Export[];
  start: { index: number; pos: number } | null;
  elements: ElementSegment[];
  dataCount: number | null;
  codes: Code[];
  data: DataSegment[];
  /** Function index → name, from the custom "name" section when present. */
  functionNames: Map<number, string>;
  customSections: { name: string; pos: number; size: number }[];
}

export class WasmDecodeError extends UserError {
  override readonly kind: string = "wasm";
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** "function 12 ($name)" when the module names the function, else "function 12". */
export function describeFunction(mod: Pick<WasmModule, "functionNames">, index: number): string {
  const name = mod.functionNames.get(index);
  return name === undefined ? `function ${index}` : `function ${index} ($${name})`;
}

// ---------------------------------------------------------------------------------------------
// Reader

const utf8 = new TextDecoder("utf-8", { fatal: true });

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
    readonly end: number,
    readonly file: string,
    public where: string,
  ) {}

  fail(msg: string, at: number = this.pos): never {
    const place = this.where ? `${this.where}: ` : "";
    throw new WasmDecodeError(`${this.file}: ${place}${msg} at byte 0x${at.toString(16)}`, at);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  u8(): number {
    if (this.pos >= this.end) this.fail("unexpected end");
    return this.bytes[this.pos++];
  }

  take(n: number): Uint8Array {
    if (n > this.end - this.pos) this.fail(`unexpected end (need ${n} bytes)`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  u32(): number {
    const start = this.pos;
    let result = 0;
    for (let i = 0; ; i++) {
      const b = this.u8();
      if (i === 4) {
        if (b & 0x80) this.fail("integer representation too long", start);
        if (b & 0x70) this.fail("integer too large", start);
        return result + b * 2 ** 28;
      }
      result += (b & 0x7f) * 2 ** (7 * i);
      if (!(b & 0x80)) return result;
    }
  }

  s32(): number {
    const start = this.pos;
    let result = 0;
    let shift = 0;
    for (let i = 0; ; i++) {
      const b = this.u8();
      if (i === 4) {
        if (b & 0x80) this.fail("integer representation too long", start);
        const high = b & 0x78; // bit 3 is the sign bit (bit 31); bits 4..6 must repeat it
        if (high !== 0 && high !== 0x78) this.fail("integer too large", start);
        return result | (b << 28);
      }
      result |= (b & 0x7f) << shift;
      shift += 7;
      if (!(b & 0x80)) return b & 0x40 ? result | (-1 << shift) : result;
    }
  }

  /** LEB128 of at most `bits` bits as a bigint (used for u64, s64 and s33). */
  leb(bits: number, signed: boolean): bigint {
    const start = this.pos;
    const maxBytes = Math.ceil(bits / 7);
    let result = 0n;
    let shift = 0n;
    for (let i = 0; ; i++) {
      const b = this.u8();
      if (i === maxBytes - 1) {
        if (b & 0x80) this.fail("integer representation too long", start);
        const remaining = bits - 7 * i; // value bits carried by this last byte
        if (remaining < 7) {
          if (signed) {
            const mask = 0x7f & ~((1 << (remaining - 1)) - 1);
            const high = b & mask;
            if (high !== 0 && high !== mask) this.fail("integer too large", start);
          } else if (b & 0x7f & ~((1 << remaining) - 1)) this.fail("integer too large", start);
        }
      }
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (!(b & 0x80)) return signed && b & 0x40 ? result - (1n << shift) : result;
    }
  }

  u64(): bigint {
    return this.leb(64, false);
  }

  s64(): bigint {
    return this.leb(64, true);
  }

  name(): string {
    const n = this.u32();
    const start = this.pos;
    const raw = this.take(n);
    try {
      return utf8.decode(raw);
    } catch {
      return this.fail("malformed UTF-8 in name", start);
    }
  }

  /** A vector length, sanity-checked against the bytes left (every element takes at least one). */
  count(): number {
    const start = this.pos;
    const n = this.u32();
    if (n > this.end - this.pos) this.fail(`vector length ${n} exceeds the remaining bytes`, start);
    return n;
  }

  valType(): number {
    const at = this.pos;
    const b = this.u8();
    if (!isValTypeByte(b)) this.fail(`unsupported value type 0x${b.toString(16)}`, at);
    return b;
  }

  blockType(): BlockType {
    const at = this.pos;
    if (this.pos >= this.end) this.fail("unexpected end");
    const b = this.bytes[this.pos];
    if (b === 0x40) {
      this.pos++;
      return { kind: "empty" };
    }
    if (isValTypeByte(b)) {
      this.pos++;
      return { kind: "value", type: b };
    }
    const v = this.leb(33, true);
    if (v < 0n) this.fail(`unsupported block type 0x${b.toString(16)}`, at);
    return { kind: "index", index: Number(v) };
  }

  limits(): Limits {
    const at = this.pos;
    const flags = this.u8();
    if (flags > 7) this.fail(`malformed limits flags 0x${flags.toString(16)}`, at);
    const index64 = (flags & 4) !== 0;
    const min = index64 ? Number(this.u64()) : this.u32();
    const max = flags & 1 ? (index64 ? Number(this.u64()) : this.u32()) : null;
    return { min, max, shared: (flags & 2) !== 0, index64 };
  }

  memarg(): MemArg {
    const at = this.pos;
    let align = this.u32();
    let memory = 0;
    if (align & 0x40) {
      align -= 0x40;
      memory = this.u32();
    }
    if (align >= 0x40) this.fail(`malformed memarg alignment ${align}`, at);
    return { align, memory, offset: this.u64() };
  }
}

// ---------------------------------------------------------------------------------------------
// Instructions

function simdImmediates(r: Reader, op: number, pos: number, sub: number): Instruction {
  if (sub <= 11 || sub === 92 || sub === 93) return { op, pos, imm: "memarg", memarg: r.memarg() };
  if (sub === 12 || sub === 13) return { op, pos, imm: "bytes16", bytes: r.take(16) };
  if (sub >= 21 && sub <= 34) return { op, pos, imm: "lane", lane: r.u8() };
  if (sub >= 84 && sub <= 91) {
    const memarg = r.memarg();
    return { op, pos, imm: "memarg_lane", memarg, lane: r.u8() };
  }
  return { op, pos, imm: "none" };
}

function readPrefixed(r: Reader, prefix: number, pos: number): Instruction {
  const sub = r.u32();
  const unknown = (): never =>
    r.fail(`unknown instruction ${hex2(prefix)} ${hex2(sub)}${prefix === PREFIX_GC ? " (GC)" : ""}`, pos);
  if (sub >= 0x10000) unknown();
  const op = prefixedOp(prefix, sub);
  if (prefix === PREFIX_MISC) {
    if (sub <= 7) return { op, pos, imm: "none" };
    switch (sub) {
      case 8: // memory.init data mem
      case 10: // memory.copy dst src
      case 12: // table.init elem table
      case 14: {
        // table.copy dst src
        const index = r.u32();
        return { op, pos, imm: "index2", index, index2: r.u32() };
      }
      case 9: // data.drop
      case 11: // memory.fill
      case 13: // elem.drop
      case 15: // table.grow
      case 16: // table.size
      case 17: // table.fill
        return { op, pos, imm: "index", index: r.u32() };
      default:
        return unknown();
    }
  }
  if (prefix === PREFIX_SIMD) {
    if (tableName(SIMD, sub) === undefined) unknown();
    return simdImmediates(r, op, pos, sub);
  }
  if (prefix === PREFIX_THREADS) {
    if (tableName(THREADS, sub) === undefined) unknown();
    if (sub === 3) {
      if (r.u8() !== 0) r.fail("atomic.fence: reserved byte must be zero", pos);
      return { op, pos, imm: "none" };
    }
    return { op, pos, imm: "memarg", memarg: r.memarg() };
  }
  return unknown();
}

function readInstruction(r: Reader): Instruction {
  const pos = r.pos;
  const op = r.u8();
  switch (op) {
    case 0x02: // block
    case 0x03: // loop
    case 0x04: // if
      return { op, pos, imm: "block", blockType: r.blockType() };
    case 0x0c: // br
    case 0x0d: // br_if
    case 0x10: // call
    case 0x12: // return_call
    case 0x14: // call_ref
    case 0x15: // return_call_ref
    case 0x20: // local.get
    case 0x21: // local.set
    case 0x22: // local.tee
    case 0x23: // global.get
    case 0x24: // global.set
    case 0x25: // table.get
    case 0x26: // table.set
    case 0x3f: // memory.size (memory index; a zero byte in the MVP)
    case 0x40: // memory.grow
    case 0xd2: // ref.func
    case 0xd5: // br_on_null
    case 0xd6: // br_on_non_null
      return { op, pos, imm: "index", index: r.u32() };
    case 0x0e: {
      const n = r.count();
      const labels = new Array<number>(n);
      for (let i = 0; i < n; i++) labels[i] = r.u32();
      return { op, pos, imm: "br_table", labels, defaultLabel: r.u32() };
    }
    case 0x11: // call_indirect type table
    case 0x13: {
      // return_call_indirect
      const index = r.u32();
      return { op, pos, imm: "index2", index, index2: r.u32() };
    }
    case 0x1c: {
      const n = r.count();
      const types: number[] = [];
      for (let i = 0; i < n; i++) types.push(r.valType());
      return { op, pos, imm: "types", types };
    }
    case 0x41:
      return { op, pos, imm: "i32", value: r.s32() };
    case 0x42:
      return { op, pos, imm: "i64", value: r.s64() };
    case 0x43: {
      const b = r.take(4);
      return { op, pos, imm: "f32", bits: new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true) };
    }
    case 0x44: {
      const b = r.take(8);
      return { op, pos, imm: "f64", bits: new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true) };
    }
    case 0xd0:
      return { op, pos, imm: "heaptype", heapType: Number(r.leb(33, true)) };
    case PREFIX_MISC:
    case PREFIX_SIMD:
    case PREFIX_THREADS:
    case PREFIX_GC:
      return readPrefixed(r, op, pos);
    default:
      if (op >= 0x28 && op <= 0x3e) return { op, pos, imm: "memarg", memarg: r.memarg() };
      if (
        op <= 0x01 || // unreachable nop
        op === 0x05 || // else
        op === 0x0b || // end
        op === 0x0f || // return
        op === 0x1a || // drop
        op === 0x1b || // select
        (op >= 0x45 && op <= 0xc4) || // numeric
        (op >= 0xd1 && op <= 0xd4) // ref.is_null ref.eq ref.as_non_null
      )
        return { op, pos, imm: "none" };
      if (tableName(ONE_BYTE, op) !== undefined)
        return r.fail(`unsupported instruction ${describeOpcode(op)}`, pos);
      return r.fail(`unknown opcode ${hex2(op)}`, pos);
  }
}

/** Decodes an expression up to and including its final `end`. */
function readExpr(r: Reader): Instruction[] {
  const out: Instruction[] = [];
  let depth = 0;
  for (;;) {
    if (r.done) r.fail("unexpected end of expression (missing end)");
    const ins = readInstruction(r);
    out.push(ins);
    if (ins.op === 0x02 || ins.op === 0x03 || ins.op === 0x04) depth++;
    else if (ins.op === 0x0b) {
      if (depth === 0) return out;
      depth--;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Sections

const SECTION_NAMES: Record<number, string> = {
  0: "custom",
  1: "type",
  2: "import",
  3: "function",
  4: "table",
  5: "memory",
  6: "global",
  7: "export",
  8: "start",
  9: "element",
  10: "code",
  11: "data",
  12: "datacount",
  13: "tag",
};
/** Required order of the non-custom sections (datacount sits between element and code). */
const SECTION_RANK: Record<number, number> = {
  1: 1,
  2: 2,
  3: 3,
  4: 4,
  5: 5,
  13: 6,
  6: 7,
  7: 8,
  8: 9,
  9: 10,
  12: 11,
  10: 12,
  11: 13,
};

/** Largest number of locals (params excluded) a function may declare; V8 uses the same bound. */
const MAX_DECLARED_LOCALS = 50_000;

const EXTERN_KINDS: ExternKind[] = ["func", "table", "memory", "global", "tag"];

function externKind(r: Reader): ExternKind {
  const at = r.pos;
  const b = r.u8();
  const kind = EXTERN_KINDS[b];
  if (kind === undefined) r.fail(`malformed external kind 0x${b.toString(16)}`, at);
  return kind;
}

function globalType(r: Reader): GlobalType {
  const type = r.valType();
  const at = r.pos;
  const m = r.u8();
  if (m > 1) r.fail(`malformed mutability 0x${m.toString(16)}`, at);
  return { type, mutable: m === 1 };
}

function tableType(r: Reader): TableType {
  const elemType = r.valType();
  return { elemType, limits: r.limits() };
}

function readElement(r: Reader): ElementSegment {
  const pos = r.pos;
  const flags = r.u32();
  if (flags > 7) r.fail(`malformed element segment flags ${flags}`, pos);
  const passiveOrDeclarative = (flags & 1) !== 0;
  const explicitTable = (flags & 2) !== 0;
  const usesExprs = (flags & 4) !== 0;
  const mode = !passiveOrDeclarative ? "active" : explicitTable ? "declarative" : "passive";
  const table = !passiveOrDeclarative && explicitTable ? r.u32() : 0;
  const offset = mode === "active" ? readExpr(r) : null;
  let elemType: number = ValType.FUNCREF;
  if (passiveOrDeclarative || explicitTable) {
    if (usesExprs) elemType = r.valType();
    else {
      const at = r.pos;
      if (r.u8() !== 0) r.fail("malformed element kind", at);
    }
  }
  const count = r.count();
  for (let i = 0; i < count; i++) {
    if (usesExprs) readExpr(r);
    else r.u32();
  }
  return { mode, table, offset, elemType, count, pos };
}

function readData(r: Reader): DataSegment {
  const pos = r.pos;
  const flags = r.u32();
  if (flags > 2) r.fail(`malformed data segment flags ${flags}`, pos);
  const memory = flags === 2 ? r.u32() : 0;
  const offset = flags === 1 ? null : readExpr(r);
  const n = r.u32();
  return { mode: flags === 1 ? "passive" : "active", memory, offset, bytes: r.take(n), pos };
}

/** Function names from the "name" custom section; a malformed name section is ignored (spec §7.4). */
function readNames(r: Reader, names: Map<number, string>): void {
  try {
    while (!r.done) {
      const id = r.u8();
      const size = r.u32();
      const end = r.pos + size;
      if (end > r.end) r.fail("name subsection exceeds the section");
      if (id === 1) {
        const sub = new Reader(r.bytes, r.pos, end, r.file, r.where);
        const found = new Map<number, string>();
        for (let i = sub.count(); i > 0; i--) {
          const index = sub.u32();
          found.set(index, sub.name());
        }
        for (const [k, v] of found) names.set(k, v);
      }
      r.pos = end;
    }
  } catch (e) {
    if (!(e instanceof WasmDecodeError)) throw e;
  }
}

/**
 * Decodes a module. Throws WasmDecodeError on a malformed binary or on an instruction outside
 * what this decoder knows (exception handling, GC, typed function references).
 */
export function decodeModule(bytes: Uint8Array, file = "module"): WasmModule {
  const r = new Reader(bytes, 0, bytes.length, file, "");
  if (bytes.length < 8) r.fail("not a WebAssembly module (too short)", 0);
  if (bytes[0] !== 0x00 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d)
    r.fail("not a WebAssembly module (bad magic number)", 0);
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0)
    r.fail("unsupported WebAssembly version (expected 1)", 4);
  r.pos = 8;

  const mod: WasmModule = {
    file,
    types: [],
    imports: [],
    importedFunctions: 0,
    functions: [],
    tables: [],
    memories: [],
    globals: [],
    exports: [],
    start: null,
    elements: [],
    dataCount: null,
    codes: [],
    data: [],
    functionNames: new Map(),
    customSections: [],
  };
  let lastRank = 0;
  let sawCode = false;
  let nameSection: Reader | null = null;

  while (!r.done) {
    const sectionPos = r.pos;
    const id = r.u8();
    const size = r.u32();
    const start = r.pos;
    if (size > r.end - start) r.fail(`section ${id} size ${size} exceeds the module`, sectionPos);
    const label = SECTION_NAMES[id];
    if (label === undefined) r.fail(`unknown section id ${id}`, sectionPos);
    const s = new Reader(bytes, start, start + size, file, `${label} section`);
    r.pos = start + size;
    if (id === 0) {
      const name = s.name();
      mod.customSections.push({ name, pos: sectionPos, size });
      if (name === "name") nameSection = s;
      continue;
    }
    const rank = SECTION_RANK[id];
    if (rank <= lastRank) s.fail("section out of order or duplicated", sectionPos);
    lastRank = rank;
    switch (id) {
      case 1:
        for (let i = s.count(); i > 0; i--) {
          const at = s.pos;
          const form = s.u8();
          if (form !== 0x60) s.fail(`unsupported type form 0x${form.toString(16)} (only function types)`, at);
          const params: number[] = [];
          for (let j = s.count(); j > 0; j--) params.push(s.valType());
          const results: number[] = [];
          for (let j = s.count(); j > 0; j--) results.push(s.valType());
          mod.types.push({ params, results });
        }
        break;
      case 2:
        for (let i = s.count(); i > 0; i--) {
          const pos = s.pos;
          const module = s.name();
          const name = s.name();
          const kind = externKind(s);
          const base = { module, name, pos };
          if (kind === "func") {
            mod.imports.push({ ...base, kind, typeIndex: s.u32() });
            mod.importedFunctions++;
          } else if (kind === "table") mod.imports.push({ ...base, kind, table: tableType(s) });
          else if (kind === "memory") mod.imports.push({ ...base, kind, limits: s.limits() });
          else if (kind === "global") mod.imports.push({ ...base, kind, global: globalType(s) });
          else {
            const at = s.pos;
            if (s.u8() !== 0) s.fail("malformed tag attribute", at);
            mod.imports.push({ ...base, kind, typeIndex: s.u32() });
          }
        }
        break;
      case 3:
        for (let i = s.count(); i > 0; i--) mod.functions.push(s.u32());
        break;
      case 4:
        for (let i = s.count(); i > 0; i--) mod.tables.push(tableType(s));
        break;
      case 5:
        for (let i = s.count(); i > 0; i--) mod.memories.push(s.limits());
        break;
      case 6:
        for (let i = s.count(); i > 0; i--) {
          const pos = s.pos;
          const type = globalType(s);
          mod.globals.push({ type, init: readExpr(s), pos });
        }
        break;
      case 7:
        for (let i = s.count(); i > 0; i--) {
          const pos = s.pos;
          const name = s.name();
          const kind = externKind(s);
          mod.exports.push({ name, kind, index: s.u32(), pos });
        }
        break;
      case 8:
        mod.start = { pos: s.pos, index: s.u32() };
        break;
      case 9:
        for (let i = s.count(); i > 0; i--) mod.elements.push(readElement(s));
        break;
      case 10: {
        sawCode = true;
        const n = s.count();
        if (n !== mod.functions.length)
          s.fail(`${n} function bodies but ${mod.functions.length} functions declared`, start);
        for (let i = 0; i < n; i++) {
          const at = s.pos;
          const bodySize = s.u32();
          const pos = s.pos;
          if (bodySize > s.end - pos) s.fail(`function body ${i} exceeds the code section`, at);
          s.pos = pos + bodySize;
          mod.codes.push({ locals: [], body: [], pos, end: pos + bodySize });
        }
        break;
      }
      case 11: {
        const n = s.count();
        if (mod.dataCount !== null && n !== mod.dataCount)
          s.fail(`${n} data segments but the datacount section says ${mod.dataCount}`, start);
        for (let i = 0; i < n; i++) mod.data.push(readData(s));
        break;
      }
      case 12:
        mod.dataCount = s.u32();
        break;
      case 13:
        s.fail("tag section (exception handling) is not supported", sectionPos);
    }
    if (s.pos !== s.end) s.fail("section size mismatch (bytes left over)");
  }
  if (!sawCode && mod.functions.length > 0)
    r.fail(`${mod.functions.length} functions declared but no code section`, bytes.length);
  if (mod.dataCount !== null && mod.dataCount !== mod.data.length)
    r.fail(
      `datacount section says ${mod.dataCount} data segments but there are ${mod.data.length}`,
      bytes.length,
    );

  if (nameSection !== null) readNames(nameSection, mod.functionNames);

  // Bodies last, so that errors can name the function.
  for (let i = 0; i < mod.codes.length; i++) {
    const code = mod.codes[i];
    const index = mod.importedFunctions + i;
    const b = new Reader(bytes, code.pos, code.end, file, describeFunction(mod, index));
    let declared = 0;
    for (let j = b.count(); j > 0; j--) {
      const at = b.pos;
      const count = b.u32();
      declared += count;
      if (declared > MAX_DECLARED_LOCALS) b.fail(`more than ${MAX_DECLARED_LOCALS} locals`, at);
      code.locals.push({ count, type: b.valType() });
    }
    code.body = readExpr(b);
    if (!b.done) b.fail("function body continues after its final end");
  }
  return mod;
}
