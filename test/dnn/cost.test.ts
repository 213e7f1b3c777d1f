// The step bound (dnn/src/cost.ts) must hold for real VM runs: the registry refuses a package whose
// node bound exceeds maxSteps precisely so that every node an honest party may have to defend
// finishes within it. Each case runs a kernel in the VM and checks steps ≤ bound; the inputs span
// small, moderate and extreme (full i32 range) values, since transcendental kernels' costs depend
// on the data.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stepBound } from "../../dnn/src/cost.js";
import { defaultBackend } from "../../dnn/src/engine.js";
import { Binary, Op, Reduce, Unary } from "../../dnn/src/opcodes.js";
import { loadPackage, type Manifest, prepareInputs } from "../../dnn/src/package.js";
import { nodeInputs, runNodeInVm } from "../../game/link.js";
import { FIXTURE_MODELS, FIXTURES, sampleInputs } from "../../tools/fixtures.js";

/** Deterministic words: mode 0 full i32 range, 1 within ±8.0, 2 within ±8 ulp·2^16 (±8.0/…). */
function words(n: number, seed: number, mode: number): Int32Array {
  let s = seed >>> 0;
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const r = (s >>> 8) / 2 ** 24 - 0.5;
    a[i] =
      mode === 0
        ? Math.round(r * 2 ** 32) | 0
        : mode === 1
          ? Math.round(r * 16 * 65536)
          : Math.round(r * 2 ** 20);
  }
  return a;
}

/** Runs one kernel on activation inputs in the VM; returns [steps, bound]. */
function run(op: number, params: number[], ins: Int32Array[], outWords: number): [number, number] {
  const m: Manifest = {
    format: "opml-model/1",
    name: "cost",
    fracBits: 16,
    activations: [
      ...ins.map((x, i) => ({ name: `in${i}`, shape: [x.length], dtype: "q16" as const })),
      { name: "out", shape: [outWords], dtype: "q16" as const },
    ],
    inputs: ins.map((_, i) => i),
    outputs: [ins.length],
    weights: [],
    nodes: [
      {
        name: "n",
        onnxOp: "test",
        op,
        inputs: ins.map((_, i) => ["a", i] as ["a", number]),
        outputs: [ins.length],
        params,
      },
    ],
    modelRoot: "0x",
  };
  const r = runNodeInVm({ manifest: m, weights: [] }, 0, ins);
  return [r.steps, stepBound(op, params)];
}

const ZERO6 = [0, 0, 0, 0, 0, 0];
const flat6 = (n: number) => [1, 1, 1, 1, 1, n];
const unit6 = [0, 0, 0, 0, 0, 1];

