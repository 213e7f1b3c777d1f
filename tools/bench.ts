// `npm run bench`: speed figures measured side by side in one run, printed as ratios.
// Native fixed-point inference (DNN WASM in V8) vs onnxruntime-node float (CPU, 1 thread).
import { randomFillSync } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { MerkleTree } from "merkletreejs";
import { FIXTURES } from "../chain/paths.js";
import {
  bytesRoot,
  depthFor,
  hashing,
  modelRoot,
  nobleHashPair,
  StaticMerkle,
  setWasmSimd,
  tensorRoots,
  toHex,
  ZERO,
} from "../commit/merkle.js";
import { defaultBackend, nativeCpuBackend, wasmCpuBackend } from "../dnn/src/engine.js";
import { nativeAddon, nativeStatus } from "../dnn/src/native.js";
import { loadPackage, type Manifest, numel, prepareInputs } from "../dnn/src/package.js";
import { CACHE_FILE } from "../dnn/src/root-cache.js";
import { dnnVmProgram, nodeInputs, nodeLayout, nodeMachine, runNodeInVm } from "../game/link.js";
import { instrLeaf } from "../vm/isa.js";
import { runBlocks } from "../vm/jit.js";
import { Status } from "../vm/state.js";
import { traceRows } from "./bench-trace.js";
import { runDemo } from "./commands/demo.js";
import { onnxSession } from "./convert/reference.js";

interface Row {
  what: string;
  ours: number;
  ref: number;
  unit: string;
  goal: string;
}

async function timeIt(fn: () => unknown | Promise<unknown>, minMs = 1500): Promise<number> {
  for (let i = 0; i < 20; i++) await fn(); // warm-up (JIT, caches)
  const samples: number[] = [];
  const start = performance.now();
  while (performance.now() - start < minMs || samples.length < 30) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]; // median
}

/** Native inference, both backends side by side with onnxruntime float (1 thread), in one run. */
async function inference(model: string, inputFile: string): Promise<Row[]> {
  const pkg = loadPackage(join(FIXTURES, "packages", model));
  const json = JSON.parse(readFileSync(join(FIXTURES, "inputs", inputFile), "utf8"));
  const q = prepareInputs(pkg.manifest, json, inputFile);
  const native = nativeCpuBackend.prepare(pkg);
  const wasm = wasmCpuBackend.prepare(pkg);
  const ort = await onnxSession(join(FIXTURES, `${model}.onnx`));
  const f32 = Float32Array.from(json.data);
  const name = pkg.manifest.activations[pkg.manifest.inputs[0]].name;
  const ref = await timeIt(() => ort.run(name, json.shape, f32));
  const n = await timeIt(() => native.run(q));
  const w = await timeIt(() => wasm.run(q));
  const unit = "ms/inference";
  const tag = nativeAddon() ? "" : ` [addon missing: ${nativeStatus()}]`;
  return [
    {
      what: `${model}: fixed-point native-cpu vs onnxruntime float${tag}`,
      ours: n,
      ref,
      unit,
      goal: "≤ 1.5×",
    },
    { what: `${model}: fixed-point wasm-cpu vs onnxruntime float`, ours: w, ref, unit, goal: "" },
    { what: `${model}: native-cpu vs wasm-cpu (the VM's module)`, ours: n, ref: w, unit, goal: "" },
  ];
}

