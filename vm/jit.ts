// The block compiler: the flat program (vm/loader.ts) turned into JavaScript, one function ("unit")
// per run of about UNIT_SIZE instructions of one WASM function, a switch over its basic blocks,
// generated on first entry and cached per LoadedProgram. It reaches the same state as the
// interpreter (vm/machine.ts `run`, the proving reference) after exactly the same number of steps,
// and only runs forward: proofs, the verifiers and every single step stay on the interpreter.
//
// How it stays exact:
//  - A basic block starts at a leader (a function entry, a branch target, the instruction after a
//    branch, a call or a return) and ends before the next one; its step count is its length. A
//    block is entered only when the steps left cover all of it, else the interpreter runs the rest,
//    so a run stops at any step the caller asks for.
//  - Inside a block the value stack lives in JS constants and is written back to the machine's
//    typed arrays when the block ends; locals live in JS variables while a unit runs and are written
//    back when it leaves. Memory, globals and the write tracking (`wrote` before the bytes change,
//    `touch` after, as the interpreter does) are updated in place, in program order.
//  - Anything that could trap (an out-of-bounds access, a division by zero or overflow) is checked
//    first; on a hit the state as it stood before that instruction is written back and the
//    interpreter executes it, so a trap happens at the same step with the same state. CALL, RETURN,
//    memory.grow and unreachable are always left to the interpreter (single-instruction blocks).
import * as I64 from "./i64.js";
import { Ctl, numericPops, Wasm } from "./isa.js";
import type { LoadedProgram, Machine } from "./machine.js";
import { Status } from "./state.js";

type Unit = (m: Machine, pc: number, budget: number) => number;

/** The compiled form of one program. */
export interface CompiledProgram {
  /** Per pc: one past the last instruction of the block that holds it. */
  readonly blockEnd: Int32Array;
  /** Per pc: the unit (compiled function) whose block starts there, or -1. */
  readonly unitAt: Int32Array;
  readonly units: Unit[];
  /** Characters of source generated so far (units are generated on first entry). */
  sourceChars: number;
}

const cache = new WeakMap<LoadedProgram, CompiledProgram>();

/** The compiled program of `prog`, generated on first use. */
export function compiled(prog: LoadedProgram): CompiledProgram {
  let c = cache.get(prog);
  if (c === undefined) {
    c = compileProgram(prog);
    cache.set(prog, c);
  }
  return c;
}

/** Which engine `advance` uses: compiled blocks (default) or the interpreter alone. */
export type VmEngine = "blocks" | "interp";
let engine: VmEngine = process.env.OPML_VM === "interp" ? "interp" : "blocks";

/** Forces the interpreter ("interp") or the block compiler ("blocks") for every forward run. */
export function setVmEngine(e: VmEngine): void {
  engine = e;
}

export function vmEngine(): VmEngine {
  return engine;
}

/**
 * Runs `m` up to `n` steps forward like `m.run(n)`, with compiled blocks unless the interpreter is
 * forced (`setVmEngine("interp")`, OPML_VM=interp): the same state at every step either way.
 */
export function advance(m: Machine, n: number): number {
  return engine === "blocks" ? runBlocks(m, n) : m.run(n);
}

/**
 * Runs up to `n` steps (fewer if the machine halts or traps) with compiled blocks, the interpreter
 * finishing any block that does not fit. Returns the steps executed; the state is the one
 * `m.run(n)` would reach.
 */
export function runBlocks(m: Machine, n: number): number {
  const c = compiled(m.prog);
  const { blockEnd, unitAt, units } = c;
  let left = n;
  while (left > 0 && m.r.status === Status.RUNNING) {
    const pc = m.r.pc;
    const u = unitAt[pc];
    if (u >= 0 && blockEnd[pc] - pc <= left) {
      const used = units[u](m, pc, left);
      m.r.steps += used;
      left -= used;
      // No progress: the first block needs more stack or its first instruction traps.
      if (used === 0) left -= m.run(Math.min(left, blockEnd[pc] - pc));
    } else {
      // Off a block start (a side exit) or a block longer than the steps left: interpret to its end.
      left -= m.run(Math.min(left, blockEnd[m.r.pc] - m.r.pc));
    }
  }
  return n - left;
}

