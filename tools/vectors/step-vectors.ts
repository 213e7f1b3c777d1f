// One-step proof test vectors for the Solidity verifier (docs/PROTOCOL.md §4.5): for every flat
// instruction the loader can emit, several real steps of real programs, each as (pre-state root,
// proof bytes, post-state root). Every case is a small WAT module whose exported function reaches
// the instruction of interest; the fast machine runs up to it, vm/prove.ts proves the step, and the
// reference verifier (vm/verify) must agree on the post root before the vector is kept.
//
// `node dist/tools/vectors/step-vectors.js [path]` writes contracts/test/vectors/steps.json as parallel arrays
// (names, ops, families, preRoots, proofs, postRoots) for forge's vm.parseJson* helpers;
// test/vm/step-vectors.test.ts keeps that file in sync (UPDATE_VECTORS=1 rewrites it).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parse } from "@bytecodealliance/jco";
import { type Hash, toHex } from "../../commit/merkle.js";
import { Ctl, isFloatNumeric, LIMITS, NUMERIC_FIRST, NUMERIC_LAST, numericPops, Wasm } from "../../vm/isa.js";
import { loadProgram } from "../../vm/loader.js";
import { ACCESS_SIZE, LoadedProgram, Machine } from "../../vm/machine.js";
import { MerkleMemory, PAGE } from "../../vm/memory.js";
import { numericName, numericOperandIs64, numericResultIs64 } from "../../vm/numeric.js";
import { proveStep } from "../../vm/prove.js";
import { Status } from "../../vm/state.js";
import { verifyStep } from "../../vm/verify/one-step-prover.js";

export const STEP_VECTORS_PATH = "contracts/test/vectors/steps.json";

/** The verifier family that handles an instruction (vm/verify/step-<family>.ts ↔ contracts/src/step/Step<Family>.sol). */
export type Family = "control" | "numeric" | "variables" | "memory" | "calls";

export interface StepVector {
  /** Unique, human-readable: the instruction, its operands and what the case exercises. */
  name: string;
  /**
   * The instruction at the pre-state's pc. For a step of a machine that already stopped (the proof
   * is only the 384-byte pre-state): the instruction that trapped, or RETURN for a finished machine.
   */
  op: number;
  family: Family;
  preRoot: Hash;
  proof: Uint8Array;
  postRoot: Hash;
}

/** steps.json: parallel arrays, index i of each is vector i. */
export interface StepVectorsJson {
  names: string[];
  ops: number[];
  families: Family[];
  preRoots: string[];
  proofs: string[];
  postRoots: string[];
}

export function familyOf(op: number): Family {
  if (op === Wasm.CALL || op === Wasm.RETURN) return "calls";
  if (op >= Wasm.LOCAL_GET && op <= Wasm.GLOBAL_SET) return "variables";
  if (op >= Wasm.I32_LOAD && op <= Wasm.MEMORY_GROW) return "memory";
  if (op >= NUMERIC_FIRST && op <= NUMERIC_LAST) return "numeric";
  return "control";
}

// ---- scenarios ---------------------------------------------------------------------------------

/** A typed argument of the exported function (the VM takes u64 words, V8 needs the WASM type). */
export interface Arg {
  t: "i32" | "i64";
  /** Unsigned value of the type's width. */
  v: bigint;
}
const i32 = (v: bigint | number): Arg => ({ t: "i32", v: BigInt.asUintN(32, BigInt(v)) });
const i64 = (v: bigint | number): Arg => ({ t: "i64", v: BigInt.asUintN(64, BigInt(v)) });

/** What the walker shows `pick` before each step. */
export interface Site {
  op: number;
  arg: bigint;
  /** How many steps with this op the run executed before this one. */
  k: number;
  /** Suspended frames (0 in the entry function). */
  depth: number;
  /** The value on top of the stack (0 when the frame's stack is empty). */
  top: bigint;
}

/** One run of one exported function. `pick` names the steps to prove (undefined: just execute). */
export interface Scenario {
  wat: string;
  entry: string;
  args: Arg[];
  pick: (s: Site) => string | undefined;
  /** Start from the pattern-filled memory (fillPattern) instead of a zeroed one. */
  fill?: boolean;
  /** Also prove one step of the stopped machine, under this name. */
  halted?: string;
  /** False where the VM deliberately differs from WASM (its call depth limit). Default true. */
  native?: boolean;
}

