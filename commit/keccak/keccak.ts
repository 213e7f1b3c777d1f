// keccak256 of 64-byte messages (Merkle nodes), in AssemblyScript: every commitment in the toolkit
// is a tree of such hashes, so the whole tree level (and a whole subtree) is hashed per call from
// JS, not one pair per call. Checked bit for bit against @noble/hashes in test/commit/keccak.test.ts.
//
// Memory layout: single pair in at 0 (64 bytes), out at 64; the checksum state at SUM (64 bytes);
// static data from 1024 (build.mjs: --memoryBase), ZERO[0..64] (root of 2^d zero leaves) among it;
// free space for data from DATA on (JS grows memory).
// The permutation keeps the 25 lanes in locals (the textbook unrolled round, theta folded into
// rho/pi); pairs are hashed two at a time with v128 (one i64x2 lane per message) when SIMD is on.
const RC: StaticArray<u64> = [
  0x0000000000000001, 0x0000000000008082, 0x800000000000808a, 0x8000000080008000, 0x000000000000808b,
  0x0000000080000001, 0x8000000080008081, 0x8000000000008009, 0x000000000000008a, 0x0000000000000088,
  0x0000000080008009, 0x000000008000000a, 0x000000008000808b, 0x800000000000008b, 0x8000000000008089,
  0x8000000000008003, 0x8000000000008002, 0x8000000000000080, 0x000000000000800a, 0x800000008000000a,
  0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
];
const SUM: usize = 128;
const ZT: usize = memory.data(65 << 5, 32);
export const DATA: usize = (__heap_base + 63) & ~63;
let simd = true;

/** Switches the two-at-a-time v128 path on or off (benchmarks compare them). */
export function setSimd(on: bool): void {
  simd = on;
}