/** Steps of the rest of the block at the machine's pc (a compiled run of this many ends at its end). */
export function blockSteps(m: Machine): number {
  const pc = m.r.pc;
  const c = compiled(m.prog);
  return pc < c.blockEnd.length ? c.blockEnd[pc] - pc : 1;
}

// ---------- compilation ----------

/** Instructions left to the interpreter, each its own block. */
function interpreted(op: number): boolean {
  return op === Wasm.CALL || op === Wasm.RETURN || op === Wasm.MEMORY_GROW || op === Wasm.UNREACHABLE;
}

function isBranch(op: number): boolean {
  return op === Ctl.BR || op === Ctl.BR_IF || op === Ctl.BR_UNLESS || op === Ctl.BR_TABLE;
}

function compileProgram(P: LoadedProgram): CompiledProgram {
  const n = P.ops.length;
  const { ops, a: A } = P;
  const leader = new Uint8Array(n + 1);
  leader[n] = 1;
  for (const f of P.program.functions) leader[f.entryPc] = 1;
  for (let pc = 0; pc < n; pc++) {
    const op = ops[pc];
    if (op === Ctl.BR || op === Ctl.BR_IF || op === Ctl.BR_UNLESS) {
      if (A[pc] >= 0 && A[pc] < n) leader[A[pc]] = 1;
    }
    if (isBranch(op) || interpreted(op)) leader[pc + 1] = 1;
    if (interpreted(op)) leader[pc] = 1;
    if (op === Ctl.BR_TABLE) {
      const entries = (P.argLo[pc] >>> 0) + 1;
      for (let k = 1; k <= entries && pc + k <= n; k++) leader[pc + k] = 1;
    }
  }
  const blockEnd = new Int32Array(n);
  for (let pc = n - 1, end = n; pc >= 0; pc--) {
    blockEnd[pc] = end;
    if (leader[pc]) end = pc;
  }
  const unitAt = new Int32Array(n).fill(-1);
  const units: Unit[] = [];
  const out: CompiledProgram = { blockEnd, unitAt, units, sourceChars: 0 };
  // Where a unit may not start: inside a loop of at most UNIT_SIZE instructions (it stays whole in
  // one unit), and at a br_table's entries (the table jumps to them by block number).
  const noCut = new Uint8Array(n + 1);
  for (let pc = 0; pc < n; pc++) {
    const op = ops[pc];
    if ((op === Ctl.BR || op === Ctl.BR_IF) && A[pc] <= pc && pc - A[pc] < UNIT_SIZE)
      noCut.fill(1, A[pc] + 1, pc + 1);
    if (op === Ctl.BR_TABLE) noCut.fill(1, pc + 1, Math.min(n, pc + 2 + (P.argLo[pc] >>> 0)));
  }
  const fns = P.program.functions.slice().sort((x, y) => x.entryPc - y.entryPc);
  for (let i = 0; i < fns.length; i++) {
    const start = fns[i].entryPc;
    const end = i + 1 < fns.length ? fns[i + 1].entryPc : n;
    // Units of about UNIT_SIZE instructions: TurboFan's compile time grows faster than a function's
    // size, and a function of a thousand instructions would run unoptimized for seconds.
    let group: number[] = [];
    for (const pc of compiledBlocks(ops, start, end, blockEnd)) {
      if (group.length > 0 && !noCut[pc] && pc - group[0] >= UNIT_SIZE) {
        addUnit(group);
        group = [];
      }
      group.push(pc);
    }
    if (group.length > 0) addUnit(group);
  }
  return out;

  function addUnit(blocks: number[]): void {
    const u = units.length;
    for (const pc of blocks) unitAt[pc] = u;
    const first = blocks[0];
    // Generated on first entry: a node runs a few of the module's kernels.
    units.push((m, pc, budget) => {
      const body = compileUnit(P, first, blocks, blockEnd);
      out.sourceChars += body.length;
      const index = new Int32Array(blockEnd[blocks[blocks.length - 1]] - first).fill(-1);
      blocks.forEach((bpc, k) => {
        index[bpc - first] = k;
      });
      let unit: Unit;
      try {
        unit = new Function("X", "IDX", body)(HELPERS, index) as Unit;
      } catch (e) {
        // Code generation disallowed (--disallow-code-generation-from-strings): the interpreter
        // runs these blocks (a unit that makes no progress hands its block to it).
        if (!(e instanceof EvalError)) throw e;
        unit = () => 0;
      }
      units[u] = unit;
      return unit(m, pc, budget);
    });
  }
}

