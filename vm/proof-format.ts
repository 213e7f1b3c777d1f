// Step proof encoding (docs/PROTOCOL.md §4.5), shared by the prover and the verifier. Big-endian,
// fixed-width fields so the Solidity verifier can read them with calldataload at known offsets.
import { Ctl, isFloatNumeric, numericPops, Wasm } from "./isa.js";

export class ProofWriter {
  private parts: Uint8Array[] = [];
  private len = 0;
  bytes(b: Uint8Array): this {
    this.parts.push(Uint8Array.from(b));
    this.len += b.length;
    return this;
  }
  uint(v: bigint | number, width: number): this {
    const b = new Uint8Array(width);
    let x = BigInt(v);
    for (let i = width - 1; i >= 0; i--) {
      b[i] = Number(x & 0xffn);
      x >>= 8n;
    }
    return this.bytes(b);
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.len);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

export class ProofError extends Error {}

export class ProofReader {
  private o = 0;
  constructor(private readonly b: Uint8Array) {}
  bytes(n: number): Uint8Array {
    if (this.o + n > this.b.length)
      throw new ProofError(`proof truncated: needs ${n} bytes at offset ${this.o}`);
    const r = this.b.subarray(this.o, this.o + n);
    this.o += n;
    return r;
  }
  uint(width: number): bigint {
    let x = 0n;
    for (const byte of this.bytes(width)) x = (x << 8n) | BigInt(byte);
    return x;
  }
  num(width: number): number {
    return Number(this.uint(width));
  }
  hash(): Uint8Array {
    return Uint8Array.from(this.bytes(32));
  }
  path(depth: number): Uint8Array[] {
    return Array.from({ length: depth }, () => this.hash());
  }
  end(): void {
    if (this.o !== this.b.length)
      throw new ProofError(`proof has ${this.b.length - this.o} unexpected trailing bytes`);
  }
}

/** How many stack values (bottom→top) the proof must supply for an instruction. */
export function stackValuesNeeded(
  op: number,
  brDrop: number,
  brKeep: number,
  callParams: number,
  retKeep: number,
): number {
  switch (op) {
    case Wasm.LOCAL_GET:
    case Wasm.GLOBAL_GET:
    case Wasm.I32_CONST:
    case Wasm.I64_CONST:
    case Wasm.NOP:
    case Wasm.UNREACHABLE:
    case Wasm.MEMORY_SIZE:
      return 0;
    case Wasm.LOCAL_SET:
    case Wasm.LOCAL_TEE:
    case Wasm.GLOBAL_SET:
    case Wasm.DROP:
    case Ctl.BR_UNLESS:
    case Ctl.BR_TABLE:
    case Wasm.MEMORY_GROW:
      return 1;
    case Wasm.SELECT:
      return 3;
    case Ctl.BR:
      return brDrop > 0 ? brDrop + brKeep : 0;
    case Ctl.BR_IF:
      return 1 + (brDrop > 0 ? brDrop + brKeep : 0);
    case Wasm.CALL:
      return callParams;
    case Wasm.RETURN:
      return retKeep;
    default:
      // f32/f64 loads and stores sit inside the load/store ranges but are not in the instruction set.
      if (op === 0x2a || op === 0x2b || op === 0x38 || op === 0x39) break;
      if (op >= Wasm.I32_LOAD && op <= Wasm.I64_LOAD32_U) return 1;
      if (op >= Wasm.I32_STORE && op <= Wasm.I64_STORE32) return 2;
      if (op >= 0x45 && op <= 0xc4 && !isFloatNumeric(op)) return numericPops(op);
  }
  throw new ProofError(`opcode 0x${op.toString(16)} is not in the VM instruction set`);
}
