// Instructions and expressions: each opcode's immediates, and expression nesting up to the final end.
import {
  describeOpcode,
  hex2,
  ONE_BYTE,
  PREFIX_GC,
  PREFIX_MISC,
  PREFIX_SIMD,
  PREFIX_THREADS,
  prefixedOp,
  SIMD,
  THREADS,
  tableName,
} from "./opcodes.js";
import type { Reader } from "./reader.js";
import type { Instruction } from "./types.js";

function simdImmediates(r: Reader, op: number, pos: number, sub: number): Instruction {
  if (sub <= 11 || sub === 92 || sub === 93) return { op, pos, imm: "memarg", memarg: r.memarg() };
  if (sub === 12 || sub === 13) return { op, pos, imm: "bytes16", bytes: r.take(16) };
  if (sub >= 21 && sub <= 34) return { op, pos, imm: "lane", lane: r.u8() };
  if (sub >= 84 && sub <= 91) {
    const memarg = r.memarg();
    return { op, pos, imm: "memarg_lane", memarg, lane: r.u8() };
  }
  return { op, pos, imm: "none" };
}

function readPrefixed(r: Reader, prefix: number, pos: number): Instruction {
  const sub = r.u32();
  const unknown = (): never =>
    r.fail(`unknown instruction ${hex2(prefix)} ${hex2(sub)}${prefix === PREFIX_GC ? " (GC)" : ""}`, pos);
  if (sub >= 0x10000) unknown();
  const op = prefixedOp(prefix, sub);
  if (prefix === PREFIX_MISC) {
    if (sub <= 7) return { op, pos, imm: "none" };
    switch (sub) {
      case 8: // memory.init data mem
      case 10: // memory.copy dst src
      case 12: // table.init elem table
      case 14: {
        // table.copy dst src
        const index = r.u32();
        return { op, pos, imm: "index2", index, index2: r.u32() };
      }
      case 9: // data.drop
      case 11: // memory.fill
      case 13: // elem.drop
      case 15: // table.grow
      case 16: // table.size
      case 17: // table.fill
        return { op, pos, imm: "index", index: r.u32() };
      default:
        return unknown();
    }
  }
  if (prefix === PREFIX_SIMD) {
    if (tableName(SIMD, sub) === undefined) unknown();
    return simdImmediates(r, op, pos, sub);
  }
  if (prefix === PREFIX_THREADS) {
    if (tableName(THREADS, sub) === undefined) unknown();
    if (sub === 3) {
      if (r.u8() !== 0) r.fail("atomic.fence: reserved byte must be zero", pos);
      return { op, pos, imm: "none" };
    }
    return { op, pos, imm: "memarg", memarg: r.memarg() };
  }
  return unknown();
}

function readInstruction(r: Reader): Instruction {
  const pos = r.pos;
  const op = r.u8();
  switch (op) {
    case 0x02: // block
    case 0x03: // loop
    case 0x04: // if
      return { op, pos, imm: "block", blockType: r.blockType() };
    case 0x0c: // br
    case 0x0d: // br_if
    case 0x10: // call
    case 0x12: // return_call
    case 0x14: // call_ref
    case 0x15: // return_call_ref
    case 0x20: // local.get
    case 0x21: // local.set
    case 0x22: // local.tee
    case 0x23: // global.get
    case 0x24: // global.set
    case 0x25: // table.get
    case 0x26: // table.set
    case 0x3f: // memory.size (memory index; a zero byte in the MVP)
    case 0x40: // memory.grow
    case 0xd2: // ref.func
    case 0xd5: // br_on_null
    case 0xd6: // br_on_non_null
      return { op, pos, imm: "index", index: r.u32() };
    case 0x0e: {
      const n = r.count();
      const labels = new Array<number>(n);
      for (let i = 0; i < n; i++) labels[i] = r.u32();
      return { op, pos, imm: "br_table", labels, defaultLabel: r.u32() };
    }
    case 0x11: // call_indirect type table
    case 0x13: {
      // return_call_indirect
      const index = r.u32();
      return { op, pos, imm: "index2", index, index2: r.u32() };
    }
    case 0x1c: {
      const n = r.count();
      const types: number[] = [];
      for (let i = 0; i < n; i++) types.push(r.valType());
      return { op, pos, imm: "types", types };
    }
    case 0x41:
      return { op, pos, imm: "i32", value: r.s32() };
    case 0x42:
      return { op, pos, imm: "i64", value: r.s64() };
    case 0x43: {
      const b = r.take(4);
      return { op, pos, imm: "f32", bits: new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true) };
    }
    case 0x44: {
      const b = r.take(8);
      return { op, pos, imm: "f64", bits: new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true) };
    }
    case 0xd0:
      return { op, pos, imm: "heaptype", heapType: Number(r.leb(33, true)) };
    case PREFIX_MISC:
    case PREFIX_SIMD:
    case PREFIX_THREADS:
    case PREFIX_GC:
      return readPrefixed(r, op, pos);
    default:
      if (op >= 0x28 && op <= 0x3e) return { op, pos, imm: "memarg", memarg: r.memarg() };
      if (
        op <= 0x01 || // unreachable nop
        op === 0x05 || // else
        op === 0x0b || // end
        op === 0x0f || // return
        op === 0x1a || // drop
        op === 0x1b || // select
        (op >= 0x45 && op <= 0xc4) || // numeric
        (op >= 0xd1 && op <= 0xd4) // ref.is_null ref.eq ref.as_non_null
      )
        return { op, pos, imm: "none" };
      if (tableName(ONE_BYTE, op) !== undefined)
        return r.fail(`unsupported instruction ${describeOpcode(op)}`, pos);
      return r.fail(`unknown opcode ${hex2(op)}`, pos);
  }
}

/** Decodes an expression up to and including its final `end`. */
export function readExpr(r: Reader): Instruction[] {
  const out: Instruction[] = [];
  let depth = 0;
  for (;;) {
    if (r.done) r.fail("unexpected end of expression (missing end)");
    const ins = readInstruction(r);
    out.push(ins);
    if (ins.op === 0x02 || ins.op === 0x03 || ins.op === 0x04) depth++;
    else if (ins.op === 0x0b) {
      if (depth === 0) return out;
      depth--;
    }
  }
}
