// `npm run zoo [-- --build] [--cache DIR] [--models a,b] [--vm-nodes N] [--vm-max-steps N]
// [--step-budget N] [--json]`: the model zoo
// (issue 11). Real architectures exported by tools/torch/zoo.py with random seeded weights: the small
// ones are committed under fixtures/zoo/, the big ones are built into a cache directory (--build runs
// the script with Debian's /usr/bin/python3 when it has torchvision). For each model: convert, run the
// fixed-point package natively and the ONNX file in onnxruntime (float), compare the outputs (max abs
// error; argmax agreement per kind: top-1 for classifiers, per pixel for segmentation, per step for
// sequence taggers), and run the heaviest kernel nodes (by stepBound) in the VM, byte-compared with
// the native engine (the heaviest whose bound is ≤ --vm-max-steps, default 2^28, so a run raised with
// --step-budget stays minutes long). A model that fails anywhere gets its one-line error in its row;
// the others go on. Exit 1 only if the VM and the native engine disagree (a bug, not a missing op).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "../chain/paths.js";
import { stepBound } from "../dnn/src/cost.js";
import { defaultBackend } from "../dnn/src/engine.js";
import { dequantize } from "../dnn/src/fixed.js";
import { type Manifest, type ModelPackage, prepareInputs } from "../dnn/src/package.js";
import { reportError, UsageError } from "../errors/index.js";
import { nodeInputs, runNodeInVm } from "../game/link.js";
import { convertGraph } from "./convert/convert.js";
import { readOnnx } from "./convert/onnx.js";
import { argmax, runOnnxRuntime } from "./convert/reference.js";

export const ZOO_FIXTURES = join(REPO_ROOT, "fixtures", "zoo");
const PYTHON = "/usr/bin/python3";
const ZOO_PY = join(REPO_ROOT, "tools", "torch", "zoo.py");

export type ZooKind = "classifier" | "segmentation" | "sequence" | "separation";

/** One row of a zoo directory's zoo.json (written by tools/torch/zoo.py). */
export interface ZooEntry {
  name: string;
  source: string;
  kind: ZooKind;
  params: number;
  opset: number;
  input: number[];
  output: number[];
  bytes: number;
  ops: Record<string, number>;
}

export interface VmCheck {
  node: number;
  name: string;
  steps: number;
  /** stepBound of the node: the registry's promise that its VM run ends within it. */
  bound: number;
  equal: boolean;
}

export interface ZooRow {
  name: string;
  params: number;
  kind: ZooKind;
  nodes?: number;
  maxAbs?: number;
  /** max |err| / max |ref|. */
  maxRel?: number;
  /** Fraction of argmax positions that agree (undefined for separation models). */
  agree?: number;
  /** How many positions the agreement is over (1 for a classifier, H·W, T). */
  positions?: number;
  vm: VmCheck[];
  convertSeconds?: number;
  error?: string;
  /** Problems that do not stop the row (e.g. an output shape that differs from the ONNX model's). */
  notes: string[];
}

/** The entries of a zoo directory (empty if it has no zoo.json). */
export function zooEntries(dir: string): ZooEntry[] {
  const f = join(dir, "zoo.json");
  // Written by tools/torch/zoo.py next to the models it describes, not user input.
  return existsSync(f) ? (JSON.parse(readFileSync(f, "utf8")) as ZooEntry[]) : [];
}

/**
 * Argmax agreement of got vs ref for an output of this kind and shape: the class axis is the last
 * one for classifiers and sequence taggers ([1, classes], [1, T, classes]) and axis 1 for
 * segmentation ([1, classes, H, W], one decision per pixel).
 */
export function agreement(
  kind: ZooKind,
  got: ArrayLike<number>,
  ref: ArrayLike<number>,
  shape: readonly number[],
): { agree: number; positions: number } | undefined {
  if (kind === "separation") return undefined;
  if (kind === "segmentation") {
    const [c, hw] = [shape[1], shape.slice(2).reduce((a, b) => a * b, 1)];
    let agree = 0;
    for (let p = 0; p < hw; p++) {
      let [bg, br] = [0, 0];
      for (let k = 1; k < c; k++) {
        if (got[k * hw + p] > got[bg * hw + p]) bg = k;
        if (ref[k * hw + p] > ref[br * hw + p]) br = k;
      }
      if (bg === br) agree++;
    }
    return { agree: agree / hw, positions: hw };
  }
  const last = shape[shape.length - 1];
  const rows = ref.length / last;
  let agree = 0;
  for (let r = 0; r < rows; r++) if (argmax(got, r * last, last) === argmax(ref, r * last, last)) agree++;
  return { agree: agree / rows, positions: rows };
}

/** The `count` kernel nodes with the largest step bounds (at most `maxBound` each), heaviest first. */
export function heaviestNodes(m: Manifest, count: number, maxBound = Number.POSITIVE_INFINITY): number[] {
  return m.nodes
    .map((n, k) => ({ k, b: stepBound(n.op, n.params) }))
    .filter((x) => x.b <= maxBound)
    .sort((a, b) => b.b - a.b || a.k - b.k)
    .slice(0, count)
    .map((x) => x.k);
}

