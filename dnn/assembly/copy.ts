// Data movement: strided copies (Reshape, Transpose, Slice, Concat, Split, Expand, Tile, Pad, …)
// and Gather with runtime indices. No arithmetic, so no rounding.
import { copyWords } from "./fixed";
import { COPY_WORDS, ERR_GATHER_INDEX } from "./opcodes";
import { inPtr, outPtr, prm } from "./params";

/**
 * params: fill (0/1), fillValue, fillCount, nCopies, then per copy (22 words):
 *   srcInput, dstOutput, dims[6], srcOffset, srcStrides[6], dstOffset, dstStrides[6].
 * If fill, output 0's first fillCount elements are set to fillValue before the copies.
 */
export function copy(): i32 {
  if (prm(0) != 0) {
    const v = prm(1);
    let y = outPtr(0);
    const end = y + (<usize>prm(2) << 2);
    for (; y < end; y += 4) store<i32>(y, v);
  }
  const n = prm(3);
  for (let c = 0; c < n; c++) {
    const p = 4 + c * COPY_WORDS;
    const src = inPtr(prm(p)) + (<usize>prm(p + 8) << 2);
    const dst = outPtr(prm(p + 1)) + (<usize>prm(p + 15) << 2);
    const d0 = prm(p + 2), d1 = prm(p + 3), d2 = prm(p + 4), d3 = prm(p + 5), d4 = prm(p + 6), d5 = prm(p + 7);
    const s0 = prm(p + 9), s1 = prm(p + 10), s2 = prm(p + 11), s3 = prm(p + 12), s4 = prm(p + 13), s5 = prm(p + 14);
    const t0 = prm(p + 16), t1 = prm(p + 17), t2 = prm(p + 18), t3 = prm(p + 19), t4 = prm(p + 20), t5 = prm(p + 21);
    const contiguous = s5 == 1 && t5 == 1;
    for (let i0 = 0; i0 < d0; i0++)
      for (let i1 = 0; i1 < d1; i1++)
        for (let i2 = 0; i2 < d2; i2++)
          for (let i3 = 0; i3 < d3; i3++)
            for (let i4 = 0; i4 < d4; i4++) {
              let ps = src + (<usize>(i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3 + i4 * s4) << 2);
              let pd = dst + (<usize>(i0 * t0 + i1 * t1 + i2 * t2 + i3 * t3 + i4 * t4) << 2);
              if (contiguous) {
                copyWords(pd, ps, d5);
              } else {
                const ss = <usize>s5 << 2;
                const ts = <usize>t5 << 2;
                for (let i5 = 0; i5 < d5; i5++) {
                  store<i32>(pd, load<i32>(ps));
                  ps += ss;
                  pd += ts;
                }
              }
            }
  }
  return 0;
}

/** Gather(data, indices) along one axis. params: outer, axisDim, inner, nIdx. */
export function gather(): i32 {
  const D = inPtr(0);
  const I = inPtr(1);
  const Y = outPtr(0);
  const outer = prm(0), axisDim = prm(1), inner = prm(2), nIdx = prm(3);
  const rowBytes = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    for (let t = 0; t < nIdx; t++) {
      let k = load<i32>(I + (<usize>t << 2));
      if (k < 0) k += axisDim;
      if (k < 0 || k >= axisDim) return ERR_GATHER_INDEX;
      copyWords(Y + <usize>(o * nIdx + t) * rowBytes, D + <usize>(o * axisDim + k) * rowBytes, inner);
    }
  }
  return 0;
}
