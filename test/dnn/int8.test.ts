// int8 weights (docs/NUMERICS.md §8). The claim under test: MATMUL_Q8 / CONV_Q8 on int8 weights q
// with per-channel scales s give exactly the bytes MATMUL / CONV give on the Q16.16 weights q·s
// (computed here, independently of the kernels), in the reference module, in the native addon and
// in the Merkle-ized VM, within the step bound; and `convert --weights int8` makes packages ~4×
// smaller whose outputs stay close to onnxruntime float.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stepBound } from "../../dnn/src/cost.js";
import { nativeCpuBackend, wasmCpuBackend } from "../../dnn/src/engine.js";
import { dequantize } from "../../dnn/src/fixed.js";
import { Op } from "../../dnn/src/opcodes.js";
import {
  FORMAT,
  type Manifest,
  type ModelPackage,
  prepareInputs,
  type WeightInfo,
  wordsOf,
} from "../../dnn/src/package.js";
import { nodeInputs, runNodeInVm } from "../../game/link.js";
import { validateGraph } from "../../game/registry.js";
import { convertGraph } from "../../tools/convert/convert.js";
import { channelScale, packI8, quantizeQ8 } from "../../tools/convert/lower/int8.js";
import { readOnnx } from "../../tools/convert/onnx.js";
import { compare, runOnnxRuntime } from "../../tools/convert/reference.js";
import { FIXTURES, sampleInputs } from "../../tools/fixtures.js";

const bytes = (a: Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Deterministic LCG values in [lo, hi]. */
function ints(n: number, seed: number, lo: number, hi: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(lo + Math.floor((s / 2 ** 32) * (hi - lo + 1)));
  }
  return out;
}

type W = { name: string; shape: number[]; dtype: WeightInfo["dtype"]; data: Int32Array };

/** A one-node package: activation inputs, then weights, as the node's inputs in that order. */
function onePkg(
  op: number,
  params: number[],
  acts: Int32Array[],
  weights: W[],
  order: string[],
  outN: number,
) {
  const m: Manifest = {
    format: FORMAT,
    name: `op${op}`,
    fracBits: 16,
    activations: [
      ...acts.map((a, i) => ({ name: `x${i}`, shape: [a.length], dtype: "q16" as const })),
      { name: "y", shape: [outN], dtype: "q16" as const },
    ],
    inputs: acts.map((_, i) => i),
    outputs: [acts.length],
    weights: weights.map((w) => ({
      name: w.name,
      shape: w.shape,
      dtype: w.dtype,
      offset: 0,
      root: "0x" as const,
    })),
    nodes: [
      {
        name: "n",
        onnxOp: "test",
        op,
        // order: "a0" (activation 0) or "wK" (weight K)
        inputs: order.map((r) => (r[0] === "a" ? ["a", Number(r.slice(1))] : ["w", Number(r.slice(1))])),
        outputs: [acts.length],
        params,
      },
    ],
    modelRoot: "0x",
  };
  return { manifest: m, weights: weights.map((w) => w.data) } as ModelPackage;
}

/** Runs the one node in both backends and the VM; returns the output and checks they agree. */
function runAll(pkg: ModelPackage, acts: Int32Array[]) {
  const ref = wasmCpuBackend.prepare(pkg).run(acts)[pkg.manifest.outputs[0]];
  const nat = nativeCpuBackend.prepare(pkg).run(acts)[pkg.manifest.outputs[0]];
  expect(bytes(nat).equals(bytes(ref)), "native = reference").toBe(true);
  const vm = runNodeInVm(pkg, 0, nodeInputs(pkg, 0, acts));
  expect(bytes(vm.outputs[0]).equals(bytes(ref)), "VM = reference").toBe(true);
  const n = pkg.manifest.nodes[0];
  expect(vm.steps).toBeLessThanOrEqual(stepBound(n.op, n.params));
  return ref;
}

const i8words = (q: number[], shape: number[]): W => ({
  name: "wq",
  shape,
  dtype: "i8",
  data: packI8(Int8Array.from(q)),
});
const q16 = (name: string, v: number[]): W => ({
  name,
  shape: [v.length],
  dtype: "q16",
  data: Int32Array.from(v),
});