// keccak256 of the 64 bytes at src into the 32 bytes at dst (dst may overlap src).
function hashOne(src: usize, dst: usize): void {
  let a0 = load<u64>(src), a1 = load<u64>(src + 8), a2 = load<u64>(src + 16), a3 = load<u64>(src + 24);
  let a4 = load<u64>(src + 32), a5 = load<u64>(src + 40), a6 = load<u64>(src + 48), a7 = load<u64>(src + 56);
  // padding: 0x01 right after the 64 bytes (lane 8), 0x80 at the end of the 136-byte rate (lane 16)
  let a8: u64 = 0x01, a9: u64 = 0, a10: u64 = 0, a11: u64 = 0, a12: u64 = 0, a13: u64 = 0, a14: u64 = 0;
  let a15: u64 = 0, a16: u64 = 0x8000000000000000, a17: u64 = 0, a18: u64 = 0, a19: u64 = 0;
  let a20: u64 = 0, a21: u64 = 0, a22: u64 = 0, a23: u64 = 0, a24: u64 = 0;
  for (let r = 0; r < 24; r++) {
      const c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20;
      const c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21;
      const c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22;
      const c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23;
      const c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24;
      const d0 = c4 ^ rotl<u64>(c1, 1);
      const d1 = c0 ^ rotl<u64>(c2, 1);
      const d2 = c1 ^ rotl<u64>(c3, 1);
      const d3 = c2 ^ rotl<u64>(c4, 1);
      const d4 = c3 ^ rotl<u64>(c0, 1);
      const b0 = (a0 ^ d0);
      const b1 = rotl<u64>((a6 ^ d1), 44);
      const b2 = rotl<u64>((a12 ^ d2), 43);
      const b3 = rotl<u64>((a18 ^ d3), 21);
      const b4 = rotl<u64>((a24 ^ d4), 14);
      const b5 = rotl<u64>((a3 ^ d3), 28);
      const b6 = rotl<u64>((a9 ^ d4), 20);
      const b7 = rotl<u64>((a10 ^ d0), 3);
      const b8 = rotl<u64>((a16 ^ d1), 45);
      const b9 = rotl<u64>((a22 ^ d2), 61);
      const b10 = rotl<u64>((a1 ^ d1), 1);
      const b11 = rotl<u64>((a7 ^ d2), 6);
      const b12 = rotl<u64>((a13 ^ d3), 25);
      const b13 = rotl<u64>((a19 ^ d4), 8);
      const b14 = rotl<u64>((a20 ^ d0), 18);
      const b15 = rotl<u64>((a4 ^ d4), 27);
      const b16 = rotl<u64>((a5 ^ d0), 36);
      const b17 = rotl<u64>((a11 ^ d1), 10);
      const b18 = rotl<u64>((a17 ^ d2), 15);
      const b19 = rotl<u64>((a23 ^ d3), 56);
      const b20 = rotl<u64>((a2 ^ d2), 62);
      const b21 = rotl<u64>((a8 ^ d3), 55);
      const b22 = rotl<u64>((a14 ^ d4), 39);
      const b23 = rotl<u64>((a15 ^ d0), 41);
      const b24 = rotl<u64>((a21 ^ d1), 2);
      a0 = b0 ^ (~b1 & b2);
      a1 = b1 ^ (~b2 & b3);
      a2 = b2 ^ (~b3 & b4);
      a3 = b3 ^ (~b4 & b0);
      a4 = b4 ^ (~b0 & b1);
      a5 = b5 ^ (~b6 & b7);
      a6 = b6 ^ (~b7 & b8);
      a7 = b7 ^ (~b8 & b9);
      a8 = b8 ^ (~b9 & b5);
      a9 = b9 ^ (~b5 & b6);
      a10 = b10 ^ (~b11 & b12);
      a11 = b11 ^ (~b12 & b13);
      a12 = b12 ^ (~b13 & b14);
      a13 = b13 ^ (~b14 & b10);
      a14 = b14 ^ (~b10 & b11);
      a15 = b15 ^ (~b16 & b17);
      a16 = b16 ^ (~b17 & b18);
      a17 = b17 ^ (~b18 & b19);
      a18 = b18 ^ (~b19 & b15);
      a19 = b19 ^ (~b15 & b16);
      a20 = b20 ^ (~b21 & b22);
      a21 = b21 ^ (~b22 & b23);
      a22 = b22 ^ (~b23 & b24);
      a23 = b23 ^ (~b24 & b20);
      a24 = b24 ^ (~b20 & b21);
      a0 ^= unchecked(RC[r]);
  }
  store<u64>(dst, a0);
  store<u64>(dst + 8, a1);
  store<u64>(dst + 16, a2);
  store<u64>(dst + 24, a3);
}

// @ts-ignore: decorator
@inline function rot(v: v128, n: i32): v128 {
  return v128.or(i64x2.shl(v, n), i64x2.shr_u(v, 64 - n));
}

// @ts-ignore: decorator
@inline function pair(src: usize, off: usize): v128 {
  return i64x2.replace_lane(i64x2.splat(load<u64>(src + off)), 1, load<u64>(src + 64 + off));
}

