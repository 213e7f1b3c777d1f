// The fast VM: interprets the flat program one instruction per step over typed arrays, with the
// Merkle commitments computed lazily (memory rehashes only dirty paths). `stateRoot()` is defined
// by vm/state.ts; vm/prove.ts reads this machine's state to build a step proof.
import type { Hash, StaticMerkle } from "../commit/merkle.js";
import * as I64 from "./i64.js";
import { Ctl, HALT_PC, LIMITS, numericPops, type Program, unpackBr, unpackCall, Wasm } from "./isa.js";
import { BLOCK_SHIFT, type MemoryCheckpoint, MerkleMemory, PAGE } from "./memory.js";
import {
  codeTree,
  EMPTY,
  frameRecord,
  globalsRootOf,
  localsRootOf,
  pushFrame,
  type StateFields,
  Status,
  stackHashOf,
  stateRoot,
  word,
} from "./state.js";

export class VmError extends Error {}

const U32 = 0x100000000;

/** Decoded program shared by every machine running it (code arrays, code tree). */
export class LoadedProgram {
  readonly ops: Int32Array;
  readonly argLo: Int32Array;
  readonly argHi: Int32Array;
  /** Per-pc decoded immediates for CALL (entry, params, locals, results) and BR (target, drop, keep). */
  readonly a: Int32Array;
  readonly b: Int32Array;
  readonly c: Int32Array;
  readonly d: Int32Array;
  readonly tree: StaticMerkle;

  constructor(readonly program: Program) {
    const n = program.code.length;
    this.ops = new Int32Array(n);
    this.argLo = new Int32Array(n);
    this.argHi = new Int32Array(n);
    this.a = new Int32Array(n);
    this.b = new Int32Array(n);
    this.c = new Int32Array(n);
    this.d = new Int32Array(n);
    program.code.forEach((ins, pc) => {
      this.ops[pc] = ins.op;
      this.argLo[pc] = Number(ins.arg & 0xffffffffn) | 0;
      this.argHi[pc] = Number((ins.arg >> 32n) & 0xffffffffn) | 0;
      if (ins.op === Wasm.CALL) {
        const cl = unpackCall(ins.arg);
        [this.a[pc], this.b[pc], this.c[pc], this.d[pc]] = [cl.entryPc, cl.nParams, cl.nLocals, cl.nResults];
      } else if (ins.op === Ctl.BR || ins.op === Ctl.BR_IF || ins.op === Ctl.BR_UNLESS) {
        const br = unpackBr(ins.arg);
        [this.a[pc], this.b[pc], this.c[pc]] = [br.target, br.drop, br.keep];
      }
    });
    this.tree = codeTree(program.code);
  }

  codeProof(pc: number): Hash[] {
    return this.tree.proof(pc);
  }

  entry(name: string) {
    const idx = this.program.exports[name];
    if (idx === undefined) throw new VmError(`program exports no function '${name}'`);
    return this.program.functions[idx];
  }
}

/** The complete mutable state; copied whole for checkpoints. */
export interface Regs {
  status: number;
  pc: number;
  sp: number;
  fp: number;
  lp: number;
  steps: number;
  trap: string;
}

export class Machine {
  // value stack (u64 as hi:lo int32 halves; i32 values have hi = 0)
  sLo = new Int32Array(1 << 12);
  sHi = new Int32Array(1 << 12);
  // frames
  fBase = new Int32Array(LIMITS.MAX_FRAMES + 1);
  fRet = new Int32Array(LIMITS.MAX_FRAMES + 1);
  fLoc = new Int32Array(LIMITS.MAX_FRAMES + 1);
  fNLoc = new Int32Array(LIMITS.MAX_FRAMES + 1);
  // locals pool
  lLo = new Int32Array(1 << 14);
  lHi = new Int32Array(1 << 14);
  gLo: Int32Array;
  gHi: Int32Array;
  mem: MerkleMemory;
  r: Regs = { status: Status.RUNNING, pc: 0, sp: 0, fp: 0, lp: 0, steps: 0, trap: "" };

  constructor(
    readonly prog: LoadedProgram,
    memory: MerkleMemory,
  ) {
    const g = prog.program.globals;
    this.gLo = Int32Array.from(g, (v) => Number(v & 0xffffffffn) | 0);
    this.gHi = Int32Array.from(g, (v) => Number((v >> 32n) & 0xffffffffn) | 0);
    this.mem = memory;
  }

