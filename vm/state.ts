// The VM state commitment (docs/PROTOCOL.md §4). Everything here is the *definition*: the fast
// machine, the prover, the TS verifier and the Solidity verifier all hash exactly these bytes.
import { keccak_256 } from "@noble/hashes/sha3.js";
import { depthFor, type Hash, hashPair, leavesRoot, StaticMerkle, ZERO } from "../commit/merkle.js";
import { type Instr, instrLeaf, LIMITS } from "./isa.js";

export const Status = { RUNNING: 0, FINISHED: 1, TRAPPED: 2 } as const;

/** The twelve 32-byte words whose keccak is the state root, in this order. */
export interface StateFields {
  status: number;
  pc: number;
  /** Hash chain of the current frame's value stack (0 when empty). */
  stackHash: Hash;
  /** Merkle root (depth LOCALS_DEPTH) of the current frame's locals. */
  localsRoot: Hash;
  /** Where the current frame returns to (HALT_PC for the entry frame). */
  returnPc: number;
  /** Hash chain of the suspended frames' records, oldest first. */
  frameStackHash: Hash;
  /** Number of suspended frames. */
  frameDepth: number;
  globalsRoot: Hash;
  memoryRoot: Hash;
  memoryPages: number;
  codeRoot: Hash;
  codeDepth: number;
}

export const FIELD_COUNT = 12;
export const EMPTY: Hash = ZERO[0];

/** uint256 big-endian word of a non-negative integer < 2^256. */
export function word(v: bigint | number): Uint8Array {
  const out = new Uint8Array(32);
  let x = BigInt(v);
  for (let i = 31; i >= 0 && x > 0n; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

export function wordToBigInt(w: Uint8Array): bigint {
  let x = 0n;
  for (const b of w) x = (x << 8n) | BigInt(b);
  return x;
}

export function encodeFields(f: StateFields): Uint8Array {
  const out = new Uint8Array(32 * FIELD_COUNT);
  const words = [
    word(f.status),
    word(f.pc),
    f.stackHash,
    f.localsRoot,
    word(f.returnPc),
    f.frameStackHash,
    word(f.frameDepth),
    f.globalsRoot,
    f.memoryRoot,
    word(f.memoryPages),
    f.codeRoot,
    word(f.codeDepth),
  ];
  words.forEach((w, i) => {
    out.set(w, 32 * i);
  });
  return out;
}

export function decodeFields(b: Uint8Array): StateFields {
  const w = (i: number) => b.subarray(32 * i, 32 * i + 32);
  const n = (i: number) => Number(wordToBigInt(w(i)));
  return {
    status: n(0),
    pc: n(1),
    stackHash: Uint8Array.from(w(2)),
    localsRoot: Uint8Array.from(w(3)),
    returnPc: n(4),
    frameStackHash: Uint8Array.from(w(5)),
    frameDepth: n(6),
    globalsRoot: Uint8Array.from(w(7)),
    memoryRoot: Uint8Array.from(w(8)),
    memoryPages: n(9),
    codeRoot: Uint8Array.from(w(10)),
    codeDepth: n(11),
  };
}

export function stateRoot(f: StateFields): Hash {
  return keccak_256(encodeFields(f));
}

/** Value stack push: keccak(previous ‖ word(value)). Values are u64 (i32 zero-extended). */
export function pushValue(h: Hash, v: bigint): Hash {
  return hashPair(h, word(v));
}

export function stackHashOf(values: readonly bigint[], base: Hash = EMPTY): Hash {
  let h = base;
  for (const v of values) h = pushValue(h, v);
  return h;
}

/** A suspended frame: keccak(stackHash ‖ localsRoot ‖ word(returnPc)). */
export function frameRecord(stackHash: Hash, localsRoot: Hash, returnPc: number): Hash {
  const b = new Uint8Array(96);
  b.set(stackHash, 0);
  b.set(localsRoot, 32);
  b.set(word(returnPc), 64);
  return keccak_256(b);
}

export function pushFrame(frameStackHash: Hash, record: Hash): Hash {
  return hashPair(frameStackHash, record);
}

export function localsRootOf(values: readonly bigint[]): Hash {
  return leavesRoot(values.map(word), LIMITS.LOCALS_DEPTH);
}

export function globalsRootOf(values: readonly bigint[]): Hash {
  return leavesRoot(values.map(word), LIMITS.GLOBALS_DEPTH);
}

/** The code tree: one leaf per flat instruction, every level kept for cheap proofs. */
export function codeTree(code: readonly Instr[]): StaticMerkle {
  return new StaticMerkle(code.map(instrLeaf), depthFor(code.length));
}
