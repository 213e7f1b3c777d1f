// The decoded module: value types and the structures decodeModule returns.

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

export function isValTypeByte(b: number): boolean {
  return b === 0x7f || b === 0x7e || b === 0x7d || b === 0x7c || b === 0x7b || b === 0x70 || b === 0x6f;
}

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

/** "function 12 ($name)" when the module names the function, else "function 12". */
export function describeFunction(mod: Pick<WasmModule, "functionNames">, index: number): string {
  const name = mod.functionNames.get(index);
  return name === undefined ? `function ${index}` : `function ${index} ($${name})`;
}
