// MatMul / Gemm and Conv. Products of two Q16 values are Q32; they accumulate in i64 with the bias
// pre-shifted to Q32, and round once (half up) back to Q16 with saturation.
import { FRAC, mulq, ONE, rshr, sat } from "./fixed";
import { inPtr, outPtr, prm } from "./params";

/** Finishes one MatMul output: bias (Q32), alpha, one rounding, saturation. Returns the next y. */
@inline
function emit(y: usize, acc: i64, hasBias: bool, pc0: usize, m: i32, n: i32, sCm: i32, sCn: i32, alpha: i32, beta: i32): usize {
  let bias: i32 = 0;
  if (hasBias) {
    bias = load<i32>(pc0 + (<usize>(m * sCm + n * sCn) << 2));
    if (beta != ONE) bias = mulq(bias, beta);
  }
  let v: i32;
  if (alpha == ONE) v = sat(rshr(acc + ((<i64>bias) << FRAC), FRAC));
  else v = sat(<i64>mulq(sat(rshr(acc, FRAC)), alpha) + <i64>bias);
  store<i32>(y, v);
  return y + 4;
}

/**
 * params: batch dims[4], aBatchStrides[4], bBatchStrides[4], biasBatchStrides[4],
 *         M, K, N, sAm, sAk, sBk, sBn, hasBias, sCm, sCn, alpha, beta.
 * Output is contiguous [batch..., M, N]. y = alpha·(A·B) + beta·C.
 */
export function matmul(): i32 {
  const A = inPtr(0);
  const B = inPtr(1);
  const M = prm(16), K = prm(17), N = prm(18);
  const sAm = prm(19), sAk = <usize>prm(20) << 2, sBk = <usize>prm(21) << 2, sBn = prm(22);
  const hasBias = prm(23) != 0;
  const sCm = prm(24), sCn = prm(25);
  const alpha = prm(26);
  const beta = prm(27);
  const C = hasBias ? inPtr(2) : 0;
  let y = outPtr(0);
  for (let b0 = 0; b0 < prm(0); b0++)
    for (let b1 = 0; b1 < prm(1); b1++)
      for (let b2 = 0; b2 < prm(2); b2++)
        for (let b3 = 0; b3 < prm(3); b3++) {
          const pa0 = A + (<usize>(b0 * prm(4) + b1 * prm(5) + b2 * prm(6) + b3 * prm(7)) << 2);
          const pb0 = B + (<usize>(b0 * prm(8) + b1 * prm(9) + b2 * prm(10) + b3 * prm(11)) << 2);
          const pc0 = C + (<usize>(b0 * prm(12) + b1 * prm(13) + b2 * prm(14) + b3 * prm(15)) << 2);
          for (let m = 0; m < M; m++) {
            const paRow = pa0 + (<usize>(m * sAm) << 2);
            // Four output columns at a time share each A load (register blocking); exact integer
            // sums, so the blocking cannot change a single bit of the result.
            let n = 0;
            for (; n + 4 <= N; n += 4) {
              let pa = paRow;
              let pb = pb0 + (<usize>(n * sBn) << 2);
              const step = <usize>sBn << 2;
              let c0: i64 = 0, c1: i64 = 0, c2: i64 = 0, c3: i64 = 0;
              for (let k = 0; k < K; k++) {
                const av = <i64>load<i32>(pa);
                c0 += av * <i64>load<i32>(pb);
                c1 += av * <i64>load<i32>(pb + step);
                c2 += av * <i64>load<i32>(pb + 2 * step);
                c3 += av * <i64>load<i32>(pb + 3 * step);
                pa += sAk;
                pb += sBk;
              }
              y = emit(y, c0, hasBias, pc0, m, n, sCm, sCn, alpha, beta);
              y = emit(y, c1, hasBias, pc0, m, n + 1, sCm, sCn, alpha, beta);
              y = emit(y, c2, hasBias, pc0, m, n + 2, sCm, sCn, alpha, beta);
              y = emit(y, c3, hasBias, pc0, m, n + 3, sCm, sCn, alpha, beta);
            }
            for (; n < N; n++) {
              let pa = paRow;
              let pb = pb0 + (<usize>(n * sBn) << 2);
              let acc: i64 = 0;
              for (let k = 0; k < K; k++) {
                acc += <i64>load<i32>(pa) * <i64>load<i32>(pb);
                pa += sAk;
                pb += sBk;
              }
              y = emit(y, acc, hasBias, pc0, m, n, sCm, sCn, alpha, beta);
            }
          }
        }
  return 0;
}

