import { existsSync } from "node:fs";
import { basename } from "node:path";
import { tensorRoot, toHex } from "../../commit/merkle.js";
import { defaultBackend } from "../../dnn/src/engine.js";
import { decodeOutput, loadPackage, type Manifest } from "../../dnn/src/package.js";
import { UserError } from "../../errors/index.js";
import { nodeInputs, runNodeInVm } from "../../game/link.js";
import { Status } from "../../vm/state.js";
import { argmax, compare, runOnnxRuntime } from "../convert/reference.js";
import { readInputFile, readInputValues, sha256File } from "./io.js";

export interface InferArgs {
  dir: string;
  input: string;
  json?: boolean;
  compareOnnx?: string;
  vm?: boolean;
  clamp?: boolean;
}

/** `infer --vm`: a node that trapped in the VM or whose VM output differs from the native one. */
export class VmMismatchError extends UserError {
  override readonly kind: string = "vm";
}

/** Runs every node in the Merkle-ized VM and checks it against the native result, node by node. */
function runInVm(pkg: ReturnType<typeof loadPackage>, acts: Int32Array[]): number {
  let steps = 0;
  pkg.manifest.nodes.forEach((node, k) => {
    const run = runNodeInVm(pkg, k, nodeInputs(pkg, k, acts));
    if (run.machine.status !== Status.FINISHED) {
      throw new VmMismatchError(
        `node ${k} '${node.name}' (${node.onnxOp}): the VM trapped at step ${run.steps}: ${run.machine.trapMessage}`,
        { node: k, nodeName: node.name, op: node.onnxOp, step: run.steps },
      );
    }
    node.outputs.forEach((slot, i) => {
      const a = Buffer.from(run.outputs[i].buffer);
      if (!a.equals(Buffer.from(acts[slot].buffer, acts[slot].byteOffset, acts[slot].byteLength))) {
        throw new VmMismatchError(
          `node ${k} '${node.name}' (${node.onnxOp}): VM output ${i} differs from the native result`,
          { node: k, nodeName: node.name, op: node.onnxOp },
        );
      }
    });
    steps += run.steps;
  });
  return steps;
}

/** `--compare-onnx`'s result per output, as numbers (`--json` prints these). */
interface CompareRow {
  output: string;
  maxAbs: number;
  maxRel: number;
  /** Fraction of rows (over the last axis) whose argmax agrees with onnxruntime's. */
  argmaxAgree: number;
  rows: number;
}

/**
 * Why `onnxFile` may not be the model the package was converted from: its SHA-256 differs from
 * the one the package recorded, or (a package from before the hash was recorded) its file name
 * differs from the recorded source's. Undefined when they agree or nothing was recorded.
 */
function sourceMismatch(m: Manifest, onnxFile: string): string | undefined {
  const src = m.source;
  if (src === undefined) return undefined;
  if (src.sha256 !== undefined) {
    const got = sha256File(onnxFile);
    if (got === src.sha256) return undefined;
    return `${onnxFile}: not the model this package was converted from (its sha256 is ${got.slice(0, 16)}…, the package's source ${src.file} has ${src.sha256.slice(0, 16)}…); comparing anyway`;
  }
  if (basename(onnxFile) !== src.file)
    return `${onnxFile}: the package was converted from ${src.file} (no source hash recorded); comparing anyway`;
  return undefined;
}

export async function inferCommand(a: InferArgs): Promise<void> {
  const pkg = loadPackage(a.dir);
  const m = pkg.manifest;
  const inputs = readInputFile(m, a.input, a.clamp);
  const t0 = performance.now();
  const acts = defaultBackend().prepare(pkg).run(inputs, { keepAll: a.vm });
  const ms = performance.now() - t0;
  let steps: number | undefined;
  let vmMs = 0;
  if (a.vm) {
    const t1 = performance.now();
    steps = runInVm(pkg, acts);
    vmMs = performance.now() - t1;
  }
  const outs = m.outputs.map((slot) => {
    const info = m.activations[slot];
    return {
      name: info.name,
      shape: info.shape,
      data: decodeOutput(info, acts[slot]),
      outputRoot: toHex(tensorRoot(acts[slot])),
    };
  });
  let errors: CompareRow[] = [];
  if (a.compareOnnx) {
    if (!existsSync(a.compareOnnx))
      throw new UserError(`${a.compareOnnx}: cannot read (ENOENT)`, {
        file: a.compareOnnx,
        arg: "--compare-onnx",
      });
    const refs = await runOnnxRuntime(a.compareOnnx, readInputValues(m, a.input));
    // Said once the comparison ran (a model whose inputs do not fit is refused on its own line).
    const mismatch = sourceMismatch(m, a.compareOnnx);
    if (mismatch) console.error(`opml: warning: ${mismatch}`);
    errors = outs.map((o, k) => {
      const r = compare(o.data, refs[k], o.shape[o.shape.length - 1] ?? 1);
      return { output: o.name, maxAbs: r.maxAbs, maxRel: r.maxRel, argmaxAgree: r.argmaxAgree, rows: r.rows };
    });
  }
  if (a.json) {
    const first = outs[0];
    const obj: Record<string, unknown> = {
      shape: first.shape,
      data: first.data,
      outputRoot: first.outputRoot,
    };
    if (steps !== undefined) obj.steps = steps;
    if (outs.length > 1) obj.outputs = outs;
    if (errors.length) obj.compare = errors;
    console.log(JSON.stringify(obj));
    return;
  }
  for (const o of outs) {
    console.log(`output '${o.name}' shape [${o.shape}] root ${o.outputRoot}`);
    const preview = o.data.slice(0, 10).map((v) => v.toFixed(5));
    console.log(`  data: [${preview.join(", ")}${o.data.length > 10 ? ", …" : ""}]`);
    if (o.shape.length > 0 && o.shape[o.shape.length - 1] > 1)
      console.log(`  argmax (last axis, first row): ${argmax(o.data, 0, o.shape[o.shape.length - 1])}`);
  }
  for (const e of errors)
    console.log(
      `output '${e.output}': max abs err ${e.maxAbs.toExponential(3)}, max rel err ${e.maxRel.toExponential(3)}, argmax ${e.argmaxAgree === 1 ? "agrees" : "differs"} (onnxruntime float)`,
    );
  console.log(`native (wasm-cpu) inference: ${ms.toFixed(2)} ms`);
  if (steps !== undefined) {
    console.log(
      `VM: ${pkg.manifest.nodes.length} nodes, ${steps} steps, every output bit-identical to native (${(vmMs / 1000).toFixed(1)} s)`,
    );
  }
}