/** Runs node k in the VM on the native activations and byte-compares its outputs with them. */
export function vmCheck(pkg: ModelPackage, k: number, acts: Int32Array[]): VmCheck {
  const n = pkg.manifest.nodes[k];
  const run = runNodeInVm(pkg, k, nodeInputs(pkg, k, acts));
  const equal = n.outputs.every((s, i) => {
    const a = run.outputs[i];
    const b = acts[s];
    return a.length === b.length && a.every((v, j) => v === b[j]);
  });
  return { node: k, name: n.name, steps: run.steps, bound: stepBound(n.op, n.params), equal };
}

export interface EvalOptions {
  /** How many of the heaviest nodes to run in the VM (default 3). */
  vmNodes?: number;
  /** Skip nodes whose step bound exceeds this (default: none skipped). */
  vmMaxBound?: number;
  /** The converter's per-node step budget (default its own, 2^26). */
  stepBudget?: number;
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0];

/** Converts, runs and compares one zoo model; never throws for the model's own failures. */
export async function evaluate(dir: string, e: ZooEntry, o: EvalOptions = {}): Promise<ZooRow> {
  const row: ZooRow = { name: e.name, params: e.params, kind: e.kind, vm: [], notes: [] };
  const onnxFile = join(dir, `${e.name}.onnx`);
  const inputFile = join(dir, `${e.name}.input.json`);
  let stage = "convert";
  try {
    const t0 = performance.now();
    const pkg = convertGraph(readOnnx(onnxFile), onnxFile, { name: e.name, stepBudget: o.stepBudget });
    row.convertSeconds = (performance.now() - t0) / 1000;
    const m = pkg.manifest;
    row.nodes = m.nodes.length;
    stage = "native";
    const json: unknown = JSON.parse(readFileSync(inputFile, "utf8"));
    const inputs = prepareInputs(m, json, inputFile);
    // prepareInputs has just checked it is {"shape": numbers, "data": numbers} for the one input.
    const { shape, data } = json as { shape: number[]; data: number[] };
    const acts = defaultBackend().prepare(pkg).run(inputs, { keepAll: true });
    const out = m.activations[m.outputs[0]];
    if (out.shape.join() !== e.output.join()) {
      row.notes.push(`output shape [${out.shape}], the ONNX model's is [${e.output}]`);
    }
    const got = dequantize(acts[m.outputs[0]]);
    stage = "onnxruntime";
    const [ref] = await runOnnxRuntime(onnxFile, [
      { name: m.activations[m.inputs[0]].name, shape, dtype: "q16", data },
    ]);
    let [maxAbs, refMax] = [0, 0];
    for (let i = 0; i < ref.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(got[i] - ref[i]));
      refMax = Math.max(refMax, Math.abs(ref[i]));
    }
    row.maxAbs = maxAbs;
    row.maxRel = refMax > 0 ? maxAbs / refMax : maxAbs;
    // The ONNX model's shape: the positions are what the user asked for, whatever the package says.
    const a = agreement(e.kind, got, ref, e.output);
    row.agree = a?.agree;
    row.positions = a?.positions;
    stage = "vm";
    for (const k of heaviestNodes(m, o.vmNodes ?? 3, o.vmMaxBound)) row.vm.push(vmCheck(pkg, k, acts));
  } catch (err) {
    // The converter's messages start with the file's path; the row already names the model.
    row.error = `${stage}: ${firstLine(err).replace(`${onnxFile}: `, "")}`;
  }
  return row;
}

const fmt = (x: number | undefined, digits = 2) => (x === undefined ? "–" : x.toExponential(digits));

/** The zoo table as markdown. */
export function markdownTable(rows: ZooRow[]): string {
  const head = [
    "| model | params | kernel nodes | max abs error | argmax agreement | VM parity | convert s |",
    "|---|---:|---:|---:|---|---|---:|",
  ];
  const lines = rows.map((r) => {
    const params = r.params.toLocaleString("en-US");
    if (r.error && r.maxAbs === undefined) {
      const secs = r.convertSeconds?.toFixed(1) ?? "–";
      return `| ${r.name} | ${params} | ${r.nodes ?? "–"} | ✗ ${r.error.replaceAll("|", "\\|")} | | | ${secs} |`;
    }
    const agree =
      r.agree === undefined
        ? "– (waveform)"
        : `${(100 * r.agree).toFixed(r.agree === 1 ? 0 : 2)}% of ${r.positions} ${
            r.kind === "classifier" ? "top-1" : r.kind === "segmentation" ? "pixels" : "steps"
          }`;
    const ok = r.vm.filter((v) => v.equal).length;
    // A run past its bound breaks the guarantee that every node fits the model's maxSteps: flag it.
    const steps = r.vm
      .map(
        (v) =>
          `${(v.steps / 1e6).toFixed(1)}M${v.steps > v.bound ? ` ⚠ > bound ${(v.bound / 1e6).toFixed(1)}M` : ""}`,
      )
      .join(", ");
    let vm = r.vm.length ? `${ok}/${r.vm.length} ${ok === r.vm.length ? "✓" : "✗"} (${steps} steps)` : "–";
    if (r.error) vm = `✗ ${r.error.replaceAll("|", "\\|")}`;
    for (const n of r.notes) vm += `; ⚠ ${n}`;
    return `| ${r.name} | ${params} | ${r.nodes} | ${fmt(r.maxAbs)} (rel ${fmt(r.maxRel, 1)}) | ${agree} | ${vm} | ${r.convertSeconds?.toFixed(1)} |`;
  });
  return [...head, ...lines].join("\n");
}