/**
 * 2-D convolution, NCHW, weights [M, C/group, kH, kW].
 * params: N, C, H, W, M, OH, OW, kH, kW, sH, sW, padTop, padLeft, dH, dW, group, hasBias.
 */
export function conv(): i32 {
  const X = inPtr(0);
  const Wt = inPtr(1);
  const N = prm(0), C = prm(1), H = prm(2), W = prm(3), M = prm(4), OH = prm(5), OW = prm(6);
  const kH = prm(7), kW = prm(8), sH = prm(9), sW = prm(10), pT = prm(11), pL = prm(12);
  const dH = prm(13), dW = prm(14), group = prm(15), hasBias = prm(16) != 0;
  const Bs = hasBias ? inPtr(2) : 0;
  const Cg = C / group;
  const Mg = M / group;
  const kArea = kH * kW;
  const plane = H * W;
  let y = outPtr(0);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      const g = m / Mg;
      const wBase = Wt + (<usize>(m * Cg * kArea) << 2);
      const xBase = X + (<usize>((n * C + g * Cg) * plane) << 2);
      const bias: i64 = hasBias ? (<i64>load<i32>(Bs + (<usize>m << 2))) << FRAC : 0;
      for (let oh = 0; oh < OH; oh++) {
        const ih0 = oh * sH - pT;
        // Rows of the kernel that fall inside the input for this output row.
        let kh0 = 0;
        while (kh0 < kH && ih0 + kh0 * dH < 0) kh0++;
        let kh1 = kH;
        while (kh1 > kh0 && ih0 + (kh1 - 1) * dH >= H) kh1--;
        let ow = 0;
        while (ow < OW) {
          const iw0 = ow * sW - pL;
          if (ow + 4 <= OW && iw0 >= 0 && iw0 + 3 * sW + (kW - 1) * dW < W) {
            // Interior block of four outputs: no bounds checks, each weight load shared 4 ways.
            let a0 = bias, a1 = bias, a2 = bias, a3 = bias;
            const st = <usize>sW << 2;
            for (let c = 0; c < Cg; c++) {
              const xc = xBase + (<usize>(c * plane) << 2);
              const wc = wBase + (<usize>(c * kArea) << 2);
              for (let kh = kh0; kh < kh1; kh++) {
                let px = xc + (<usize>((ih0 + kh * dH) * W + iw0) << 2);
                let pw = wc + (<usize>(kh * kW) << 2);
                const pwEnd = pw + (<usize>kW << 2);
                const dx = <usize>dW << 2;
                for (; pw < pwEnd; pw += 4, px += dx) {
                  const wv = <i64>load<i32>(pw);
                  a0 += <i64>load<i32>(px) * wv;
                  a1 += <i64>load<i32>(px + st) * wv;
                  a2 += <i64>load<i32>(px + 2 * st) * wv;
                  a3 += <i64>load<i32>(px + 3 * st) * wv;
                }
              }
            }
            store<i32>(y, sat(rshr(a0, FRAC)));
            store<i32>(y + 4, sat(rshr(a1, FRAC)));
            store<i32>(y + 8, sat(rshr(a2, FRAC)));
            store<i32>(y + 12, sat(rshr(a3, FRAC)));
            y += 16;
            ow += 4;
            continue;
          }
          let acc = bias;
          for (let c = 0; c < Cg; c++) {
            const xc = xBase + (<usize>(c * plane) << 2);
            const wc = wBase + (<usize>(c * kArea) << 2);
            for (let kh = kh0; kh < kh1; kh++) {
              const row = xc + (<usize>((ih0 + kh * dH) * W) << 2);
              const wk = wc + (<usize>(kh * kW) << 2);
              for (let kw = 0; kw < kW; kw++) {
                const iw = iw0 + kw * dW;
                if (<u32>iw < <u32>W) {
                  acc += <i64>load<i32>(row + (<usize>iw << 2)) * <i64>load<i32>(wk + (<usize>kw << 2));
                }
              }
            }
          }
          store<i32>(y, sat(rshr(acc, FRAC)));
          y += 4;
          ow++;
        }
      }
    }
  }
  return 0;
}
