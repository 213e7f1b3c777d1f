// The byte reader: bounds-checked bytes, LEB128 integers, names, and the small composite encodings.
import { WasmDecodeError } from "./error.js";
import { type BlockType, isValTypeByte, type Limits, type MemArg } from "./types.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

export class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
    readonly end: number,
    readonly file: string,
    public where: string,
  ) {}

  fail(msg: string, at: number = this.pos): never {
    const place = this.where ? `${this.where}: ` : "";
    throw new WasmDecodeError(`${this.file}: ${place}${msg} at byte 0x${at.toString(16)}`, at);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  u8(): number {
    if (this.pos >= this.end) this.fail("unexpected end");
    return this.bytes[this.pos++];
  }

  take(n: number): Uint8Array {
    if (n > this.end - this.pos) this.fail(`unexpected end (need ${n} bytes)`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  u32(): number {
    const start = this.pos;
    let result = 0;
    for (let i = 0; ; i++) {
      const b = this.u8();
      if (i === 4) {
        if (b & 0x80) this.fail("integer representation too long", start);
        if (b & 0x70) this.fail("integer too large", start);
        return result + b * 2 ** 28;
      }
      result += (b & 0x7f) * 2 ** (7 * i);
      if (!(b & 0x80)) return result;
    }
  }

  s32(): number {
    const start = this.pos;
    let result = 0;
    let shift = 0;
    for (let i = 0; ; i++) {
      const b = this.u8();
      if (i === 4) {
        if (b & 0x80) this.fail("integer representation too long", start);
        const high = b & 0x78; // bit 3 is the sign bit (bit 31); bits 4..6 must repeat it
        if (high !== 0 && high !== 0x78) this.fail("integer too large", start);
        return result | (b << 28);
      }
      result |= (b & 0x7f) << shift;
      shift += 7;
      if (!(b & 0x80)) return b & 0x40 ? result | (-1 << shift) : result;
    }
  }

  /** LEB128 of at most `bits` bits as a bigint (used for u64, s64 and s33). */
  leb(bits: number, signed: boolean): bigint {
    const start = this.pos;
    const maxBytes = Math.ceil(bits / 7);
    let result = 0n;
    let shift = 0n;
    for (let i = 0; ; i++) {
      const b = this.u8();
      if (i === maxBytes - 1) {
        if (b & 0x80) this.fail("integer representation too long", start);
        const remaining = bits - 7 * i; // value bits carried by this last byte
        if (remaining < 7) {
          if (signed) {
            const mask = 0x7f & ~((1 << (remaining - 1)) - 1);
            const high = b & mask;
            if (high !== 0 && high !== mask) this.fail("integer too large", start);
          } else if (b & 0x7f & ~((1 << remaining) - 1)) this.fail("integer too large", start);
        }
      }
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (!(b & 0x80)) return signed && b & 0x40 ? result - (1n << shift) : result;
    }
  }

  u64(): bigint {
    return this.leb(64, false);
  }

  s64(): bigint {
    return this.leb(64, true);
  }

  name(): string {
    const n = this.u32();
    const start = this.pos;
    const raw = this.take(n);
    try {
      return utf8.decode(raw);
    } catch {
      return this.fail("malformed UTF-8 in name", start);
    }
  }

  /** A vector length, sanity-checked against the bytes left (every element takes at least one). */
  count(): number {
    const start = this.pos;
    const n = this.u32();
    if (n > this.end - this.pos) this.fail(`vector length ${n} exceeds the remaining bytes`, start);
    return n;
  }

  valType(): number {
    const at = this.pos;
    const b = this.u8();
    if (!isValTypeByte(b)) this.fail(`unsupported value type 0x${b.toString(16)}`, at);
    return b;
  }

  blockType(): BlockType {
    const at = this.pos;
    if (this.pos >= this.end) this.fail("unexpected end");
    const b = this.bytes[this.pos];
    if (b === 0x40) {
      this.pos++;
      return { kind: "empty" };
    }
    if (isValTypeByte(b)) {
      this.pos++;
      return { kind: "value", type: b };
    }
    const v = this.leb(33, true);
    if (v < 0n) this.fail(`unsupported block type 0x${b.toString(16)}`, at);
    return { kind: "index", index: Number(v) };
  }

  limits(): Limits {
    const at = this.pos;
    const flags = this.u8();
    if (flags > 7) this.fail(`malformed limits flags 0x${flags.toString(16)}`, at);
    const index64 = (flags & 4) !== 0;
    const min = index64 ? Number(this.u64()) : this.u32();
    const max = flags & 1 ? (index64 ? Number(this.u64()) : this.u32()) : null;
    return { min, max, shared: (flags & 2) !== 0, index64 };
  }

  memarg(): MemArg {
    const at = this.pos;
    let align = this.u32();
    let memory = 0;
    if (align & 0x40) {
      align -= 0x40;
      memory = this.u32();
    }
    if (align >= 0x40) this.fail(`malformed memarg alignment ${align}`, at);
    return { align, memory, offset: this.u64() };
  }
}
