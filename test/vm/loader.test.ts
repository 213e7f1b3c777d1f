// The WASM loader (vm/loader.ts, vm/wasm/decode.ts): the real DNN module loads; everything outside
// the VM's integer subset is rejected with a message naming the construct and the function; and the
// flat code computes what V8 computes. The last part uses a small reference interpreter over the
// flat code (a test oracle only, independent of the VM) on hand-written modules and on the DNN
// module itself (its pure functions, and whole exec() kernel calls with linear memory).
import { readFileSync } from "node:fs";
import { parse, print } from "@bytecodealliance/jco";
import { describe, expect, it } from "vitest";
import { Binary, Op, Reduce, Unary } from "../../dnn/src/opcodes.js";
import { dnnWasmPath } from "../../dnn/src/wasm.js";
import {
  Ctl,
  HALT_PC,
  isFloatNumeric,
  LIMITS,
  NUMERIC_FIRST,
  NUMERIC_LAST,
  numericPops,
  type Program,
  packCall,
  unpackBr,
  unpackCall,
  Wasm,
} from "../../vm/isa.js";
import { LoadError, loadProgram } from "../../vm/loader.js";
import { decodeModule, ValType, WasmDecodeError } from "../../vm/wasm/decode.js";
import { rng } from "../helpers/helpers.js";

const wat = async (text: string): Promise<Uint8Array<ArrayBuffer>> => new Uint8Array(await parse(text));
const dnnBytes = () => new Uint8Array(readFileSync(dnnWasmPath()));

// ---------------------------------------------------------------------------------------------
// Reference interpreter over the flat code (test oracle)

class Trap extends Error {}

interface OracleState {
  globals: bigint[];
  memory: Uint8Array;
}

function freshState(p: Program): OracleState {
  return { globals: [...p.globals], memory: new Uint8Array(p.memoryPages * 65536) };
}

const u32 = (x: bigint) => BigInt.asUintN(32, x);
const s32 = (x: bigint) => BigInt.asIntN(32, x);
const u64 = (x: bigint) => BigInt.asUintN(64, x);
const s64 = (x: bigint) => BigInt.asIntN(64, x);
const bool = (c: boolean) => (c ? 1n : 0n);

function clz(a: bigint, bits: number): bigint {
  return BigInt(a === 0n ? bits : bits - a.toString(2).length);
}
function ctz(a: bigint, bits: number): bigint {
  if (a === 0n) return BigInt(bits);
  let n = 0n;
  while (((a >> n) & 1n) === 0n) n++;
  return n;
}
function popcnt(a: bigint): bigint {
  let n = 0n;
  for (const c of a.toString(2)) if (c === "1") n++;
  return n;
}

/** i32 ops by their i32 opcode; i64 ops are mapped onto them with `bits` = 64. */
function intOp(op: number, a: bigint, b: bigint, bits: 32 | 64): bigint {
  const U = (x: bigint) => BigInt.asUintN(bits, x);
  const S = (x: bigint) => BigInt.asIntN(bits, x);
  const B = BigInt(bits);
  const sh = b & (B - 1n);
  switch (op) {
    case 0x45:
      return bool(a === 0n);
    case 0x46:
      return bool(a === b);
    case 0x47:
      return bool(a !== b);
    case 0x48:
      return bool(S(a) < S(b));
    case 0x49:
      return bool(a < b);
    case 0x4a:
      return bool(S(a) > S(b));
    case 0x4b:
      return bool(a > b);
    case 0x4c:
      return bool(S(a) <= S(b));
    case 0x4d:
      return bool(a <= b);
    case 0x4e:
      return bool(S(a) >= S(b));
    case 0x4f:
      return bool(a >= b);
    case 0x67:
      return clz(a, bits);
    case 0x68:
      return ctz(a, bits);
    case 0x69:
      return popcnt(a);
    case 0x6a:
      return U(a + b);
    case 0x6b:
      return U(a - b);
    case 0x6c:
      return U(a * b);
    case 0x6d:
      if (b === 0n) throw new Trap("integer divide by zero");
      if (S(a) === -(1n << (B - 1n)) && S(b) === -1n) throw new Trap("integer overflow");
      return U(S(a) / S(b));
    case 0x6e:
      if (b === 0n) throw new Trap("integer divide by zero");
      return a / b;
    case 0x6f:
      if (b === 0n) throw new Trap("integer divide by zero");
      return U(S(a) % S(b));
    case 0x70:
      if (b === 0n) throw new Trap("integer divide by zero");
      return a % b;
    case 0x71:
      return a & b;
    case 0x72:
      return a | b;
    case 0x73:
      return a ^ b;
    case 0x74:
      return U(a << sh);
    case 0x75:
      return U(S(a) >> sh);
    case 0x76:
      return a >> sh;
    case 0x77:
      return U((a << sh) | (a >> ((B - sh) & (B - 1n))));
    case 0x78:
      return U((a >> sh) | (a << ((B - sh) & (B - 1n))));
    default:
      throw new Error(`oracle: no numeric op 0x${op.toString(16)}`);
  }
}

function numeric(op: number, a: bigint, b: bigint): bigint {
  if (op <= 0x4f || (op >= 0x67 && op <= 0x78)) return intOp(op, a, b, 32);
  if (op === 0x50) return intOp(0x45, a, b, 64);
  if (op <= 0x5a) return intOp(op - 0x0b, a, b, 64);
  if (op >= 0x79 && op <= 0x8a) return intOp(op - 0x12, a, b, 64);
  switch (op) {
    case 0xa7:
      return u32(a);
    case 0xac:
      return u64(s32(a));
    case 0xad:
      return a;
    case 0xc0:
      return u32(BigInt.asIntN(8, a));
    case 0xc1:
      return u32(BigInt.asIntN(16, a));
    case 0xc2:
      return u64(BigInt.asIntN(8, a));
    case 0xc3:
      return u64(BigInt.asIntN(16, a));
    case 0xc4:
      return u64(BigInt.asIntN(32, a));
  }
  throw new Error(`oracle: no numeric op 0x${op.toString(16)}`);
}

