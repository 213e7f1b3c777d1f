// Reductions and ArgMax/ArgMin over the middle dimension of [outer, red, inner].
import { divRound, FRAC, I32_MAX, I32_MIN, isqrtRound, mulq, ONE, rshr, sat } from "./fixed";
import { expQ30, logq, logQ30 } from "./nonlinear";
import { R_L1, R_L2, R_LOGSUM, R_LOGSUMEXP, R_MAX, R_MEAN, R_MIN, R_PROD, R_SUMSQUARE } from "./opcodes";
import { inPtr, outPtr, prm } from "./params";

/** params: fn, outer, red, inner */
export function reduce(): i32 {
  const X = inPtr(0);
  let y = outPtr(0);
  const fn = prm(0), outer = prm(1), red = prm(2), inner = prm(3);
  const stride = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = X + (<usize>(o * red * inner + i) << 2);
      let acc: i64 = 0;
      let r: i32 = 0;
      if (fn == R_MAX || fn == R_MIN || fn == R_LOGSUMEXP) {
        let m: i32 = fn == R_MIN ? <i32>I32_MAX : <i32>I32_MIN;
        for (let j = 0; j < red; j++) {
          const v = load<i32>(base + <usize>j * stride);
          if (fn == R_MIN ? v < m : v > m) m = v;
        }
        if (fn != R_LOGSUMEXP) r = m;
        else {
          for (let j = 0; j < red; j++) acc += expQ30((<i64>load<i32>(base + <usize>j * stride) - <i64>m) << 14, 30);
          r = sat(<i64>m + rshr(logQ30(acc, 30), 14));
        }
      } else if (fn == R_PROD) {
        r = ONE;
        for (let j = 0; j < red; j++) r = mulq(r, load<i32>(base + <usize>j * stride));
      } else {
        for (let j = 0; j < red; j++) {
          const v = <i64>load<i32>(base + <usize>j * stride);
          if (fn == R_L1) acc += v < 0 ? -v : v;
          else if (fn == R_L2 || fn == R_SUMSQUARE) acc += v * v;
          else acc += v;
        }
        if (fn == R_MEAN) r = red == 0 ? 0 : sat(divRound(acc, red));
        else if (fn == R_SUMSQUARE) r = sat(rshr(acc, FRAC));
        else if (fn == R_L2) r = sat(<i64>isqrtRound(<u64>acc));
        else if (fn == R_LOGSUM) r = logq(sat(acc));
        else r = sat(acc);
      }
      store<i32>(y, r);
      y += 4;
    }
  }
  return 0;
}

/** params: outer, axis, inner, isMin, selectLast. Output: raw i32 indices. */
export function argmax(): i32 {
  const X = inPtr(0);
  let y = outPtr(0);
  const outer = prm(0), axis = prm(1), inner = prm(2), isMin = prm(3) != 0, last = prm(4) != 0;
  const stride = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = X + (<usize>(o * axis * inner + i) << 2);
      let best = load<i32>(base);
      let bi = 0;
      for (let j = 1; j < axis; j++) {
        const v = load<i32>(base + <usize>j * stride);
        const better = isMin ? (last ? v <= best : v < best) : last ? v >= best : v > best;
        if (better) {
          best = v;
          bi = j;
        }
      }
      store<i32>(y, bi);
      y += 4;
    }
  }
  return 0;
}
