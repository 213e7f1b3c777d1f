// MerkleMemory.flush hashes runs of dirty nodes per level in one batch call: its roots and proofs
// must stay exactly bytesRoot / rootFromProof of the raw bytes, for scattered and bulk writes and a
// page count that is not a power of two (the dense span then reaches past the end of memory).
import { describe, expect, it } from "vitest";
import { bytesRoot, rootFromProof } from "../../commit/merkle.js";
import { LIMITS } from "../../vm/isa.js";
import { MerkleMemory, PAGE } from "../../vm/memory.js";
import { rng } from "../helpers/helpers.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("MerkleMemory.flush (batched)", () => {
  it("matches bytesRoot of the bytes after scattered writes, bulk writes and growth", () => {
    const r = rng(11);
    const m = new MerkleMemory(3);
    expect(hex(m.root())).toBe(hex(bytesRoot(m.bytes, LIMITS.MEMORY_DEPTH)));
    for (let round = 0; round < 12; round++) {
      const writes = round % 3 === 0 ? 1 : 1 + Math.floor(r() * 300);
      for (let w = 0; w < writes; w++) {
        const addr = Math.floor(r() * (m.bytes.length - 8));
        const len = 1 + Math.floor(r() * 8);
        for (let i = 0; i < len; i++) m.bytes[addr + i] = Math.floor(r() * 256);
        m.touch(addr, len);
      }
      if (round === 5) {
        const at = 4096 + Math.floor(r() * 1000);
        m.bytes.fill(0xab, at, at + 40_000);
        m.touchRange(at, 40_000);
      }
      if (round === 8) m.grow(2);
      expect(hex(m.root()), `round ${round}`).toBe(hex(bytesRoot(m.bytes, LIMITS.MEMORY_DEPTH)));
      const leaf = Math.floor(r() * (m.bytes.length / 32));
      expect(hex(rootFromProof(m.leafCopy(leaf), leaf, m.proof(leaf)))).toBe(hex(m.root()));
    }
    expect(m.bytes.length).toBe(5 * PAGE);
  });
});