/** The heaviest node of the CNN (most VM steps): VM speed, with and without checkpoint roots, vs V8. */
async function vmRows(): Promise<Row[]> {
  const pkg = loadPackage(join(FIXTURES, "packages", "mnist_cnn"));
  const json = JSON.parse(readFileSync(join(FIXTURES, "inputs", "mnist_0.json"), "utf8"));
  // "V8" is the VM's own module in V8 (wasm-cpu), not the native addon.
  const prepared = wasmCpuBackend.prepare(pkg);
  const acts = prepared.run(prepareInputs(pkg.manifest, json, "mnist_0.json"), { keepAll: true });
  const prog = dnnVmProgram();
  let k = 0;
  let most = 0;
  for (let i = 0; i < pkg.manifest.nodes.length; i++) {
    const s = runNodeInVm(pkg, i, nodeInputs(pkg, i, acts)).steps;
    if (s > most) [k, most] = [i, s];
  }
  const ins = nodeInputs(pkg, k, acts);
  const runVm = (checkpoint: number) => {
    const m = nodeMachine(prog, pkg.manifest, k, ins);
    while (m.status === Status.RUNNING) {
      m.run(checkpoint);
      if (checkpoint < 1 << 30) m.stateRoot();
    }
    return m.steps;
  };
  // The same run on compiled basic blocks (vm/jit.ts; the interpreter stays the proving reference).
  const runBlocksVm = () => {
    const m = nodeMachine(prog, pkg.manifest, k, ins);
    while (m.status === Status.RUNNING) runBlocks(m, 1 << 30);
    return m.steps;
  };
  const plainMs = await timeIt(() => runVm(1 << 30), 3000);
  const cpMs = await timeIt(() => runVm(1 << 16), 3000);
  const blocksMs = await timeIt(runBlocksVm, 3000);
  const v8Ms = await timeIt(() => prepared.runNode(k, ins), 1500);
  const op = `${pkg.manifest.nodes[k].onnxOp} node ${k}`;
  const name = `${op}, ${most} steps`;
  return [
    {
      what: `VM steps/s, plain (${name})`,
      ours: most / plainMs / 1000,
      ref: Number.NaN,
      unit: "M steps/s",
      goal: "",
    },
    {
      what: "VM steps/s, state root every 65,536 steps",
      ours: most / cpMs / 1000,
      ref: Number.NaN,
      unit: "M steps/s",
      goal: "",
    },
    {
      what: "VM vs V8 on the same node (time ratio)",
      ours: plainMs,
      ref: v8Ms,
      unit: "ms/node",
      goal: "≤ 30× (VM ≥ 1/30 of V8)",
    },
    {
      what: "VM (compiled blocks) steps/s, plain",
      ours: most / blocksMs / 1000,
      ref: Number.NaN,
      unit: "M steps/s",
      goal: "",
    },
    {
      what: `VM (compiled blocks) vs V8 on ${op}`,
      ours: blocksMs,
      ref: v8Ms,
      unit: "ms/node",
      goal: "≤ 30× (VM ≥ 1/30 of V8)",
    },
  ];
}

/** A full state root from scratch (every memory leaf dirty) of the node with the largest memory. */
function fullRootRow(): Row {
  const prog = dnnVmProgram();
  let best = { model: "", k: 0, pages: 0 };
  for (const model of ["mnist_mlp", "mnist_cnn", "transformer_block"]) {
    const m = loadPackage(join(FIXTURES, "packages", model)).manifest;
    m.nodes.forEach((_, k) => {
      const p = nodeLayout(m, k).pages;
      if (p > best.pages) best = { model, k, pages: p };
    });
  }
  const pkg = loadPackage(join(FIXTURES, "packages", best.model));
  const inShape = pkg.manifest.activations[pkg.manifest.inputs[0]].shape;
  const acts = defaultBackend()
    .prepare(pkg)
    .run([new Int32Array(numel(inShape))], { keepAll: true });
  const ins = nodeInputs(pkg, best.k, acts);
  const t = performance.now();
  const n = 5;
  for (let i = 0; i < n; i++) nodeMachine(prog, pkg.manifest, best.k, ins).stateRoot();
  const ms = (performance.now() - t) / n;
  const what = `full state root, ${best.model} node ${best.k} (${best.pages} pages = ${best.pages * 64} KiB)`;
  return { what, ours: ms, ref: Number.NaN, unit: "ms", goal: "" };
}

/** The code tree is a static list: our StaticMerkle vs merkletreejs building it plus one proof. */
function merkleRow(): Row {
  const leaves = dnnVmProgram().program.code.map(instrLeaf);
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) new StaticMerkle(leaves).proof(17);
  const ours = (performance.now() - t0) / 5;
  const padding = new Array(2 ** depthFor(leaves.length) - leaves.length).fill(ZERO[0]);
  const padded = [...leaves, ...padding].map((l) => Buffer.from(l));
  const hashFn = (b: Buffer) => Buffer.from(keccak_256(b));
  const t1 = performance.now();
  for (let i = 0; i < 5; i++)
    new MerkleTree(padded, hashFn, { hashLeaves: false, sortPairs: false }).getProof(padded[17]);
  const ref = (performance.now() - t1) / 5;
  const same =
    toHex(new StaticMerkle(leaves).root) === `0x${new MerkleTree(padded, hashFn).getRoot().toString("hex")}`;
  const what = `code tree (${leaves.length} leaves) + 1 proof: StaticMerkle vs merkletreejs${same ? "" : " ROOTS DIFFER"}`;
  return { what, ours, ref, unit: "ms", goal: "" };
}