describe("MATMUL_Q8 = MATMUL on the dequantized weights", () => {
  // [M, K, N, B transposed, bias, full-range A (i64 wrap-around)]
  const cases: [number, number, number, boolean, boolean, boolean][] = [
    [3, 37, 13, false, true, false],
    [20, 64, 9, false, false, false],
    [17, 5, 21, true, true, false],
    [2, 33, 7, false, true, true],
    [1, 1, 1, false, false, false],
  ];
  it.each(cases)("M=%i K=%i N=%i transB=%s bias=%s wrap=%s", (M, K, N, tB, bias, wrap) => {
    const a = Int32Array.from(
      ints(M * K, M * 31 + K, wrap ? -(2 ** 31) : -(8 << 16), wrap ? 2 ** 31 - 1 : 8 << 16),
    );
    const q = ints(K * N, K * 7 + N, -127, 127);
    const s = ints(N, N * 13, 1, wrap ? 2 ** 24 - 1 : 4000);
    const c = ints(N, 99, -(4 << 16), 4 << 16);
    const [sBk, sBn] = tB ? [1, K] : [N, 1]; // B(k, n) at k·sBk + n·sBn
    const params = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, M, K, N, K, 1, sBk, sBn];
    params.push(bias ? 1 : 0, 0, 1, 65536, 65536);
    const deq = q.map((v, i) => {
      const n = tB ? Math.floor(i / K) : i % N;
      return v * s[n];
    });
    const ws8 = [i8words(q, tB ? [N, K] : [K, N]), q16("s", s), ...(bias ? [q16("c", c)] : [])];
    const ws16 = [{ ...q16("w", deq), shape: tB ? [N, K] : [K, N] }, ...(bias ? [q16("c", c)] : [])];
    const y8 = runAll(
      onePkg(Op.MATMUL_Q8, params, [a], ws8, bias ? ["a0", "w0", "w1", "w2"] : ["a0", "w0", "w1"], M * N),
      [a],
    );
    const y16 = runAll(
      onePkg(Op.MATMUL, params, [a], ws16, bias ? ["a0", "w0", "w1"] : ["a0", "w0"], M * N),
      [a],
    );
    expect(bytes(y8).equals(bytes(y16))).toBe(true);
  });
});

describe("CONV_Q8 = CONV on the dequantized weights", () => {
  // [N, C, H, W, M, kH, kW, stride, pad, dilation, group, bias, wrap]
  const cases: number[][] = [
    [1, 4, 9, 11, 6, 3, 3, 1, 1, 1, 1, 1, 0],
    [2, 6, 8, 8, 4, 3, 3, 2, 1, 1, 2, 0, 0],
    [1, 3, 7, 13, 5, 2, 3, 1, 0, 2, 1, 1, 1],
    [1, 8, 5, 5, 8, 3, 3, 1, 1, 1, 8, 1, 0],
  ];
  it.each(cases)("N=%i C=%i %ix%i M=%i k=%ix%i s=%i p=%i d=%i g=%i bias=%i wrap=%i", (...cs) => {
    const [N, C, H, W, M, kH, kW, st, pad, dil, group, bias, wrap] = cs;
    const OH = Math.floor((H + 2 * pad - dil * (kH - 1) - 1) / st) + 1;
    const OW = Math.floor((W + 2 * pad - dil * (kW - 1) - 1) / st) + 1;
    const per = (C / group) * kH * kW;
    const x = Int32Array.from(
      ints(N * C * H * W, C * 5 + H, wrap ? -(2 ** 31) : -(8 << 16), wrap ? 2 ** 31 - 1 : 8 << 16),
    );
    const q = ints(M * per, M * 11 + per, -127, 127);
    const s = ints(M, M * 3, 1, wrap ? 2 ** 24 - 1 : 4000);
    const b = ints(M, 5, -(4 << 16), 4 << 16);
    const params = [N, C, H, W, M, OH, OW, kH, kW, st, st, pad, pad, dil, dil, group, bias];
    const shape = [M, C / group, kH, kW];
    const deq = q.map((v, i) => v * s[Math.floor(i / per)]);
    const out = N * M * OH * OW;
    const y8 = runAll(
      onePkg(
        Op.CONV_Q8,
        params,
        [x],
        [i8words(q, shape), q16("s", s), ...(bias ? [q16("b", b)] : [])],
        bias ? ["a0", "w0", "w1", "w2"] : ["a0", "w0", "w1"],
        out,
      ),
      [x],
    );
    const y16 = runAll(
      onePkg(
        Op.CONV,
        params,
        [x],
        [{ ...q16("w", deq), shape }, ...(bias ? [q16("b", b)] : [])],
        bias ? ["a0", "w0", "w1"] : ["a0", "w0"],
        out,
      ),
      [x],
    );
    expect(bytes(y8).equals(bytes(y16))).toBe(true);
  });
});

