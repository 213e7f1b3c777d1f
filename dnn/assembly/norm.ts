// Softmax / LogSoftmax, LayerNormalization and per-channel affine (unfolded BatchNormalization).
import { divRound, FRAC, isqrtRound, rshr, sat } from "./fixed";
import { expQ30, logQ30 } from "./nonlinear";
import { inPtr, outPtr, outputCount, prm } from "./params";

/** params: outer, axis, inner, isLog. Softmax over the middle dimension of [outer, axis, inner]. */
export function softmax(): i32 {
  const X = inPtr(0);
  const Y = outPtr(0);
  const outer = prm(0), axis = prm(1), inner = prm(2), isLog = prm(3) != 0;
  const stride = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const off = <usize>(o * axis * inner + i) << 2;
      let mx: i32 = load<i32>(X + off);
      for (let j = 1; j < axis; j++) {
        const v = load<i32>(X + off + <usize>j * stride);
        if (v > mx) mx = v;
      }
      // e_j = exp(x_j - max) in Q30 (<= 2^30, fits i32); staged in the output row.
      let sum: i64 = 0;
      for (let j = 0; j < axis; j++) {
        const p = off + <usize>j * stride;
        const e = expQ30((<i64>load<i32>(X + p) - <i64>mx) << 14, 30);
        sum += e;
        if (!isLog) store<i32>(Y + p, <i32>e);
      }
      if (isLog) {
        const lse = <i64>mx + rshr(logQ30(sum, 30), 14);
        for (let j = 0; j < axis; j++) {
          const p = off + <usize>j * stride;
          store<i32>(Y + p, sat(<i64>load<i32>(X + p) - lse));
        }
      } else {
        for (let j = 0; j < axis; j++) {
          const p = off + <usize>j * stride;
          store<i32>(Y + p, sat(divRound((<i64>load<i32>(Y + p)) << FRAC, sum)));
        }
      }
    }
  }
  return 0;
}

/**
 * LayerNormalization over the trailing `inner` elements of each of `outer` rows.
 * params: outer, inner, epsQ32, hasScale, hasBias. Inputs: X, [scale], [bias] (each [inner]).
 * Optional outputs 1 and 2 receive each row's mean and 1/std (ONNX Mean, InvStdDev).
 */
export function layernorm(): i32 {
  const X = inPtr(0);
  const Y = outPtr(0);
  const outer = prm(0), inner = prm(1);
  const eps: i64 = <i64>prm(2);
  const hasScale = prm(3) != 0;
  const hasBias = prm(4) != 0;
  const S = hasScale ? inPtr(1) : 0;
  const Bs = hasBias ? inPtr(hasScale ? 2 : 1) : 0;
  for (let o = 0; o < outer; o++) {
    const row = X + (<usize>(o * inner) << 2);
    const yrow = Y + (<usize>(o * inner) << 2);
    let s: i64 = 0;
    for (let j = 0; j < inner; j++) s += load<i32>(row + (<usize>j << 2));
    const mean = divRound(s, inner);
    let ss: i64 = 0;
    for (let j = 0; j < inner; j++) {
      const d = <i64>load<i32>(row + (<usize>j << 2)) - mean;
      ss += d * d;
    }
    const v = divRound(ss, inner) + eps; // variance + eps, Q32
    // std in Q24 when it fits (more precision), else Q16.
    const hi = v >= <i64>1 << 46;
    const sd: i64 = hi ? <i64>isqrtRound(<u64>v) : <i64>isqrtRound(<u64>v << 16);
    const sh: i32 = hi ? 16 : 24;
    if (outputCount() > 1) store<i32>(outPtr(1) + (<usize>o << 2), sat(mean));
    if (outputCount() > 2) store<i32>(outPtr(2) + (<usize>o << 2), sd == 0 ? 0x7fffffff : sat(divRound((<i64>1) << (16 + sh), sd)));
    for (let j = 0; j < inner; j++) {
      const d = <i64>load<i32>(row + (<usize>j << 2)) - mean;
      let y: i64 = sd == 0 ? 0 : divRound(d << sh, sd);
      if (hasScale) y = rshr(y * <i64>load<i32>(S + (<usize>j << 2)), FRAC);
      if (hasBias) y += <i64>load<i32>(Bs + (<usize>j << 2));
      store<i32>(yrow + (<usize>j << 2), sat(y));
    }
  }
  return 0;
}

/** y[n,c,i] = x[n,c,i]·scale[c] + bias[c]. params: N, C, inner. */
export function channelAffine(): i32 {
  const X = inPtr(0);
  const S = inPtr(1);
  const Bs = inPtr(2);
  let y = outPtr(0);
  const N = prm(0), C = prm(1), inner = prm(2);
  let x = X;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const sc = <i64>load<i32>(S + (<usize>c << 2));
      const bi = (<i64>load<i32>(Bs + (<usize>c << 2))) << FRAC;
      for (let i = 0; i < inner; i++) {
        store<i32>(y, sat(rshr(<i64>load<i32>(x) * sc + bi, FRAC)));
        x += 4;
        y += 4;
      }
    }
  return 0;
}

