// The WASM loader: decodes a module (vm/wasm/decode.ts), validates it as a WASM validator would for
// the VM's integer subset, and flattens structured control flow into the flat instruction list of
// vm/isa.ts. Anything outside the subset (floats, SIMD, bulk memory, tables/call_indirect, imports,
// data segments, start functions, multi-value...) is rejected with a message naming the construct,
// the function and the byte offset.
//
// Flattening uses the validator's operand stack heights: a branch to a label keeps the label's
// arity (`keep`) and drops everything above the label's entry height (`drop`), so the VM never needs
// a block stack. Block ends are patched once their pc is known; calls are patched once every
// function's entry pc is known.

import { UserError } from "../errors/index.js";
import {
  Ctl,
  type FunctionInfo,
  type Instr,
  isFloatNumeric,
  LIMITS,
  NUMERIC_FIRST,
  NUMERIC_LAST,
  numericPops,
  type Program,
  packBr,
  packCall,
  Wasm,
} from "./isa.js";
import {
  type BlockType,
  decodeModule,
  describeFunction,
  describeOpcode,
  type FuncType,
  type Instruction,
  ValType,
  valTypeName,
  type WasmModule,
} from "./wasm/decode.js";

/** A WASM module that is invalid or outside the VM's subset. */
export class LoadError extends UserError {
  override readonly kind: string = "wasm";
}

const I32 = ValType.I32;
const I64 = ValType.I64;
/** Operand of unknown type (popped from the polymorphic stack of unreachable code). */
const ANY = 0;

const MAX_LOCALS = 2 ** LIMITS.LOCALS_DEPTH;
const MAX_GLOBALS = 2 ** LIMITS.GLOBALS_DEPTH;
/** packCall gives the parameter and result counts 8 bits, packBr gives `drop` 16 bits. */
const MAX_PARAMS = 0xff;
/** A step proof counts its popped values in one byte: BR_IF pops 1 + drop + keep ≤ 255. */
const MAX_DROP_KEEP = 254;

function isInt(t: number): boolean {
  return t === I32 || t === I64;
}

function typeName(t: number): string {
  return t === ANY ? "nothing" : valTypeName(t);
}

function signature(t: FuncType): string {
  const list = (ts: number[]) => `[${ts.map(valTypeName).join(" ")}]`;
  return `${list(t.params)} -> ${list(t.results)}`;
}

/** Operand and result types of an accepted numeric op (all operands have the same type). */
function numericTypes(op: number): { arg: number; result: number } {
  if (op <= 0x4f) return { arg: I32, result: I32 }; // i32.eqz, i32 comparisons
  if (op <= 0x5a) return { arg: I64, result: I32 }; // i64.eqz, i64 comparisons
  if (op >= 0x67 && op <= 0x78) return { arg: I32, result: I32 };
  if (op >= 0x79 && op <= 0x8a) return { arg: I64, result: I64 };
  if (op === 0xa7) return { arg: I64, result: I32 }; // i32.wrap_i64
  if (op === 0xac || op === 0xad) return { arg: I32, result: I64 }; // i64.extend_i32_s/u
  if (op === 0xc0 || op === 0xc1) return { arg: I32, result: I32 }; // i32.extend8_s/16_s
  return { arg: I64, result: I64 }; // i64.extend8_s/16_s/32_s
}

/** Value type and access width in bytes of the integer loads (0x28..0x35) and stores (0x36..0x3e). */
const MEMORY_OPS = new Map<number, { type: number; bytes: number; store: boolean }>([
  [0x28, { type: I32, bytes: 4, store: false }],
  [0x29, { type: I64, bytes: 8, store: false }],
  [0x2c, { type: I32, bytes: 1, store: false }],
  [0x2d, { type: I32, bytes: 1, store: false }],
  [0x2e, { type: I32, bytes: 2, store: false }],
  [0x2f, { type: I32, bytes: 2, store: false }],
  [0x30, { type: I64, bytes: 1, store: false }],
  [0x31, { type: I64, bytes: 1, store: false }],
  [0x32, { type: I64, bytes: 2, store: false }],
  [0x33, { type: I64, bytes: 2, store: false }],
  [0x34, { type: I64, bytes: 4, store: false }],
  [0x35, { type: I64, bytes: 4, store: false }],
  [0x36, { type: I32, bytes: 4, store: true }],
  [0x37, { type: I64, bytes: 8, store: true }],
  [0x3a, { type: I32, bytes: 1, store: true }],
  [0x3b, { type: I32, bytes: 2, store: true }],
  [0x3c, { type: I64, bytes: 1, store: true }],
  [0x3d, { type: I64, bytes: 2, store: true }],
  [0x3e, { type: I64, bytes: 4, store: true }],
]);

