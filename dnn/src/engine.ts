// Native execution: the DNN WASM module in V8, node by node over the kernel graph, optionally with
// the native addon's kernels (dnn/native) running the nodes they implement on the same memory.
// Callers use the Backend interface so another engine (e.g. a GPU one) can be added without
// touching them.
import { UsageError, UserError } from "../../errors/index.js";
import { type NativeAddon, nativeAddon } from "./native.js";
import { EXEC_ERRORS, OP_NAMES } from "./opcodes.js";
import { type KernelNode, type Manifest, type ModelPackage, numel, wordsOf } from "./package.js";
import { dnnWasm } from "./wasm.js";

export interface RunOptions {
  /** Keep every activation slot (for commitments/bisection); default keeps only graph outputs. */
  keepAll?: boolean;
}

export interface PreparedModel {
  /** Runs the whole graph. Returns activations indexed by slot (only outputs unless keepAll). */
  run(inputs: Int32Array[], opts?: RunOptions): Int32Array[];
  /** Runs one node on given input tensors (in the node's input order); returns its outputs. */
  runNode(index: number, inputs: Int32Array[]): Int32Array[];
  /**
   * Read-only views of the weights where the engine keeps them, if it keeps them in host memory
   * (see preparedModel).
   */
  weightViews?(): Int32Array[];
  /** Nodes run so far by the native addon and by the reference module (native-cpu, wasm-cpu). */
  readonly counts?: { native: number; wasm: number };
}

export interface Backend {
  readonly name: string;
  prepare(pkg: ModelPackage): PreparedModel;
}

/** A kernel that refused a node of the user's model (the library's error code names why). */
export class ExecError extends UserError {
  override readonly kind: string = "exec";
  constructor(
    readonly nodeIndex: number,
    readonly node: KernelNode,
    readonly code: number,
  ) {
    super(
      `node ${nodeIndex} '${node.name}' (${node.onnxOp} → ${OP_NAMES[node.op] ?? node.op}): ` +
        (EXEC_ERRORS[code] ?? `kernel error ${code}`),
      { node: nodeIndex, nodeName: node.name, op: node.onnxOp },
    );
  }
}

/** Serializes a node's parameter block (docs/PROTOCOL.md §2) given resolved pointers. */
export function paramBlock(node: KernelNode, inPtrs: number[], outPtrs: number[]): Int32Array {
  return Int32Array.from([
    node.op,
    inPtrs.length,
    outPtrs.length,
    node.params.length,
    ...inPtrs,
    ...outPtrs,
    ...node.params,
  ]);
}

const align32 = (n: number) => Math.ceil(n / 32) * 32;

/** Host memory plan for the native engine: params blocks, weights, then activations. */
class Layout {
  paramPtr: number[] = [];
  weightPtr: number[] = [];
  actPtr: number[] = [];
  size = 0;
  constructor(m: Manifest) {
    let off = 0;
    const nodePtrs = m.nodes.map((n) => ({
      ins: n.inputs.length,
      outs: n.outputs.length,
      params: n.params.length,
    }));
    for (const n of nodePtrs) {
      this.paramPtr.push(off);
      off = align32(off + 4 * (4 + n.ins + n.outs + n.params));
    }
    for (const w of m.weights) {
      this.weightPtr.push(off);
      off = align32(off + 4 * Math.max(1, wordsOf(w)));
    }
    for (const a of m.activations) {
      this.actPtr.push(off);
      off = align32(off + 4 * Math.max(1, numel(a.shape)));
    }
    this.size = off;
  }
}

class WasmPrepared implements PreparedModel {
  private readonly exec: (p: number) => number;
  private readonly memory: WebAssembly.Memory;
  private readonly layout: Layout;
  private readonly m: Manifest;
  private readonly ptrs: Int32Array;
  readonly counts = { native: 0, wasm: 0 };

  /** With `fast`, the addon runs every node it implements; the module runs the rest. */
  constructor(
    pkg: ModelPackage,
    private readonly fast?: NativeAddon,
  ) {
    this.m = pkg.manifest;
    const inst = new WebAssembly.Instance(dnnWasm().module, {});
    this.exec = inst.exports.exec as (p: number) => number;
    this.memory = inst.exports.memory as WebAssembly.Memory;
    this.layout = new Layout(this.m);
    const pages = Math.ceil(this.layout.size / 65536) + 1;
    this.memory.grow(pages - this.memory.buffer.byteLength / 65536);
    const mem = this.i32();
    this.m.nodes.forEach((node, k) => {
      const block = paramBlock(
        node,
        node.inputs.map((r) => this.refPtr(r)),
        node.outputs.map((s) => this.layout.actPtr[s]),
      );
      mem.set(block, this.layout.paramPtr[k] >> 2);
    });
    pkg.weights.forEach((w, k) => {
      mem.set(w, this.layout.weightPtr[k] >> 2);
    });
    this.ptrs = Int32Array.from(this.layout.paramPtr);
  }

  private i32(): Int32Array {
    return new Int32Array(this.memory.buffer);
  }

