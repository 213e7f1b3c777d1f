// keccak256 of a 64-byte message (one Merkle node), in AssemblyScript: the VM and the commitment
// code hash millions of pairs, and this runs ~10x faster than keccak in plain JS. Checked bit for
// bit against @noble/hashes in test/commit/keccak.test.ts. Memory: input at 0 (64 bytes), output at 64.
const RC: StaticArray<u64> = [
  0x0000000000000001, 0x0000000000008082, 0x800000000000808a, 0x8000000080008000, 0x000000000000808b,
  0x0000000080000001, 0x8000000080008081, 0x8000000000008009, 0x000000000000008a, 0x0000000000000088,
  0x0000000080008009, 0x000000008000000a, 0x000000008000808b, 0x800000000000008b, 0x8000000000008089,
  0x8000000000008003, 0x8000000000008002, 0x8000000000000080, 0x000000000000800a, 0x800000008000000a,
  0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
];
const ROT: StaticArray<i32> = [0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14];
const ST: usize = 256; // 25 lanes
const TMP: usize = 512; // 25 lanes (pi/rho output)

export function hash64(): void {
  for (let i = 0; i < 25; i++) store<u64>(ST + (<usize>i << 3), i < 8 ? load<u64>(<usize>i << 3) : 0);
  // padding: 0x01 after the 64 bytes, 0x80 at the end of the 136-byte rate
  store<u64>(ST + 64, 0x01);
  store<u64>(ST + 128, 0x8000000000000000);
  for (let round = 0; round < 24; round++) {
    // theta
    const c0 = load<u64>(ST) ^ load<u64>(ST + 40) ^ load<u64>(ST + 80) ^ load<u64>(ST + 120) ^ load<u64>(ST + 160);
    const c1 = load<u64>(ST + 8) ^ load<u64>(ST + 48) ^ load<u64>(ST + 88) ^ load<u64>(ST + 128) ^ load<u64>(ST + 168);
    const c2 = load<u64>(ST + 16) ^ load<u64>(ST + 56) ^ load<u64>(ST + 96) ^ load<u64>(ST + 136) ^ load<u64>(ST + 176);
    const c3 = load<u64>(ST + 24) ^ load<u64>(ST + 64) ^ load<u64>(ST + 104) ^ load<u64>(ST + 144) ^ load<u64>(ST + 184);
    const c4 = load<u64>(ST + 32) ^ load<u64>(ST + 72) ^ load<u64>(ST + 112) ^ load<u64>(ST + 152) ^ load<u64>(ST + 192);
    const d0 = c4 ^ rotl<u64>(c1, 1);
    const d1 = c0 ^ rotl<u64>(c2, 1);
    const d2 = c1 ^ rotl<u64>(c3, 1);
    const d3 = c2 ^ rotl<u64>(c4, 1);
    const d4 = c3 ^ rotl<u64>(c0, 1);
    for (let y = 0; y < 25; y += 5) {
      const p = ST + (<usize>y << 3);
      store<u64>(p, load<u64>(p) ^ d0);
      store<u64>(p + 8, load<u64>(p + 8) ^ d1);
      store<u64>(p + 16, load<u64>(p + 16) ^ d2);
      store<u64>(p + 24, load<u64>(p + 24) ^ d3);
      store<u64>(p + 32, load<u64>(p + 32) ^ d4);
    }
    // rho + pi: B[y, 2x+3y] = rot(A[x, y])
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) {
        const src = x + 5 * y;
        const dst = y + 5 * ((2 * x + 3 * y) % 5);
        store<u64>(TMP + (<usize>dst << 3), rotl<u64>(load<u64>(ST + (<usize>src << 3)), <u64>unchecked(ROT[src])));
      }
    }
    // chi
    for (let y = 0; y < 25; y += 5) {
      const p = TMP + (<usize>y << 3);
      const b0 = load<u64>(p), b1 = load<u64>(p + 8), b2 = load<u64>(p + 16), b3 = load<u64>(p + 24), b4 = load<u64>(p + 32);
      const q = ST + (<usize>y << 3);
      store<u64>(q, b0 ^ (~b1 & b2));
      store<u64>(q + 8, b1 ^ (~b2 & b3));
      store<u64>(q + 16, b2 ^ (~b3 & b4));
      store<u64>(q + 24, b3 ^ (~b4 & b0));
      store<u64>(q + 32, b4 ^ (~b0 & b1));
    }
    // iota
    store<u64>(ST, load<u64>(ST) ^ unchecked(RC[round]));
  }
  for (let i = 0; i < 4; i++) store<u64>(64 + (<usize>i << 3), load<u64>(ST + (<usize>i << 3)));
}