/** Loads: [bytes, signed, result bits]; stores: bytes. */
const LOADS = new Map<number, [number, boolean, number]>([
  [0x28, [4, false, 32]],
  [0x29, [8, false, 64]],
  [0x2c, [1, true, 32]],
  [0x2d, [1, false, 32]],
  [0x2e, [2, true, 32]],
  [0x2f, [2, false, 32]],
  [0x30, [1, true, 64]],
  [0x31, [1, false, 64]],
  [0x32, [2, true, 64]],
  [0x33, [2, false, 64]],
  [0x34, [4, true, 64]],
  [0x35, [4, false, 64]],
]);
const STORES = new Map<number, number>([
  [0x36, 4],
  [0x37, 8],
  [0x3a, 1],
  [0x3b, 2],
  [0x3c, 1],
  [0x3d, 2],
  [0x3e, 4],
]);

interface Frame {
  locals: bigint[];
  stack: bigint[];
  ret: number;
}

/** Runs function `func` of the flat program; returns its result (undefined for none). */
function interpret(p: Program, func: number, args: bigint[], st: OracleState, maxSteps = 50_000_000) {
  const { code } = p;
  const f = p.functions[func];
  const newFrame = (nLocals: number, a: bigint[], ret: number): Frame => {
    const locals = a.slice();
    while (locals.length < nLocals) locals.push(0n);
    return { locals, stack: [], ret };
  };
  const frames: Frame[] = [newFrame(f.nLocals, args, HALT_PC)];
  let pc = f.entryPc;
  const addr = (base: bigint, offset: bigint, n: number): number => {
    const ea = base + offset;
    if (ea + BigInt(n) > BigInt(st.memory.length)) throw new Trap("out of bounds memory access");
    return Number(ea);
  };
  for (let steps = 0; steps < maxSteps; steps++) {
    const fr = frames[frames.length - 1];
    const s = fr.stack;
    const pop = (): bigint => {
      const v = s.pop();
      if (v === undefined) throw new Error(`oracle: operand stack underflow at pc ${pc}`);
      return v;
    };
    const { op, arg } = code[pc];
    switch (op) {
      case Wasm.UNREACHABLE:
        throw new Trap("unreachable");
      case Wasm.NOP:
        pc++;
        break;
      case Ctl.BR:
      case Ctl.BR_IF: {
        if (op === Ctl.BR_IF && pop() === 0n) {
          pc++;
          break;
        }
        const { target, drop, keep } = unpackBr(arg);
        if (s.length < drop + keep) throw new Error(`oracle: branch at pc ${pc} drops below the frame`);
        const kept = s.splice(s.length - keep, keep);
        s.length -= drop;
        s.push(...kept);
        pc = target;
        break;
      }
      case Ctl.BR_UNLESS:
        pc = pop() === 0n ? Number(arg) : pc + 1;
        break;
      case Ctl.BR_TABLE: {
        const i = pop();
        let k = arg; // min(i, n)
        if (i < k) k = i;
        pc = pc + 1 + Number(k);
        if (code[pc].op !== Ctl.BR) throw new Error("oracle: br_table entry is not a BR");
        break;
      }
      case Wasm.CALL: {
        const c = unpackCall(arg);
        if (frames.length >= LIMITS.MAX_FRAMES) throw new Trap("call stack exhausted");
        frames.push(newFrame(c.nLocals, s.splice(s.length - c.nParams, c.nParams), pc + 1));
        pc = c.entryPc;
        break;
      }
      case Wasm.RETURN: {
        const n = Number(arg);
        const results = s.slice(s.length - n);
        frames.pop();
        if (frames.length === 0) return results[0];
        frames[frames.length - 1].stack.push(...results);
        pc = fr.ret;
        break;
      }
      case Wasm.DROP:
        pop();
        pc++;
        break;
      case Wasm.SELECT: {
        const c = pop();
        const b = pop();
        const a = pop();
        s.push(c !== 0n ? a : b);
        pc++;
        break;
      }
      case Wasm.LOCAL_GET:
        s.push(fr.locals[Number(arg)]);
        pc++;
        break;
      case Wasm.LOCAL_SET:
        fr.locals[Number(arg)] = pop();
        pc++;
        break;
      case Wasm.LOCAL_TEE:
        fr.locals[Number(arg)] = s[s.length - 1];
        pc++;
        break;
      case Wasm.GLOBAL_GET:
        s.push(st.globals[Number(arg)]);
        pc++;
        break;
      case Wasm.GLOBAL_SET:
        st.globals[Number(arg)] = pop();
        pc++;
        break;
      case Wasm.I32_CONST:
      case Wasm.I64_CONST:
        s.push(arg);
        pc++;
        break;
      case Wasm.MEMORY_SIZE:
        s.push(BigInt(st.memory.length / 65536));
        pc++;
        break;
      case Wasm.MEMORY_GROW: {
        const old = st.memory.length / 65536;
        const want = old + Number(pop());
        if (want > p.maxPages) s.push(u32(-1n));
        else {
          const m = new Uint8Array(want * 65536);
          m.set(st.memory);
          st.memory = m;
          s.push(BigInt(old));
        }
        pc++;
        break;
      }
      default: {
        const load = LOADS.get(op);
        const store = STORES.get(op);
        if (load !== undefined) {
          const [n, signed, bits] = load;
          const a = addr(pop(), arg, n);
          let v = 0n;
          for (let k = n - 1; k >= 0; k--) v = (v << 8n) | BigInt(st.memory[a + k]);
          if (signed) v = BigInt.asIntN(8 * n, v);
          s.push(BigInt.asUintN(bits, v));
        } else if (store !== undefined) {
          let v = pop();
          const a = addr(pop(), arg, store);
          for (let k = 0; k < store; k++, v >>= 8n) st.memory[a + k] = Number(v & 0xffn);
        } else if (op >= NUMERIC_FIRST && op <= NUMERIC_LAST && !isFloatNumeric(op)) {
          const b = numericPops(op) === 2 ? pop() : 0n;
          s.push(numeric(op, pop(), b));
        } else throw new Error(`oracle: unexpected op 0x${op.toString(16)} at pc ${pc}`);
        pc++;
      }
    }
  }
  throw new Error("oracle: step limit");
}

/** Result as a comparable string: the unsigned value, "none" or "trap". */
function oracleCall(p: Program, func: number, args: bigint[], st: OracleState): string {
  try {
    const r = interpret(p, func, args, st);
    return r === undefined ? "none" : r.toString();
  } catch (e) {
    if (e instanceof Trap) return "trap";
    throw e;
  }
}

type WasmFn = (...args: (number | bigint)[]) => number | bigint | undefined;

