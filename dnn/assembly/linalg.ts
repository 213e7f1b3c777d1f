// MatMul / Gemm and Conv. Products of two Q16 values are Q32; they accumulate in i64 with the bias
// pre-shifted to Q32, and round once (half up) back to Q16 with saturation.
//
// Each kernel is generic over its weight type W: i32 (Q16.16 weights: MATMUL, CONV) or i8 (int8
// weights q with a Q16.16 scale s per output channel: MATMUL_Q8, CONV_Q8). With i8 the sum Σ x·q is
// multiplied by s once per output; in wrapping i64 arithmetic Σ x·(q·s) = s·Σ x·q exactly, so a Q8
// kernel gives the same bits as the Q16 kernel on the dequantized weights q·s (docs/NUMERICS.md §8).
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
  return matmulT<i32>();
}

/** MATMUL_Q8: inputs A, B (int8, bytes), S (Q16.16 scale per output column n), [C]; MATMUL's params. */
export function matmulQ8(): i32 {
  return matmulT<i8>();
}

@inline
function matmulT<W>(): i32 {
  const Q8 = sizeof<W>() == 1;
  const A = inPtr(0);
  const B = inPtr(1);
  const S = Q8 ? inPtr(2) : 0;
  const M = prm(16), K = prm(17), N = prm(18);
  const sAm = prm(19), sAk = <usize>prm(20) << 2, sBk = <usize>prm(21) * sizeof<W>(), sBn = prm(22);
  const hasBias = prm(23) != 0;
  const sCm = prm(24), sCn = prm(25);
  const alpha = prm(26);
  const beta = prm(27);
  const C = hasBias ? inPtr(Q8 ? 3 : 2) : 0;
  let y = outPtr(0);
  for (let b0 = 0; b0 < prm(0); b0++)
    for (let b1 = 0; b1 < prm(1); b1++)
      for (let b2 = 0; b2 < prm(2); b2++)
        for (let b3 = 0; b3 < prm(3); b3++) {
          const pa0 = A + (<usize>(b0 * prm(4) + b1 * prm(5) + b2 * prm(6) + b3 * prm(7)) << 2);
          const pb0 = B + <usize>(b0 * prm(8) + b1 * prm(9) + b2 * prm(10) + b3 * prm(11)) * sizeof<W>();
          const pc0 = C + (<usize>(b0 * prm(12) + b1 * prm(13) + b2 * prm(14) + b3 * prm(15)) << 2);
          for (let m = 0; m < M; m++) {
            const paRow = pa0 + (<usize>(m * sAm) << 2);
            // Four output columns at a time share each A load (register blocking); exact integer
            // sums, so the blocking cannot change a single bit of the result.
            let n = 0;
            for (; n + 4 <= N; n += 4) {
              let pa = paRow;
              let pb = pb0 + <usize>(n * sBn) * sizeof<W>();
              const step = <usize>sBn * sizeof<W>();
              let c0: i64 = 0, c1: i64 = 0, c2: i64 = 0, c3: i64 = 0;
              for (let k = 0; k < K; k++) {
                const av = <i64>load<i32>(pa);
                c0 += av * <i64>load<W>(pb);
                c1 += av * <i64>load<W>(pb + step);
                c2 += av * <i64>load<W>(pb + 2 * step);
                c3 += av * <i64>load<W>(pb + 3 * step);
                pa += sAk;
                pb += sBk;
              }
              if (Q8) {
                const ps = S + (<usize>n << 2);
                c0 *= <i64>load<i32>(ps);
                c1 *= <i64>load<i32>(ps + 4);
                c2 *= <i64>load<i32>(ps + 8);
                c3 *= <i64>load<i32>(ps + 12);
              }
              y = emit(y, c0, hasBias, pc0, m, n, sCm, sCn, alpha, beta);
              y = emit(y, c1, hasBias, pc0, m, n + 1, sCm, sCn, alpha, beta);
              y = emit(y, c2, hasBias, pc0, m, n + 2, sCm, sCn, alpha, beta);
              y = emit(y, c3, hasBias, pc0, m, n + 3, sCm, sCn, alpha, beta);
            }
            for (; n < N; n++) {
              let pa = paRow;
              let pb = pb0 + <usize>(n * sBn) * sizeof<W>();
              let acc: i64 = 0;
              for (let k = 0; k < K; k++) {
                acc += <i64>load<i32>(pa) * <i64>load<W>(pb);
                pa += sAk;
                pb += sBk;
              }
              if (Q8) acc *= <i64>load<i32>(S + (<usize>n << 2));
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
  return convT<i32>();
}

/** CONV_Q8: inputs X, weights (int8, bytes), S (Q16.16 scale per output channel m), [bias]; CONV's params. */
export function convQ8(): i32 {
  return convT<i8>();
}

@inline
function convT<W>(): i32 {
  const Q8 = sizeof<W>() == 1;
  const X = inPtr(0);
  const Wt = inPtr(1);
  const S = Q8 ? inPtr(2) : 0;
  const N = prm(0), C = prm(1), H = prm(2), W = prm(3), M = prm(4), OH = prm(5), OW = prm(6);
  const kH = prm(7), kW = prm(8), sH = prm(9), sW = prm(10), pT = prm(11), pL = prm(12);
  const dH = prm(13), dW = prm(14), group = prm(15), hasBias = prm(16) != 0;
  const Bs = hasBias ? inPtr(Q8 ? 3 : 2) : 0;
  const Cg = C / group;
  const Mg = M / group;
  const kArea = kH * kW;
  const plane = H * W;
  let y = outPtr(0);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      const g = m / Mg;
      const wBase = Wt + <usize>(m * Cg * kArea) * sizeof<W>();
      const xBase = X + (<usize>((n * C + g * Cg) * plane) << 2);
      const bias: i64 = hasBias ? (<i64>load<i32>(Bs + (<usize>m << 2))) << FRAC : 0;
      // Q8: the sums start at 0 and become bias + s·Σ at the end.
      const acc0: i64 = Q8 ? 0 : bias;
      const scale: i64 = Q8 ? <i64>load<i32>(S + (<usize>m << 2)) : 1;
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
            let a0 = acc0, a1 = acc0, a2 = acc0, a3 = acc0;
            const st = <usize>sW << 2;
            for (let c = 0; c < Cg; c++) {
              const xc = xBase + (<usize>(c * plane) << 2);
              const wc = wBase + <usize>(c * kArea) * sizeof<W>();
              for (let kh = kh0; kh < kh1; kh++) {
                let px = xc + (<usize>((ih0 + kh * dH) * W + iw0) << 2);
                let pw = wc + <usize>(kh * kW) * sizeof<W>();
                const pwEnd = pw + <usize>kW * sizeof<W>();
                const dx = <usize>dW << 2;
                for (; pw < pwEnd; pw += sizeof<W>(), px += dx) {
                  const wv = <i64>load<W>(pw);
                  a0 += <i64>load<i32>(px) * wv;
                  a1 += <i64>load<i32>(px + st) * wv;
                  a2 += <i64>load<i32>(px + 2 * st) * wv;
                  a3 += <i64>load<i32>(px + 3 * st) * wv;
                }
              }
            }
            if (Q8) {
              a0 = bias + a0 * scale;
              a1 = bias + a1 * scale;
              a2 = bias + a2 * scale;
              a3 = bias + a3 * scale;
            }
            store<i32>(y, sat(rshr(a0, FRAC)));
            store<i32>(y + 4, sat(rshr(a1, FRAC)));
            store<i32>(y + 8, sat(rshr(a2, FRAC)));
            store<i32>(y + 12, sat(rshr(a3, FRAC)));
            y += 16;
            ow += 4;
            continue;
          }
          let acc = acc0;
          for (let c = 0; c < Cg; c++) {
            const xc = xBase + (<usize>(c * plane) << 2);
            const wc = wBase + <usize>(c * kArea) * sizeof<W>();
            for (let kh = kh0; kh < kh1; kh++) {
              const row = xc + (<usize>((ih0 + kh * dH) * W) << 2);
              const wk = wc + <usize>(kh * kW) * sizeof<W>();
              for (let kw = 0; kw < kW; kw++) {
                const iw = iw0 + kw * dW;
                if (<u32>iw < <u32>W) {
                  acc += <i64>load<i32>(row + (<usize>iw << 2)) * <i64>load<W>(wk + <usize>kw * sizeof<W>());
                }
              }
            }
          }
          if (Q8) acc = bias + acc * scale;
          store<i32>(y, sat(rshr(acc, FRAC)));
          y += 4;
          ow++;
        }
      }
    }
  }
  return 0;
}