/** Instructions per compiled unit, about (a small loop is never split). */
const UNIT_SIZE = 160;

/** Starts of the compiled blocks of [start, end), in pc order (CALL, RETURN... stay interpreted). */
function compiledBlocks(ops: Int32Array, start: number, end: number, blockEnd: Int32Array): number[] {
  const blocks: number[] = [];
  for (let bs = start; bs < end; bs = blockEnd[bs]) if (!interpreted(ops[bs])) blocks.push(bs);
  return blocks;
}

/** A value on the compile-time stack: JS expressions (constants or literals) for its two halves. */
interface Item {
  lo: string;
  hi: string;
}

const HI = new Int32Array(1);
/** Slow-path numeric ops (rare ones): the low half returned, the high half left in HI[0]. */
function num(op: number, aHi: number, aLo: number, bHi: number, bLo: number): number {
  const lo = I64.exec64(op, aHi, aLo, bHi, bLo);
  HI[0] = I64.hi;
  return lo;
}
const HELPERS = { HI, num, ctz32: I64.ctz32, popcnt32: I64.popcnt32 };

const lit = (v: number): string => (v < 0 ? `(${v})` : `${v}`);

function compileUnit(P: LoadedProgram, start: number, blocks: number[], blockEnd: Int32Array): string {
  const { ops, argLo, argHi, a: A, b: B, c: C } = P;
  // Blocks are numbered densely in pc order (a switch over them compiles to a jump table).
  const idx = new Map(blocks.map((pc, k) => [pc, k]));
  /**
   * Continues at `target`: a block of this unit or back to the driver. As a case's last statement
   * (`from` = its block number) a jump to the next block falls through to its case: no dispatch.
   */
  const goto = (target: number, from = -2): string => {
    const k = idx.get(target);
    if (k === undefined) return `pc = ${target}; break x;`;
    return k === from + 1 ? "" : `b = ${k}; continue x;`;
  };
  const used = new Set<number>();
  const written = new Set<number>();
  let maxGrow = 0;
  const cases: string[] = [];
  let t = 0;

  for (const bs of blocks) {
    const be = blockEnd[bs];
    const len = be - bs;
    const self = idx.get(bs) as number;
    let grow = 0;
    const code: string[] = [];
    const vs: Item[] = [];
    let under = 0;
    const emit = (s: string) => code.push(s);
    const tmp = () => `t${t++}`;
    const pop = (): Item => {
      const v = vs.pop();
      if (v !== undefined) return v;
      under++;
      const x = tmp();
      emit(`const ${x} = sLo[sp - ${under}], ${x}h = sHi[sp - ${under}];`);
      return { lo: x, hi: `${x}h` };
    };
    const push = (lo: string, hi: string) => {
      vs.push({ lo, hi });
    };
    const push32 = (expr: string) => {
      const x = tmp();
      emit(`const ${x} = ${expr};`);
      push(x, "0");
    };
    const push64 = (lo: string, hi: string) => {
      const x = tmp();
      emit(`const ${x} = ${lo}, ${x}h = ${hi};`);
      push(x, `${x}h`);
    };
    /** Writes a compile-time stack back to the arrays and moves sp. */
    const flush = (items: Item[], und: number): string => {
      let s = "";
      items.forEach((it, i) => {
        s += `sLo[sp + ${i - und}] = ${it.lo}; sHi[sp + ${i - und}] = ${it.hi}; `;
      });
      if (items.length - und !== 0) s += `sp += ${items.length - und}; `;
      grow = Math.max(grow, items.length - und);
      return s;
    };
    /** Leaves before instruction `pc` (index i in the block): the interpreter executes it. */
    const sideExit = (pre: Item[], preUnder: number, pc: number, i: number): string =>
      `{ ${flush(pre, preUnder)}pc = ${pc}; budget += ${len - i}; break x; }`;
    /** Branch with drop/keep: the kept values move down over the dropped ones. */
    const branchTo = (items: Item[], und: number, target: number, drop: number, keep: number, from = -2) => {
      if (drop === 0) return `${flush(items, und)}${goto(target, from)}`;
      if (items.length >= drop + keep) {
        const kept = items.slice(0, items.length - drop - keep).concat(items.slice(items.length - keep));
        return `${flush(kept, und)}${goto(target, from)}`;
      }
      let s = flush(items, und);
      for (let k = 0; k < keep; k++)
        s += `sLo[sp - ${drop + keep - k}] = sLo[sp - ${keep - k}]; sHi[sp - ${drop + keep - k}] = sHi[sp - ${keep - k}]; `;
      return `${s}sp -= ${drop}; ${goto(target, from)}`;
    };

    let ended = false;
    for (let pc = bs; pc < be; pc++) {
      const i = pc - bs;
      const op = ops[pc];
      const pre = vs.slice();
      const preUnder = under;
      switch (op) {
        case Wasm.NOP:
          break;
        case Wasm.DROP:
          pop();
          break;
        case Wasm.SELECT: {
          const c = pop();
          const y = pop();
          const x = pop();
          push64(`${c.lo} !== 0 ? ${x.lo} : ${y.lo}`, `${c.lo} !== 0 ? ${x.hi} : ${y.hi}`);
          break;
        }
        case Wasm.LOCAL_GET: {
          const k = argLo[pc];
          used.add(k);
          push64(`l${k}`, `h${k}`);
          break;
        }
        case Wasm.LOCAL_SET:
        case Wasm.LOCAL_TEE: {
          const k = argLo[pc];
          used.add(k);
          written.add(k);
          const v = pop();
          emit(`l${k} = ${v.lo}; h${k} = ${v.hi};`);
          if (op === Wasm.LOCAL_TEE) push(v.lo, v.hi);
          break;
        }
        case Wasm.GLOBAL_GET:
          push64(`gLo[${argLo[pc]}]`, `gHi[${argLo[pc]}]`);
          break;
        case Wasm.GLOBAL_SET: {
          const v = pop();
          emit(`gLo[${argLo[pc]}] = ${v.lo}; gHi[${argLo[pc]}] = ${v.hi};`);
          break;
        }
        case Wasm.I32_CONST:
        case Wasm.I64_CONST:
          push(lit(argLo[pc]), lit(argHi[pc]));
          break;
        case Wasm.MEMORY_SIZE:
          push32("mem.pages");
          break;
        case Ctl.BR:
          emit(branchTo(vs, under, A[pc], B[pc], C[pc], self));
          ended = true;
          break;
        case Ctl.BR_IF: {
          const c = pop();
          emit(`if (${c.lo} !== 0) { ${branchTo(vs, under, A[pc], B[pc], C[pc])} }`);
          emit(`${flush(vs, under)}${goto(pc + 1, self)}`);
          ended = true;
          break;
        }
        case Ctl.BR_UNLESS: {
          const c = pop();
          emit(`${flush(vs, under)}if (${c.lo} === 0) { ${goto(A[pc])} } ${goto(pc + 1, self)}`);
          ended = true;
          break;
        }
        case Ctl.BR_TABLE: {
          const c = pop();
          // The table's BR entries follow it: consecutive blocks of this unit.
          emit(
            `${flush(vs, under)}b = ${idx.get(pc + 1)} + Math.min(${c.lo} >>> 0, ${argLo[pc] >>> 0}); continue x;`,
          );
          ended = true;
          break;
        }
        default: {
          if (op >= Wasm.I32_LOAD && op <= Wasm.I64_STORE32) {
            const store = op >= Wasm.I32_STORE;
            const v = store ? pop() : undefined;
            const addr = pop();
            const size = SIZE[op - Wasm.I32_LOAD];
            const e = tmp();
            emit(`const ${e} = (${addr.lo} >>> 0) + ${argLo[pc] >>> 0};`);
            emit(`if (${e} + ${size} > memSize) ${sideExit(pre, preUnder, pc, i)}`);
            if (v !== undefined) {
              emit(
                `if (wrote[${e} >>> ${BLOCK_SHIFT}] === 0 || wrote[(${e} + ${size - 1}) >>> ${BLOCK_SHIFT}] === 0) mem.beforeWrite(${e}, ${size});`,
              );
              if (op === Wasm.I64_STORE)
                emit(`dv.setInt32(${e}, ${v.lo}, true); dv.setInt32(${e} + 4, ${v.hi}, true);`);
              else if (op === Wasm.I32_STORE || op === Wasm.I64_STORE32)
                emit(`dv.setInt32(${e}, ${v.lo}, true);`);
              else if (size === 1) emit(`dv.setUint8(${e}, ${v.lo} & 255);`);
              else emit(`dv.setUint16(${e}, ${v.lo} & 65535, true);`);
              emit(`mem.touch(${e}, ${size});`);
            } else {
              const [lo, hi] = LOADS[op - Wasm.I32_LOAD];
              const x = tmp();
              emit(`const ${x} = ${lo.replace("E", e)};`);
              push(x, hi === "S" ? `(${x} >> 31)` : hi === "H" ? `dv.getInt32(${e} + 4, true)` : "0");
              if (hi !== "0") {
                // Materialize the high half now: memory may change before the value is used.
                const it = vs.pop() as Item;
                emit(`const ${x}h = ${it.hi};`);
                push(x, `${x}h`);
              }
            }
            break;
          }
          numeric(op, pc, i, pre, preUnder);
        }
      }
      if (ended) break;
    }
    if (!ended) emit(`${flush(vs, under)}${goto(be, self)}`);
    maxGrow = Math.max(maxGrow, grow);
    // A block is entered only if the steps left cover it, and (if it pushes) the stack has room.
    const room = grow > 0 ? " || sp > spMax" : "";
    cases.push(
      `case ${idx.get(bs)}: { if (budget < ${len}${room}) { pc = ${bs}; break x; } budget -= ${len};\n${code.join("\n")}\n}`,
    );

    function numeric(op: number, pc: number, i: number, pre: Item[], preUnder: number): void {
      if (numericPops(op) === 1) {
        const x = pop();
        const u = UNARY.get(op);
        if (u !== undefined) {
          if (u[1] === "0") push32(u[0].replaceAll("aL", x.lo).replaceAll("aH", x.hi));
          else {
            const y = tmp();
            emit(`const ${y} = ${u[0].replaceAll("aL", x.lo).replaceAll("aH", x.hi)};`);
            push64(y, u[1].replaceAll("aL", x.lo).replaceAll("aH", x.hi).replaceAll("R", y));
          }
        } else {
          const y = tmp();
          emit(`const ${y} = X.num(${op}, ${x.hi}, ${x.lo}, 0, 0), ${y}h = X.HI[0];`);
          push(y, `${y}h`);
        }
        return;
      }
      const b = pop();
      const a = pop();
      const sub = (s: string) =>
        s.replaceAll("aL", a.lo).replaceAll("aH", a.hi).replaceAll("bL", b.lo).replaceAll("bH", b.hi);
      const trap = TRAPS.get(op);
      if (trap !== undefined) emit(`if (${sub(trap)}) ${sideExit(pre, preUnder, pc, i)}`);
      const bin = BINARY.get(op);
      if (bin !== undefined) {
        if (bin.length === 1) push32(sub(bin[0]));
        else {
          const y = tmp();
          emit(sub(bin[0]).replaceAll("R", y));
          push(y, `${y}h`);
        }
        return;
      }
      const y = tmp();
      emit(`const ${y} = X.num(${op}, ${a.hi}, ${a.lo}, ${b.hi}, ${b.lo}), ${y}h = X.HI[0];`);
      push(y, `${y}h`);
    }
  }
  const locals = [...used].sort((x, y) => x - y);
  const body = `"use strict";
return function unit(m, pc, budget) {
  const r = m.r, sLo = m.sLo, sHi = m.sHi, lLo = m.lLo, lHi = m.lHi, gLo = m.gLo, gHi = m.gHi;
  const mem = m.mem, dv = mem.view, wrote = mem.wrote, memSize = mem.bytes.length;
  const spMax = sLo.length - ${maxGrow + 8};
  const L = m.fLoc[r.fp], b0 = budget;
  let sp = r.sp, b = IDX[pc - ${start}];
  ${locals.map((k) => `let l${k} = lLo[L + ${k}], h${k} = lHi[L + ${k}];`).join(" ")}
  x: for (;;) {
    switch (b) {
${cases.join("\n")}
      default: throw new Error("vm/jit: no block " + b);
    }
  }
  ${[...written].map((k) => `lLo[L + ${k}] = l${k}; lHi[L + ${k}] = h${k};`).join(" ")}
  r.pc = pc; r.sp = sp;
  return b0 - budget;
};`;
  return body;
}