function v8Call(fn: WasmFn, params: number[], args: bigint[]): string {
  try {
    const r = fn(...args.map((a, i) => (params[i] === ValType.I32 ? Number(s32(a)) : s64(a))));
    if (r === undefined) return "none";
    return typeof r === "bigint" ? u64(r).toString() : u32(BigInt(r)).toString();
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) return "trap";
    throw e;
  }
}

const I32_EDGES = [
  0n,
  1n,
  2n,
  3n,
  4n,
  5n,
  7n,
  13n,
  31n,
  32n,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0xfffffffen,
];
const I64_EDGES = [
  0n,
  1n,
  2n,
  5n,
  63n,
  64n,
  1n << 30n,
  1n << 32n,
  (1n << 63n) - 1n,
  1n << 63n,
  u64(-1n),
  u64(-(1n << 30n)),
];

function sampler(seed: number) {
  const r = rng(seed);
  const word = () => BigInt(Math.floor(r() * 2 ** 32));
  return (type: number): bigint => {
    const k = r();
    const edges = type === ValType.I32 ? I32_EDGES : I64_EDGES;
    if (k < 0.25) return edges[Math.floor(r() * edges.length)];
    if (k < 0.5) return (type === ValType.I32 ? u32 : u64)(BigInt(Math.floor(r() * 64) - 32));
    if (type === ValType.I32) return k < 0.75 ? u32(BigInt(Math.floor((r() - 0.5) * 2 ** 17))) : word();
    if (k < 0.75) return u64(BigInt(Math.floor((r() - 0.5) * 2 ** 40)));
    return (word() << 32n) | word();
  };
}

// ---------------------------------------------------------------------------------------------
// Structural checks on a flat program

const ACCEPTED = new Set<number>([...Object.values(Wasm), ...Object.values(Ctl)]);
for (let op = NUMERIC_FIRST; op <= NUMERIC_LAST; op++) if (!isFloatNumeric(op)) ACCEPTED.add(op);

function checkStructure(p: Program) {
  const byEntry = new Map(p.functions.map((f) => [f.entryPc, f]));
  const sorted = [...p.functions].sort((a, b) => a.entryPc - b.entryPc);
  expect(sorted.map((f) => f.index)).toEqual(p.functions.map((f) => f.index));
  sorted.forEach((f, i) => {
    const end = i + 1 < sorted.length ? sorted[i + 1].entryPc : p.code.length;
    const inside = (t: number) => t >= f.entryPc && t < end;
    expect(end).toBeGreaterThan(f.entryPc);
    expect(p.code[end - 1]).toEqual({ op: Wasm.RETURN, arg: BigInt(f.nResults) });
    for (let pc = f.entryPc; pc < end; pc++) {
      const { op, arg } = p.code[pc];
      if (!ACCEPTED.has(op)) throw new Error(`pc ${pc}: op 0x${op.toString(16)} not in the ISA`);
      if (op === Ctl.BR || op === Ctl.BR_IF) expect(inside(unpackBr(arg).target), `pc ${pc}`).toBe(true);
      if (op === Ctl.BR_UNLESS) expect(inside(Number(arg)), `pc ${pc}`).toBe(true);
      if (op === Ctl.BR_TABLE)
        for (let k = 1; k <= Number(arg) + 1; k++) expect(p.code[pc + k].op, `pc ${pc + k}`).toBe(Ctl.BR);
      if (op === Wasm.CALL) {
        const c = unpackCall(arg);
        const callee = byEntry.get(c.entryPc);
        expect(callee, `pc ${pc}`).toBeDefined();
        expect({ ...c, entryPc: callee?.entryPc }).toEqual({
          entryPc: callee?.entryPc,
          nParams: callee?.nParams,
          nLocals: callee?.nLocals,
          nResults: callee?.nResults,
        });
      }
      if (op === Wasm.LOCAL_GET || op === Wasm.LOCAL_SET || op === Wasm.LOCAL_TEE)
        expect(Number(arg)).toBeLessThan(f.nLocals);
      if (op === Wasm.GLOBAL_GET || op === Wasm.GLOBAL_SET)
        expect(Number(arg)).toBeLessThan(p.globals.length);
    }
  });
}

/** Calls every export of `bytes` on the given argument lists, in V8 and in the oracle; compares. */
function compareWithV8(
  bytes: Uint8Array<ArrayBuffer>,
  calls: [string, bigint[]][],
  program = loadProgram(bytes),
) {
  const mod = decodeModule(bytes);
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const st = freshState(program);
  const exported = new Map(mod.exports.filter((e) => e.kind === "func").map((e) => [e.name, e.index]));
  const mismatches: string[] = [];
  for (const [name, args] of calls) {
    const index = exported.get(name);
    if (index === undefined) throw new Error(`no export ${name}`);
    const params = mod.types[mod.functions[index]].params;
    const want = v8Call(inst.exports[name] as WasmFn, params, args);
    const got = oracleCall(program, index, args, st);
    if (got !== want) mismatches.push(`${name}(${args.join(", ")}): V8 ${want}, flat code ${got}`);
  }
  expect(mismatches).toEqual([]);
}

// ---------------------------------------------------------------------------------------------