  private refPtr(r: KernelNode["inputs"][number]): number {
    return r[0] === "w" ? this.layout.weightPtr[r[1]] : this.layout.actPtr[r[1]];
  }

  private read(slot: number): Int32Array {
    const n = numel(this.m.activations[slot].shape);
    const p = this.layout.actPtr[slot] >> 2;
    return this.i32().slice(p, p + n);
  }

  private execNode(k: number): void {
    const code = this.exec(this.layout.paramPtr[k]);
    if (code !== 0) throw new ExecError(k, this.m.nodes[k], code);
  }

  /** Nodes [from, to): the addon runs each it implements, the module each it declines. */
  private execRange(from: number, to: number): void {
    for (let k = from; k < to; k++) {
      if (this.fast) {
        const next = this.fast.run(this.memory.buffer, this.ptrs, k, to);
        this.counts.native += next - k;
        k = next;
        if (k >= to) break;
      }
      this.execNode(k);
      this.counts.wasm++;
    }
  }

  run(inputs: Int32Array[], opts: RunOptions = {}): Int32Array[] {
    const mem = this.i32();
    if (inputs.length !== this.m.inputs.length) {
      throw new Error(`expected ${this.m.inputs.length} input tensors, got ${inputs.length}`);
    }
    this.m.inputs.forEach((slot, i) => {
      const n = numel(this.m.activations[slot].shape);
      if (inputs[i].length !== n)
        throw new Error(`input ${i}: expected ${n} elements, got ${inputs[i].length}`);
      mem.set(inputs[i], this.layout.actPtr[slot] >> 2);
    });
    this.execRange(0, this.m.nodes.length);
    const out: Int32Array[] = new Array(this.m.activations.length);
    if (opts.keepAll) for (let s = 0; s < out.length; s++) out[s] = this.read(s);
    else for (const s of this.m.outputs) out[s] = this.read(s);
    return out;
  }

  weightViews(): Int32Array[] {
    // The memory grew once, in the constructor, so these views stay attached; kernels write only
    // activation regions, so the weights are never overwritten.
    return this.m.weights.map(
      (w, k) => new Int32Array(this.memory.buffer, this.layout.weightPtr[k], wordsOf(w)),
    );
  }

  runNode(index: number, inputs: Int32Array[]): Int32Array[] {
    const node = this.m.nodes[index];
    if (!node) throw new RangeError(`node index ${index} out of range (0..${this.m.nodes.length - 1})`);
    const mem = this.i32();
    node.inputs.forEach((r, i) => {
      if (r[0] === "a") mem.set(inputs[i], this.layout.actPtr[r[1]] >> 2);
    });
    this.execRange(index, index + 1);
    return node.outputs.map((s) => this.read(s));
  }
}

/** The reference: every node in the DNN WASM module (the VM's module), in V8. */
export const wasmCpuBackend: Backend = {
  name: "wasm-cpu",
  prepare: (pkg) => new WasmPrepared(pkg),
};

/**
 * The native addon's kernels (AVX2 where the CPU has it) on the module's own memory, so weights are
 * held once; nodes the addon does not implement run in the module. Bit-identical to wasm-cpu
 * (test/dnn/native.test.ts). Without the addon it is wasm-cpu.
 */
export const nativeCpuBackend: Backend = {
  name: "native-cpu",
  prepare: (pkg) => new WasmPrepared(pkg, nativeAddon()),
};

export const BACKENDS: Readonly<Record<string, Backend>> = {
  "native-cpu": nativeCpuBackend,
  "wasm-cpu": wasmCpuBackend,
};

/** `--backend NAME`: a UsageError naming the choices when NAME is not one. */
export function backendNamed(name: string): Backend {
  const b = Object.hasOwn(BACKENDS, name) ? BACKENDS[name] : undefined;
  if (!b)
    throw new UsageError(
      `--backend: unknown backend '${name}' (one of: ${Object.keys(BACKENDS).join(", ")})`,
    );
  return b;
}

let chosen: Backend | undefined;

/** Makes `b` the default for this process (the CLI's `--backend`). */
export function setDefaultBackend(b: Backend): void {
  chosen = b;
}

/** native-cpu when the addon is built and loads, else wasm-cpu; or what setDefaultBackend chose. */
export function defaultBackend(): Backend {
  return chosen ?? (nativeAddon() ? nativeCpuBackend : wasmCpuBackend);
}

const prepared = new WeakMap<ModelPackage, PreparedModel>();

/**
 * The default backend's prepared model for a package, made once per package: preparing copies
 * every weight into the engine's memory, which for a large model is as big as the package, so
 * each claim of the same model must not make its own. The package's weights are then re-pointed
 * at the engine's copy (same values), so the bytes read from weights.bin can be freed and a large
 * model is held once, not twice.
 */
export function preparedModel(pkg: ModelPackage): PreparedModel {
  let p = prepared.get(pkg);
  if (!p) {
    p = defaultBackend().prepare(pkg);
    prepared.set(pkg, p);
    const views = p.weightViews?.();
    if (views) pkg.weights = views;
  }
  return p;
}
