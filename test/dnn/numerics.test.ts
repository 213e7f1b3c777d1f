// The fixed-point functions of dnn/assembly against float64 references, with the error bounds that
// docs/NUMERICS.md states. One ulp = 2^-16.
import { describe, expect, it } from "vitest";
import { Binary, Op, Reduce, Unary } from "../../dnn/src/opcodes.js";
import { rng, runKernel } from "../helpers/helpers.js";

const S = 65536;
const ULP = 1 / S;

function erf(x: number): number {
  // Float64 reference: Maclaurin series below 2, erfc continued fraction above (both ~1e-13 here).
  const ax = Math.abs(x);
  if (ax < 2) {
    let sum = 0;
    let term = ax;
    for (let n = 0; n < 100; n++) {
      sum += term / (2 * n + 1);
      term *= (-ax * ax) / (n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let t = ax;
  for (let k = 120; k >= 1; k--) t = ax + k / 2 / t;
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / t);
}

function unary(fn: number, xs: number[], a = 0, b = 0): number[] {
  const q = Int32Array.from(xs, (x) => Math.floor(x * S + 0.5));
  const { code, outs } = runKernel(Op.UNARY, [fn, q.length, a, b], [q], [q.length]);
  expect(code).toBe(0);
  return Array.from(outs[0], (v) => v / S);
}

function grid(lo: number, hi: number, n: number): number[] {
  const r = rng(n);
  const xs = Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
  for (let i = 0; i < n; i++) xs.push(lo + (hi - lo) * r());
  return xs.map((x) => Math.floor(x * S + 0.5) / S); // representable inputs
}

const cases: [string, number, (x: number) => number, number, number, number][] = [
  // name, fn, reference, lo, hi, bound (absolute, plus relative part below)
  ["exp", Unary.EXP, Math.exp, -12, 10, 1.0],
  ["log", Unary.LOG, Math.log, 0.001, 30000, 1.0],
  ["sigmoid", Unary.SIGMOID, (x) => 1 / (1 + Math.exp(-x)), -20, 20, 1.0],
  ["tanh", Unary.TANH, Math.tanh, -12, 12, 1.0],
  ["erf", Unary.ERF, erf, -7, 7, 2.0],
  ["gelu", Unary.GELU, (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)), -10, 10, 2.0],
  ["sqrt", Unary.SQRT, Math.sqrt, 0, 30000, 0.5],
  ["softplus", Unary.SOFTPLUS, (x) => Math.log1p(Math.exp(x)), -15, 15, 1.0],
];

describe("nonlinear functions (Q16.16)", () => {
  for (const [name, fn, ref, lo, hi, ulps] of cases) {
    it(`${name} within ${ulps} ulp + 1e-6 relative on [${lo}, ${hi}]`, () => {
      const xs = grid(lo, hi, 2000);
      const ys = unary(fn, xs);
      let worst = 0;
      xs.forEach((x, i) => {
        const r = ref(x);
        const err = Math.abs(ys[i] - r) - 1e-6 * Math.abs(r);
        worst = Math.max(worst, err / ULP);
      });
      expect(worst).toBeLessThanOrEqual(ulps);
    });
  }

  it("reciprocal and division round half up and saturate", () => {
    expect(unary(Unary.RECIP, [2, 4, -8, 0.5])).toEqual([0.5, 0.25, -0.125, 2]);
    const [sat] = unary(Unary.RECIP, [0]);
    expect(sat).toBe((2 ** 31 - 1) / S);
    // 1/3 = 21845.33 ulps → 21845; 2/3 = 43690.67 → 43691.
    const q = (x: number) => Math.round(x * S);
    const div = runKernel(
      Op.BINARY,
      [Binary.DIV, 1, 1, 1, 1, 1, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
      [Int32Array.from([q(1), q(2)]), Int32Array.from([q(3)])],
      [2],
    );
    expect(Array.from(div.outs[0])).toEqual([21845, 43691]);
  });

  it("multiplication rounds half up (ties toward +inf) and saturates", () => {
    // 1.5 ulp · 0.5 = 0.75 ulp → 1; (-1 ulp)·0.5 = -0.5 ulp → 0 (tie goes up); huge → saturates.
    const a = Int32Array.from([3, -1, 2 ** 30, -(2 ** 30)]);
    const b = Int32Array.from([S / 2, S / 2, 2 ** 30, 2 ** 30]);
    const r = runKernel(
      Op.BINARY,
      [Binary.MUL, 1, 1, 1, 1, 1, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1],
      [a, b],
      [4],
    );
    expect(Array.from(r.outs[0])).toEqual([2, 0, 2 ** 31 - 1, -(2 ** 31)]);
  });

  it("softmax rows sum to one within n/2 ulp and match float", () => {
    const r = rng(7);
    const xs = Array.from({ length: 64 }, () => (r() - 0.5) * 16);
    const q = Int32Array.from(xs, (x) => Math.floor(x * S + 0.5));
    const { outs } = runKernel(Op.SOFTMAX, [4, 16, 1, 0], [q], [64]);
    for (let row = 0; row < 4; row++) {
      const xr = xs.slice(row * 16, row * 16 + 16).map((x) => Math.floor(x * S + 0.5) / S);
      const m = Math.max(...xr);
      const e = xr.map((x) => Math.exp(x - m));
      const s = e.reduce((a, b) => a + b, 0);
      let sum = 0;
      for (let j = 0; j < 16; j++) {
        const got = outs[0][row * 16 + j] / S;
        sum += got;
        expect(Math.abs(got - e[j] / s)).toBeLessThan(2 * ULP);
      }
      expect(Math.abs(sum - 1)).toBeLessThanOrEqual(8 * ULP);
    }
  });

  it("layernorm matches float within 4 ulp + 1e-4 relative", () => {
    const r = rng(11);
    const n = 32;
    const xs = Array.from({ length: 2 * n }, () => (r() - 0.5) * 6).map((x) => Math.floor(x * S + 0.5) / S);
    const q = Int32Array.from(xs, (x) => Math.round(x * S));
    const eps = 1e-5;
    const { outs } = runKernel(Op.LAYERNORM, [2, n, Math.round(eps * 2 ** 32), 0, 0], [q], [2 * n]);
    for (let row = 0; row < 2; row++) {
      const xr = xs.slice(row * n, row * n + n);
      const mean = xr.reduce((a, b) => a + b, 0) / n;
      const v = xr.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
      xr.forEach((x, j) => {
        const ref = (x - mean) / Math.sqrt(v + eps);
        expect(Math.abs(outs[0][row * n + j] / S - ref)).toBeLessThan(4 * ULP + 1e-4 * Math.abs(ref));
      });
    }
  });

  it("reduce mean / l2 / logsumexp match float", () => {
    const xs = [0.5, -1.25, 3, 2];
    const q = Int32Array.from(xs, (x) => x * S);
    const red = (fn: number) => runKernel(Op.REDUCE, [fn, 1, 4, 1], [q], [1]).outs[0][0] / S;
    expect(red(Reduce.MEAN)).toBeCloseTo(1.0625, 5);
    expect(red(Reduce.L2)).toBeCloseTo(Math.hypot(...xs), 4);
    expect(red(Reduce.LOGSUMEXP)).toBeCloseTo(Math.log(xs.reduce((a, x) => a + Math.exp(x), 0)), 4);
  });

  it("is deterministic: the same inputs give the same bits across instances", () => {
    const xs = grid(-5, 5, 500);
    expect(unary(Unary.GELU, xs)).toEqual(unary(Unary.GELU, xs));
  });
});