describe("loader: the DNN module", () => {
  it("loads, with every instruction in the ISA and every branch inside its function", async () => {
    const bytes = dnnBytes();
    const p = loadProgram(bytes, "dnn.wasm");
    const text = await print(bytes);
    const nFuncs = text.split("\n").filter((l) => /^\s*\(func /.test(l)).length;
    expect(p.functions.length).toBe(nFuncs);
    expect(p.functions.map((f) => f.index)).toEqual([...p.functions.keys()]);
    expect(Object.keys(p.exports)).toEqual(["exec"]);
    const exec = p.functions[p.exports["exec"]];
    expect([exec.nParams, exec.nResults]).toEqual([1, 1]);
    expect(p.maxPages).toBe(LIMITS.MAX_PAGES);
    expect(p.globals.length).toBeLessThanOrEqual(2 ** LIMITS.GLOBALS_DEPTH);
    for (const f of p.functions) expect(f.nLocals).toBeLessThanOrEqual(2 ** LIMITS.LOCALS_DEPTH);
    checkStructure(p);
    const ops = new Set(p.code.map((i) => i.op));
    for (const op of [Ctl.BR, Ctl.BR_IF, Ctl.BR_UNLESS, Ctl.BR_TABLE, Wasm.CALL, Wasm.SELECT])
      expect(ops).toContain(op);
  });

  it("loads in well under 100 ms", () => {
    const bytes = dnnBytes();
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      loadProgram(bytes, "dnn.wasm");
      best = Math.min(best, performance.now() - t);
    }
    expect(best).toBeLessThan(50);
  });

  it("its pure functions compute what V8 computes", async () => {
    // Export every function (printing and re-parsing keeps the code), run the side-effect-free ones.
    const bytes = dnnBytes();
    const p = loadProgram(bytes, "dnn.wasm");
    const text = (await print(bytes)).trimEnd();
    const exports = p.functions.map((f) => `(export "f${f.index}" (func ${f.index}))`).join("\n");
    const exported = await wat(`${text.slice(0, -1)}\n${exports}\n)`);
    const impure = new Set<number>();
    const ends = [...p.functions.map((f) => f.entryPc).slice(1), p.code.length];
    const sideEffects = (op: number) =>
      op === Wasm.GLOBAL_GET || op === Wasm.GLOBAL_SET || (op >= 0x28 && op <= 0x40);
    for (let changed = true; changed; ) {
      changed = false;
      for (const f of p.functions) {
        if (impure.has(f.index)) continue;
        const body = p.code.slice(f.entryPc, ends[f.index]);
        const calls = body.filter((i) => i.op === Wasm.CALL).map((i) => unpackCall(i.arg).entryPc);
        if (
          body.some((i) => sideEffects(i.op)) ||
          calls.some((pc) => impure.has(p.functions.findIndex((g) => g.entryPc === pc)))
        ) {
          impure.add(f.index);
          changed = true;
        }
      }
    }
    const pure = p.functions.filter((f) => !impure.has(f.index) && f.nResults === 1);
    expect(pure.length).toBeGreaterThanOrEqual(5);
    const types = decodeModule(bytes).types;
    const fnTypes = decodeModule(bytes).functions;
    const sample = sampler(1234);
    const calls: [string, bigint[]][] = [];
    for (const f of pure)
      for (let k = 0; k < 300; k++) calls.push([`f${f.index}`, types[fnTypes[f.index]].params.map(sample)]);
    // Exercise the op selector of multi-way functions (unaryOne's first argument picks the op).
    for (const f of pure)
      for (let sel = 0n; sel < 32n; sel++)
        calls.push([
          `f${f.index}`,
          types[fnTypes[f.index]].params.map((t, i) => (i === 0 ? sel : sample(t))),
        ]);
    compareWithV8(exported, calls, p);
  });

  it("exec() kernels give the same memory and return code as V8", () => {
    const bytes = dnnBytes();
    const p = loadProgram(bytes, "dnn.wasm");
    const module = new WebAssembly.Module(bytes);
    const r = rng(99);
    const vec = (n: number, scale = 8) =>
      Int32Array.from({ length: n }, () => Math.floor((r() - 0.5) * scale * 65536));
    const run = (op: number, params: number[], inputs: Int32Array[], outSizes: number[]) => {
      // Same layout as test/helpers/helpers.ts runKernel.
      const hdr = 4 * (4 + inputs.length + outSizes.length + params.length);
      let off = Math.ceil(hdr / 32) * 32;
      const ptrs = [...inputs.map((t) => t.length), ...outSizes].map((n) => {
        const at = off;
        off += Math.ceil((4 * n) / 32) * 32 + 32;
        return at;
      });
      const pages = Math.ceil(off / 65536) + 1;
      const init = new Int32Array(pages * 16384);
      init.set([op, inputs.length, outSizes.length, params.length, ...ptrs, ...params], 0);
      inputs.forEach((t, i) => {
        init.set(t, ptrs[i] >> 2);
      });
      const inst = new WebAssembly.Instance(module, {});
      const mem = inst.exports.memory as WebAssembly.Memory;
      mem.grow(pages);
      new Int32Array(mem.buffer).set(init);
      const want = (inst.exports.exec as (x: number) => number)(0);
      const st = freshState(p);
      st.memory = new Uint8Array(init.buffer.slice(0));
      const got = interpret(p, p.exports["exec"], [0n], st);
      expect(got).toBe(u32(BigInt(want)));
      expect(Buffer.compare(Buffer.from(st.memory), Buffer.from(new Uint8Array(mem.buffer)))).toBe(0);
    };
    const n = 24;
    for (const fn of Object.values(Unary)) run(Op.UNARY, [fn, n, 13107, 65536], [vec(n)], [n]);
    const dims = [1, 1, 1, 2, 3, 4];
    for (const fn of Object.values(Binary))
      run(Op.BINARY, [fn, ...dims, 0, 0, 0, 12, 4, 1, 0, 0, 0, 0, 0, 1], [vec(24), vec(4, 2)], [24]);
    run(
      Op.WHERE,
      [...dims, 0, 0, 0, 12, 4, 1, 0, 0, 0, 0, 4, 1, 0, 0, 0, 12, 4, 1],
      [vec(24), vec(24), vec(24)],
      [24],
    );
    run(Op.SOFTMAX, [3, 8, 1, 0], [vec(24)], [24]);
    run(Op.SOFTMAX, [2, 4, 3, 1], [vec(24)], [24]);
    run(Op.LAYERNORM, [3, 8, 43, 0, 0], [vec(24)], [24]);
    for (const fn of Object.values(Reduce)) run(Op.REDUCE, [fn, 2, 4, 3], [vec(24, 2)], [6]);
    run(Op.ARGMAX, [2, 4, 3, 0, 0], [vec(24)], [6]);
    run(Op.ARGMAX, [2, 4, 3, 1, 1], [vec(24)], [6]);
    // MATMUL: C[2x3] = A[2x4] · B[4x3], no bias, alpha = beta = 1.
    run(
      Op.MATMUL,
      [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 4, 3, 4, 1, 3, 1, 0, 3, 1, 65536, 65536],
      [vec(8), vec(12)],
      [6],
    );
    // POOL max and avg: 1 channel of 4x4, 2x2 windows, stride 2.
    for (const mode of [0, 1]) run(Op.POOL, [mode, 1, 4, 4, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1, 0], [vec(16)], [4]);
    run(Op.GATHER, [2, 4, 3, 2], [vec(24), Int32Array.from([3, 1])], [12]);
    run(Op.GATHER, [2, 4, 3, 1], [vec(24), Int32Array.from([7])], [6]);
    run(99, [], [], [1]);
  });
});

