// Max and average pooling over NCHW planes (Global*Pool is a pool whose window is the plane).
import { divRound, I32_MIN, sat } from "./fixed";
import { inPtr, outPtr, prm } from "./params";

/** params: mode (0 max, 1 avg), NC, H, W, OH, OW, kH, kW, sH, sW, pT, pL, dH, dW, countIncludePad */
export function pool(): i32 {
  const X = inPtr(0);
  const isAvg = prm(0) == 1;
  const NC = prm(1), H = prm(2), W = prm(3), OH = prm(4), OW = prm(5);
  const kH = prm(6), kW = prm(7), sH = prm(8), sW = prm(9), pT = prm(10), pL = prm(11);
  const dH = prm(12), dW = prm(13), includePad = prm(14) != 0;
  let y = outPtr(0);
  for (let c = 0; c < NC; c++) {
    const xc = X + (<usize>(c * H * W) << 2);
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let mx: i32 = <i32>I32_MIN;
        let sum: i64 = 0;
        let cnt: i32 = 0;
        for (let kh = 0; kh < kH; kh++) {
          const ih = oh * sH - pT + kh * dH;
          if (<u32>ih >= <u32>H) continue;
          for (let kw = 0; kw < kW; kw++) {
            const iw = ow * sW - pL + kw * dW;
            if (<u32>iw >= <u32>W) continue;
            const v = load<i32>(xc + (<usize>(ih * W + iw) << 2));
            if (v > mx) mx = v;
            sum += v;
            cnt++;
          }
        }
        if (isAvg) {
          const div = includePad ? kH * kW : cnt;
          store<i32>(y, div == 0 ? 0 : sat(divRound(sum, div)));
        } else {
          store<i32>(y, mx);
        }
        y += 4;
      }
    }
  }
  return 0;
}