interface Frame {
  kind: "block" | "loop" | "if" | "else" | "func";
  /** Types the frame leaves on the stack at its end. */
  results: number[];
  /** Operand stack height at entry. */
  height: number;
  unreachable: boolean;
  /** Loops: the branch target (first instruction of the body). */
  startPc: number;
  /** pcs of branches to this frame's end, whose target field is filled in at `end`. */
  patches: number[];
  /** `if`: pc of its BR_UNLESS until the else branch or the end is reached. */
  ifPc: number;
}

interface ModuleContext {
  mod: WasmModule;
  file: string;
  code: Instr[];
  /** Signature of each function (by function index). */
  funcTypes: FuncType[];
  infos: FunctionInfo[];
  globalTypes: { type: number; mutable: boolean }[];
  hasMemory: boolean;
  callPatches: { pc: number; callee: number }[];
}

function blockResults(ctx: ModuleContext, bt: BlockType, fail: (msg: string) => never): number[] {
  if (bt.kind === "empty") return [];
  if (bt.kind === "value") {
    if (!isInt(bt.type)) fail(`block type ${valTypeName(bt.type)} is not supported (only i32 and i64)`);
    return [bt.type];
  }
  const t = ctx.mod.types[bt.index];
  if (t === undefined) fail(`unknown block type index ${bt.index}`);
  if (t.params.length > 0 || t.results.length > 1)
    fail(`multi-value block type ${signature(t)} (type ${bt.index}) is not supported`);
  for (const r of t.results)
    if (!isInt(r)) fail(`block type ${valTypeName(r)} is not supported (only i32 and i64)`);
  return t.results.slice();
}

