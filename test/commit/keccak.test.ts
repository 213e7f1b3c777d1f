// The WebAssembly pair hasher (commit/keccak) must be keccak256 exactly: checked against @noble/hashes.
import { keccak_256 } from "@noble/hashes/sha3.js";
import { describe, expect, it } from "vitest";
import { hashPair, nobleHashPair } from "../../commit/merkle.js";
import { rng } from "../helpers/helpers.js";

describe("hashPair", () => {
  it("is the WebAssembly hasher and equals keccak256(a ‖ b) on 5,000 random pairs", () => {
    expect(hashPair).not.toBe(nobleHashPair); // the build produced commit/build/keccak.wasm
    const r = rng(42);
    for (let i = 0; i < 5000; i++) {
      const ab = Uint8Array.from({ length: 64 }, () => Math.floor(r() * 256));
      if (i % 7 === 0) ab.fill(i % 2 ? 0xff : 0);
      const want = keccak_256(ab);
      expect(hashPair(ab.subarray(0, 32), ab.subarray(32))).toEqual(want);
      expect(nobleHashPair(ab.subarray(0, 32), ab.subarray(32))).toEqual(want);
    }
  });
});