/** How a scenario's run ended, for comparison with V8. */
export interface Outcome {
  status: "finished" | "trapped";
  /** The entry function's result (u64; i32 zero-extended), if it has one. */
  result?: bigint;
  trap?: string;
  /** Final linear memory. */
  memory: Uint8Array;
}

const M32 = (1n << 32n) - 1n;
const M64 = (1n << 64n) - 1n;
const MIN32 = 1n << 31n;
const MIN64 = 1n << 63n;
const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** Deterministic, sign-bit-rich content for pre-filled memories (xorshift32 bytes). */
export function fillPattern(bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let x = 0x6f706d6c;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const name = (op: number): string => {
  const known: Record<number, string> = {
    [Wasm.UNREACHABLE]: "unreachable",
    [Wasm.NOP]: "nop",
    [Wasm.RETURN]: "return",
    [Wasm.CALL]: "call",
    [Wasm.DROP]: "drop",
    [Wasm.SELECT]: "select",
    [Wasm.LOCAL_GET]: "local.get",
    [Wasm.LOCAL_SET]: "local.set",
    [Wasm.LOCAL_TEE]: "local.tee",
    [Wasm.GLOBAL_GET]: "global.get",
    [Wasm.GLOBAL_SET]: "global.set",
    [Wasm.MEMORY_SIZE]: "memory.size",
    [Wasm.MEMORY_GROW]: "memory.grow",
    [Wasm.I32_CONST]: "i32.const",
    [Wasm.I64_CONST]: "i64.const",
    [Ctl.BR]: "BR",
    [Ctl.BR_IF]: "BR_IF",
    [Ctl.BR_UNLESS]: "BR_UNLESS",
    [Ctl.BR_TABLE]: "BR_TABLE",
  };
  const n = known[op] ?? MEMORY_NAMES.get(op);
  if (n !== undefined) return n;
  return numericName(op);
};

const MEMORY_NAMES = new Map<number, string>([
  [Wasm.I32_LOAD, "i32.load"],
  [Wasm.I64_LOAD, "i64.load"],
  [Wasm.I32_LOAD8_S, "i32.load8_s"],
  [Wasm.I32_LOAD8_U, "i32.load8_u"],
  [Wasm.I32_LOAD16_S, "i32.load16_s"],
  [Wasm.I32_LOAD16_U, "i32.load16_u"],
  [Wasm.I64_LOAD8_S, "i64.load8_s"],
  [Wasm.I64_LOAD8_U, "i64.load8_u"],
  [Wasm.I64_LOAD16_S, "i64.load16_s"],
  [Wasm.I64_LOAD16_U, "i64.load16_u"],
  [Wasm.I64_LOAD32_S, "i64.load32_s"],
  [Wasm.I64_LOAD32_U, "i64.load32_u"],
  [Wasm.I32_STORE, "i32.store"],
  [Wasm.I64_STORE, "i64.store"],
  [Wasm.I32_STORE8, "i32.store8"],
  [Wasm.I32_STORE16, "i32.store16"],
  [Wasm.I64_STORE8, "i64.store8"],
  [Wasm.I64_STORE16, "i64.store16"],
  [Wasm.I64_STORE32, "i64.store32"],
]);

/** Every integer numeric op the loader accepts. */
function numericOps(): number[] {
  const ops: number[] = [];
  for (let op = NUMERIC_FIRST; op <= NUMERIC_LAST; op++) if (!isFloatNumeric(op)) ops.push(op);
  return ops;
}

const isDivRem = (op: number): boolean => (op >= 0x6d && op <= 0x70) || (op >= 0x7f && op <= 0x82);

/** Binary operand pairs: zero, small, negative, MIN/-1 (div_s overflow), MAX/MIN, shift counts ≥ width. */
const PAIRS32: [bigint, bigint][] = [
  [0n, 0n],
  [7n, 3n],
  [M32 - 6n, 3n],
  [MIN32, M32],
  [MIN32 - 1n, MIN32],
  [M32, 33n],
];
const PAIRS64: [bigint, bigint][] = [
  [0n, 0n],
  [7n, 3n],
  [M64 - 6n, 3n],
  [MIN64, M64],
  [MIN64 - 1n, MIN64],
  [M64, 65n],
  [1n << 32n, M32],
];
const UNARY32 = [0n, 1n, 0x80n, 0x8000n, MIN32, M32, 0x00ff7f00n];
const UNARY64 = [0n, 1n, 0x80n, 0x8000n, MIN32, 1n << 32n, MIN64, MIN64 - 1n, M64];

function numericScenarios(): Scenario[] {
  const out: Scenario[] = [];
  for (const op of numericOps()) {
    const mn = numericName(op);
    const t = numericOperandIs64(op) ? "i64" : "i32";
    const rt = numericResultIs64(op) ? "i64" : "i32";
    const arg = t === "i64" ? i64 : i32;
    // A value below the operands, so the proven stack has a non-empty rest; `return` discards it.
    const below = "i64.const 0x5a5a5a5a5a5a5a5a";
    if (numericPops(op) === 2) {
      const wat = `(module (func (export "f") (param ${t} ${t}) (result ${rt}) ${below} local.get 0 local.get 1 ${mn} return))`;
      const pairs = [
        ...(t === "i64" ? PAIRS64 : PAIRS32),
        ...(isDivRem(op) ? [[7n, 0n] as [bigint, bigint]] : []),
      ];
      for (const [a, b] of pairs) {
        const label = `${mn} ${hex(a)} ${hex(b)}`;
        const trapHalt = mn === "i32.div_s" && b === 0n && a === 7n;
        out.push({
          wat,
          entry: "f",
          args: [arg(a), arg(b)],
          pick: (s) => (s.op === op ? label : undefined),
          halted: trapHalt ? `stopped: trapped by ${label}` : undefined,
        });
      }
    } else {
      const wat = `(module (func (export "f") (param ${t}) (result ${rt}) ${below} local.get 0 ${mn} return))`;
      for (const a of t === "i64" ? UNARY64 : UNARY32) {
        const label = `${mn} ${hex(a)}`;
        out.push({ wat, entry: "f", args: [arg(a)], pick: (s) => (s.op === op ? label : undefined) });
      }
    }
  }
  return out;
}

// ---- control: constants, drop, select, nop, unreachable, flat branches -------------------------

const CONTROL_WAT = `(module
  (func $g nop)
  (func $t (param i32) unreachable)
  (func (export "nops") (param i32) (result i32)
    nop
    local.get 0
    nop
    i64.const 5
    nop
    drop
    call $g)
  (func (export "consts")
    i32.const 0 drop
    i32.const 1 drop
    i32.const 0x7fffffff drop
    i32.const -1 drop
    i32.const 0x80000000
    i64.const 0
    i64.const 1
    i64.const -1
    i64.const 0x8000000000000000
    i64.const 0x0123456789abcdef
    drop drop drop drop drop drop)
  (func (export "trap0") unreachable)
  (func (export "trap1") i32.const 5 i64.const 6 unreachable)
  (func (export "trap2") (result i64) i64.const 7 i32.const 8 call $t)
  (func (export "sel32") (param i32 i32 i32) (result i32)
    i64.const 1 drop local.get 0 local.get 1 local.get 2 select)
  (func (export "sel64") (param i64 i64 i32) (result i64)
    i32.const 9 local.get 0 local.get 1 local.get 2 select return)
  (func (export "br") (param i32) (result i32)
    (block $a br $a)
    (block $b (result i32) i32.const 42 br $b)
    (block $c (result i32) i32.const 1 i64.const 2 i32.const 43 br $c)
    i32.add
    (block $d (block $e i64.const 3 i32.const 4 br $d))
    (block $exit
      (loop $l
        local.get 0
        i32.eqz
        br_if $exit
        local.get 0
        i32.const 1
        i32.sub
        local.set 0
        br $l)))
  (func (export "brif") (param i32) (result i32)
    (block $b i64.const 5 local.get 0 br_if $b drop)
    (block $n local.get 0 br_if $n)
    (block $a (result i32)
      i32.const 1
      i64.const 2
      i32.const 42
      local.get 0
      br_if $a
      drop
      drop
      drop
      i32.const 7))
  (func (export "if") (param i32) (result i32)
    (if (local.get 0) (then nop))
    i64.const 9
    (if (result i32) (local.get 0) (then i32.const 1) (else i32.const 2))
    return)
  (func (export "table") (param i32) (result i32)
    (block $d (block $c (block $b local.get 0 br_table $b $c $d)
      i32.const 10 return)
      i32.const 11 return)
    i32.const 12)
  (func (export "table1") (param i32) (result i32)
    (block $a (result i32) i64.const 99 i32.const 77 local.get 0 br_table $a $a $a))
  (func (export "table0") (param i32) (result i32)
    (block $a i64.const 3 local.get 0 br_table $a) i32.const 5)
  (func (export "loopdrop") (param i32) (result i32)
    (loop $l (result i32)
      i64.const 1
      local.get 0
      i32.const 1
      i32.sub
      local.tee 0
      br_if $l
      drop
      local.get 0)))`;

function controlScenarios(): Scenario[] {
  const sc = (entry: string, args: Arg[], pick: Scenario["pick"], halted?: string): Scenario => ({
    wat: CONTROL_WAT,
    entry,
    args,
    pick,
    halted,
  });
  const out: Scenario[] = [
    sc("nops", [i32(3)], (s) => (s.op === Wasm.NOP ? `nop #${s.k} (depth ${s.depth})` : undefined)),
    sc("consts", [], (s) => {
      if (s.op === Wasm.I32_CONST || s.op === Wasm.I64_CONST) return `${name(s.op)} ${hex(s.arg)}`;
      if (s.op === Wasm.DROP && [0, 4, 6, 9].includes(s.k)) return `drop ${hex(s.top)} (#${s.k})`;
      return undefined;
    }),
    sc(
      "trap0",
      [],
      (s) => (s.op === Wasm.UNREACHABLE ? "unreachable (empty stack)" : undefined),
      "stopped: trapped by unreachable",
    ),
    sc("trap1", [], (s) => (s.op === Wasm.UNREACHABLE ? "unreachable (two values on the stack)" : undefined)),
    sc("trap2", [], (s) => (s.op === Wasm.UNREACHABLE ? "unreachable (in a callee)" : undefined)),
  ];
  for (const c of [1n, 0n, MIN32, M32])
    out.push(
      sc("sel32", [i32(0x11), i32(0x22), i32(c)], (s) =>
        s.op === Wasm.SELECT ? `select i32 cond=${hex(c)}` : undefined,
      ),
    );
  for (const c of [0x100n, 0n])
    out.push(
      sc("sel64", [i64(MIN64 + 1n), i64(M64), i32(c)], (s) =>
        s.op === Wasm.SELECT ? `select i64 cond=${hex(c)}` : undefined,
      ),
    );
  // BR: drop=0 keep=0, drop=0 keep=1, drop=2 keep=1, drop=2 keep=0 (two levels out), loop back edge.
  out.push(
    sc("br", [i32(2)], (s) => {
      if (s.op === Ctl.BR) return `BR #${s.k} ${brText(s.arg)}`;
      if (s.op === Ctl.BR_IF) return `BR_IF #${s.k} ${brText(s.arg)} cond=${hex(s.top)}`;
      return undefined;
    }),
  );
  for (const c of [1n, 0n, MIN32, M32])
    out.push(
      sc("brif", [i32(c)], (s) =>
        s.op === Ctl.BR_IF ? `BR_IF #${s.k} ${brText(s.arg)} cond=${hex(c)}` : undefined,
      ),
    );
  for (const c of [0n, 1n, MIN32])
    out.push(
      sc("if", [i32(c)], (s) => {
        if (s.op === Ctl.BR_UNLESS) return `BR_UNLESS #${s.k} target=${s.arg} cond=${hex(c)}`;
        if (s.op === Ctl.BR) return `BR over else ${brText(s.arg)} cond=${hex(c)}`;
        return undefined;
      }),
    );
  const table = (entry: string, i: bigint) =>
    sc(entry, [i32(i)], (s) => {
      if (s.op === Ctl.BR_TABLE) return `BR_TABLE ${entry} n=${s.arg} index=${hex(i)}`;
      if (s.op === Ctl.BR) return `BR (BR_TABLE ${entry} entry) ${brText(s.arg)} index=${hex(i)}`;
      return undefined;
    });
  for (const i of [0n, 1n, 2n, 3n, M32]) out.push(table("table", i));
  for (const i of [0n, 5n]) out.push(table("table1", i));
  for (const i of [0n, 7n]) out.push(table("table0", i));
  // A backward branch that also discards a value (the loop label keeps nothing).
  out.push(
    sc("loopdrop", [i32(3)], (s) =>
      s.op === Ctl.BR_IF ? `BR_IF loop #${s.k} ${brText(s.arg)} cond=${hex(s.top)}` : undefined,
    ),
  );
  return out;
}

function brText(arg: bigint): string {
  const target = arg & M32;
  const drop = (arg >> 32n) & 0xffffn;
  const keep = (arg >> 48n) & 0xffn;
  return `target=${target} drop=${drop} keep=${keep}`;
}

// ---- variables -----------------------------------------------------------------------------------

const VARIABLES_WAT = (() => {
  const globals: string[] = [
    "(global (mut i32) (i32.const 0x80000000))",
    "(global (mut i64) (i64.const -2))",
  ];
  for (let g = 2; g < 2 ** LIMITS.GLOBALS_DEPTH; g++)
    globals.push(`(global (mut i64) (i64.const ${hex(BigInt(g) * 0x0101010101010101n)}))`);
  globals[15] = "(global (mut i64) (i64.const 0x0123456789abcdef))";
  // 2 params + 254 locals = 256 slots, the whole locals tree (LIMITS.LOCALS_DEPTH = 8).
  const locals = "i64 ".repeat(2 ** LIMITS.LOCALS_DEPTH - 2).trim();
  return `(module
  ${globals.join("\n  ")}
  (func (export "vars") (param i32 i64) (result i64) (local ${locals})
    local.get 2
    local.get 1
    local.tee 255
    local.set 2
    local.get 255
    i64.const -1
    local.tee 3
    i64.xor
    local.set 255
    local.get 0
    global.get 0
    i32.add
    local.tee 0
    global.set 0
    global.get 15
    global.get 7
    i64.add
    global.set 15
    global.get 15
    global.get 1
    i64.sub
    global.set 1
    global.get 1
    i64.add
    local.get 255
    i64.add))`;
})();

function variableScenarios(): Scenario[] {
  const out: Scenario[] = [];
  for (const [a, b] of [
    [0x7fffffffn, 0xfedcba9876543210n],
    [0n, 0n],
  ])
    out.push({
      wat: VARIABLES_WAT,
      entry: "vars",
      args: [i32(a), i64(b)],
      pick: (s) =>
        s.op >= Wasm.LOCAL_GET && s.op <= Wasm.GLOBAL_SET
          ? `${name(s.op)} ${s.arg} #${s.k} (args ${hex(a)} ${hex(b)})`
          : undefined,
    });
  return out;
}

// ---- memory ----------------------------------------------------------------------------------------

const MEM_PAGES = 2;
const MEM_END = MEM_PAGES * PAGE;
const FILL = fillPattern(MEM_END);

const isLoad = (op: number): boolean => op >= Wasm.I32_LOAD && op <= Wasm.I64_LOAD32_U;
const I32_MEMORY_OPS = new Set<number>([
  Wasm.I32_LOAD,
  Wasm.I32_LOAD8_S,
  Wasm.I32_LOAD8_U,
  Wasm.I32_LOAD16_S,
  Wasm.I32_LOAD16_U,
  Wasm.I32_STORE,
  Wasm.I32_STORE8,
  Wasm.I32_STORE16,
]);
const valueType = (op: number): "i32" | "i64" => (I32_MEMORY_OPS.has(op) ? "i32" : "i64");

/** First address ≥ from, aligned to w, whose most significant loaded byte has its sign bit as asked. */
function signAddress(w: number, set: boolean, from: number): number {
  for (let ea = from; ea + w <= MEM_END; ea += w) if (FILL[ea + w - 1] >= 0x80 === set) return ea;
  throw new Error("fill pattern has no such address");
}

function memoryScenarios(): Scenario[] {
  const out: Scenario[] = [];
  for (const op of MEMORY_NAMES.keys()) {
    const mn = name(op);
    const t = valueType(op);
    const w = ACCESS_SIZE[op - Wasm.I32_LOAD];
    const load = isLoad(op);
    const sig = load ? `(param i32) (result ${t}) local.get 0` : `(param i32 ${t}) local.get 0 local.get 1`;
    const wat = `(module (memory (export "mem") ${MEM_PAGES} 4)
  (func (export "f") ${sig} ${mn})
  (func (export "g") ${sig} ${mn} offset=33)
  (func (export "h") ${sig} ${mn} offset=0xffffffff))`;
    const half = Math.max(1, w >> 1);
    const cases: [string, string, number][] = [
      ["f", "start of memory", 0],
      ["f", w > 1 ? "straddles leaves 0|1" : "last byte of leaf 0", 32 - half],
      ["f", w > 1 ? "straddles leaves 31|32" : "last byte of leaf 31", 1024 - half],
      ["f", w > 1 ? "straddles pages 0|1 (leaves 2047|2048)" : "last byte of page 0", PAGE - half],
      ["f", "last valid bytes", MEM_END - w],
      ["f", "one byte past the end (trap)", MEM_END - w + 1],
      ["f", "address 0xffffffff (trap)", 0xffffffff],
      ["g", "offset=33", 0],
      ["h", "offset=0xffffffff, address 1: 33-bit effective address (trap)", 1],
    ];
    if (load) {
      cases.push(["f", "sign bit set", signAddress(w, true, 96)]);
      cases.push(["f", "sign bit clear", signAddress(w, false, 96)]);
    }
    const value = t === "i64" ? 0xf1e2d3c4b5a69788n : 0xb5a69788n;
    for (const [entry, what, addr] of cases) {
      const label = `${mn} ${entry === "f" ? `@${addr}` : `addr=${addr}`} ${what}`;
      out.push({
        wat,
        entry,
        args: load ? [i32(addr)] : [i32(addr), t === "i64" ? i64(value) : i32(value)],
        fill: true,
        pick: (s) => (s.op === op ? label : undefined),
        halted: mn === "i64.load" && what.startsWith("one byte") ? `stopped: trapped by ${label}` : undefined,
      });
    }
  }
  // No memory pages at all: every access traps.
  const empty = `(module (memory 0)
  (func (export "l") (result i32) i32.const 0 i32.load)
  (func (export "s") i32.const 0 i64.const 1 i64.store8))`;
  out.push({
    wat: empty,
    entry: "l",
    args: [],
    pick: (s) => (s.op === Wasm.I32_LOAD ? "i32.load @0 of 0 pages (trap)" : undefined),
  });
  out.push({
    wat: empty,
    entry: "s",
    args: [],
    pick: (s) => (s.op === Wasm.I64_STORE8 ? "i64.store8 @0 of 0 pages (trap)" : undefined),
  });

  // memory.size / memory.grow against declared maxima (the loader puts the maximum in grow's arg).
  const grow = (limits: string, delta: bigint): Scenario => ({
    wat: `(module (memory (export "mem") ${limits})
  (func (export "grow") (param i32) (result i32) memory.size local.get 0 memory.grow i32.add memory.size i32.add))`,
    entry: "grow",
    args: [i32(delta)],
    pick: (s) => {
      if (s.op === Wasm.MEMORY_GROW) return `memory.grow (memory ${limits}) delta=${hex(delta)}`;
      if (s.op === Wasm.MEMORY_SIZE) return `memory.size #${s.k} (memory ${limits}) delta=${hex(delta)}`;
      return undefined;
    },
  });
  for (const d of [0n, 1n, 2n, 3n, M32]) out.push(grow("1 3", d)); // 3 = past the declared maximum
  for (const d of [1n, 0x10000n]) out.push(grow("1", d)); // 0x10000: past 65536 pages
  for (const d of [0n, 1n]) out.push(grow("0 0", d)); // maximum 0

  // Accesses in grown memory: 1 → 3 pages (the memory tree's dense span grows), 3 → 4 pages (it does not).
  for (const [min, max] of [
    [1, 3],
    [3, 4],
  ]) {
    const end = max * PAGE;
    const limits = `${min} ${max}`;
    out.push({
      wat: `(module (memory (export "mem") ${limits})
  (func (export "grown") (result i64)
    i32.const ${max - min} memory.grow drop
    i32.const ${end - 8} i64.const 0x8877665544332211 i64.store
    i32.const ${end - PAGE - 4} i64.const -2 i64.store
    i32.const ${end - 8} i64.load
    i32.const ${end - PAGE - 4} i64.load32_s i64.extend32_s
    i64.add))`,
      entry: "grown",
      args: [],
      pick: (s) =>
        s.op === Wasm.I64_STORE || s.op === Wasm.I64_LOAD || s.op === Wasm.I64_LOAD32_S
          ? `${name(s.op)} #${s.k} after growing (memory ${limits}) to ${max} pages`
          : undefined,
    });
  }
  return out;
}

// ---- calls and returns -------------------------------------------------------------------------

const CALLS_WAT = `(module
  (func $k (result i32) i32.const 42)
  (func $two (param i32 i64) (result i64) (local i64 i32)
    local.get 1 local.get 0 i64.extend_i32_u i64.add)
  (func $void (param i64) (local i32) local.get 0 drop)
  (func $extra (result i32) i32.const 1 i64.const 2 i32.const 3 return)
  (func $mid (param i32) (result i32) local.get 0 i64.const 5 call $void call $k i32.add)
  (func $deep (param i32) (result i32) local.get 0 call $mid i32.const 1 i32.add)
  (func (export "main") (param i32 i64) (result i64)
    i32.const 0x11
    i64.const 0x22
    call $k
    local.get 0
    local.get 1
    call $two
    call $void
    call $extra
    i32.add
    call $deep
    i64.extend_i32_u
    i64.add
    return)
  (func (export "ventry") (param i64) local.get 0 call $void)
  (func $rec (export "rec") (param i32) (result i32)
    local.get 0
    i32.eqz
    (if (result i32) (then i32.const 0)
      (else local.get 0 i32.const 1 i32.sub call $rec i32.const 1 i32.add))))`;

function callScenarios(): Scenario[] {
  const sc = (
    entry: string,
    args: Arg[],
    pick: Scenario["pick"],
    extra: Partial<Scenario> = {},
  ): Scenario => ({
    wat: CALLS_WAT,
    entry,
    args,
    pick,
    ...extra,
  });
  const callsAndReturns = (tag: string) => (s: Site) =>
    s.op === Wasm.CALL || s.op === Wasm.RETURN
      ? `${name(s.op)} #${s.k} depth ${s.depth} ${s.op === Wasm.CALL ? callText(s.arg) : `results=${s.arg}`} (${tag})`
      : undefined;
  const maxDepth = LIMITS.MAX_FRAMES - 1;
  return [
    sc("main", [i32(0xfffffff0), i64(M64 - 1n)], callsAndReturns("main"), {
      halted: "stopped: finished with an i64 result",
    }),
    sc("ventry", [i64(7)], callsAndReturns("ventry"), { halted: "stopped: finished without a result" }),
    // rec(1023): the deepest call that succeeds (1022 → 1023 suspended frames) and the return from it.
    sc("rec", [i32(maxDepth)], (s) =>
      (s.op === Wasm.CALL && s.depth >= maxDepth - 2) || (s.op === Wasm.RETURN && s.depth >= maxDepth - 1)
        ? `${name(s.op)} at depth ${s.depth} (rec ${maxDepth})`
        : undefined,
    ),
    // rec(1024): the call at depth 1023 traps.
    sc(
      "rec",
      [i32(maxDepth + 1)],
      (s) =>
        s.op === Wasm.CALL && s.depth === maxDepth
          ? `call at depth ${s.depth} traps (rec ${maxDepth + 1})`
          : undefined,
      { native: false, halted: "stopped: trapped by call depth" },
    ),
    // A one-instruction program: code depth 0, the code root is the RETURN leaf itself.
    {
      wat: `(module (func (export "f")))`,
      entry: "f",
      args: [],
      pick: (s) =>
        s.op === Wasm.RETURN ? "return from a one-instruction program (code depth 0)" : undefined,
    },
  ];
}

function callText(arg: bigint): string {
  const entry = arg & M32;
  const params = (arg >> 32n) & 0xffn;
  const locals = (arg >> 40n) & 0xffffn;
  const results = (arg >> 56n) & 0xffn;
  return `entry=${entry} params=${params} locals=${locals} results=${results}`;
}

export function stepScenarios(): Scenario[] {
  return [
    ...numericScenarios(),
    ...controlScenarios(),
    ...variableScenarios(),
    ...memoryScenarios(),
    ...callScenarios(),
  ];
}

// ---- running -----------------------------------------------------------------------------------

const programs = new Map<string, Promise<LoadedProgram>>();

/** Assembles and loads a WAT module (cached by text). */
export function programOf(wat: string): Promise<LoadedProgram> {
  let p = programs.get(wat);
  if (p === undefined) {
    p = parse(wat).then((bytes) => new LoadedProgram(loadProgram(new Uint8Array(bytes), "vectors.wat")));
    programs.set(wat, p);
  }
  return p;
}

const STEP_LIMIT = 1_000_000;

const filled = new Map<number, MerkleMemory>();

/** A fresh memory of `pages` pages holding fillPattern (clones of one hashed template). */
function filledMemory(pages: number): MerkleMemory {
  let t = filled.get(pages);
  if (t === undefined) {
    t = new MerkleMemory(pages, fillPattern(pages * PAGE));
    t.root();
    filled.set(pages, t);
  }
  return t.clone();
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Proves the next step of `m` (executing it) and checks it against the reference verifier. */
function prove(label: string, m: Machine): StepVector {
  const op =
    m.status === Status.RUNNING || m.status === Status.TRAPPED ? m.prog.program.code[m.pc].op : Wasm.RETURN;
  const { preRoot, proof, postRoot } = proveStep(m);
  const verified = verifyStep(preRoot, proof);
  if (!equalBytes(verified, postRoot))
    throw new Error(
      `step vector "${label}": the verifier's post root ${toHex(verified)} differs from the machine's ${toHex(postRoot)}`,
    );
  if (!equalBytes(m.stateRoot(), postRoot))
    throw new Error(`step vector "${label}": machine root after the step differs`);
  return { name: label, op, family: familyOf(op), preRoot, proof, postRoot };
}

/** Runs a scenario to the end, proving the steps its `pick` names. */
export async function runScenario(sc: Scenario): Promise<{ vectors: StepVector[]; outcome: Outcome }> {
  const prog = await programOf(sc.wat);
  const pages = prog.program.memoryPages;
  const memory = sc.fill ? filledMemory(pages) : undefined;
  const m = Machine.start(
    prog,
    sc.entry,
    sc.args.map((a) => a.v),
    memory,
  );
  const seen = new Map<number, number>();
  const vectors: StepVector[] = [];
  for (let steps = 0; m.status === Status.RUNNING; steps++) {
    if (steps >= STEP_LIMIT) throw new Error(`scenario ${sc.entry}: no halt after ${STEP_LIMIT} steps`);
    const ins = prog.program.code[m.pc];
    const k = seen.get(ins.op) ?? 0;
    seen.set(ins.op, k + 1);
    const stack = m.frameStack(m.r.fp);
    const label = sc.pick({ op: ins.op, arg: ins.arg, k, depth: m.r.fp, top: stack[stack.length - 1] ?? 0n });
    if (label === undefined) m.step();
    else vectors.push(prove(label, m));
  }
  if (sc.halted !== undefined) {
    const before = m.stateRoot();
    const v = prove(sc.halted, m);
    if (!equalBytes(v.postRoot, before) || !equalBytes(v.preRoot, before))
      throw new Error(`step vector "${sc.halted}": a stopped machine changed`);
    vectors.push(v);
  }
  const outcome: Outcome =
    m.status === Status.FINISHED
      ? { status: "finished", result: m.result(), memory: m.mem.bytes.slice() }
      : { status: "trapped", trap: m.trapMessage, memory: m.mem.bytes.slice() };
  return { vectors, outcome };
}

/** A scenario with the vectors it produced and how its run ended. */
export interface StepCase {
  scenario: Scenario;
  vectors: StepVector[];
  outcome: Outcome;
}

/** Runs every scenario; throws if any proof fails to verify or a scenario proves nothing. */
export async function buildStepCases(): Promise<StepCase[]> {
  const out: StepCase[] = [];
  for (const scenario of stepScenarios()) {
    const { vectors, outcome } = await runScenario(scenario);
    if (vectors.length === 0) throw new Error(`scenario ${scenario.entry} proved no step`);
    out.push({ scenario, vectors, outcome });
  }
  return out;
}

/** Every step vector, in a fixed order; throws if any proof fails to verify or a name repeats. */
export async function buildStepVectors(): Promise<StepVector[]> {
  return flattenStepCases(await buildStepCases());
}

export function flattenStepCases(cases: readonly StepCase[]): StepVector[] {
  const out = cases.flatMap((c) => c.vectors);
  const names = new Set<string>();
  for (const v of out) {
    if (names.has(v.name)) throw new Error(`duplicate step vector name "${v.name}"`);
    names.add(v.name);
  }
  return out;
}

export function stepVectorsJson(vectors: readonly StepVector[]): StepVectorsJson {
  return {
    names: vectors.map((v) => v.name),
    ops: vectors.map((v) => v.op),
    families: vectors.map((v) => v.family),
    preRoots: vectors.map((v) => toHex(v.preRoot)),
    proofs: vectors.map((v) => toHex(v.proof)),
    postRoots: vectors.map((v) => toHex(v.postRoot)),
  };
}

export function serializeStepVectors(vectors: readonly StepVector[]): string {
  return JSON.stringify(stepVectorsJson(vectors), null, 1) + "\n";
}

export async function writeStepVectors(path = STEP_VECTORS_PATH): Promise<string> {
  const abs = resolve(path);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, serializeStepVectors(await buildStepVectors()));
  return abs;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  console.log(`wrote ${await writeStepVectors(process.argv[2] ?? STEP_VECTORS_PATH)}`);
}