  /** A machine about to run exported function `name` with i32/i64 arguments. */
  static start(prog: LoadedProgram, name: string, args: bigint[], memory?: MerkleMemory): Machine {
    const f = prog.entry(name);
    if (args.length !== f.nParams)
      throw new VmError(`'${name}' takes ${f.nParams} arguments, got ${args.length}`);
    const m = new Machine(prog, memory ?? new MerkleMemory(prog.program.memoryPages));
    m.r.pc = f.entryPc;
    m.fBase[0] = 0;
    m.fRet[0] = HALT_PC | 0;
    m.fLoc[0] = 0;
    m.fNLoc[0] = f.nLocals;
    args.forEach((v, i) => {
      m.lLo[i] = Number(v & 0xffffffffn) | 0;
      m.lHi[i] = Number((v >> 32n) & 0xffffffffn) | 0;
    });
    m.r.lp = f.nLocals;
    return m;
  }

  get status() {
    return this.r.status;
  }
  get pc() {
    return this.r.pc;
  }
  get steps() {
    return this.r.steps;
  }
  get trapMessage() {
    return this.r.trap;
  }

  /** A trap is a step: it moves the machine from RUNNING to TRAPPED, leaving everything else as it was. */
  private trapAt(pc: number, sp: number, done: number, msg: string): number {
    this.r.pc = pc;
    this.r.sp = sp;
    this.r.status = Status.TRAPPED;
    this.r.trap = msg;
    this.r.steps += done;
    return done;
  }