const BLOCK_SHIFT = 12;

/** Byte width of each load/store, indexed by op − I32_LOAD (0x28..0x3e). */
const SIZE = [4, 8, 0, 0, 1, 1, 2, 2, 1, 1, 2, 2, 4, 4, 4, 8, 0, 0, 1, 2, 1, 2, 4];

/** Loads: the low half's expression (E = address) and the high half: "0", "S" (sign of lo) or "H" (next word). */
const LOADS: Record<number, [string, string]> = {
  0: ["dv.getInt32(E, true)", "0"],
  1: ["dv.getInt32(E, true)", "H"],
  4: ["dv.getInt8(E)", "0"],
  5: ["dv.getUint8(E)", "0"],
  6: ["dv.getInt16(E, true)", "0"],
  7: ["dv.getUint16(E, true)", "0"],
  8: ["dv.getInt8(E)", "S"],
  9: ["dv.getUint8(E)", "0"],
  10: ["dv.getInt16(E, true)", "S"],
  11: ["dv.getUint16(E, true)", "0"],
  12: ["dv.getInt32(E, true)", "S"],
  13: ["dv.getInt32(E, true)", "0"],
};

/** Unary ops: [low half, high half] with aL/aH the operand and R the low result; "0" = i32 result. */
const UNARY = new Map<number, [string, string]>([
  [0x45, ["aL === 0 ? 1 : 0", "0"]],
  [0x50, ["(aL | aH) === 0 ? 1 : 0", "0"]],
  [0x67, ["Math.clz32(aL)", "0"]],
  [0x68, ["X.ctz32(aL)", "0"]],
  [0x69, ["X.popcnt32(aL)", "0"]],
  [0xa7, ["aL", "0"]],
  [0xac, ["aL", "R >> 31"]],
  [0xad, ["aL", "0"]],
  [0xc0, ["(aL << 24) >> 24", "0"]],
  [0xc1, ["(aL << 16) >> 16", "0"]],
  [0xc2, ["(aL << 24) >> 24", "R >> 31"]],
  [0xc3, ["(aL << 16) >> 16", "R >> 31"]],
  [0xc4, ["aL", "R >> 31"]],
]);

