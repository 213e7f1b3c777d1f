// The memory's light checkpoints (vm/memory.ts): after any sequence of tracked writes, grows,
// checkpoints and restores, the bytes and the root equal those of the state recorded, and the
// root equals a memory built from scratch with those bytes (every leaf hashed anew).
import { describe, expect, it } from "vitest";
import { toHex } from "../../commit/merkle.js";
import { BLOCK_SHIFT, type MemoryCheckpoint, MerkleMemory, PAGE } from "../../vm/memory.js";
import { rng } from "../helpers/helpers.js";

/** A store as the machine does it: the hook before the bytes change, the dirty mark after. */
function store(m: MerkleMemory, addr: number, bytes: number[]): void {
  const b0 = addr >>> BLOCK_SHIFT;
  const b1 = (addr + bytes.length - 1) >>> BLOCK_SHIFT;
  if (m.wrote[b0] === 0 || m.wrote[b1] === 0) m.beforeWrite(addr, bytes.length);
  m.bytes.set(bytes, addr);
  m.touch(addr, bytes.length);
}

const fresh = (bytes: Uint8Array) => toHex(new MerkleMemory(bytes.length / PAGE, bytes.slice()).root());

describe("memory checkpoints", () => {
  it("restore brings back the recorded bytes and root in any order, across memory.grow", () => {
    const r = rng(77);
    const m = new MerkleMemory(2);
    // Base content that tracking never saw written (as the loader lays inputs).
    for (let i = 0; i < m.bytes.length; i += 97) m.bytes[i] = i & 0xff;
    m.touchRange(0, m.bytes.length);
    m.rebase();
    const saved: { cp: MemoryCheckpoint; bytes: Uint8Array; root: string }[] = [];
    const record = () => saved.push({ cp: m.checkpoint(), bytes: m.bytes.slice(), root: toHex(m.root()) });
    record();
    let restores = 0;
    for (let op = 0; op < 1500; op++) {
      const x = r();
      if (x < 0.8) {
        const len = [1, 2, 4, 8][Math.floor(r() * 4)];
        // Mostly a hot region that straddles block boundaries, sometimes anywhere.
        const addr =
          r() < 0.7 ? 4096 - 64 + Math.floor(r() * 8192) : Math.floor(r() * (m.bytes.length - len));
        store(
          m,
          addr,
          Array.from({ length: len }, () => Math.floor(r() * 256)),
        );
      } else if (x < 0.9) record();
      else if (x < 0.995) {
        const s = saved[Math.floor(r() * saved.length)];
        m.restore(s.cp);
        restores++;
        expect(m.pages).toBe(s.bytes.length / PAGE);
        expect(Buffer.from(m.bytes).equals(Buffer.from(s.bytes))).toBe(true);
        expect(toHex(m.root())).toBe(s.root);
      } else if (m.pages < 5) m.grow(1);
    }
    expect(restores).toBeGreaterThan(50);
    expect(new Set(saved.map((s) => s.bytes.length)).size).toBeGreaterThan(1); // grows were restored across
    for (const s of saved) expect(s.root).toBe(fresh(s.bytes));
  });

  it("checkpoints share the blocks that did not change, and hold nothing for the base", () => {
    const m = new MerkleMemory(4);
    const empty = m.checkpoint();
    expect(empty.blocks).toEqual([]);
    store(m, 100, [1, 2, 3, 4]);
    store(m, 3 * 4096 + 8, [9]);
    const a = m.checkpoint();
    expect([...a.blocks].sort()).toEqual([0, 3]);
    const b = m.checkpoint(); // nothing written since a
    expect(b.data[0]).toBe(a.data[0]);
    expect(b.data[1]).toBe(a.data[1]);
    store(m, 3 * 4096 + 8, [7]);
    const c = m.checkpoint();
    const at = (cp: MemoryCheckpoint, blk: number) => cp.data[cp.blocks.indexOf(blk)];
    expect(at(c, 0)).toBe(at(a, 0));
    expect(at(c, 3)).not.toBe(at(a, 3));
    store(m, 3 * 4096 + 8, [0]); // back to the base content: no longer held
    expect(m.checkpoint().blocks).toEqual([0]);
    m.restore(empty);
    expect(m.bytes.every((v) => v === 0)).toBe(true);
    expect(toHex(m.root())).toBe(toHex(new MerkleMemory(4).root()));
  });
});