describe("loader: rejections", () => {
  const rejects = async (text: string, pattern: RegExp, valid = true) => {
    const bytes = await wat(text);
    // Outside the subset but valid WASM (V8 accepts it), or invalid WASM (V8 rejects it too).
    expect(WebAssembly.validate(bytes), text).toBe(valid);
    let message = "";
    try {
      loadProgram(bytes, "m.wasm");
    } catch (e) {
      if (!(e instanceof LoadError || e instanceof WasmDecodeError)) throw e;
      message = e.message;
    }
    expect(message).toMatch(pattern);
    return message;
  };

  it("float instructions, naming the opcode and the function", async () => {
    const msg = await rejects(
      `(module (func $ok) (func $bad (result i32) unreachable f32.add drop i32.const 0))`,
      /^m\.wasm: function 1 \(\$bad\): unsupported instruction f32\.add \(0x92\) at byte 0x[0-9a-f]+$/,
    );
    const at = Number.parseInt(msg.split("at byte ")[1], 16);
    expect(
      (await wat(`(module (func $ok) (func $bad (result i32) unreachable f32.add drop i32.const 0))`))[at],
    ).toBe(0x92);
    await rejects(
      `(module (func $f (result i32) f32.const 1.5 i32.trunc_f32_s))`,
      /function 0 \(\$f\): unsupported instruction f32\.const \(0x43\)/,
    );
    await rejects(
      `(module (func $f (param i64) (result f64) local.get 0 f64.convert_i64_s))`,
      /function 0 \(\$f\): result type f64 is not supported/,
    );
    await rejects(
      `(module (memory 1) (func $f (result i32) i32.const 0 f32.load drop i32.const 0))`,
      /f32\.load \(0x2a\)/,
    );
    await rejects(
      `(module (func $f (result i64) unreachable i64.trunc_sat_f64_u))`,
      /function 0 \(\$f\): unsupported instruction i64\.trunc_sat_f64_u \(0xfc 0x07\)/,
    );
    // Without a name section the function is named by index only.
    await rejects(
      `(module (func) (func (result i32) unreachable f32.add drop i32.const 0))`,
      /: function 1: unsupported/,
    );
  });

  it("f32/f64 locals, params, globals and block types", async () => {
    await rejects(
      `(module (func $g (local $x i32) (local $y f64)))`,
      /function 0 \(\$g\): local 1 has type f64/,
    );
    await rejects(`(module (func $g (param f32)))`, /function 0 \(\$g\): parameter 0 has type f32/);
    await rejects(`(module (global f64 (f64.const 0)) (func))`, /global 0 has type f64/);
    await rejects(
      `(module (func $b (result i32) (block (result f32) unreachable) drop i32.const 0))`,
      /function 0 \(\$b\): block type f32 is not supported/,
    );
    await rejects(
      `(module (type (func (param f32))) (func))`,
      /type 0 \[f32\] -> \[\]: f32 is not supported/,
    );
  });

  it("SIMD, threads and bulk memory", async () => {
    await rejects(
      `(module (func $s (result i32) v128.const i32x4 1 2 3 4 i32x4.extract_lane 0))`,
      /function 0 \(\$s\): unsupported instruction v128\.const \(0xfd 0x0c\)/,
    );
    await rejects(
      `(module (func $s (param i32) (result i32) unreachable i32x4.add drop i32.const 0))`,
      /unsupported instruction i32x4\.add \(0xfd 0xae\)/,
    );
    await rejects(
      `(module (memory 1) (func $a (result i32) i32.const 0 i32.atomic.load))`,
      /function 0 \(\$a\): unsupported instruction i32\.atomic\.load \(0xfe 0x10\)/,
    );
    await rejects(
      `(module (memory 1) (func $c i32.const 0 i32.const 8 i32.const 4 memory.copy))`,
      /function 0 \(\$c\): unsupported instruction memory\.copy \(0xfc 0x0a\)/,
    );
    await rejects(`(module (memory 1 1 shared) (func))`, /shared memory/);
  });

  it("call_indirect, tables and reference types", async () => {
    await rejects(
      `(module (type $t (func (result i32))) (table 1 funcref)
         (func $ok) (func $c (result i32) i32.const 0 call_indirect (type $t)))`,
      /^m\.wasm: function 1 \(\$c\): unsupported instruction call_indirect \(0x11\) at byte/,
    );
    await rejects(`(module (table 1 funcref) (func))`, /tables are not supported/);
    await rejects(
      `(module (func $r (result i32) ref.null func ref.is_null))`,
      /unsupported instruction ref\.null \(0xd0\)/,
    );
    await rejects(`(module (func $r (param externref)))`, /parameter 0 has type externref/);
    await rejects(
      `(module (func $t (result i32) i32.const 1 i32.const 2 i32.const 0 select (result i32)))`,
      /typed select \(0x1c\)/,
    );
  });

  it("imports, data segments, start functions, multi-value, memories", async () => {
    await rejects(
      `(module (import "env" "log" (func $log (param i32))) (func $f i32.const 1 call $log))`,
      /^m\.wasm: import "env"\."log" \(function 0 \(\$log\)\) is not supported/,
    );
    await rejects(`(module (import "env" "mem" (memory 1)))`, /import "env"\."mem" \(memory\)/);
    await rejects(
      `(module (memory 1) (data (i32.const 16) "hi") (func $f))`,
      /data segment 0 \(active, 2 bytes\) is not supported/,
    );
    await rejects(
      `(module (func $init) (start $init))`,
      /start function \(function 0 \(\$init\)\) is not supported/,
    );
    await rejects(
      `(module (func $m (result i32) i32.const 1 (block (param i32) (result i32))))`,
      /function 0 \(\$m\): multi-value block type \[i32\] -> \[i32\]/,
    );
    await rejects(
      `(module (func $two (result i32 i32) i32.const 1 i32.const 2))`,
      /function 0 \(\$two\): 2 results/,
    );
    // Multi-memory: V8 in Node 20 does not validate it; the loader rejects it either way.
    await rejects(
      `(module (memory 1) (memory 1) (func))`,
      /multiple memories/,
      WebAssembly.validate(await wat(`(module (memory 1) (memory 1))`)),
    );
  });

  it("limits on locals and globals", async () => {
    const locals = (n: number) => `(module (func $big ${"(local i32) ".repeat(n)}))`;
    expect(loadProgram(await wat(locals(256))).functions[0].nLocals).toBe(256);
    await rejects(locals(257), /function 0 \(\$big\): 257 locals \(params included\); at most 256/);
    const globals = (n: number) => `(module ${"(global (mut i32) (i32.const 0)) ".repeat(n)} (func))`;
    expect(loadProgram(await wat(globals(16))).globals.length).toBe(16);
    await rejects(globals(17), /17 globals: at most 16/);
  });

  it("invalid modules, as a WASM validator rejects them", async () => {
    const invalid = (body: string, pattern: RegExp, extra = "") =>
      rejects(`(module (func $f (param $p i32) (result i32) ${body}) ${extra})`, pattern, false);
    await invalid(
      "i64.const 1 i32.add",
      /function 0 \(\$f\): type mismatch in i32\.add \(0x6a\): expected i32, found i64/,
    );
    await invalid("i32.add", /needs an operand but the stack is empty/);
    await invalid("i32.const 1 i32.const 2", /1 value\(s\) left on the stack/);
    await invalid(
      "i32.const 1 global.set 0 i32.const 0",
      /global\.set of immutable global 0/,
      "(global i32 (i32.const 0))",
    );
    await invalid("local.get 0 br 3", /branch depth 3 out of range/);
    await invalid("local.get 0 (if (result i32) (then i32.const 1))", /if with a result but no else branch/);
    await invalid("local.get 0 i64.const 1 local.get 0 select", /type mismatch in select/);
    await invalid("local.get 0 i32.load", /i32\.load \(0x28\) but the module has no memory/);
    await invalid(
      "local.get 0 call 1",
      /type mismatch in call \(0x10\): expected i64, found i32/,
      "(func (param i64) (result i32) i32.const 0)",
    );
    await invalid(
      "(block $a (result i32) (block $b i32.const 0 local.get 0 br_table $a $b))",
      /br_table targets have different arities/,
    );
    await invalid("local.get 5", /local index 5 out of range \(1 locals\)/);
  });

  it("malformed binaries, with the byte offset", async () => {
    const decodeError = (bytes: number[], pattern: RegExp) => {
      expect(() => loadProgram(new Uint8Array(bytes), "x.wasm")).toThrow(pattern);
    };
    const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    decodeError(
      [0x00, 0x61, 0x73, 0x6e, 1, 0, 0, 0],
      /x\.wasm: not a WebAssembly module \(bad magic number\)/,
    );
    decodeError([...header, 0x01, 0x05, 0x01], /type section: unexpected end|exceeds the module/);
    decodeError(
      [...header, 0x01, 0x06, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
      /integer representation too long at byte 0xa/,
    );
    decodeError([...header, 0x03, 0x01, 0x00, 0x01, 0x01, 0x00], /section out of order/);
    // One function whose body has an opcode no proposal assigns.
    decodeError(
      [
        ...header,
        0x01,
        0x04,
        0x01,
        0x60,
        0x00,
        0x00,
        0x03,
        0x02,
        0x01,
        0x00,
        0x0a,
        0x05,
        0x01,
        0x03,
        0x00,
        0xd7,
        0x0b,
      ],
      /function 0: unknown opcode 0xd7 at byte 0x17/,
    );
  });
});

describe("loader: flattening matches V8", () => {
  const MODULE = `(module
    (global $g (mut i32) (i32.const 0))
    (global $h (mut i64) (i64.const -5))
    (global $k i32 (i32.const 42))

    ;; br carrying a value out of an if, two blocks up (drop 3, keep 1)
    (func $brOuter (export "brOuter") (param $x i32) (result i32)
      (block $out (result i32)
        i32.const 1000
        (block $in (result i32)
          i32.const 7
          i32.const 8
          (if (i32.lt_s (local.get $x) (i32.const 5))
            (then (br $out (i32.mul (local.get $x) (i32.const 100)))))
          i32.add
          local.get $x
          i32.add)
        i32.add)
      i32.const 1
      i32.add)

    ;; br_if with values: the condition is popped first, then drop/keep apply
    (func $brIf (export "brIf") (param $x i32) (param $y i32) (result i32)
      (block $a (result i32)
        i32.const 11
        (block $b (result i32)
          i32.const 22
          i32.const 33
          local.get $y
          (br_if $a (i32.gt_s (local.get $x) (i32.const 3)))
          i32.mul
          i32.add
          (br_if $b (i32.eqz (local.get $x)))
          i32.const 2
          i32.mul)
        i32.add))

    ;; a loop left through a value-carrying br_if, with junk below the value
    (func $sumTo (export "sumTo") (param $n i32) (result i32)
      (local $i i32) (local $acc i32)
      (block $done (result i32)
        (loop $top
          i32.const -1
          local.get $acc
          (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
          drop
          drop
          (local.set $acc (i32.add (local.get $acc) (local.get $i)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          br $top)
        unreachable)
      i32.const 3
      i32.mul)

    ;; branching back to a loop drops what the body pushed
    (func $loopDrop (export "loopDrop") (param $n i32) (result i32)
      (local $i i32)
      (loop $l
        i32.const 5
        i32.const 6
        (local.tee $i (i32.add (local.get $i) (i32.const 1)))
        local.get $n
        i32.lt_s
        br_if $l
        drop
        drop)
      local.get $i)

    ;; a loop with a result: branching back keeps nothing (the loop label has no arity)
    (func $loopResult (export "loopResult") (param $n i32) (result i32)
      (local $i i32)
      i32.const 5
      (loop $l (result i32)
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (i32.mul (local.get $i) (i32.const 10))
        (br_if $l (i32.lt_s (local.get $i) (local.get $n))))
      i32.add)

    ;; switch: br_table with a default, arity 0
    (func $switch (export "switch") (param $x i32) (result i32)
      (local $r i32)
      (block $end
        (block $default
          (block $c2
            (block $c1
              (block $c0
                (br_table $c0 $c1 $c2 $c1 $default (local.get $x)))
              (local.set $r (i32.const 10))
              (br $end))
            (local.set $r (i32.const 20))
            (br $end))
          (local.set $r (i32.const 30)))
        (local.set $r (i32.add (local.get $r) (i32.const 5))))
      local.get $r)

    ;; br_table carrying a value to blocks at different heights
    (func $switchVal (export "switchVal") (param $x i32) (result i32)
      (block $a (result i32)
        (block $b (result i32)
          i32.const 1
          i32.const 2
          (block $c (result i32)
            i32.const 1000
            (i32.mul (local.get $x) (i32.const 7))
            local.get $x
            br_table $c $b $a $b)
          i32.add
          i32.add
          i32.const 100
          i32.add)
        i32.const 3
        i32.mul))

    ;; br_table to a loop and to an outer block
    (func $tableLoop (export "tableLoop") (param $n i32) (result i32)
      (local $i i32) (local $acc i32)
      (block $out
        (loop $l
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 3)) (local.get $i)))
          (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
          (br_table $l $l $out $l (i32.rem_u (local.get $acc) (i32.const 5)))))
      local.get $acc)

    ;; br_table to the function label of a function without results; a void call
    (func $setG (param $x i32)
      (global.set $g (i32.const 1))
      (block $b1
        (block $b0
          (br_table 0 1 2 (local.get $x)))
        (global.set $g (i32.const 2))
        (return))
      (global.set $g (i32.const 3)))
    (func $tableFn (export "tableFn") (param $x i32) (result i32)
      (call $setG (local.get $x))
      (i32.add (global.get $g) (global.get $k)))

    ;; early return from inside nested blocks and a loop, with junk on the stack
    (func $find (export "find") (param $x i32) (result i32)
      (local $i i32)
      (block $b
        (loop $l
          i32.const 99
          (block $c
            (if (i32.eq (i32.mul (local.get $i) (local.get $i)) (local.get $x))
              (then (return (i32.add (local.get $i) (i32.const 1000)))))
            (br_if $b (i32.gt_s (local.get $i) (i32.const 50))))
          drop
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          br $l))
      i32.const -1)

    ;; br / br_if to the function label
    (func $brFunc (export "brFunc") (param $x i32) (result i32)
      i32.const 9
      i32.const 5
      (br_if 0 (local.get $x))
      drop
      drop
      (block (result i32) (br 1 (i32.add (local.get $x) (i32.const 1)))))

    ;; nested if/else with results, select
    (func $nestedIf (export "nestedIf") (param $x i32) (param $y i32) (result i32)
      (if (result i32) (i32.lt_s (local.get $x) (i32.const 10))
        (then
          (if (result i32) (i32.eqz (local.get $y))
            (then (i32.const 1))
            (else
              (if (result i32) (i32.lt_s (local.get $y) (i32.const 0))
                (then (i32.const 2))
                (else (i32.const 3))))))
        (else
          (if (result i32) (i32.eq (local.get $x) (local.get $y))
            (then (i32.const 4))
            (else (select (local.get $x) (local.get $y) (i32.lt_s (local.get $x) (local.get $y)))))))
      i32.const 100
      i32.mul)

    ;; if without else, empty then-branch, global state across calls
    (func $ifNoElse (export "ifNoElse") (param $x i32) (result i32)
      (if (i32.gt_s (local.get $x) (i32.const 0)) (then (global.set $g (local.get $x))))
      (if (i32.lt_s (local.get $x) (i32.const -3))
        (then)
        (else (global.set $g (i32.sub (global.get $g) (i32.const 1)))))
      global.get $g)

    ;; recursion
    (func $fact (export "fact") (param $n i64) (result i64)
      (if (result i64) (i64.le_s (local.get $n) (i64.const 1))
        (then (i64.const 1))
        (else (i64.mul (local.get $n) (call $fact (i64.sub (local.get $n) (i64.const 1)))))))
    (func $fib (export "fib") (param $n i32) (result i32)
      (if (i32.lt_s (local.get $n) (i32.const 2)) (then (return (local.get $n))))
      (i32.add
        (call $fib (i32.sub (local.get $n) (i32.const 1)))
        (call $fib (i32.sub (local.get $n) (i32.const 2)))))
    (func $isEven (export "isEven") (param $n i32) (result i32)
      (if (result i32) (i32.eqz (local.get $n))
        (then (i32.const 1))
        (else (call $isOdd (i32.sub (local.get $n) (i32.const 1))))))
    (func $isOdd (param $n i32) (result i32)
      (if (result i32) (i32.eqz (local.get $n))
        (then (i32.const 0))
        (else (call $isEven (i32.sub (local.get $n) (i32.const 1))))))

    ;; calls with mixed parameter and local types, junk below the arguments
    (func $mix (param $a i32) (param $b i64) (param $c i32) (result i64)
      (local $t i64) (local $u i32)
      (local.set $t (i64.mul (local.get $b) (i64.extend_i32_s (local.get $a))))
      (local.set $u (i32.sub (local.get $c) (local.get $a)))
      (i64.add (local.get $t) (i64.extend_i32_u (local.get $u))))
    (func $callMix (export "callMix") (param $x i32) (param $y i64) (result i64)
      i64.const 5
      (call $mix (local.get $x) (local.get $y) (i32.const 7))
      i64.add
      (global.set $h (i64.add (global.get $h) (i64.const 1)))
      (call $mix (i32.const 3) (global.get $h) (local.get $x))
      i64.xor)

    ;; dead code after br: nested blocks, branches, br_table (validated, never run)
    (func $dead (export "dead") (param $x i32) (result i32)
      (block $b (result i32)
        (br $b (i32.add (local.get $x) (i32.const 1)))
        i32.add
        (block $inner (result i32)
          (br 1 (i32.const 1)))
        drop
        (if (result i32) (i32.const 0) (then (i32.const 1)) (else (br 2 (i32.const 2))))
        (loop $l (br_if $l (i32.const 0)))
        br_table 0 1 0)
      i32.const 2
      i32.mul)

    ;; dead branches whose label needs more values than the dead stack has
    (func $dead2 (export "dead2") (param $x i32) (result i32)
      (block $z (result i32)
        (if (local.get $x) (then (br $z (i32.const 7))))
        (return (i32.const 8))
        (br $z)
        (br_if $z (i32.const 1))
        (br_table $z $z (i32.const 0)))
      i32.const 1
      i32.add)

    ;; traps
    (func $trap (export "trap") (param $x i32) (result i32)
      (if (i32.eq (local.get $x) (i32.const 13)) (then unreachable))
      (i32.div_s (i32.const 1000) (local.get $x)))

    ;; integer ops (checks the oracle as much as the loader)
    (func $ops64 (export "ops64") (param $a i64) (param $b i64) (result i64)
      (i64.xor
        (i64.add (i64.rotl (local.get $a) (local.get $b)) (i64.shr_s (local.get $a) (local.get $b)))
        (i64.add (i64.clz (local.get $b)) (i64.mul (i64.extend32_s (local.get $a)) (i64.popcnt (local.get $b))))))
    (func $ops32 (export "ops32") (param $a i32) (param $b i32) (result i32)
      (i32.xor
        (i32.add (i32.rotr (local.get $a) (local.get $b)) (i32.shr_u (local.get $a) (local.get $b)))
        (i32.add (i32.ctz (local.get $b)) (i32.extend8_s (i32.wrap_i64 (i64.extend_i32_u (local.get $a)))))))
  )`;

  it("on nested blocks, loops, br/br_if/br_table with values, early returns, recursion", async () => {
    const bytes = await wat(MODULE);
    const p = loadProgram(bytes, "flat.wasm");
    checkStructure(p);
    // The module exercises branches that both drop and keep values.
    const brs = p.code.filter((i) => i.op === Ctl.BR || i.op === Ctl.BR_IF).map((i) => unpackBr(i.arg));
    expect(brs.some((b) => b.drop > 0 && b.keep > 0)).toBe(true);
    expect(brs.some((b) => b.drop >= 3 && b.keep === 1)).toBe(true);
    expect(p.code.some((i) => i.op === Ctl.BR_TABLE)).toBe(true);
    expect(p.globals).toEqual([0n, u64(-5n), 42n]);

    const mod = decodeModule(bytes);
    const sample = sampler(7);
    const range = (lo: number, hi: number) =>
      Array.from({ length: hi - lo + 1 }, (_, i) => u32(BigInt(lo + i)));
    const calls: [string, bigint[]][] = [];
    const small: Record<string, bigint[]> = {
      sumTo: range(-3, 120),
      loopDrop: range(-3, 120),
      loopResult: range(-3, 40),
      tableLoop: range(-2, 60),
      find: [...range(-2, 60), 64n, 81n, 100n, 2401n, 2500n, 2601n, 2704n],
      fact: range(-3, 25).map((x) => u64(s32(x))),
      fib: range(-2, 18),
      isEven: range(0, 300),
      switch: [...range(-2, 8), 0xffffffffn],
      switchVal: [...range(-2, 8), 0x80000000n],
      tableFn: [...range(-1, 5), 0xffffffffn],
      trap: range(-2, 20),
    };
    for (const e of mod.exports) {
      const params = mod.types[mod.functions[e.index]].params;
      const fixed = small[e.name];
      if (fixed !== undefined) for (const x of fixed) calls.push([e.name, [x]]);
      else for (let k = 0; k < 400; k++) calls.push([e.name, params.map(sample)]);
    }
    // Interleave so that global state carries between different functions.
    const shuffled = calls.map((c, i) => ({ c, k: (i * 7919) % calls.length })).sort((a, b) => a.k - b.k);
    compareWithV8(
      bytes,
      shuffled.map((x) => x.c),
      p,
    );
  });

  it("decodes LEB128 constants exactly (i32 as unsigned 32-bit, i64 as unsigned 64-bit)", async () => {
    const sample = sampler(3);
    const i32s = [
      ...I32_EDGES,
      0x3fn,
      0x40n,
      0x7fn,
      0x80n,
      0x1fffn,
      0x2000n,
      ...Array.from({ length: 200 }, () => sample(ValType.I32)),
    ];
    const i64s = [
      ...I64_EDGES,
      0x3fn,
      0x40n,
      1n << 62n,
      ...Array.from({ length: 200 }, () => sample(ValType.I64)),
    ];
    const body = [
      ...i32s.map((v) => `i32.const ${s32(v)} drop`),
      ...i64s.map((v) => `i64.const ${s64(v)} drop`),
    ];
    const p = loadProgram(await wat(`(module (func ${body.join(" ")}))`));
    const consts = p.code.filter((i) => i.op === Wasm.I32_CONST || i.op === Wasm.I64_CONST).map((i) => i.arg);
    expect(consts).toEqual([...i32s, ...i64s]);
  });

  it("lays out functions in order and maps instructions one to one", async () => {
    const p = loadProgram(
      await wat(`(module (memory 2 5)
        (func $a (param i32) (result i32) local.get 0 i32.const -1 i32.add)
        (func $b (param i64) (local i32) i32.const 8 i64.const 0x7fffffff00000000 i64.store offset=12 align=4
          i32.const 3 memory.grow drop nop)
        (func $c (export "c") (result i32) i32.const 1 call $a (if (then)) memory.size))`),
    );
    expect(p.memoryPages).toBe(2);
    expect(p.maxPages).toBe(5);
    expect(p.exports).toEqual({ c: 2 });
    expect(p.functions).toEqual([
      { index: 0, name: "a", entryPc: 0, nParams: 1, nLocals: 1, nResults: 1 },
      { index: 1, name: "b", entryPc: 4, nParams: 1, nLocals: 2, nResults: 0 },
      { index: 2, name: "c", entryPc: 12, nParams: 0, nLocals: 0, nResults: 1 },
    ]);
    const I = (op: number, arg = 0n) => ({ op, arg });
    expect(p.code).toEqual([
      I(Wasm.LOCAL_GET),
      I(Wasm.I32_CONST, 0xffffffffn),
      I(0x6a),
      I(Wasm.RETURN, 1n),
      I(Wasm.I32_CONST, 8n),
      I(Wasm.I64_CONST, 0x7fffffff00000000n),
      I(Wasm.I64_STORE, 12n),
      I(Wasm.I32_CONST, 3n),
      I(Wasm.MEMORY_GROW, 5n), // arg = the declared maximum (5 pages)
      I(Wasm.DROP),
      I(Wasm.NOP),
      I(Wasm.RETURN, 0n),
      I(Wasm.I32_CONST, 1n),
      I(Wasm.CALL, packCall(0, 1, 1, 1)),
      I(Ctl.BR_UNLESS, 15n),
      I(Wasm.MEMORY_SIZE),
      I(Wasm.RETURN, 1n),
    ]);
  });
});

describe("loader: limits the step proof format imposes", () => {
  it("rejects a branch that moves more than 254 stack values (one-byte count in the proof)", async () => {
    const body = (n: number) =>
      `(func (export "f") (result i32) (block (result i32) ${"i32.const 7 ".repeat(n)} br 0))`;
    const ok = await wat(`(module ${body(254)})`);
    expect(loadProgram(ok, "ok.wasm").code.length).toBeGreaterThan(254);
    const bad = await wat(`(module ${body(300)})`);
    expect(() => loadProgram(bad, "bad.wasm")).toThrow(/branch moves 300 stack values \(at most 254/);
  });
});