/** Conditions under which a division traps (the interpreter then executes it and traps). */
const TRAPS = new Map<number, string>([
  [0x6d, "bL === 0 || (aL === -2147483648 && bL === -1)"],
  [0x6e, "bL === 0"],
  [0x6f, "bL === 0"],
  [0x70, "bL === 0"],
  [0x7f, "(bL | bH) === 0 || (aH === -2147483648 && aL === 0 && bH === -1 && bL === -1)"],
  [0x80, "(bL | bH) === 0"],
  [0x81, "(bL | bH) === 0"],
  [0x82, "(bL | bH) === 0"],
]);

const U = (s: string) => `(${s} >>> 0)`;
const ltU64 = (aH: string, aL: string, bH: string, bL: string) =>
  `(${U(aH)} < ${U(bH)} || (${aH} === ${bH} && ${U(aL)} < ${U(bL)}))`;
const ltS64 = (aH: string, aL: string, bH: string, bL: string) =>
  `(${aH} < ${bH} || (${aH} === ${bH} && ${U(aL)} < ${U(bL)}))`;

/**
 * Binary ops: one string = an i32 result expression; two = a statement block defining R (low) and
 * Rh (high) for an i64 result. aL/aH = first operand (deeper), bL/bH = second (top). i64.mul is
 * vm/i64.ts's: aL·bL in 16-bit limbs plus the cross terms.
 */
