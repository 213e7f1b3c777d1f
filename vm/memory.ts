// Linear memory as a Merkle tree of 32-byte leaves over the whole wasm32 address space (depth 27,
// docs/PROTOCOL.md §4.4). Leaves are the raw bytes (commit.ts's rule), so a tensor laid at an
// aligned address is a subtree whose root is its tensor root. The tree is sparse: only the span that
// holds data is stored, everything above it is zero subtrees, and only dirty paths are rehashed.
import { type Hash, hashLevel, hashPair, ZERO } from "../commit/merkle.js";
import { LIMITS } from "./isa.js";

const DEPTH = LIMITS.MEMORY_DEPTH;
export const PAGE = 65536;

export class MerkleMemory {
  bytes: Uint8Array;
  view: DataView;
  /** levels[k][j]: hash of the node at height k+1, index j (height 0 = raw leaves in `bytes`). */
  private levels: Uint8Array[] = [];
  private dirty: Uint8Array[] = [];
  /** Height of the stored dense subtree covering addresses [0, 32·2^span). */
  private span = 0;
  private anyDirty = true;

  constructor(
    public pages: number,
    bytes?: Uint8Array,
  ) {
    if (bytes && bytes.length > pages * PAGE) {
      throw new RangeError(`MerkleMemory: ${bytes.length} bytes do not fit ${pages} pages`);
    }
    this.bytes = bytes ?? new Uint8Array(pages * PAGE);
    if (this.bytes.length < pages * PAGE) {
      const b = new Uint8Array(pages * PAGE);
      b.set(this.bytes);
      this.bytes = b;
    }
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    this.resizeTree();
  }

  /** Grows by `delta` pages (already checked against the maximum by the caller). New bytes are zero. */
  grow(delta: number): void {
    if (delta === 0) return;
    this.pages += delta;
    const b = new Uint8Array(this.pages * PAGE);
    b.set(this.bytes);
    this.bytes = b;
    this.view = new DataView(b.buffer);
    this.resizeTree();
  }

  private resizeTree(): void {
    const nLeaves = Math.max(1, this.bytes.length / 32);
    let span = 0;
    while (2 ** span < nLeaves) span++;
    if (span === this.span && this.levels.length === span) return;
    this.span = span;
    this.levels = [];
    this.dirty = [];
    for (let k = 1; k <= span; k++) {
      const n = 2 ** (span - k);
      this.levels.push(new Uint8Array(n * 32));
      this.dirty.push(new Uint8Array(n).fill(1));
    }
    this.anyDirty = true;
  }

  /** Marks the leaves touched by a write of `len` bytes at `addr` (addr+len within memory). */
  touch(addr: number, len: number): void {
    if (this.span === 0) {
      this.anyDirty = true;
      return;
    }
    const first = addr >>> 5;
    const last = (addr + len - 1) >>> 5;
    const d0 = this.dirty[0];
    d0[first >>> 1] = 1;
    if (last !== first) d0[last >>> 1] = 1;
    this.anyDirty = true;
  }

  /** Marks every leaf of [addr, addr+len) dirty (bulk initialization). */
  touchRange(addr: number, len: number): void {
    if (len <= 0) return;
    if (this.span === 0) {
      this.anyDirty = true;
      return;
    }
    const d0 = this.dirty[0];
    for (let j = addr >>> 6; j <= (addr + len - 1) >>> 6; j++) d0[j] = 1;
    this.anyDirty = true;
  }

  private leaf(i: number): Uint8Array {
    const start = i * 32;
    if (start + 32 <= this.bytes.length) return this.bytes.subarray(start, start + 32);
    return ZERO[0];
  }

  /** Node of the dense span (height ≤ span). */
  private node(height: number, index: number): Uint8Array {
    if (height === 0) return this.leaf(index);
    const lvl = this.levels[height - 1];
    return lvl.subarray(index * 32, index * 32 + 32);
  }

  /** Rehashes dirty paths; returns the root of the dense span. */
  private flush(): Uint8Array {
    if (this.span === 0) return this.leaf(0);
    if (this.anyDirty) {
      // Each run of dirty nodes of a level is one batch call: their children lie contiguous below.
      for (let k = 1; k <= this.span; k++) {
        const d = this.dirty[k - 1];
        const lvl = this.levels[k - 1];
        const up = k < this.span ? this.dirty[k] : undefined;
        const below = k === 1 ? this.bytes : this.levels[k - 2];
        // Level 1 past the end of memory (span rounds pages up to a power of two): zero leaves.
        const inside = k === 1 ? this.bytes.length / 64 : d.length;
        for (let j = d.indexOf(1); j !== -1; j = d.indexOf(1, j)) {
          let end = j + 1;
          while (end < d.length && d[end]) end++;
          d.fill(0, j, end);
          if (up) up.fill(1, j >>> 1, ((end - 1) >>> 1) + 1);
          const stop = Math.min(end, inside);
          if (stop > j) hashLevel(below, 64 * j, stop - j, lvl, 32 * j);
          for (let z = Math.max(j, inside); z < end; z++) lvl.set(ZERO[1], 32 * z);
          j = end;
        }
      }
      this.anyDirty = false;
    }
    return this.node(this.span, 0);
  }

  root(): Hash {
    let h = this.flush();
    for (let k = this.span; k < DEPTH; k++) h = hashPair(h, ZERO[k]);
    return h;
  }

  /** Sibling path (bottom-up, DEPTH hashes) of leaf `i`. */
  proof(i: number): Hash[] {
    this.flush();
    const path: Hash[] = [];
    let idx = i;
    for (let k = 0; k < DEPTH; k++) {
      const sib = idx ^ 1;
      // Above the dense span every sibling of an in-memory leaf's path is a zero subtree.
      path.push(k < this.span ? Uint8Array.from(this.node(k, sib)) : ZERO[k]);
      idx = Math.floor(idx / 2);
    }
    return path;
  }

  /** Root of the aligned subtree of height `h` at index `j` (e.g. a tensor region). */
  subtreeRoot(h: number, j: number): Hash {
    this.flush();
    if (h <= this.span) return Uint8Array.from(this.node(h, j));
    return j === 0 ? this.root() : ZERO[h];
  }

  /** Path from an aligned subtree (height h, index j) up to the memory root. */
  subtreeProof(h: number, j: number): Hash[] {
    const full = this.proof(j * 2 ** h);
    return full.slice(h);
  }

  leafCopy(i: number): Uint8Array {
    return Uint8Array.from(this.leaf(i));
  }

  /** Deep copy, hashes included (checkpoints restore without rehashing). */
  clone(): MerkleMemory {
    const m = Object.create(MerkleMemory.prototype) as MerkleMemory;
    m.pages = this.pages;
    m.bytes = Uint8Array.from(this.bytes);
    m.view = new DataView(m.bytes.buffer);
    m.levels = this.levels.map((l) => Uint8Array.from(l));
    m.dirty = this.dirty.map((d) => Uint8Array.from(d));
    m.span = this.span;
    m.anyDirty = this.anyDirty;
    return m;
  }
}
