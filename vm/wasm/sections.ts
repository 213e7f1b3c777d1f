// The section decoders: one case per known section id, plus the element, data, name and code-body
// encodings. Section framing and order are checked by decodeModule (decode.ts).
import { WasmDecodeError } from "./error.js";
import { readExpr } from "./instructions.js";
import { Reader } from "./reader.js";
import {
  type Code,
  type DataSegment,
  type ElementSegment,
  type ExternKind,
  type GlobalType,
  type TableType,
  ValType,
  type WasmModule,
} from "./types.js";

export const SECTION_NAMES: Record<number, string> = {
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
export const SECTION_RANK: Record<number, number> = {
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
export function readNames(r: Reader, names: Map<number, string>): void {
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

/** Decodes the contents of non-custom section `id` (framing and order already checked) into `mod`. */
export function readSection(s: Reader, id: number, mod: WasmModule, sectionPos: number): void {
  const start = s.pos;
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
}

/** A function body: its local declarations, then its expression, which must fill the body. */
export function readCodeBody(b: Reader, code: Code): void {
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