const BINARY = new Map<number, string[]>([
  [0x46, ["aL === bL ? 1 : 0"]],
  [0x47, ["aL !== bL ? 1 : 0"]],
  [0x48, ["aL < bL ? 1 : 0"]],
  [0x49, ["(aL >>> 0) < (bL >>> 0) ? 1 : 0"]],
  [0x4a, ["aL > bL ? 1 : 0"]],
  [0x4b, ["(aL >>> 0) > (bL >>> 0) ? 1 : 0"]],
  [0x4c, ["aL <= bL ? 1 : 0"]],
  [0x4d, ["(aL >>> 0) <= (bL >>> 0) ? 1 : 0"]],
  [0x4e, ["aL >= bL ? 1 : 0"]],
  [0x4f, ["(aL >>> 0) >= (bL >>> 0) ? 1 : 0"]],
  [0x51, ["aL === bL && aH === bH ? 1 : 0"]],
  [0x52, ["aL !== bL || aH !== bH ? 1 : 0"]],
  [0x53, [`${ltS64("aH", "aL", "bH", "bL")} ? 1 : 0`]],
  [0x54, [`${ltU64("aH", "aL", "bH", "bL")} ? 1 : 0`]],
  [0x55, [`${ltS64("bH", "bL", "aH", "aL")} ? 1 : 0`]],
  [0x56, [`${ltU64("bH", "bL", "aH", "aL")} ? 1 : 0`]],
  [0x57, [`${ltS64("bH", "bL", "aH", "aL")} ? 0 : 1`]],
  [0x58, [`${ltU64("bH", "bL", "aH", "aL")} ? 0 : 1`]],
  [0x59, [`${ltS64("aH", "aL", "bH", "bL")} ? 0 : 1`]],
  [0x5a, [`${ltU64("aH", "aL", "bH", "bL")} ? 0 : 1`]],
  [0x6a, ["(aL + bL) | 0"]],
  [0x6b, ["(aL - bL) | 0"]],
  [0x6c, ["Math.imul(aL, bL)"]],
  [0x6d, ["(aL / bL) | 0"]],
  [0x6e, ["((aL >>> 0) / (bL >>> 0)) | 0"]],
  [0x6f, ["(aL % bL) | 0"]],
  [0x70, ["((aL >>> 0) % (bL >>> 0)) | 0"]],
  [0x71, ["aL & bL"]],
  [0x72, ["aL | bL"]],
  [0x73, ["aL ^ bL"]],
  [0x74, ["aL << bL"]],
  [0x75, ["aL >> bL"]],
  [0x76, ["(aL >>> bL) | 0"]],
  [0x77, ["(aL << bL) | (aL >>> (32 - bL))"]],
  [0x78, ["(aL >>> bL) | (aL << (32 - bL))"]],
  [
    0x7c,
    ["const R = (aL + bL) | 0, Rh = (aH + bH + ((aL >>> 0) + (bL >>> 0) > 4294967295 ? 1 : 0)) | 0;", ""],
  ],
  [0x7d, ["const R = (aL - bL) | 0, Rh = (aH - bH - ((aL >>> 0) < (bL >>> 0) ? 1 : 0)) | 0;", ""]],
  [
    0x7e,
    [
      "const R_a0 = aL & 65535, R_a1 = aL >>> 16, R_b0 = bL & 65535, R_b1 = bL >>> 16;" +
        " const R_p01 = R_a0 * R_b1, R_p10 = R_a1 * R_b0;" +
        " const R_mid = ((R_a0 * R_b0) >>> 16) + (R_p01 & 65535) + (R_p10 & 65535);" +
        " const R = Math.imul(aL, bL), Rh = (R_a1 * R_b1 + (R_p01 >>> 16) + (R_p10 >>> 16) + (R_mid >>> 16) + Math.imul(aH, bL) + Math.imul(aL, bH)) | 0;",
      "",
    ],
  ],
  [0x83, ["const R = aL & bL, Rh = aH & bH;", ""]],
  [0x84, ["const R = aL | bL, Rh = aH | bH;", ""]],
  [0x85, ["const R = aL ^ bL, Rh = aH ^ bH;", ""]],
  [
    0x86,
    [
      "const R_n = bL & 63, R = R_n >= 32 ? 0 : aL << R_n," +
        " Rh = R_n === 0 ? aH : R_n < 32 ? (aH << R_n) | (aL >>> (32 - R_n)) : aL << (R_n - 32);",
      "",
    ],
  ],
  [
    0x87,
    [
      "const R_n = bL & 63, R = R_n === 0 ? aL : R_n < 32 ? (aL >>> R_n) | (aH << (32 - R_n)) : aH >> (R_n - 32)," +
        " Rh = R_n < 32 ? aH >> R_n : aH >> 31;",
      "",
    ],
  ],
  [
    0x88,
    [
      "const R_n = bL & 63, R = R_n === 0 ? aL : R_n < 32 ? (aL >>> R_n) | (aH << (32 - R_n)) : (aH >>> (R_n - 32)) | 0," +
        " Rh = R_n === 0 ? aH : R_n < 32 ? (aH >>> R_n) | 0 : 0;",
      "",
    ],
  ],
]);