const MB = 1e6;

function median(fn: () => void, runs: number): number {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  return ms.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

/** Noble keccak per pair, level by level: what one hash call per pair costs. */
function noblePerPairRoot(bytes: Uint8Array): Uint8Array {
  let level: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += 32) level.push(bytes.subarray(i, i + 32));
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(nobleHashPair(level[i], level[i + 1]));
    level = next;
  }
  return level[0];
}

/** Tensor-root throughput (MB/s of tensor bytes): one thread and with the worker, vs per-pair JS. */
function hashRows(): Row[] {
  const big = new Uint8Array(64 << 20);
  randomFillSync(big);
  const small = big.subarray(0, 4 << 20); // the slow references get 4 MiB
  const saved = { ...hashing };
  hashing.workers = false;
  bytesRoot(big); // warm-up (JIT tiers)
  const one = (big.length / MB / median(() => bytesRoot(big), 5)) * 1000;
  setWasmSimd(false);
  const scalar = (big.length / MB / median(() => bytesRoot(big), 3)) * 1000;
  setWasmSimd(true);
  hashing.workers = saved.workers;
  hashing.minParallelBytes = 0;
  bytesRoot(big); // starts the worker
  const two = (big.length / MB / median(() => bytesRoot(big), 5)) * 1000;
  Object.assign(hashing, saved);
  const noble = (small.length / MB / median(() => noblePerPairRoot(small), 3)) * 1000;
  const leaves: Buffer[] = [];
  for (let i = 0; i < small.length; i += 32) leaves.push(Buffer.from(small.subarray(i, i + 32)));
  const hashFn = (b: Buffer) => Buffer.from(keccak_256(b));
  let same = false;
  const mt =
    (small.length /
      MB /
      median(() => {
        const t = new MerkleTree(leaves, hashFn, { hashLeaves: false, sortPairs: false });
        same = t.getRoot().equals(Buffer.from(bytesRoot(small)));
      }, 3)) *
    1000;
  const tag = same ? "" : " ROOTS DIFFER";
  return [
    {
      what: "tensorRoot, 64 MiB, one thread vs noble per pair",
      ours: one,
      ref: noble,
      unit: "MB/s",
      goal: "≥ 150 MB/s",
    },
    {
      what: `tensorRoot, one thread vs merkletreejs (4 MiB)${tag}`,
      ours: one,
      ref: mt,
      unit: "MB/s",
      goal: "",
    },
    {
      what: "tensorRoot, one thread: v128 two-lane vs scalar wasm",
      ours: one,
      ref: scalar,
      unit: "MB/s",
      goal: "",
    },
    {
      what: "tensorRoot, 64 MiB, with the worker vs one thread",
      ours: two,
      ref: one,
      unit: "MB/s",
      goal: "",
    },
  ];
}

/**
 * A GPT-2-small-shaped package (d=768, 12 layers, vocab 50257: ≈124 M params, ≈500 MB) of random
 * weights, written once to `dir` (kept if it already holds one).
 */
function syntheticPackage(dir: string): void {
  if (existsSync(join(dir, "manifest.json"))) return;
  const d = 768;
  const shapes: number[][] = [
    [50257, d],
    [64, d],
  ];
  for (let l = 0; l < 12; l++)
    shapes.push([d], [d], [d, 3 * d], [3 * d], [d, d], [d], [d], [d], [d, 4 * d], [4 * d], [4 * d, d], [d]);
  const offsets: number[] = [];
  let size = 0;
  for (const s of shapes) {
    offsets.push(size);
    size += Math.ceil((4 * numel(s)) / 32) * 32;
  }
  const bytes = new Uint8Array(size);
  randomFillSync(bytes);
  const views = shapes.map((s, k) => new Int32Array(bytes.buffer, offsets[k], numel(s)));
  const roots = tensorRoots(views);
  const manifest: Manifest = {
    format: "opml-model/1",
    name: "synthetic-124m",
    fracBits: 16,
    activations: [],
    inputs: [],
    outputs: [],
    weights: shapes.map((shape, k) => ({
      name: `w${k}`,
      shape,
      dtype: "i32",
      offset: offsets[k],
      root: toHex(roots[k]),
    })),
    nodes: [],
    modelRoot: toHex(modelRoot(roots)),
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "weights.bin"), bytes);
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
}