describe("step bound ≥ real VM steps", () => {
  it.each(Object.entries(Unary))("UNARY %s", (_name, fn) => {
    for (const mode of [0, 1, 2]) {
      const x = words(300, fn * 7 + mode, mode);
      const [steps, bound] = run(Op.UNARY, [fn, x.length, 2 * 65536, 65536], [x], x.length);
      expect(steps).toBeLessThanOrEqual(bound);
    }
  });

  it.each(Object.entries(Binary))("BINARY %s", (_name, fn) => {
    for (const mode of [0, 1, 2]) {
      const a = words(300, fn * 7 + mode, mode);
      const b = words(300, fn * 11 + mode + 1, mode);
      const [steps, bound] = run(Op.BINARY, [fn, ...flat6(300), ...unit6, ...unit6], [a, b], 300);
      expect(steps).toBeLessThanOrEqual(bound);
    }
    // broadcast: b is a scalar, the output a [20, 15] view
    const a = words(300, fn, 1);
    const [steps, bound] = run(
      Op.BINARY,
      [fn, 1, 1, 1, 1, 20, 15, 0, 0, 0, 0, 15, 1, ...ZERO6],
      [a, Int32Array.of(3 << 16)],
      300,
    );
    expect(steps).toBeLessThanOrEqual(bound);
  });

  it("WHERE, SOFTMAX, LAYERNORM, GATHER", () => {
    const x = words(512, 5, 1);
    const c = Int32Array.from(words(512, 6, 1), (v) => v & 1);
    const cases: [number, number[], Int32Array[], number][] = [
      [Op.WHERE, [...flat6(512), ...unit6, ...unit6, ...unit6], [c, x, words(512, 7, 0)], 512],
      [Op.SOFTMAX, [16, 32, 1, 0], [x], 512],
      [Op.SOFTMAX, [4, 16, 8, 1], [words(512, 8, 0)], 512],
      [Op.LAYERNORM, [8, 64, 42950, 0, 0], [x], 512],
      [Op.GATHER, [1, 64, 8, 10], [x, Int32Array.from({ length: 10 }, (_, i) => (i * 7) % 64)], 80],
    ];
    for (const [op, p, ins, out] of cases) {
      const [steps, bound] = run(op, p, ins, out);
      expect(steps, `op ${op}`).toBeLessThanOrEqual(bound);
    }
  });

  it.each(Object.entries(Reduce))("REDUCE %s, and ARGMAX", (_name, fn) => {
    for (const mode of [0, 1]) {
      const x = words(480, fn + mode, mode);
      const [steps, bound] = run(Op.REDUCE, [fn, 4, 30, 4], [x], 16);
      expect(steps).toBeLessThanOrEqual(bound);
    }
    const [steps, bound] = run(Op.ARGMAX, [4, 30, 4, fn & 1, fn & 2 ? 1 : 0], [words(480, fn, 1)], 16);
    expect(steps).toBeLessThanOrEqual(bound);
  });

  it("POOL (max, average with padding), CHANNEL_AFFINE", () => {
    const x = words(2 * 10 * 10, 3, 1);
    for (const mode of [0, 1]) {
      const p = [mode, 2, 10, 10, 5, 5, 3, 3, 2, 2, 1, 1, 1, 1, mode];
      const [steps, bound] = run(Op.POOL, p, [x], 50);
      expect(steps).toBeLessThanOrEqual(bound);
    }
    const [steps, bound] = run(Op.CHANNEL_AFFINE, [2, 4, 25], [x, words(4, 1, 1), words(4, 2, 1)], 200);
    expect(steps).toBeLessThanOrEqual(bound);
  });

  it("MATMUL: blocked and remainder columns, bias, batches", () => {
    for (const [M, K, N, bias] of [
      [1, 1, 1, 0],
      [3, 100, 5, 0],
      [4, 64, 8, 1],
      [2, 7, 3, 1],
      [5, 33, 12, 0],
    ]) {
      const a = words(M * K, M + K, 1);
      const b = words(K * N, K + N, 1);
      const ins = bias ? [a, b, words(N, N, 1)] : [a, b];
      const p = [
        1,
        1,
        1,
        1,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        M,
        K,
        N,
        K,
        1,
        1,
        K,
        bias,
        0,
        1,
        65536,
        65536,
      ];
      const [steps, bound] = run(Op.MATMUL, p, ins, M * N);
      expect(steps, `${M}x${K}x${N}`).toBeLessThanOrEqual(bound);
    }
  });

  it("CONV: blocked rows, single outputs (narrow rows, padded borders), strides, dilation, groups", () => {
    // [C, H, W, M, k, stride, pad, dilation, group]: the 1×1 conv on a 3×3 map (shufflenet's last
    // conv) takes the single-output path everywhere and once ran 3× over the old bound.
    for (const [C, H, W, M, k, s, pad, d, g] of [
      [192, 3, 3, 2, 1, 1, 0, 1, 1],
      [16, 1, 1, 3, 1, 1, 0, 1, 1],
      [16, 3, 3, 2, 3, 1, 1, 1, 1],
      [8, 3, 7, 2, 5, 1, 2, 1, 1],
      [16, 8, 8, 2, 3, 1, 1, 1, 1],
      [4, 10, 10, 2, 3, 1, 0, 1, 1],
      [3, 16, 16, 2, 7, 2, 3, 1, 1],
      [4, 9, 9, 2, 3, 2, 1, 2, 1],
      [16, 12, 12, 16, 3, 1, 1, 1, 16],
      [8, 6, 13, 4, 3, 1, 1, 1, 2],
      [2, 5, 5, 1, 5, 1, 4, 1, 1],
    ]) {
      const OH = Math.floor((H + 2 * pad - d * (k - 1) - 1) / s) + 1;
      const OW = Math.floor((W + 2 * pad - d * (k - 1) - 1) / s) + 1;
      for (const bias of [0, 1]) {
        const p = [1, C, H, W, M, OH, OW, k, k, s, s, pad, pad, d, d, g, bias];
        const ins = [words(C * H * W, C + H, 1), words(M * (C / g) * k * k, M + k, 1)];
        if (bias) ins.push(words(M, 7, 1));
        const [steps, bound] = run(Op.CONV, p, ins, M * OH * OW);
        expect(steps, `conv ${p.join(",")}`).toBeLessThanOrEqual(bound);
        // Tight enough that splitting does not multiply nodes for nothing.
        expect(steps, `conv ${p.join(",")}`).toBeGreaterThan(bound / 8);
      }
    }
  });

  it("COPY: contiguous, strided and many rows, with fill", () => {
    for (const [R, C, ss, fill] of [
      [1, 1, 1, 0],
      [1, 1000, 1, 0],
      [100, 10, 1, 1],
      [1000, 1, 1, 0],
      [10, 100, 2, 0],
    ]) {
      const x = words(R * C * ss, R, 1);
      const p = [
        fill,
        7,
        fill ? R * C : 0,
        1,
        0,
        0,
        1,
        1,
        1,
        1,
        R,
        C,
        0,
        0,
        0,
        0,
        0,
        C * ss,
        ss,
        0,
        0,
        0,
        0,
        0,
        C,
        1,
      ];
      const [steps, bound] = run(Op.COPY, p, [x], R * C);
      expect(steps, `${R}x${C} stride ${ss}`).toBeLessThanOrEqual(bound);
    }
  });

  it.each(FIXTURE_MODELS)("every node of fixture %s", (model) => {
    const pkg = loadPackage(join(FIXTURES, "packages", model));
    const f = sampleInputs(model)[0];
    const inputs = prepareInputs(
      pkg.manifest,
      JSON.parse(readFileSync(join(FIXTURES, "inputs", f), "utf8")),
      f,
    );
    const acts = defaultBackend().prepare(pkg).run(inputs, { keepAll: true });
    pkg.manifest.nodes.forEach((n, k) => {
      const r = runNodeInVm(pkg, k, nodeInputs(pkg, k, acts));
      expect(r.steps, `node ${k} ${n.name}`).toBeLessThanOrEqual(stepBound(n.op, n.params));
    });
  });
});