/** Whether /usr/bin/python3 can import torchvision (and so run tools/torch/zoo.py). */
function hasTorchvision(): boolean {
  return spawnSync(PYTHON, ["-c", "import torchvision, onnx"], { stdio: "ignore" }).status === 0;
}

interface Options {
  build: boolean;
  cache: string;
  models?: string[];
  vmNodes: number;
  vmMaxSteps: number;
  stepBudget?: number;
  json: boolean;
}

function parseOptions(argv: string[]): Options {
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseArgs({
      args: argv,
      strict: true,
      options: {
        build: { type: "boolean" },
        cache: { type: "string" },
        models: { type: "string" },
        "vm-nodes": { type: "string" },
        "vm-max-steps": { type: "string" },
        "step-budget": { type: "string" },
        json: { type: "boolean" },
      },
    }).values;
  } catch (e) {
    throw new UsageError(firstLine(e).split(/\.\s/)[0]);
  }
  // Whole numbers only; 2^k is accepted for the step options (as in `--step-budget 2^30`).
  const count = (name: string, dflt: number | undefined): number | undefined => {
    const t = v[name];
    if (t === undefined) return dflt;
    const m = /^(?:([0-9]+)|2\^([0-9]+))$/.exec(String(t));
    if (!m) throw new UsageError(`--${name} '${t}': expected a whole number or 2^k`, { arg: `--${name}` });
    return m[1] !== undefined ? Number(m[1]) : 2 ** Number(m[2]);
  };
  return {
    build: v.build === true,
    cache: resolve(String(v.cache ?? process.env.OPML_ZOO_CACHE ?? join(REPO_ROOT, "zoo-cache"))),
    models: typeof v.models === "string" ? v.models.split(",").map((s) => s.trim()) : undefined,
    vmNodes: count("vm-nodes", 3) ?? 3,
    vmMaxSteps: count("vm-max-steps", 2 ** 28) ?? 2 ** 28,
    stepBudget: count("step-budget", undefined),
    json: v.json === true,
  };
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (o.build) {
    if (!hasTorchvision()) {
      console.error(`zoo: --build needs ${PYTHON} with torch, torchvision and onnx; using what is there`);
    } else {
      console.error(`zoo: building the script-only models into ${o.cache} …`);
      const r = spawnSync(PYTHON, [ZOO_PY, "--script", "-o", o.cache], { stdio: "inherit" });
      if (r.status !== 0) console.error(`zoo: ${ZOO_PY} exited with ${r.status} (rows below say which)`);
    }
  }
  const all = [
    ...zooEntries(ZOO_FIXTURES).map((e) => ({ dir: ZOO_FIXTURES, e })),
    ...zooEntries(o.cache).map((e) => ({ dir: o.cache, e })),
  ];
  if (o.models) {
    const unknown = o.models.find((n) => !all.some((x) => x.e.name === n));
    if (unknown) {
      throw new UsageError(
        `--models: no zoo model '${unknown}' (have: ${all.map((x) => x.e.name).join(", ")})`,
        {
          arg: "--models",
        },
      );
    }
  }
  const rows: ZooRow[] = [];
  for (const { dir, e } of all) {
    if (o.models && !o.models.includes(e.name)) continue;
    console.error(`zoo: ${e.name} …`);
    const r = await evaluate(dir, e, {
      vmNodes: o.vmNodes,
      vmMaxBound: o.vmMaxSteps,
      stepBudget: o.stepBudget,
    });
    rows.push(r);
    if (o.json) console.log(JSON.stringify(r));
  }
  if (!o.json) console.log(markdownTable(rows));
  const failed = rows.filter((r) => r.error || r.notes.length).length;
  if (failed) console.error(`zoo: ${failed} of ${rows.length} model(s) failed (see their rows)`);
  // An unsupported op is an expected row; native and VM disagreeing is a bug in the toolkit.
  const split = rows.filter((r) => r.vm.some((v) => !v.equal));
  if (split.length) {
    console.error(`zoo: VM and native differ on ${split.map((r) => r.name).join(", ")}`);
    process.exitCode = 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: unknown) => {
    const r = reportError(e, "zoo");
    console.error(r.text);
    process.exit(r.exitCode);
  });
}
