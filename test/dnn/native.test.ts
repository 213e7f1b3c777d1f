// The native backend (dnn/native) against the reference (every node in the DNN WASM module, the
// module the VM runs): identical bytes required, on every node of every fixture package, on models
// converted here from the fixture ONNX files (also split into sub-kernels, other parameter forms),
// on any converted zoo package present, and on random kernels: odd sizes, strided and broadcast
// operands, zero-size edges and extreme values (±2^31, saturation, i64 wrap-around) that push the
// addon off its double-precision path onto its 64-bit lanes.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  backendNamed,
  defaultBackend,
  nativeCpuBackend,
  type PreparedModel,
  wasmCpuBackend,
} from "../../dnn/src/engine.js";
import { nativeAddon, nativeStatus } from "../../dnn/src/native.js";
import { Binary, Op, Unary } from "../../dnn/src/opcodes.js";
import {
  FORMAT,
  type KernelNode,
  loadPackage,
  type ModelPackage,
  numel,
  prepareInputs,
} from "../../dnn/src/package.js";
import { UsageError } from "../../errors/index.js";
import { convertGraph } from "../../tools/convert/convert.js";
import { readOnnx } from "../../tools/convert/onnx.js";
import { FIXTURES, sampleInputs } from "../../tools/fixtures.js";
import { cli } from "../helpers/helpers.js";