/** Validates function `index` (a defined function) and appends its flat code to ctx.code. */
function compileFunction(ctx: ModuleContext, index: number, body: Instruction[], locals: number[]): void {
  const { code, file } = ctx;
  const info = ctx.infos[index];
  const type = ctx.funcTypes[index];
  const where = describeFunction(ctx.mod, index);
  info.entryPc = code.length;

  let ins: Instruction = body[0];
  const fail = (msg: string): never => {
    throw new LoadError(`${file}: ${where}: ${msg} at byte 0x${ins.pos.toString(16)}`);
  };

  const vals: number[] = [];
  const ctrls: Frame[] = [];
  const pushFrame = (kind: Frame["kind"], results: number[], ifPc = -1) => {
    ctrls.push({
      kind,
      results,
      height: vals.length,
      unreachable: false,
      startPc: code.length,
      patches: [],
      ifPc,
    });
  };
  const popAny = (): number => {
    const f = ctrls[ctrls.length - 1];
    if (vals.length === f.height) {
      if (f.unreachable) return ANY;
      fail(`${describeOpcode(ins.op)} needs an operand but the stack is empty`);
    }
    return vals.pop()!;
  };
  const pop = (expect: number): number => {
    const t = popAny();
    if (t !== expect && t !== ANY)
      fail(`type mismatch in ${describeOpcode(ins.op)}: expected ${typeName(expect)}, found ${typeName(t)}`);
    return expect;
  };
  const popVals = (ts: number[]) => {
    for (let i = ts.length - 1; i >= 0; i--) pop(ts[i]);
  };
  const pushVals = (ts: number[]) => {
    for (const t of ts) vals.push(t);
  };
  const setUnreachable = () => {
    const f = ctrls[ctrls.length - 1];
    vals.length = f.height;
    f.unreachable = true;
  };
  /** Checks the stack at the end of a frame (or of a then-branch): exactly the frame's results. */
  const checkFrameEnd = (f: Frame) => {
    popVals(f.results);
    if (vals.length !== f.height)
      fail(`type mismatch: ${vals.length - f.height} value(s) left on the stack at the end of the block`);
  };
  const labelTypes = (f: Frame): number[] => (f.kind === "loop" ? [] : f.results);
  const frameAt = (depth: number): Frame => {
    if (depth >= ctrls.length) fail(`branch depth ${depth} out of range (${ctrls.length} enclosing labels)`);
    return ctrls[ctrls.length - 1 - depth];
  };
  const emit = (op: number, arg: bigint = 0n) => {
    code.push({ op, arg });
  };
  /** Emits a BR/BR_IF to label `depth`; `height` is the operand stack height at the branch. */
  const emitBranch = (op: number, depth: number, height: number) => {
    const target = frameAt(depth);
    const keep = labelTypes(target).length;
    const drop = height - target.height - keep;
    if (drop < 0) throw new Error(`loader bug: negative drop in ${where}`);
    if (drop + keep > MAX_DROP_KEEP) {
      fail(
        `branch moves ${drop + keep} stack values (at most ${MAX_DROP_KEEP}: a step proof counts them in one byte)`,
      );
    }
    if (target.kind === "loop") emit(op, packBr(target.startPc, drop, keep));
    else {
      target.patches.push(code.length);
      emit(op, packBr(0, drop, keep));
    }
  };
  const memoryOp = () => {
    if (!ctx.hasMemory) fail(`${describeOpcode(ins.op)} but the module has no memory`);
  };

  pushFrame("func", type.results.slice());
  for (let i = 0; i < body.length; i++) {
    ins = body[i];
    const op = ins.op;
    const cur = ctrls[ctrls.length - 1];
    switch (op) {
      case 0x00: // unreachable
        emit(Wasm.UNREACHABLE);
        setUnreachable();
        break;
      case 0x01: // nop
        emit(Wasm.NOP);
        break;
      case 0x02: // block
      case 0x03: // loop
      case 0x04: {
        // if
        if (ins.imm !== "block") throw new Error("decoder bug: block without block type");
        const results = blockResults(ctx, ins.blockType, fail);
        if (op === 0x04) {
          pop(I32);
          pushFrame("if", results, code.length);
          emit(Ctl.BR_UNLESS); // target patched at else/end
        } else pushFrame(op === 0x02 ? "block" : "loop", results);
        break;
      }
      case 0x05: {
        // else: the then-branch ends with a jump over the else-branch
        if (cur.kind !== "if") fail("else without a matching if");
        checkFrameEnd(cur);
        cur.patches.push(code.length);
        emit(Ctl.BR, packBr(0, 0, 0));
        code[cur.ifPc].arg = BigInt(code.length);
        cur.ifPc = -1;
        cur.kind = "else";
        cur.unreachable = false;
        break;
      }
      case 0x0b: {
        // end
        checkFrameEnd(cur);
        if (cur.kind === "if") {
          if (cur.results.length > 0) fail("if with a result but no else branch");
          code[cur.ifPc].arg = BigInt(code.length);
        }
        ctrls.pop();
        const endPc = code.length;
        for (const pc of cur.patches) code[pc].arg |= BigInt(endPc);
        if (cur.kind === "func") {
          emit(Wasm.RETURN, BigInt(cur.results.length));
          if (i !== body.length - 1) fail("instructions after the function's final end");
        } else pushVals(cur.results);
        break;
      }
      case 0x0c: {
        // br
        if (ins.imm !== "index") throw new Error("decoder bug");
        const target = frameAt(ins.index);
        const height = vals.length;
        popVals(labelTypes(target));
        if (cur.unreachable) emit(Wasm.UNREACHABLE);
        else if (target.kind === "func") emit(Wasm.RETURN, BigInt(target.results.length));
        else emitBranch(Ctl.BR, ins.index, height);
        setUnreachable();
        break;
      }
      case 0x0d: {
        // br_if: the condition is popped before drop/keep apply
        if (ins.imm !== "index") throw new Error("decoder bug");
        pop(I32);
        const target = frameAt(ins.index);
        const height = vals.length;
        const ts = labelTypes(target);
        popVals(ts);
        pushVals(ts);
        if (cur.unreachable) emit(Wasm.UNREACHABLE);
        else emitBranch(Ctl.BR_IF, ins.index, height);
        break;
      }
      case 0x0e: {
        // br_table
        if (ins.imm !== "br_table") throw new Error("decoder bug");
        pop(I32);
        const height = vals.length;
        const arity = labelTypes(frameAt(ins.defaultLabel)).length;
        for (const l of ins.labels) {
          const ts = labelTypes(frameAt(l));
          if (ts.length !== arity)
            fail(`br_table targets have different arities (label ${l}: ${ts.length}, default: ${arity})`);
          popVals(ts);
          pushVals(ts);
        }
        popVals(labelTypes(frameAt(ins.defaultLabel)));
        if (cur.unreachable) emit(Wasm.UNREACHABLE);
        else {
          emit(Ctl.BR_TABLE, BigInt(ins.labels.length));
          for (const l of ins.labels) emitBranch(Ctl.BR, l, height);
          emitBranch(Ctl.BR, ins.defaultLabel, height);
        }
        setUnreachable();
        break;
      }
      case 0x0f: // return
        popVals(type.results);
        emit(Wasm.RETURN, BigInt(type.results.length));
        setUnreachable();
        break;
      case 0x10: {
        // call
        if (ins.imm !== "index") throw new Error("decoder bug");
        const callee = ctx.funcTypes[ins.index];
        if (callee === undefined) fail(`call to unknown function ${ins.index}`);
        popVals(callee.params);
        pushVals(callee.results);
        ctx.callPatches.push({ pc: code.length, callee: ins.index });
        emit(Wasm.CALL);
        break;
      }
      case 0x1a: // drop
        popAny();
        emit(Wasm.DROP);
        break;
      case 0x1b: {
        // select (untyped)
        pop(I32);
        const t1 = popAny();
        const t2 = popAny();
        if (t1 !== ANY && t2 !== ANY && t1 !== t2)
          fail(`type mismatch in select: operands are ${typeName(t2)} and ${typeName(t1)}`);
        vals.push(t1 === ANY ? t2 : t1);
        emit(Wasm.SELECT);
        break;
      }
      case 0x20: // local.get
      case 0x21: // local.set
      case 0x22: {
        // local.tee
        if (ins.imm !== "index") throw new Error("decoder bug");
        const t = locals[ins.index];
        if (t === undefined) fail(`local index ${ins.index} out of range (${locals.length} locals)`);
        if (op === 0x20) vals.push(t);
        else {
          pop(t);
          if (op === 0x22) vals.push(t);
        }
        emit(op, BigInt(ins.index));
        break;
      }
      case 0x23: // global.get
      case 0x24: {
        // global.set
        if (ins.imm !== "index") throw new Error("decoder bug");
        const g = ctx.globalTypes[ins.index];
        if (g === undefined)
          fail(`global index ${ins.index} out of range (${ctx.globalTypes.length} globals)`);
        if (op === 0x23) vals.push(g.type);
        else {
          if (!g.mutable) fail(`global.set of immutable global ${ins.index}`);
          pop(g.type);
        }
        emit(op, BigInt(ins.index));
        break;
      }
      case 0x3f: // memory.size
      case 0x40: {
        // memory.grow
        if (ins.imm !== "index") throw new Error("decoder bug");
        memoryOp();
        if (ins.index !== 0)
          fail(`${describeOpcode(op)} of memory ${ins.index}: multiple memories are not supported`);
        if (op === 0x40) pop(I32);
        vals.push(I32);
        emit(op);
        break;
      }
      case 0x41: // i32.const
        if (ins.imm !== "i32") throw new Error("decoder bug");
        vals.push(I32);
        emit(op, BigInt(ins.value >>> 0));
        break;
      case 0x42: // i64.const
        if (ins.imm !== "i64") throw new Error("decoder bug");
        vals.push(I64);
        emit(op, BigInt.asUintN(64, ins.value));
        break;
      default: {
        const mem = MEMORY_OPS.get(op);
        if (mem !== undefined) {
          if (ins.imm !== "memarg") throw new Error("decoder bug");
          memoryOp();
          const { align, memory, offset } = ins.memarg;
          if (memory !== 0)
            fail(`${describeOpcode(op)} of memory ${memory}: multiple memories are not supported`);
          if (2 ** align > mem.bytes)
            fail(`${describeOpcode(op)}: alignment 2^${align} exceeds the natural alignment ${mem.bytes}`);
          if (offset > 0xffffffffn) fail(`${describeOpcode(op)}: offset ${offset} exceeds 32 bits`);
          if (mem.store) {
            pop(mem.type);
            pop(I32);
          } else {
            pop(I32);
            vals.push(mem.type);
          }
          emit(op, offset);
          break;
        }
        if (op >= NUMERIC_FIRST && op <= NUMERIC_LAST && !isFloatNumeric(op)) {
          const { arg, result } = numericTypes(op);
          pop(arg);
          if (numericPops(op) === 2) pop(arg);
          vals.push(result);
          emit(op);
          break;
        }
        if (op === 0x1c)
          fail("unsupported instruction typed select (0x1c); only the untyped select (0x1b) is");
        fail(`unsupported instruction ${describeOpcode(op)}`);
      }
    }
  }
  if (ctrls.length !== 0) fail("function body ends inside a block");
}