  private ensureStack(n: number): void {
    if (this.r.sp + n <= this.sLo.length) return;
    const grow = (a: Int32Array) => {
      const b = new Int32Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.sLo = grow(this.sLo);
    this.sHi = grow(this.sHi);
  }

  private ensureLocals(n: number): void {
    if (this.r.lp + n <= this.lLo.length) return;
    const grow = (a: Int32Array) => {
      const b = new Int32Array(Math.max(a.length * 2, this.r.lp + n));
      b.set(a);
      return b;
    };
    this.lLo = grow(this.lLo);
    this.lHi = grow(this.lHi);
  }

  /** Runs up to `n` steps (fewer if the machine halts or traps). Returns the steps executed. */
  run(n: number): number {
    const P = this.prog;
    const ops = P.ops;
    const argLo = P.argLo;
    const argHi = P.argHi;
    const A = P.a;
    const B = P.b;
    const C = P.c;
    const r = this.r;
    let sLo = this.sLo;
    let sHi = this.sHi;
    let { pc, sp } = r;
    const mem = this.mem;
    let view = mem.view;
    let wrote = mem.wrote;
    let memSize = mem.bytes.length;
    let done = 0;
    while (done < n && r.status === Status.RUNNING) {
      if (sp + 8 > sLo.length) {
        r.sp = sp;
        this.ensureStack(8);
        sLo = this.sLo;
        sHi = this.sHi;
      }
      const op = ops[pc];
      done++;
      switch (op) {
        case Wasm.LOCAL_GET: {
          const i = this.fLoc[r.fp] + argLo[pc];
          sLo[sp] = this.lLo[i];
          sHi[sp] = this.lHi[i];
          sp++;
          pc++;
          break;
        }
        case Wasm.LOCAL_SET: {
          const i = this.fLoc[r.fp] + argLo[pc];
          sp--;
          this.lLo[i] = sLo[sp];
          this.lHi[i] = sHi[sp];
          pc++;
          break;
        }
        case Wasm.LOCAL_TEE: {
          const i = this.fLoc[r.fp] + argLo[pc];
          this.lLo[i] = sLo[sp - 1];
          this.lHi[i] = sHi[sp - 1];
          pc++;
          break;
        }
        case Wasm.GLOBAL_GET: {
          const i = argLo[pc];
          sLo[sp] = this.gLo[i];
          sHi[sp] = this.gHi[i];
          sp++;
          pc++;
          break;
        }
        case Wasm.GLOBAL_SET: {
          const i = argLo[pc];
          sp--;
          this.gLo[i] = sLo[sp];
          this.gHi[i] = sHi[sp];
          pc++;
          break;
        }
        case Wasm.I32_CONST:
        case Wasm.I64_CONST:
          sLo[sp] = argLo[pc];
          sHi[sp] = argHi[pc];
          sp++;
          pc++;
          break;
        case Wasm.DROP:
          sp--;
          pc++;
          break;
        case Wasm.SELECT: {
          sp -= 2;
          if (sLo[sp + 1] === 0) {
            sLo[sp - 1] = sLo[sp];
            sHi[sp - 1] = sHi[sp];
          }
          pc++;
          break;
        }
        case Wasm.NOP:
          pc++;
          break;
        case Wasm.UNREACHABLE:
          return this.trapAt(pc, sp, done, "unreachable executed");
        case Ctl.BR_UNLESS:
          sp--;
          pc = sLo[sp] === 0 ? A[pc] : pc + 1;
          break;
        case Ctl.BR_IF:
        case Ctl.BR: {
          if (op === Ctl.BR_IF) {
            sp--;
            if (sLo[sp] === 0) {
              pc++;
              break;
            }
          }
          const drop = B[pc];
          if (drop > 0) {
            const keep = C[pc];
            for (let k = 0; k < keep; k++) {
              sLo[sp - drop - keep + k] = sLo[sp - keep + k];
              sHi[sp - drop - keep + k] = sHi[sp - keep + k];
            }
            sp -= drop;
          }
          pc = A[pc];
          break;
        }
        case Ctl.BR_TABLE: {
          sp--;
          const i = sLo[sp] >>> 0;
          const nEntries = argLo[pc] >>> 0;
          pc = pc + 1 + Math.min(i, nEntries);
          break;
        }
        case Wasm.CALL: {
          const fp = r.fp;
          if (fp + 1 >= LIMITS.MAX_FRAMES) return this.trapAt(pc, sp, done, "call stack exhausted");
          const nP = B[pc];
          const nL = C[pc];
          r.sp = sp;
          this.ensureLocals(nL);
          const lb = r.lp;
          const lLo = this.lLo;
          const lHi = this.lHi;
          for (let k = 0; k < nP; k++) {
            lLo[lb + k] = sLo[sp - nP + k];
            lHi[lb + k] = sHi[sp - nP + k];
          }
          lLo.fill(0, lb + nP, lb + nL);
          lHi.fill(0, lb + nP, lb + nL);
          sp -= nP;
          this.fBase[fp + 1] = sp;
          this.fRet[fp + 1] = pc + 1;
          this.fLoc[fp + 1] = lb;
          this.fNLoc[fp + 1] = nL;
          r.lp = lb + nL;
          r.fp = fp + 1;
          pc = A[pc];
          break;
        }
        case Wasm.RETURN: {
          const keep = argLo[pc];
          const fp = r.fp;
          const vLo = sLo[sp - 1];
          const vHi = sHi[sp - 1];
          sp = this.fBase[fp];
          if (keep) {
            sLo[sp] = vLo;
            sHi[sp] = vHi;
            sp++;
          }
          const ret = this.fRet[fp];
          if (ret === (HALT_PC | 0)) {
            r.status = Status.FINISHED;
            pc = HALT_PC;
            break;
          }
          r.lp = this.fLoc[fp];
          r.fp = fp - 1;
          if (this.chainCache.length > fp - 1) this.chainCache.length = fp - 1;
          pc = ret;
          break;
        }
        case Wasm.MEMORY_SIZE:
          sLo[sp] = mem.pages;
          sHi[sp] = 0;
          sp++;
          pc++;
          break;
        case Wasm.MEMORY_GROW: {
          const delta = sLo[sp - 1] >>> 0;
          const old = mem.pages;
          const max = (argHi[pc] >>> 0) * U32 + (argLo[pc] >>> 0);
          if (old + delta > max) sLo[sp - 1] = -1;
          else {
            mem.grow(delta);
            view = mem.view;
            wrote = mem.wrote;
            memSize = mem.bytes.length;
            sLo[sp - 1] = old;
          }
          sHi[sp - 1] = 0;
          pc++;
          break;
        }
        default: {
          if (op >= Wasm.I32_LOAD && op <= Wasm.I64_STORE32) {
            const isStore = op >= Wasm.I32_STORE;
            const size = ACCESS_SIZE[op - Wasm.I32_LOAD];
            const addrIdx = isStore ? sp - 2 : sp - 1;
            const ea = (sLo[addrIdx] >>> 0) + (argLo[pc] >>> 0);
            if (ea + size > memSize) return this.trapAt(pc, sp, done, "out of bounds memory access");
            if (isStore) {
              // Before the bytes change: the first write to a block since a checkpoint saves it.
              if (wrote[ea >>> BLOCK_SHIFT] === 0 || wrote[(ea + size - 1) >>> BLOCK_SHIFT] === 0)
                mem.beforeWrite(ea, size);
              const lo = sLo[sp - 1];
              const hi = sHi[sp - 1];
              switch (op) {
                case Wasm.I32_STORE:
                case Wasm.I64_STORE32:
                  view.setInt32(ea, lo, true);
                  break;
                case Wasm.I64_STORE:
                  view.setInt32(ea, lo, true);
                  view.setInt32(ea + 4, hi, true);
                  break;
                case Wasm.I32_STORE8:
                case Wasm.I64_STORE8:
                  view.setUint8(ea, lo & 0xff);
                  break;
                default:
                  view.setUint16(ea, lo & 0xffff, true);
              }
              mem.touch(ea, size);
              sp -= 2;
            } else {
              let lo: number;
              let hi = 0;
              switch (op) {
                case Wasm.I32_LOAD:
                  lo = view.getInt32(ea, true);
                  break;
                case Wasm.I64_LOAD:
                  lo = view.getInt32(ea, true);
                  hi = view.getInt32(ea + 4, true);
                  break;
                case Wasm.I32_LOAD8_S:
                  lo = view.getInt8(ea);
                  break;
                case Wasm.I32_LOAD8_U:
                case Wasm.I64_LOAD8_U:
                  lo = view.getUint8(ea);
                  break;
                case Wasm.I32_LOAD16_S:
                  lo = view.getInt16(ea, true);
                  break;
                case Wasm.I32_LOAD16_U:
                case Wasm.I64_LOAD16_U:
                  lo = view.getUint16(ea, true);
                  break;
                case Wasm.I64_LOAD8_S:
                  lo = view.getInt8(ea);
                  hi = lo >> 31;
                  break;
                case Wasm.I64_LOAD16_S:
                  lo = view.getInt16(ea, true);
                  hi = lo >> 31;
                  break;
                case Wasm.I64_LOAD32_S:
                  lo = view.getInt32(ea, true);
                  hi = lo >> 31;
                  break;
                default: // I64_LOAD32_U
                  lo = view.getInt32(ea, true);
              }
              // i32 results are zero-extended: 8/16-bit signed i32 loads keep their 32-bit pattern.
              if (op === Wasm.I32_LOAD8_S || op === Wasm.I32_LOAD16_S) hi = 0;
              sLo[sp - 1] = lo;
              sHi[sp - 1] = hi;
            }
            pc++;
            break;
          }
          // Numeric: hot i32 ops inline, everything else through the reference semantics.
          const bLo = sLo[sp - 1];
          const aLo = sLo[sp - 2];
          let handled = true;
          switch (op) {
            case 0x6a:
              sLo[sp - 2] = (aLo + bLo) | 0;
              sp--;
              break;
            case 0x6b:
              sLo[sp - 2] = (aLo - bLo) | 0;
              sp--;
              break;
            case 0x6c:
              sLo[sp - 2] = Math.imul(aLo, bLo);
              sp--;
              break;
            case 0x71:
              sLo[sp - 2] = aLo & bLo;
              sp--;
              break;
            case 0x72:
              sLo[sp - 2] = aLo | bLo;
              sp--;
              break;
            case 0x74:
              sLo[sp - 2] = aLo << (bLo & 31);
              sp--;
              break;
            case 0x75:
              sLo[sp - 2] = aLo >> (bLo & 31);
              sp--;
              break;
            case 0x76:
              sLo[sp - 2] = (aLo >>> (bLo & 31)) | 0;
              sp--;
              break;
            case 0x45:
              sLo[sp - 1] = bLo === 0 ? 1 : 0;
              break;
            case 0x46:
              sLo[sp - 2] = aLo === bLo ? 1 : 0;
              sp--;
              break;
            case 0x47:
              sLo[sp - 2] = aLo !== bLo ? 1 : 0;
              sp--;
              break;
            case 0x48:
              sLo[sp - 2] = aLo < bLo ? 1 : 0;
              sp--;
              break;
            case 0x49:
              sLo[sp - 2] = aLo >>> 0 < bLo >>> 0 ? 1 : 0;
              sp--;
              break;
            case 0x4a:
              sLo[sp - 2] = aLo > bLo ? 1 : 0;
              sp--;
              break;
            case 0x4c:
              sLo[sp - 2] = aLo <= bLo ? 1 : 0;
              sp--;
              break;
            case 0x4e:
              sLo[sp - 2] = aLo >= bLo ? 1 : 0;
              sp--;
              break;
            default:
              handled = false;
          }
          if (handled) {
            pc++;
            break;
          }
          // i64 ops: the common ones inline on hi:lo halves, the rest through vm/i64.ts.
          const bHi = sHi[sp - 1];
          const aHi = sHi[sp - 2];
          switch (op) {
            case 0x7c: {
              const lo = (aLo + bLo) | 0;
              sHi[sp - 2] = (aHi + bHi + ((aLo >>> 0) + (bLo >>> 0) > 0xffffffff ? 1 : 0)) | 0;
              sLo[sp - 2] = lo;
              sp--;
              break;
            }
            case 0x7d: {
              const lo = (aLo - bLo) | 0;
              sHi[sp - 2] = (aHi - bHi - (aLo >>> 0 < bLo >>> 0 ? 1 : 0)) | 0;
              sLo[sp - 2] = lo;
              sp--;
              break;
            }
            case 0x7e:
              sLo[sp - 2] = I64.mul(aHi, aLo, bHi, bLo);
              sHi[sp - 2] = I64.hi;
              sp--;
              break;
            case 0xac:
              sHi[sp - 1] = bLo >> 31;
              break;
            case 0xa7:
            case 0xad:
              sHi[sp - 1] = 0;
              break;
            case 0x53:
              sLo[sp - 2] = aHi < bHi || (aHi === bHi && aLo >>> 0 < bLo >>> 0) ? 1 : 0;
              sHi[sp - 2] = 0;
              sp--;
              break;
            case 0x55:
              sLo[sp - 2] = aHi > bHi || (aHi === bHi && aLo >>> 0 > bLo >>> 0) ? 1 : 0;
              sHi[sp - 2] = 0;
              sp--;
              break;
            default: {
              const pops = numericPops(op);
              let lo: number;
              try {
                lo = pops === 2 ? I64.exec64(op, aHi, aLo, bHi, bLo) : I64.exec64(op, bHi, bLo);
              } catch (e) {
                if (e instanceof I64.TrapError) return this.trapAt(pc, sp, done, e.trap);
                throw e;
              }
              sp -= pops;
              sLo[sp] = lo;
              sHi[sp] = I64.hi;
              sp++;
            }
          }
          pc++;
        }
      }
    }
    r.pc = pc;
    r.sp = sp;
    r.steps += done;
    return done;
  }

  step(): void {
    this.run(1);
  }

  // ---------- commitments ----------

  value(i: number): bigint {
    return toU64(this.sLo[i], this.sHi[i]);
  }

  /** Values of frame k's value stack, bottom first. */
  frameStack(k: number): bigint[] {
    const end = k === this.r.fp ? this.r.sp : this.fBase[k + 1];
    const out: bigint[] = [];
    for (let i = this.fBase[k]; i < end; i++) out.push(this.value(i));
    return out;
  }

  frameLocals(k: number): bigint[] {
    const out: bigint[] = [];
    for (let i = 0; i < this.fNLoc[k]; i++)
      out.push(toU64(this.lLo[this.fLoc[k] + i], this.lHi[this.fLoc[k] + i]));
    return out;
  }

  globals(): bigint[] {
    return Array.from(this.gLo, (lo, i) => toU64(lo, this.gHi[i]));
  }

  /**
   * chainCache[i] = hash chain over frames 0..i. A suspended frame cannot change, so an entry stays
   * valid until execution returns into frame i; RETURN truncates the cache to the new frame index.
   */
  chainCache: Hash[] = [];

  frameRecordOf(k: number): Hash {
    return frameRecord(
      stackHashOf(this.frameStack(k)),
      localsRootOf(this.frameLocals(k)),
      this.fRet[k] >>> 0,
    );
  }

  /** Hash chain of frames 0..k-1 (k ≤ current frame). */
  frameStackHashBelow(k: number): Hash {
    const cache = this.chainCache;
    if (cache.length > this.r.fp) cache.length = this.r.fp;
    let h = k > 0 && cache.length > 0 ? cache[Math.min(k, cache.length) - 1] : EMPTY;
    for (let i = Math.min(k, cache.length); i < k; i++) {
      h = pushFrame(h, this.frameRecordOf(i));
      if (i === cache.length) cache.push(h);
    }
    return h;
  }

  fields(): StateFields {
    const fp = this.r.fp;
    return {
      status: this.r.status,
      pc: this.r.pc >>> 0,
      stackHash: stackHashOf(this.frameStack(fp)),
      localsRoot: localsRootOf(this.frameLocals(fp)),
      returnPc: this.fRet[fp] >>> 0,
      frameStackHash: this.frameStackHashBelow(fp),
      frameDepth: fp,
      globalsRoot: globalsRootOf(this.globals()),
      memoryRoot: this.mem.root(),
      memoryPages: this.mem.pages,
      codeRoot: this.prog.tree.root,
      codeDepth: this.prog.tree.depth,
    };
  }

  stateRoot(): Hash {
    return stateRoot(this.fields());
  }

  /** The value returned by the entry function once FINISHED. */
  result(): bigint | undefined {
    if (this.r.status !== Status.FINISHED || this.r.sp === 0) return undefined;
    return this.value(this.r.sp - 1);
  }

  // ---------- checkpoints ----------

  /** A full copy (memory bytes and hashes included), independent of this machine. */
  snapshot(): Snapshot {
    return { ...this.registers(), mem: this.mem.clone() };
  }

  static restore(prog: LoadedProgram, s: Snapshot): Machine {
    const m = new Machine(prog, s.mem.clone());
    m.load(s);
    return m;
  }

  /** An independent machine in the same state (one memory copy). */
  fork(): Machine {
    const m = new Machine(this.prog, this.mem.clone());
    m.load(this.registers());
    return m;
  }

  /**
   * A light checkpoint: registers, stacks and the memory blocks written since the memory's base
   * (shared with earlier checkpoints where unchanged). Only `rewind` on this machine reads it.
   */
  checkpoint(): Checkpoint {
    return { ...this.registers(), mem: this.mem.checkpoint() };
  }

  /** Puts this machine back (or forward) to one of its checkpoints, in place. */
  rewind(c: Checkpoint): void {
    this.mem.restore(c.mem);
    this.load(c);
  }

  private registers(): Registers {
    const { sp, lp, fp } = this.r;
    return {
      r: { ...this.r },
      sLo: this.sLo.slice(0, sp),
      sHi: this.sHi.slice(0, sp),
      lLo: this.lLo.slice(0, lp),
      lHi: this.lHi.slice(0, lp),
      fBase: this.fBase.slice(0, fp + 1),
      fRet: this.fRet.slice(0, fp + 1),
      fLoc: this.fLoc.slice(0, fp + 1),
      fNLoc: this.fNLoc.slice(0, fp + 1),
      gLo: this.gLo.slice(),
      gHi: this.gHi.slice(),
    };
  }

  private load(s: Registers): void {
    this.r = { ...s.r };
    const fit = (cur: Int32Array<ArrayBuffer>, src: Int32Array, min: number) => {
      const a = cur.length >= src.length ? cur : new Int32Array(Math.max(min, src.length * 2));
      a.set(src);
      return a;
    };
    this.sLo = fit(this.sLo, s.sLo, 1 << 12);
    this.sHi = fit(this.sHi, s.sHi, 1 << 12);
    this.lLo = fit(this.lLo, s.lLo, 1 << 14);
    this.lHi = fit(this.lHi, s.lHi, 1 << 14);
    this.fBase.set(s.fBase);
    this.fRet.set(s.fRet);
    this.fLoc.set(s.fLoc);
    this.fNLoc.set(s.fNLoc);
    this.gLo = s.gLo.slice();
    this.gHi = s.gHi.slice();
    // Frame hashes cached for the old frames do not describe the loaded ones.
    this.chainCache = [];
  }

  /** Word encoding of a u64 value, as committed. */
  static word(v: bigint): Uint8Array {
    return word(v);
  }
}

/** Registers, value stack, frames, locals and globals (the small part of the state). */
export interface Registers {
  r: Regs;
  sLo: Int32Array;
  sHi: Int32Array;
  lLo: Int32Array;
  lHi: Int32Array;
  fBase: Int32Array;
  fRet: Int32Array;
  fLoc: Int32Array;
  fNLoc: Int32Array;
  gLo: Int32Array;
  gHi: Int32Array;
}

/** A self-contained copy of a machine (`Machine.restore` builds a new machine from it). */
export interface Snapshot extends Registers {
  mem: MerkleMemory;
}

/** A checkpoint of one machine's run (see `Machine.checkpoint`). */
export interface Checkpoint extends Registers {
  mem: MemoryCheckpoint;
}

/** Byte width of each load/store, indexed by op − I32_LOAD (0x28..0x3e). */
export const ACCESS_SIZE = [4, 8, 4, 8, 1, 1, 2, 2, 1, 1, 2, 2, 4, 4, 4, 8, 4, 8, 1, 2, 1, 2, 4];

export function toU64(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export { PAGE, U32 };