// The messages at src and src+64 into dst and dst+32 (dst may overlap src: all input is read first).
function hashTwo(src: usize, dst: usize): void {
  let a0 = pair(src, 0), a1 = pair(src, 8), a2 = pair(src, 16), a3 = pair(src, 24);
  let a4 = pair(src, 32), a5 = pair(src, 40), a6 = pair(src, 48), a7 = pair(src, 56);
  const z = i64x2.splat(0);
  let a8 = i64x2.splat(0x01), a9 = z, a10 = z, a11 = z, a12 = z, a13 = z, a14 = z, a15 = z;
  let a16 = i64x2.splat(0x8000000000000000), a17 = z, a18 = z, a19 = z, a20 = z, a21 = z, a22 = z;
  let a23 = z, a24 = z;
  for (let r = 0; r < 24; r++) {
      const c0 = v128.xor(v128.xor(v128.xor(v128.xor(a0, a5), a10), a15), a20);
      const c1 = v128.xor(v128.xor(v128.xor(v128.xor(a1, a6), a11), a16), a21);
      const c2 = v128.xor(v128.xor(v128.xor(v128.xor(a2, a7), a12), a17), a22);
      const c3 = v128.xor(v128.xor(v128.xor(v128.xor(a3, a8), a13), a18), a23);
      const c4 = v128.xor(v128.xor(v128.xor(v128.xor(a4, a9), a14), a19), a24);
      const d0 = v128.xor(c4, rot(c1, 1));
      const d1 = v128.xor(c0, rot(c2, 1));
      const d2 = v128.xor(c1, rot(c3, 1));
      const d3 = v128.xor(c2, rot(c4, 1));
      const d4 = v128.xor(c3, rot(c0, 1));
      const b0 = v128.xor(a0, d0);
      const b1 = rot(v128.xor(a6, d1), 44);
      const b2 = rot(v128.xor(a12, d2), 43);
      const b3 = rot(v128.xor(a18, d3), 21);
      const b4 = rot(v128.xor(a24, d4), 14);
      const b5 = rot(v128.xor(a3, d3), 28);
      const b6 = rot(v128.xor(a9, d4), 20);
      const b7 = rot(v128.xor(a10, d0), 3);
      const b8 = rot(v128.xor(a16, d1), 45);
      const b9 = rot(v128.xor(a22, d2), 61);
      const b10 = rot(v128.xor(a1, d1), 1);
      const b11 = rot(v128.xor(a7, d2), 6);
      const b12 = rot(v128.xor(a13, d3), 25);
      const b13 = rot(v128.xor(a19, d4), 8);
      const b14 = rot(v128.xor(a20, d0), 18);
      const b15 = rot(v128.xor(a4, d4), 27);
      const b16 = rot(v128.xor(a5, d0), 36);
      const b17 = rot(v128.xor(a11, d1), 10);
      const b18 = rot(v128.xor(a17, d2), 15);
      const b19 = rot(v128.xor(a23, d3), 56);
      const b20 = rot(v128.xor(a2, d2), 62);
      const b21 = rot(v128.xor(a8, d3), 55);
      const b22 = rot(v128.xor(a14, d4), 39);
      const b23 = rot(v128.xor(a15, d0), 41);
      const b24 = rot(v128.xor(a21, d1), 2);
      a0 = v128.xor(b0, v128.andnot(b2, b1));
      a1 = v128.xor(b1, v128.andnot(b3, b2));
      a2 = v128.xor(b2, v128.andnot(b4, b3));
      a3 = v128.xor(b3, v128.andnot(b0, b4));
      a4 = v128.xor(b4, v128.andnot(b1, b0));
      a5 = v128.xor(b5, v128.andnot(b7, b6));
      a6 = v128.xor(b6, v128.andnot(b8, b7));
      a7 = v128.xor(b7, v128.andnot(b9, b8));
      a8 = v128.xor(b8, v128.andnot(b5, b9));
      a9 = v128.xor(b9, v128.andnot(b6, b5));
      a10 = v128.xor(b10, v128.andnot(b12, b11));
      a11 = v128.xor(b11, v128.andnot(b13, b12));
      a12 = v128.xor(b12, v128.andnot(b14, b13));
      a13 = v128.xor(b13, v128.andnot(b10, b14));
      a14 = v128.xor(b14, v128.andnot(b11, b10));
      a15 = v128.xor(b15, v128.andnot(b17, b16));
      a16 = v128.xor(b16, v128.andnot(b18, b17));
      a17 = v128.xor(b17, v128.andnot(b19, b18));
      a18 = v128.xor(b18, v128.andnot(b15, b19));
      a19 = v128.xor(b19, v128.andnot(b16, b15));
      a20 = v128.xor(b20, v128.andnot(b22, b21));
      a21 = v128.xor(b21, v128.andnot(b23, b22));
      a22 = v128.xor(b22, v128.andnot(b24, b23));
      a23 = v128.xor(b23, v128.andnot(b20, b24));
      a24 = v128.xor(b24, v128.andnot(b21, b20));
      a0 = v128.xor(a0, i64x2.splat(unchecked(RC[r])));
  }
  store<u64>(dst, i64x2.extract_lane(a0, 0));
  store<u64>(dst + 8, i64x2.extract_lane(a1, 0));
  store<u64>(dst + 16, i64x2.extract_lane(a2, 0));
  store<u64>(dst + 24, i64x2.extract_lane(a3, 0));
  store<u64>(dst + 32, i64x2.extract_lane(a0, 1));
  store<u64>(dst + 40, i64x2.extract_lane(a1, 1));
  store<u64>(dst + 48, i64x2.extract_lane(a2, 1));
  store<u64>(dst + 56, i64x2.extract_lane(a3, 1));
}