/**
 * Loads a WASM module into a flat VM program. `file` names the module in error messages.
 * Throws WasmDecodeError for a malformed binary and LoadError for an invalid module or one outside
 * the VM's subset.
 */
export function loadProgram(bytes: Uint8Array, file = "module"): Program {
  const mod = decodeModule(bytes, file);
  const fail = (msg: string, pos?: number): never => {
    throw new LoadError(`${file}: ${msg}${pos === undefined ? "" : ` at byte 0x${pos.toString(16)}`}`);
  };

  // Imports: the VM has no host, so a module must be self-contained.
  let importedFuncs = 0;
  for (const imp of mod.imports) {
    const what = imp.kind === "func" ? describeFunction(mod, importedFuncs++) : imp.kind;
    fail(
      `import "${imp.module}"."${imp.name}" (${what}) is not supported: the module must not import anything`,
      imp.pos,
    );
  }

  // Memory.
  if (mod.memories.length > 1) fail(`${mod.memories.length} memories: multiple memories are not supported`);
  const mem = mod.memories[0];
  if (mem !== undefined) {
    if (mem.shared) fail("shared memory (threads) is not supported");
    if (mem.index64) fail("64-bit memory (memory64) is not supported");
    if (mem.min > LIMITS.MAX_PAGES) fail(`memory of ${mem.min} pages exceeds ${LIMITS.MAX_PAGES} pages`);
    if (mem.max !== null && mem.max > LIMITS.MAX_PAGES)
      fail(`memory maximum of ${mem.max} pages exceeds ${LIMITS.MAX_PAGES} pages`);
    if (mem.max !== null && mem.max < mem.min)
      fail(`memory maximum ${mem.max} is below its minimum ${mem.min}`);
  }

  // Globals: i32/i64 with a constant initializer.
  if (mod.globals.length > MAX_GLOBALS)
    fail(`${mod.globals.length} globals: at most ${MAX_GLOBALS} are supported (LIMITS.GLOBALS_DEPTH)`);
  const globals: bigint[] = [];
  mod.globals.forEach((g, i) => {
    const t = g.type.type;
    if (!isInt(t)) fail(`global ${i} has type ${valTypeName(t)}; only i32 and i64 are supported`, g.pos);
    const [c, end] = g.init;
    const ok = g.init.length === 2 && end.op === 0x0b;
    if (ok && t === I32 && c.imm === "i32") globals.push(BigInt(c.value >>> 0));
    else if (ok && t === I64 && c.imm === "i64") globals.push(BigInt.asUintN(64, c.value));
    else
      fail(
        `global ${i}: initializer must be a single ${valTypeName(t)}.const (found ${g.init.map((x) => describeOpcode(x.op)).join(", ")})`,
        g.pos,
      );
  });

  // Function signatures and locals.
  const funcTypes: FuncType[] = [];
  const localTypes: number[][] = [];
  const infos: FunctionInfo[] = [];
  mod.functions.forEach((typeIndex, index) => {
    const where = describeFunction(mod, index);
    const pos = mod.codes[index].pos;
    const t = mod.types[typeIndex];
    if (t === undefined) fail(`${where}: unknown type index ${typeIndex}`, pos);
    t.params.forEach((p, j) => {
      if (!isInt(p))
        fail(`${where}: parameter ${j} has type ${valTypeName(p)}; only i32 and i64 are supported`, pos);
    });
    for (const r of t.results)
      if (!isInt(r)) fail(`${where}: result type ${valTypeName(r)} is not supported (only i32 and i64)`, pos);
    if (t.results.length > 1)
      fail(`${where}: ${t.results.length} results (multi-value) are not supported`, pos);
    if (t.params.length > MAX_PARAMS)
      fail(`${where}: ${t.params.length} parameters (at most ${MAX_PARAMS})`, pos);
    const ls = t.params.slice();
    for (const decl of mod.codes[index].locals) {
      if (!isInt(decl.type))
        fail(
          `${where}: local ${ls.length} has type ${valTypeName(decl.type)}; only i32 and i64 are supported`,
          pos,
        );
      if (ls.length + decl.count > MAX_LOCALS) break;
      for (let k = 0; k < decl.count; k++) ls.push(decl.type);
    }
    const nLocals = t.params.length + mod.codes[index].locals.reduce((s, d) => s + d.count, 0);
    if (nLocals > MAX_LOCALS)
      fail(
        `${where}: ${nLocals} locals (params included); at most ${MAX_LOCALS} are supported (LIMITS.LOCALS_DEPTH)`,
        pos,
      );
    funcTypes.push(t);
    localTypes.push(ls);
    infos.push({
      index,
      name: mod.functionNames.get(index) ?? `func${index}`,
      entryPc: 0,
      nParams: t.params.length,
      nLocals,
      nResults: t.results.length,
    });
  });

  // Bodies.
  const ctx: ModuleContext = {
    mod,
    file,
    code: [],
    funcTypes,
    infos,
    globalTypes: mod.globals.map((g) => g.type),
    hasMemory: mem !== undefined,
    callPatches: [],
  };
  for (let i = 0; i < mod.functions.length; i++) compileFunction(ctx, i, mod.codes[i].body, localTypes[i]);
  for (const { pc, callee } of ctx.callPatches) {
    const f = infos[callee];
    ctx.code[pc].arg = packCall(f.entryPc, f.nParams, f.nLocals, f.nResults);
  }

  // Types no function uses must still be in the subset.
  mod.types.forEach((t, i) => {
    for (const v of [...t.params, ...t.results])
      if (!isInt(v)) fail(`type ${i} ${signature(t)}: ${valTypeName(v)} is not supported (only i32 and i64)`);
  });

  // Module-level constructs the VM does not have.
  if (mod.tables.length > 0) fail("tables are not supported (the VM has no call_indirect)");
  mod.elements.forEach((e, i) => {
    fail(`element segment ${i} (${e.mode}) is not supported (the VM has no tables)`, e.pos);
  });
  mod.data.forEach((d, i) => {
    fail(
      `data segment ${i} (${d.mode}, ${d.bytes.length} bytes) is not supported: memory must start zeroed; initialize it through the kernel ABI instead`,
      d.pos,
    );
  });
  if (mod.start !== null)
    fail(`start function (${describeFunction(mod, mod.start.index)}) is not supported`, mod.start.pos);

  // Exports.
  const exports: Record<string, number> = Object.create(null);
  const seen = new Set<string>();
  for (const e of mod.exports) {
    if (seen.has(e.name)) fail(`duplicate export name "${e.name}"`, e.pos);
    seen.add(e.name);
    if (e.kind === "table" || e.kind === "tag")
      fail(`export "${e.name}" of a ${e.kind} is not supported`, e.pos);
    const count =
      e.kind === "func" ? infos.length : e.kind === "memory" ? mod.memories.length : mod.globals.length;
    if (e.index >= count) fail(`export "${e.name}" refers to unknown ${e.kind} ${e.index}`, e.pos);
    if (e.kind === "func") exports[e.name] = e.index;
  }

  const maxPages = mem === undefined ? 0 : (mem.max ?? LIMITS.MAX_PAGES);
  // memory.grow carries the module's maximum (in pages) so one step can check it.
  const growArg = BigInt(maxPages);
  for (const ins of ctx.code) if (ins.op === Wasm.MEMORY_GROW) ins.arg = growArg;
  return {
    code: ctx.code,
    functions: infos,
    globals,
    memoryPages: mem?.min ?? 0,
    maxPages,
    exports,
  };
}
