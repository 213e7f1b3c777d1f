// Step proof encoding (docs/PROTOCOL.md §4.5), shared by the prover and the verifier. Big-endian,
// fixed-width fields so the Solidity verifier can read them with calldataload at known offsets.

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

/**
 * The custom errors of the Solidity one-step verifier (contracts/src/step/*.sol `error X(...)`), one
 * code per error; test/vm/twins.test.ts checks this list equals those declarations.
 */
export const PROOF_ERROR_CODES = [
  "Truncated",
  "TrailingBytes",
  "PreStateMismatch",
  "PcOutsideCode",
  "InstructionNotInCode",
  "UnknownOpcode",
  "WrongStackCount",
  "StackMismatch",
  "LocalIndexOutOfRange",
  "GlobalIndexOutOfRange",
  "LocalsMismatch",
  "GlobalsMismatch",
  "WrongLeafCount",
  "LeafMismatch",
  "FrameMismatch",
  "OperandNotI32",
] as const;

export type ProofErrorCode = (typeof PROOF_ERROR_CODES)[number];

/** A rejected step proof; `code` names the custom error the Solidity verifier reverts with. */
export class ProofError extends Error {
  constructor(
    readonly code: ProofErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = "ProofError";
  }
}

export class ProofReader {
  private o = 0;
  constructor(private readonly b: Uint8Array) {}
  bytes(n: number): Uint8Array {
    if (this.o + n > this.b.length)
      throw new ProofError("Truncated", `proof truncated: needs ${n} bytes at offset ${this.o}`);
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
      throw new ProofError("TrailingBytes", `proof has ${this.b.length - this.o} unexpected trailing bytes`);
  }
}