/** The single pair at 0 → its hash at 64. */
export function hash64(): void {
  hashOne(0, 64);
}

/**
 * n consecutive 64-byte messages at src → n hashes at dst, 32 bytes apart. dst = src is allowed
 * (a tree level hashed in place): hash i lands at or below input i, which is already read.
 */
export function hashPairs(src: usize, dst: usize, n: u32): void {
  let i: u32 = 0;
  if (simd) {
    for (; i + 1 < n; i += 2) hashTwo(src + (<usize>i << 6), dst + (<usize>i << 5));
  }
  for (; i < n; i++) hashOne(src + (<usize>i << 6), dst + (<usize>i << 5));
}

/** Fills the ZERO table (call once after instantiation). */
export function init(): void {
  memory.fill(ZT, 0, 32);
  for (let d: usize = 1; d <= 64; d++) {
    memory.copy(0, ZT + ((d - 1) << 5), 32);
    memory.copy(32, ZT + ((d - 1) << 5), 32);
    hashOne(0, ZT + (d << 5));
  }
}

/**
 * Root of the tree of height \`top\` over the n nodes of height \`base\` at ptr (zero subtrees after
 * them), computed in place: the root ends at ptr. Leaves are nodes of height 0; chunk roots, for
 * the tree above chunks, of height log2(chunk). Needs n <= 2^(top - base) and 32 writable bytes
 * after the nodes (an odd level is padded there with the zero subtree of its height).
 */
export function root(ptr: usize, n: u32, base: u32, top: u32): void {
  if (n == 0) {
    memory.copy(ptr, ZT + (<usize>top << 5), 32);
    return;
  }
  let d: u32 = base;
  while (n > 1) {
    if (n & 1) {
      memory.copy(ptr + (<usize>n << 5), ZT + (<usize>d << 5), 32);
      n++;
    }
    n >>= 1;
    hashPairs(ptr, ptr, n);
    d++;
  }
  for (; d < top; d++) {
    memory.copy(ptr + 32, ZT + (<usize>d << 5), 32);
    hashOne(ptr, ptr);
  }
}

// Content checksum (not cryptographic; the package cache's fast check): 16 lanes of 32-bit words,
// word w goes to lane w % 16 and acc = acc * K + w (mod 2^32). K is odd, so changing any one word
// always changes its lane. commit/merkle.ts has the same rule in JS.
const K: i32 = 0x9e3779b1;

/** Resets the checksum state. */
export function sumReset(): void {
  for (let l: usize = 0; l < 16; l++) store<i32>(SUM + (l << 2), <i32>l + 1);
}

/** Adds len bytes at ptr (len a multiple of 64) to the checksum state. */
export function sum(ptr: usize, len: usize): void {
  const k = i32x4.splat(K);
  let s0 = v128.load(SUM), s1 = v128.load(SUM + 16), s2 = v128.load(SUM + 32), s3 = v128.load(SUM + 48);
  const end = ptr + len;
  for (let p = ptr; p < end; p += 64) {
    s0 = i32x4.add(i32x4.mul(s0, k), v128.load(p));
    s1 = i32x4.add(i32x4.mul(s1, k), v128.load(p + 16));
    s2 = i32x4.add(i32x4.mul(s2, k), v128.load(p + 32));
    s3 = i32x4.add(i32x4.mul(s3, k), v128.load(p + 48));
  }
  v128.store(SUM, s0);
  v128.store(SUM + 16, s1);
  v128.store(SUM + 32, s2);
  v128.store(SUM + 48, s3);
}