/** loadPackage of the ≈500 MB package: first open (no record; file in the page cache) vs re-open. */
function packageRows(dirArg?: string): Row[] {
  const dir = dirArg ?? mkdtempSync(join(tmpdir(), "opml-bench-pkg-"));
  try {
    syntheticPackage(dir);
    const mb = statSync(join(dir, "weights.bin")).size / MB;
    const cold = median(() => {
      rmSync(join(dir, CACHE_FILE), { force: true });
      if (loadPackage(dir).rootCheck !== "hashed") throw new Error("bench: expected a full hash");
    }, 3);
    const warm = median(() => {
      if (loadPackage(dir).rootCheck !== "cached") throw new Error("bench: expected the cache");
    }, 5);
    return [
      {
        what: `package open, ${mb.toFixed(0)} MB: first (hash all) vs cached`,
        ours: cold / 1000,
        ref: warm / 1000,
        unit: "s",
        goal: "≤ 5 s / ≤ 0.5 s",
      },
      {
        what: `package open, first: MB/s of weights.bin`,
        ours: (mb / cold) * 1000,
        ref: Number.NaN,
        unit: "MB/s",
        goal: "",
      },
    ];
  } finally {
    if (!dirArg) rmSync(dir, { recursive: true, force: true });
  }
}

/** A full dispute (a lie at one VM step of the heaviest node) on an embedded anvil. */
async function disputeRows(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [model, input] of [
    ["mnist_cnn", "mnist_0.json"],
    ["transformer_block", "transformer.json"],
  ]) {
    const r = await runDemo({
      quiet: true,
      model: join(FIXTURES, "packages", model),
      input: join(FIXTURES, "inputs", input),
      lies: ["step"],
    });
    const d = r.disputes[0];
    rows.push({
      what: `${model}: full dispute, lie at one VM step (${d.winner} won)`,
      ours: d.seconds,
      ref: Number.NaN,
      unit: "s wall",
      goal: "≤ 30 s",
    });
    rows.push({
      what: `${model}: challenger gas for that dispute (${d.rounds.graph}+${d.rounds.vm} rounds)`,
      ours: Number(d.gas.challenger) / 1e6,
      ref: Number.NaN,
      unit: "M gas",
      goal: "≤ 3 M",
    });
  }
  return rows;
}

// `--only hash,package,…` runs some groups; `--package DIR` keeps the big package there; `--json`
// prints one JSON object per row and line: {"what","ours","ref","ratio","unit"} (ref and ratio
// null where a row has no reference).
const argv = process.argv.slice(2);
const asJson = argv.includes("--json");
const only = argv.includes("--only") ? argv[argv.indexOf("--only") + 1].split(",") : undefined;
const packageDir = argv.includes("--package") ? argv[argv.indexOf("--package") + 1] : undefined;
const want = (group: string) => !only || only.includes(group);

async function main() {
  const rows: Row[] = [];
  if (want("inference")) {
    rows.push(...(await inference("mnist_cnn", "mnist_0.json")));
    rows.push(...(await inference("transformer_block", "transformer.json")));
  }
  if (want("vm")) rows.push(...(await vmRows()), fullRootRow());
  if (want("trace")) rows.push(...traceRows());
  if (want("merkle")) rows.push(merkleRow());
  if (want("hash")) rows.push(...hashRows());
  if (want("package")) rows.push(...packageRows(packageDir));
  if (want("dispute")) rows.push(...(await disputeRows()));
  if (asJson) {
    for (const r of rows) {
      const ref = Number.isNaN(r.ref) ? null : r.ref;
      const ratio = ref === null ? null : r.ours / ref;
      console.log(JSON.stringify({ what: r.what, ours: r.ours, ref, ratio, unit: r.unit }));
    }
    return;
  }
  console.log(`opml bench (median of ≥30 runs after warm-up; one thread each; native: ${nativeStatus()})\n`);
  console.log(
    `${"measurement".padEnd(72)} ${"ours".padStart(10)} ${"reference".padStart(10)}    ratio  goal`,
  );
  for (const r of rows) {
    const ratio = Number.isNaN(r.ref) ? "" : `${(r.ours / r.ref).toFixed(2).padStart(7)}×`;
    const ref = Number.isNaN(r.ref) ? "" : r.ref.toFixed(4);
    console.log(
      `${r.what.padEnd(72)} ${r.ours.toFixed(4).padStart(10)} ${ref.padStart(10)} ${ratio.padStart(8)}  ${r.goal}  (${r.unit})`,
    );
  }
  console.log(`\npeak resident memory: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}

await main();