const ONE = 65536;
const bytes = (a: Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Every node run alone through both backends on the reference's own activations, then whole runs. */
function sameEveryNode(pkg: ModelPackage, inputs: Int32Array[][]): void {
  const ref = wasmCpuBackend.prepare(pkg);
  const fast = nativeCpuBackend.prepare(pkg);
  for (const q of inputs) {
    const acts = ref.run(q, { keepAll: true });
    const got = fast.run(q, { keepAll: true });
    acts.forEach((a, s) => {
      expect(bytes(got[s]).equals(bytes(a)), `${pkg.manifest.name}: slot ${s}`).toBe(true);
    });
    pkg.manifest.nodes.forEach((node, k) => {
      const ins = node.inputs.map((r) => (r[0] === "w" ? pkg.weights[r[1]] : acts[r[1]]));
      const outs = fast.runNode(k, ins);
      node.outputs.forEach((slot, i) => {
        const what = `${pkg.manifest.name}: node ${k} (${node.onnxOp}) output ${i}`;
        expect(bytes(outs[i]).equals(bytes(acts[slot])), what).toBe(true);
      });
    });
  }
  if (nativeAddon()) expect(fast.counts?.native, "nodes the addon ran").toBeGreaterThan(0);
}

const fixtureInput = (pkg: ModelPackage, model: string) =>
  sampleInputs(model).map((f) =>
    prepareInputs(pkg.manifest, JSON.parse(readFileSync(join(FIXTURES, "inputs", f), "utf8")), f),
  );

describe("native backend", () => {
  it("is built and loads (npm ci builds it; OPML_NO_NATIVE opts out)", () => {
    if (process.env.OPML_NO_NATIVE) return;
    expect(nativeAddon(), nativeStatus()).toBeDefined();
    expect(defaultBackend().name).toBe("native-cpu");
  });

  it("is picked by name; an unknown name is a UsageError listing the choices", () => {
    expect(backendNamed("wasm-cpu")).toBe(wasmCpuBackend);
    expect(backendNamed("native-cpu")).toBe(nativeCpuBackend);
    expect(() => backendNamed("gpu")).toThrow(UsageError);
    expect(() => backendNamed("gpu")).toThrow(/native-cpu, wasm-cpu/);
    expect(() => backendNamed("toString")).toThrow(UsageError);
  });

  it("`opml infer --backend`: the same output from both; an unknown name fails in one line", () => {
    const args = [
      "infer",
      join(FIXTURES, "packages/mnist_cnn"),
      "--input",
      join(FIXTURES, "inputs/mnist_0.json"),
    ];
    const a = cli([...args, "--json", "--backend", "native-cpu"]);
    const b = cli([...args, "--json", "--backend", "wasm-cpu"]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(JSON.parse(a.stdout)).toEqual(JSON.parse(b.stdout));
    const bad = cli([...args, "--backend", "gpu"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toMatch(/--backend: unknown backend 'gpu' \(one of: native-cpu, wasm-cpu\)/);
  });

  const packages = readdirSync(join(FIXTURES, "packages")).filter((d) =>
    existsSync(join(FIXTURES, "packages", d, "manifest.json")),
  );
  it.each(packages)("fixture package %s: every node bit-identical", (model) => {
    const pkg = loadPackage(join(FIXTURES, "packages", model));
    sameEveryNode(pkg, fixtureInput(pkg, model));
  });

  // Step budgets at which the fixture splits (CONV has no split: the CNN converts whole only).
  const SPLIT: Record<string, number> = {
    mnist_mlp: 2 ** 16,
    transformer_block: 2 ** 15,
    transformer_block_op13: 2 ** 15,
  };
  const onnx = readdirSync(FIXTURES).filter((f) => f.endsWith(".onnx"));
  it.each(onnx)("%s converted here, whole and split into sub-kernels: bit-identical", (file) => {
    const model = file.replace(/\.onnx$/, "");
    for (const stepBudget of [undefined, SPLIT[model]]) {
      const pkg = convertGraph(readOnnx(join(FIXTURES, file)), file, { name: model, stepBudget });
      sameEveryNode(pkg, fixtureInput(pkg, model));
    }
  });

  const zoo = join(FIXTURES, "zoo");
  const zooPkgs = existsSync(zoo)
    ? readdirSync(zoo).filter((d) => existsSync(join(zoo, d, "manifest.json")))
    : [];
  it.runIf(zooPkgs.length > 0).each(zooPkgs)("zoo package %s: bit-identical on random inputs", (d) => {
    const pkg = loadPackage(join(zoo, d));
    const rnd = rng(7);
    const ins = pkg.manifest.inputs.map((s) =>
      Int32Array.from({ length: numel(pkg.manifest.activations[s].shape) }, () => rnd.int(-2 * ONE, 2 * ONE)),
    );
    sameEveryNode(pkg, [ins]);
  });
});

// ---- random kernels ----------------------------------------------------------------------------

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  return {
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)],
    next,
  };
}
type Rng = ReturnType<typeof rng>;

const EDGES = [
  -(2 ** 31),
  2 ** 31 - 1,
  -(2 ** 31) + 1,
  2 ** 31 - 2,
  -1,
  0,
  1,
  ONE,
  -ONE,
  2 ** 15,
  -(2 ** 15),
];

/** Values in one of three regimes: small (the double path), full-range, or edge values. */
function values(r: Rng, n: number, regime: "small" | "full" | "edge"): Int32Array {
  return Int32Array.from({ length: n }, () =>
    regime === "small"
      ? r.int(-(2 ** 19), 2 ** 19)
      : regime === "full"
        ? r.int(-(2 ** 31), 2 ** 31 - 1)
        : r.next() < 0.5
          ? r.pick(EDGES)
          : r.int(-(2 ** 31), 2 ** 31 - 1),
  );
}

/** A one-node package whose inputs are all activation slots (sizes given), one output. */
function oneNode(
  op: number,
  params: number[],
  inSizes: number[],
  outSize: number,
  onnxOp: string,
): ModelPackage {
  const nIn = inSizes.length;
  const node: KernelNode = {
    name: "k",
    onnxOp,
    op,
    inputs: inSizes.map((_, i) => ["a", i] as ["a", number]),
    outputs: [nIn],
    params,
  };
  return {
    manifest: {
      format: FORMAT,
      name: `random ${onnxOp}`,
      fracBits: 16,
      activations: [...inSizes, outSize].map((n, i) => ({ name: `t${i}`, shape: [n], dtype: "q16" })),
      inputs: inSizes.map((_, i) => i),
      outputs: [nIn],
      weights: [],
      nodes: [node],
      modelRoot: `0x${"0".repeat(64)}`,
    },
    weights: [],
  };
}

/** Identical bytes; returns whether the addon (not the fallback) ran the node. */
function same(pkg: ModelPackage, ins: Int32Array[], what: string): boolean {
  const a: PreparedModel = wasmCpuBackend.prepare(pkg);
  const b: PreparedModel = nativeCpuBackend.prepare(pkg);
  const ra = a.run(ins, { keepAll: true });
  const rb = b.run(ins, { keepAll: true });
  for (const slot of pkg.manifest.nodes[0].outputs)
    expect(bytes(rb[slot]).equals(bytes(ra[slot])), `${what}: slot ${slot}`).toBe(true);
  return b.counts?.native === 1;
}

/** The addon must really have run the kernels under test (not declined them all to the fallback). */
function expectNative(ran: number, of: number): void {
  if (!nativeAddon()) return;
  expect(ran, `the addon ran ${ran} of ${of}`).toBe(of);
}

const REGIMES = ["small", "full", "edge"] as const;

describe("native backend, random kernels", () => {
  it("MATMUL: odd sizes, transposed/broadcast operands, bias, alpha/beta, zero sizes, extremes", () => {
    const r = rng(1);
    let ran = 0;
    for (let t = 0; t < 300; t++) {
      const M = r.pick([0, 1, 2, 3, 5, 6, 7, 13, 17, 33]);
      const K = r.pick([0, 1, 3, 8, 9, 31, 64, 70]);
      const N = r.pick([0, 1, 4, 5, 7, 8, 9, 15, 17, 40]);
      const B = r.int(1, 3);
      const tA = r.next() < 0.5;
      const tB = r.next() < 0.5;
      const bcastB = r.next() < 0.3;
      const bias = r.int(0, 2); // none, [N], [M, N]
      const alpha = r.next() < 0.7 ? ONE : r.int(-3 * ONE, 3 * ONE);
      const beta = r.next() < 0.7 ? ONE : r.int(-3 * ONE, 3 * ONE);
      const regime = r.pick(REGIMES);
      const sAm = tA ? 1 : K;
      const sAk = tA ? M : 1;
      const sBk = tB ? 1 : N;
      const sBn = tB ? K : 1;
      const sizes = [B * M * K, (bcastB ? 1 : B) * K * N];
      const cBs = bias === 2 ? M * N : 0;
      if (bias) sizes.push(bias === 1 ? N : B * M * N);
      const params = [1, 1, 1, B, 0, 0, 0, M * K, 0, 0, 0, bcastB ? 0 : K * N, 0, 0, 0, cBs];
      params.push(M, K, N, sAm, sAk, sBk, sBn, bias ? 1 : 0, bias === 2 ? N : 0, bias ? 1 : 0, alpha, beta);
      const pkg = oneNode(Op.MATMUL, params, sizes, B * M * N, "MatMul");
      const ins = sizes.map((n) => values(r, n, regime));
      if (same(pkg, ins, `matmul #${t} B${B} M${M} K${K} N${N} tA${tA} tB${tB} bias${bias} ${regime}`)) ran++;
    }
    expectNative(ran, 300);
  });

  it("CONV: groups, strides, dilations, padding, 1×1 and wide kernels, extremes", () => {
    const r = rng(2);
    let ran = 0;
    for (let t = 0; t < 200; t++) {
      const group = r.pick([1, 1, 2, 3]);
      const Cg = r.int(1, 4);
      const Mg = r.int(1, 5);
      const C = Cg * group;
      const M = Mg * group;
      const N = r.int(1, 2);
      const H = r.int(1, 12);
      const W = r.int(1, 12);
      const kH = r.int(1, 4);
      const kW = r.int(1, 4);
      const sH = r.int(1, 3);
      const sW = r.int(1, 3);
      const dH = r.int(1, 2);
      const dW = r.int(1, 2);
      const pT = r.int(0, 2);
      const pL = r.int(0, 2);
      const pB = r.int(0, 2);
      const pR = r.int(0, 2);
      const OH = Math.max(0, Math.floor((H + pT + pB - dH * (kH - 1) - 1) / sH) + 1);
      const OW = Math.max(0, Math.floor((W + pL + pR - dW * (kW - 1) - 1) / sW) + 1);
      const hasBias = r.next() < 0.7;
      const regime = r.pick(REGIMES);
      const params = [N, C, H, W, M, OH, OW, kH, kW, sH, sW, pT, pL, dH, dW, group, hasBias ? 1 : 0];
      const sizes = [N * C * H * W, M * Cg * kH * kW];
      if (hasBias) sizes.push(M);
      const pkg = oneNode(Op.CONV, params, sizes, N * M * OH * OW, "Conv");
      const ins = sizes.map((n) => values(r, n, regime));
      if (same(pkg, ins, `conv #${t} ${params.join(",")} ${regime}`)) ran++;
    }
    expectNative(ran, 200);
  });

  it("UNARY and BINARY: every function id, broadcasts", () => {
    const r = rng(3);
    let ran = 0;
    let of = 0;
    for (const fn of Object.values(Unary)) {
      for (const regime of [...REGIMES, "small", "small"] as const) {
        const n = r.int(0, 400);
        const pkg = oneNode(Op.UNARY, [fn, n, r.int(-ONE, ONE), r.int(0, 2 * ONE)], [n], n, `Unary${fn}`);
        if (same(pkg, [values(r, n, regime)], `unary ${fn} ${regime}`)) ran++;
        of++;
      }
    }
    expectNative(ran, of);
    // Pow's exponent forms: integer (repeated squaring), ½, 1, 2, and general (exp·log).
    const exponents = [0, ONE, 2 * ONE, ONE / 2, -ONE, 3 * ONE, -5 * ONE, 64 * ONE, 65 * ONE, 3, -7, 12345];
    for (const fn of Object.values(Binary)) {
      for (const regime of [...REGIMES, "pow"] as const) {
        const d = [1, 1, 1, r.int(1, 3), r.int(0, 4), r.int(1, 9)];
        const n = d.reduce((a, b) => a * b, 1);
        const aStr = [0, 0, 0, d[4] * d[5], d[5], 1];
        const bStr = r.next() < 0.5 ? [0, 0, 0, 0, 0, 1] : [0, 0, 0, 0, 0, 0]; // row or scalar broadcast
        const bSize = bStr[5] ? d[5] : 1;
        const pkg = oneNode(Op.BINARY, [fn, ...d, ...aStr, ...bStr], [n, bSize], n, `Binary${fn}`);
        const bs =
          regime === "pow"
            ? Int32Array.from({ length: bSize }, () => r.pick(exponents))
            : values(r, bSize, regime);
        const as = values(r, n, regime === "pow" ? "small" : regime);
        if (same(pkg, [as, bs], `binary ${fn} ${regime}`)) ran++;
        of++;
      }
    }
    expectNative(ran, of);
  });

  it("SOFTMAX, LOGSOFTMAX, LAYERNORM (with mean / inv-std outputs), CHANNEL_AFFINE", () => {
    const r = rng(5);
    let ran = 0;
    for (let t = 0; t < 120; t++) {
      const regime = r.pick(REGIMES);
      const kind = t % 3;
      if (kind === 0) {
        const [outer, axis, inner] = [r.int(0, 3), r.int(1, 40), r.int(1, 4)];
        const n = outer * axis * inner;
        const pkg = oneNode(Op.SOFTMAX, [outer, axis, inner, r.int(0, 1)], [n], n, "Softmax");
        if (same(pkg, [values(r, n, regime)], `softmax ${outer},${axis},${inner} ${regime}`)) ran++;
      } else if (kind === 1) {
        const [outer, inner] = [r.int(0, 4), r.int(1, 50)];
        const hasScale = r.int(0, 1);
        const hasBias = r.int(0, 1);
        const eps = r.pick([0, 42950, 1 << 20]);
        const sizes = [outer * inner, ...(hasScale ? [inner] : []), ...(hasBias ? [inner] : [])];
        const pkg = oneNode(
          Op.LAYERNORM,
          [outer, inner, eps, hasScale, hasBias],
          sizes,
          outer * inner,
          "LayerNorm",
        );
        if (r.next() < 0.5) {
          // ONNX's optional Mean and InvStdDev outputs
          pkg.manifest.activations.push(
            { name: "mean", shape: [outer], dtype: "q16" },
            { name: "inv", shape: [outer], dtype: "q16" },
          );
          pkg.manifest.nodes[0].outputs.push(sizes.length + 1, sizes.length + 2);
        }
        if (
          same(
            pkg,
            sizes.map((n) => values(r, n, regime)),
            `layernorm ${outer},${inner} ${regime}`,
          )
        )
          ran++;
      } else {
        const [N, C, inner] = [r.int(1, 2), r.int(1, 5), r.int(1, 30)];
        const n = N * C * inner;
        const pkg = oneNode(Op.CHANNEL_AFFINE, [N, C, inner], [n, C, C], n, "ChannelAffine");
        if (same(pkg, [values(r, n, regime), values(r, C, regime), values(r, C, regime)], `affine ${regime}`))
          ran++;
      }
    }
    expectNative(ran, 120);
  });

  it("WHERE with broadcasts; GATHER, negative indices, and an out-of-range index as the same error", () => {
    const r = rng(6);
    let ran = 0;
    for (let t = 0; t < 60; t++) {
      const d = [1, 1, 1, r.int(1, 3), r.int(0, 4), r.int(1, 9)];
      const n = d.reduce((a, b) => a * b, 1);
      const full = [0, 0, 0, d[4] * d[5], d[5], 1];
      const row = [0, 0, 0, 0, 0, 1];
      const cS = r.next() < 0.5 ? full : row;
      const size = (s: number[]) => (s === full ? n : d[5]);
      const xS = r.pick([full, row]);
      const yS = r.pick([full, row]);
      const ins = [
        Int32Array.from({ length: size(cS) }, () => r.int(0, 1)),
        values(r, size(xS), "full"),
        values(r, size(yS), "full"),
      ];
      const pkg = oneNode(
        Op.WHERE,
        [...d, ...cS, ...xS, ...yS],
        ins.map((a) => a.length),
        n,
        "Where",
      );
      if (same(pkg, ins, `where #${t}`)) ran++;
    }
    for (let t = 0; t < 60; t++) {
      const [outer, axisDim, inner, nIdx] = [r.int(0, 3), r.int(1, 6), r.int(0, 5), r.int(0, 7)];
      const idx = Int32Array.from({ length: nIdx }, () => r.int(-axisDim, axisDim - 1));
      const pkg = oneNode(
        Op.GATHER,
        [outer, axisDim, inner, nIdx],
        [outer * axisDim * inner, nIdx],
        outer * nIdx * inner,
        "Gather",
      );
      pkg.manifest.activations[1].dtype = "i32";
      if (same(pkg, [values(r, outer * axisDim * inner, "full"), idx], `gather #${t}`)) ran++;
    }
    expectNative(ran, 120);
    const bad = oneNode(Op.GATHER, [2, 3, 2, 2], [12, 2], 8, "Gather");
    const ins = [values(r, 12, "full"), Int32Array.from([1, 3])];
    const err = (be: typeof wasmCpuBackend) => {
      try {
        be.prepare(bad).run(ins);
      } catch (e) {
        return (e as Error).message;
      }
      return "no error";
    };
    expect(err(nativeCpuBackend)).toBe(err(wasmCpuBackend));
    expect(err(wasmCpuBackend)).toMatch(/node 0 'k' \(Gather → GATHER\)/);
  });

  it("REDUCE (every function) and ARGMAX/ARGMIN (first or last)", () => {
    const r = rng(8);
    let ran = 0;
    let of = 0;
    for (let fn = 0; fn <= 9; fn++)
      for (const regime of [...REGIMES, "small"] as const) {
        const [outer, red, inner] = [r.int(0, 3), r.int(0, 20), r.int(1, 4)];
        const n = outer * red * inner;
        const pkg = oneNode(Op.REDUCE, [fn, outer, red, inner], [n], outer * inner, `Reduce${fn}`);
        if (same(pkg, [values(r, n, regime)], `reduce ${fn} ${outer},${red},${inner} ${regime}`)) ran++;
        of++;
      }
    for (let t = 0; t < 40; t++) {
      const [outer, axis, inner] = [r.int(0, 3), r.int(1, 20), r.int(1, 4)];
      const n = outer * axis * inner;
      const pkg = oneNode(
        Op.ARGMAX,
        [outer, axis, inner, r.int(0, 1), r.int(0, 1)],
        [n],
        outer * inner,
        "ArgMax",
      );
      // few distinct values, so ties (select_last_index) matter
      const x = Int32Array.from({ length: n }, () => r.int(-2, 2));
      if (same(pkg, [x], `argmax #${t}`)) ran++;
      of++;
    }
    expectNative(ran, of);
  });

  it("POOL: max and average, padding, count_include_pad, extremes", () => {
    const r = rng(4);
    let ran = 0;
    for (let t = 0; t < 100; t++) {
      const NC = r.int(1, 4);
      const H = r.int(1, 9);
      const W = r.int(1, 9);
      const kH = r.int(1, 3);
      const kW = r.int(1, 3);
      const sH = r.int(1, 2);
      const sW = r.int(1, 2);
      const pT = r.int(0, 1);
      const pL = r.int(0, 1);
      const OH = Math.max(0, Math.floor((H + 2 * pT - kH) / sH) + 1);
      const OW = Math.max(0, Math.floor((W + 2 * pL - kW) / sW) + 1);
      const params = [r.int(0, 1), NC, H, W, OH, OW, kH, kW, sH, sW, pT, pL, 1, 1, r.int(0, 1)];
      const pkg = oneNode(Op.POOL, params, [NC * H * W], NC * OH * OW, "Pool");
      if (same(pkg, [values(r, NC * H * W, r.pick(REGIMES))], `pool ${params.join(",")}`)) ran++;
    }
    expectNative(ran, 100);
  });
});
