// A small, strict decoder for the WebAssembly binary format (MVP structure plus the instruction
// encodings of WASM 2.0: reference types, bulk memory, saturating truncation, sign extension and
// SIMD, and the threads proposal). It checks the binary encoding only (LEB128 ranges, section order
// and sizes, expression nesting); semantic validation is the loader's job (vm/loader.ts), which is
// also where everything outside the VM's integer subset is rejected. Errors name the file, the
// place (section, or function index and name) and the byte offset.
// This file is the façade: decodeModule here, the parts in the files beside it.
import { Reader } from "./reader.js";
import { readCodeBody, readNames, readSection, SECTION_NAMES, SECTION_RANK } from "./sections.js";
import { describeFunction, type WasmModule } from "./types.js";

export { WasmDecodeError } from "./error.js";
export {
  describeOpcode,
  opcodeHex,
  opcodeName,
  PREFIX_GC,
  PREFIX_MISC,
  PREFIX_SIMD,
  PREFIX_THREADS,
  prefixedOp,
} from "./opcodes.js";
export type {
  BlockType,
  Code,
  DataSegment,
  ElementSegment,
  Export,
  ExternKind,
  FuncType,
  Global,
  GlobalType,
  Import,
  Instruction,
  Limits,
  LocalDecl,
  MemArg,
  TableType,
} from "./types.js";
export { describeFunction, ValType, valTypeName, type WasmModule } from "./types.js";

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
    if (id === 10) sawCode = true;
    readSection(s, id, mod, sectionPos);
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
    readCodeBody(new Reader(bytes, code.pos, code.end, file, describeFunction(mod, index)), code);
  }
  return mod;
}