describe("int8 grid", () => {
  it("picks a scale that needs no clamp and rounds half away from zero", () => {
    expect(channelScale(0)).toBe(1);
    const s = channelScale(0.3);
    expect(s).toBe(Math.ceil((0.3 * 65536) / 127));
    expect(Math.abs(quantizeQ8(0.3, s))).toBeLessThanOrEqual(127);
    expect(quantizeQ8(-0.3, s)).toBe(-quantizeQ8(0.3, s));
    expect(quantizeQ8((2.5 * s) / 65536, s)).toBe(3);
    expect(quantizeQ8((-2.5 * s) / 65536, s)).toBe(-3);
  });
  it("packs four elements a word, element i at byte i", () => {
    const w = packI8(Int8Array.from([1, -1, 2, -128, 5]));
    expect(w.length).toBe(2);
    expect(w[0]).toBe(1 | (0xff << 8) | (2 << 16) | (0x80 << 24));
    expect(w[1]).toBe(5);
    expect(wordsOf({ shape: [5], dtype: "i8" })).toBe(2);
  });
});

describe("convert --weights int8", () => {
  it.each(["mnist_cnn", "mnist_mlp", "transformer_block"])(
    "%s: ~4× smaller weights, every MATMUL/CONV int8, close to onnxruntime float",
    async (model) => {
      const file = join(FIXTURES, `${model}.onnx`);
      const g = readOnnx(file);
      const p16 = convertGraph(g, file);
      const p8 = convertGraph(g, file, { weights: "int8" });
      const size = (p: ModelPackage) => p.weights.reduce((s, w) => s + 4 * w.length, 0);
      // Biases, norms and embeddings stay Q16: the fixtures are small, so the ratio is above ¼ (≈ 0.26–0.31).
      expect(size(p8) / size(p16)).toBeLessThan(0.35);
      const ops = p8.manifest.nodes.map((n) => n.op);
      for (const n of p8.manifest.nodes) {
        if (n.op === Op.MATMUL || n.op === Op.CONV)
          expect(n.inputs[1][0], `${n.name} reads a runtime B`).toBe("a");
      }
      expect(ops.filter((o) => o === Op.MATMUL_Q8 || o === Op.CONV_Q8).length).toBeGreaterThan(0);
      const m = p8.manifest;
      const ref = wasmCpuBackend.prepare(p8);
      const nat = nativeCpuBackend.prepare(p8);
      for (const f of sampleInputs(model)) {
        const json = JSON.parse(readFileSync(join(FIXTURES, "inputs", f), "utf8"));
        const q = prepareInputs(m, json, f);
        const acts = ref.run(q, { keepAll: true });
        const fast = nat.run(q, { keepAll: true });
        acts.forEach((a, s) => {
          expect(bytes(fast[s]).equals(bytes(a)), `slot ${s}`).toBe(true);
        });
        // Every int8 node in the VM, byte for byte.
        m.nodes.forEach((n, k) => {
          if (n.op !== Op.MATMUL_Q8 && n.op !== Op.CONV_Q8) return;
          const vm = runNodeInVm(p8, k, nodeInputs(p8, k, acts));
          expect(bytes(vm.outputs[0]).equals(bytes(acts[n.outputs[0]])), `${model} node ${k}`).toBe(true);
        });
        const [float] = await runOnnxRuntime(file, [
          { name: m.activations[m.inputs[0]].name, shape: json.shape, dtype: "q16", data: json.data },
        ]);
        const info = m.activations[m.outputs[0]];
        const r = compare(dequantize(acts[m.outputs[0]]), float, info.shape[info.shape.length - 1]);
        // Measured: ≤ 0.15 (MNIST logits of magnitude ~10) and ≤ 0.06 (transformer); argmax agrees.
        expect(r.maxAbs).toBeLessThan(model.startsWith("mnist") ? 0.3 : 0.1);
        expect(r.argmaxAgree).toBe(1);
      }
    },
  );
});

describe("convert --weights int8 with a small step budget", () => {
  it("splits int8 kernels under the budget, with the same output bits (scales are per column)", () => {
    const file = join(FIXTURES, "transformer_block.onnx");
    const g = readOnnx(file);
    const whole = convertGraph(g, file, { weights: "int8" });
    const split = convertGraph(g, file, { weights: "int8", stepBudget: 2 ** 16 });
    expect(split.manifest.nodes.length).toBeGreaterThan(whole.manifest.nodes.length);
    const q8 = split.manifest.nodes.filter((n) => n.op === Op.MATMUL_Q8);
    expect(q8.length).toBeGreaterThan(whole.manifest.nodes.filter((n) => n.op === Op.MATMUL_Q8).length);
    for (const n of split.manifest.nodes) expect(stepBound(n.op, n.params)).toBeLessThanOrEqual(2 ** 16);
    validateGraph(split.manifest);
    const json = JSON.parse(readFileSync(join(FIXTURES, "inputs", "transformer.json"), "utf8"));
    const run = (p: ModelPackage) =>
      nativeCpuBackend.prepare(p).run(prepareInputs(p.manifest, json, "transformer.json"))[
        p.manifest.outputs[0]
      ];
    expect(bytes(run(split)).equals(bytes(run(whole)))).toBe(true);
  });
});
