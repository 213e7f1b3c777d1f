// ONNX → fixed-point model package: parse, fold constants and BatchNorm, fuse MatMul+bias, lower to
// kernel nodes, drop dead nodes, quantize, commit (docs/PROTOCOL.md §3).
import {
  closeSync,
  existsSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { type Hash, modelRoot, tensorBytes, tensorRoot, toHex } from "../../commit/merkle.js";
import { DEFAULT_STEP_BUDGET } from "../../dnn/src/cost.js";
import {
  FORMAT,
  type KernelNode,
  type Manifest,
  type ModelPackage,
  packWeights,
  type Ref,
  type TensorInfo,
} from "../../dnn/src/package.js";
import {
  bnParamsOf,
  CONTROL_HANDLERS,
  Ctx,
  HANDLERS,
  int8Kernel,
  layerNormK,
  lowerConv,
  lowerMatMul,
  materialize,
  type Scope,
  shapeOf,
  splitKernel,
  type Val,
  type WeightSink,
} from "./lower/index.js";
import {
  type AttrValue,
  type Const,
  ConvertError,
  FLOAT_TYPES,
  freeNames,
  INT_TYPES,
  isGraph,
  type OGraph,
  type ONode,
  releaseData,
  subgraphsOf,
} from "./onnx.js";
import { broadcastShapes } from "./views.js";

export interface ConvertOptions {
  name?: string;
  /** Overrides for graph input shapes (needed when the ONNX file has symbolic dims). */
  inputShapes?: Record<string, number[]>;
  /** Graph inputs bound to constant values (e.g. shape or axes tensors fed as inputs). */
  constInputs?: Record<string, Const>;
  /**
   * Per-node VM step budget (default 2^26): a kernel whose step bound exceeds it is split into
   * sub-nodes (lower/split.ts); the manifest's maxSteps records it for the registry.
   */
  stepBudget?: number;
  /** SHA-256 of the ONNX file (hex), recorded in the manifest's `source` (descriptive, in no root). */
  sourceSha256?: string;
  /** `int8`: MATMUL and CONV weights as int8 with a Q16.16 scale per output channel (NUMERICS §8). */
  weights?: "q16" | "int8";
}

interface Fusions {
  /** Nodes folded into a later one; they emit nothing themselves. */
  skip: Set<ONode>;
  /** For each skipped node, the node whose lowering reads its inputs. */
  owner: Map<ONode, ONode>;
  /** Keyed by the LAST node of each pattern, so every input (even a late Constant) is defined. */
  convBn: Map<ONode, ONode>;
  matmulBias: Map<ONode, { matmul: ONode; biasInput: string }>;
  layerNorm: Map<ONode, { mean: ONode; x: string; eps: string; scale?: string; bias?: string }>;
}

/** Finds the patterns we fuse. Each fused value must have a single consumer and not be an output. */
function findFusions(g: OGraph, isConst: (name: string) => boolean): Fusions {
  const consumers = new Map<string, ONode[]>();
  for (const n of g.nodes) for (const i of readsOf(n)) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const graphOut = new Set(g.outputs.map((o) => o.name));
  const users = (name: string) => (graphOut.has(name) ? [] : (consumers.get(name) ?? []));
  const sole = (name: string): ONode | undefined => {
    const c = consumers.get(name);
    return c && c.length === 1 && !graphOut.has(name) ? c[0] : undefined;
  };
  const other = (n: ONode, x: string) => (n.inputs[0] === x ? n.inputs[1] : n.inputs[0]);
  const f: Fusions = {
    skip: new Set(),
    owner: new Map(),
    convBn: new Map(),
    matmulBias: new Map(),
    layerNorm: new Map(),
  };
  for (const n of g.nodes) {
    const next = sole(n.outputs[0]);
    if (!next) continue;
    if (
      n.op === "Conv" &&
      next.op === "BatchNormalization" &&
      isConst(n.inputs[1]) &&
      next.inputs.slice(1).every(isConst)
    ) {
      if (next.outputs.slice(1).some((o) => o)) continue;
      f.convBn.set(next, n);
      f.skip.add(n);
      f.owner.set(n, next);
    }
    if (
      n.op === "MatMul" &&
      next.op === "Add" &&
      next.inputs[0] !== next.inputs[1] &&
      isConst(other(next, n.outputs[0]))
    ) {
      f.matmulBias.set(next, { matmul: n, biasInput: other(next, n.outputs[0]) });
      f.skip.add(n);
      f.owner.set(n, next);
    }
  }
  // torch (opset < 17) exports LayerNorm as ReduceMean → Sub → Pow(2) → ReduceMean → Add(eps) → Sqrt →
  // Div [→ Mul(scale) → Add(bias)]. One LAYERNORM kernel keeps the variance in Q32 instead of
  // squaring in Q16, which matters for small activations.
  for (const mean of g.nodes) {
    if (mean.op !== "ReduceMean") continue;
    const x = mean.inputs[0];
    const sub = sole(mean.outputs[0]);
    if (sub?.op !== "Sub" || sub.inputs[0] !== x || sub.inputs[1] !== mean.outputs[0]) continue;
    const subUsers = users(sub.outputs[0]);
    const pow = subUsers.find((n) => n.op === "Pow");
    const div = subUsers.find((n) => n.op === "Div");
    if (!pow || !div || subUsers.length !== 2 || !isConst(pow.inputs[1]) || div.inputs[0] !== sub.outputs[0])
      continue;
    const mean2 = sole(pow.outputs[0]);
    const add = mean2?.op === "ReduceMean" ? sole(mean2.outputs[0]) : undefined;
    const sqrt = add?.op === "Add" ? sole(add.outputs[0]) : undefined;
    if (!mean2 || !add || sqrt?.op !== "Sqrt" || sole(sqrt.outputs[0]) !== div) continue;
    const eps = other(add, mean2.outputs[0]);
    if (!isConst(eps)) continue;
    const chain: ONode[] = [mean, sub, pow, mean2, add, sqrt, div];
    let scale: string | undefined;
    let bias: string | undefined;
    const mul = sole(div.outputs[0]);
    if (mul?.op === "Mul" && isConst(other(mul, div.outputs[0]))) {
      scale = other(mul, div.outputs[0]);
      chain.push(mul);
      const addB = sole(mul.outputs[0]);
      if (addB?.op === "Add" && isConst(other(addB, mul.outputs[0]))) {
        bias = other(addB, mul.outputs[0]);
        chain.push(addB);
      }
    }
    const last = chain.pop()!;
    f.layerNorm.set(last, { mean, x, eps, scale, bias });
    for (const n of chain) {
      f.skip.add(n);
      f.owner.set(n, last);
    }
  }
  return f;
}

/** Removes nodes whose outputs reach no graph output; renumbers slots and weights. */
function prune(ctx: Ctx, outputs: number[], inputs: number[]) {
  const live = new Set<number>(outputs);
  const keepNode = new Array(ctx.nodes.length).fill(false);
  for (let k = ctx.nodes.length - 1; k >= 0; k--) {
    const n = ctx.nodes[k];
    if (n.outputs.some((s) => live.has(s))) {
      keepNode[k] = true;
      for (const r of n.inputs) if (r[0] === "a") live.add(r[1]);
    }
  }
  for (const s of inputs) live.add(s);
  const slotMap = new Map<number, number>();
  const activations: TensorInfo[] = [];
  ctx.activations.forEach((a, s) => {
    if (live.has(s) || ctx.nodes.some((n, k) => keepNode[k] && n.outputs.includes(s))) {
      slotMap.set(s, activations.length);
      activations.push(a);
    }
  });
  const weightMap = new Map<number, number>();
  const weights: typeof ctx.weights = [];
  /** New weight index → index in ctx.weights (creation order). */
  const weightOrder: number[] = [];
  const nodes: KernelNode[] = [];
  ctx.nodes.forEach((n, k) => {
    if (!keepNode[k]) return;
    const ins: Ref[] = n.inputs.map((r) => {
      if (r[0] === "a") return ["a", slotMap.get(r[1])!];
      if (!weightMap.has(r[1])) {
        weightMap.set(r[1], weights.length);
        weights.push(ctx.weights[r[1]]);
        weightOrder.push(r[1]);
      }
      return ["w", weightMap.get(r[1])!];
    });
    nodes.push({ ...n, inputs: ins, outputs: n.outputs.map((s) => slotMap.get(s)!) });
  });
  return { activations, nodes, weights, weightOrder, map: (s: number) => slotMap.get(s)! };
}

/** The lowered, pruned graph: everything of the manifest but the weights' offsets and roots. */
interface Lowered {
  ctx: Ctx;
  pruned: ReturnType<typeof prune>;
  inputSlots: number[];
  outSlots: number[];
}

/** Progress of lowering, yielded after each ONNX node. */
export interface LowerProgress {
  done: number;
  total: number;
}

/** The names a node reads: its inputs and what its subgraphs read from the enclosing scope. */
function readsOf(n: ONode): string[] {
  const subs = subgraphsOf(n);
  const names = n.inputs.filter((i) => i);
  if (subs.length === 0) return names;
  const all = new Set(names);
  for (const sg of subs) for (const f of freeNames(sg)) all.add(f);
  return [...all];
}

/** The values of one graph's scope over those of its enclosing scopes (subgraphs see outer names). */
class Env {
  private readonly own = new Map<string, Val>();
  constructor(readonly parent?: Env) {}
  get(name: string): Val | undefined {
    return this.own.get(name) ?? this.parent?.get(name);
  }
  set(name: string, v: Val): void {
    this.own.set(name, v);
  }
  /** Drops a value of this scope after its last use (an enclosing scope's values live on). */
  drop(name: string): void {
    const v = this.own.get(name);
    if (v?.kind === "const") releaseData(v.c);
    this.own.delete(name);
  }
}

/**
 * A copy of subgraph `g` whose own names (inputs, initializers, node outputs) and node names are
 * prefixed, so that inlined branches and unrolled iterations never collide with outer names or
 * with each other (weights are deduplicated by name). `constPrefix` names what is the same in
 * every iteration (initializers, Constant nodes), so an unrolled body shares its weights. With
 * `prefix` undefined, the graph's own names are left as they are and only shadow `outer`'s
 * renames (a nested subgraph is scoped when its own node is lowered).
 */
function scopeGraph(
  g: OGraph,
  prefix: string | undefined,
  constPrefix = prefix,
  outer = new Map<string, string>(),
): OGraph {
  const map = new Map(outer);
  const own = (name: string, p: string | undefined) => {
    if (!name) return;
    if (p === undefined) map.delete(name);
    else map.set(name, p + name);
  };
  for (const v of g.inputs) own(v.name, prefix);
  for (const k of g.initializers.keys()) own(k, constPrefix);
  for (const n of g.nodes) for (const o of n.outputs) own(o, n.op === "Constant" ? constPrefix : prefix);
  const r = (x: string) => (x ? (map.get(x) ?? x) : x);
  const attr = (v: AttrValue): AttrValue => {
    if (isGraph(v)) return scopeGraph(v, undefined, undefined, map);
    if (Array.isArray(v) && v.length > 0 && isGraph(v[0] as AttrValue))
      return (v as OGraph[]).map((sg) => scopeGraph(sg, undefined, undefined, map));
    return v;
  };
  return {
    ...g,
    initializers: new Map([...g.initializers].map(([k, c]) => [r(k), c])),
    inputs: g.inputs.map((v) => ({ ...v, name: r(v.name) })),
    outputs: g.outputs.map((v) => ({ ...v, name: r(v.name) })),
    nodes: g.nodes.map((n) => ({
      ...n,
      name: prefix === undefined || n.op === "Constant" ? n.name : prefix + n.name,
      inputs: n.inputs.map(r),
      outputs: n.outputs.map(r),
      attrs: Object.fromEntries(Object.entries(n.attrs).map(([k, v]) => [k, attr(v)])),
    })),
  };
}

/**
 * Lowers the graph node by node, yielding after each. Every value is dropped after its last
 * consumer (and a lazy initializer's decoded values released), so only live constants stay in
 * memory; with a sink, weights leave as soon as they are quantized.
 */
function* lowerSteps(
  g: OGraph,
  file: string,
  opts: ConvertOptions,
  sink?: WeightSink,
): Generator<LowerProgress, Lowered> {
  const ctx = new Ctx(g.opset, file, sink);
  ctx.budget = { steps: opts.stepBudget ?? DEFAULT_STEP_BUDGET, split: splitKernel };
  if (opts.weights === "int8") ctx.int8 = int8Kernel;
  const env = new Env();
  for (const [name, c] of g.initializers) env.set(name, { kind: "const", c, name });
  const inputSlots: number[] = [];
  for (const vi of g.inputs) {
    if (vi.kind !== "tensor" && vi.kind !== "untyped")
      throw new ConvertError(
        `${file}: input '${vi.name}' has a ${vi.kind} type; only tensor inputs are supported (not sequence, optional or map types)`,
      );
    const bound = opts.constInputs?.[vi.name];
    if (bound) {
      env.set(vi.name, { kind: "const", c: bound, name: vi.name });
      continue;
    }
    const override = opts.inputShapes?.[vi.name];
    const shape = override ?? vi.shape;
    const bad = shape.find((d) => typeof d !== "number" || d <= 0);
    if (bad !== undefined) {
      throw new ConvertError(
        `${file}: input '${vi.name}' has a non-static dimension '${bad}' in [${vi.shape}]; pass --input-shape ${vi.name}=d0,d1,…`,
      );
    }
    let dtype: TensorInfo["dtype"];
    if (FLOAT_TYPES.has(vi.elemType)) dtype = "q16";
    else if (INT_TYPES.has(vi.elemType)) dtype = "i32";
    else throw new ConvertError(`${file}: input '${vi.name}' has unsupported element type ${vi.elemType}`);
    const slot = ctx.addActivation({ name: vi.name, shape: shape as number[], dtype });
    inputSlots.push(slot);
    env.set(vi.name, { kind: "act", slot, shape: shape as number[], dtype });
  }
  /** Subgraph prefixes handed out so far: node names need not be unique in ONNX. */
  const prefixes = new Set<string>();
  const unique = (p: string) => {
    let q = p;
    for (let k = 2; prefixes.has(q); k++) q = `${p.slice(0, -1)}#${k}/`;
    prefixes.add(q);
    return q;
  };
  const modelInputs = new Set(g.inputs.map((v) => v.name));
  yield* lowerNodes(ctx, g, env, file, { unique, isModelInput: (name) => modelInputs.has(name) });
  const outSlots = g.outputs.map((o) => {
    const v = env.get(o.name);
    if (!v) throw new ConvertError(`${file}: graph output '${o.name}' is never produced`);
    if (v.kind === "act") return v.slot;
    // A fully folded output still gets a node (a copy from a weight), so every output is computed.
    const node: ONode = { name: `${o.name}:const`, op: "Constant", inputs: [], outputs: [o.name], attrs: {} };
    return (materialize(ctx, node, v, file) as { slot: number }).slot;
  });
  return { ctx, pruned: prune(ctx, outSlots, inputSlots), inputSlots, outSlots };
}

/**
 * Lowers the nodes of one graph (the model's, or a subgraph's into its own scope `env`), yielding
 * after each. If/Loop/Scan get a Scope that lowers their subgraphs (lower/control.ts).
 */
function* lowerNodes(
  ctx: Ctx,
  g: OGraph,
  env: Env,
  file: string,
  shared: Pick<Scope, "unique" | "isModelInput">,
  outerOrigin?: (name: string) => string | undefined,
  /** Receives this graph's origin tracer (for errors about a subgraph's outputs). */
  share?: (origin: (name: string) => string | undefined) => void,
): Generator<LowerProgress, void> {
  const producers = new Map<string, ONode>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) producers.set(o, n);
  const isConst = (name: string) => {
    if (!name) return false;
    if (g.initializers.has(name)) return true;
    const producer = producers.get(name);
    return !!producer && producer.op === "Constant";
  };
  const fusions = findFusions(g, isConst);
  // Last node (by the index of the node that lowers it) reading each value; graph outputs never die.
  const index = new Map(g.nodes.map((n, i) => [n, i]));
  const lastUse = new Map<string, number>();
  g.nodes.forEach((n, i) => {
    const at = index.get(fusions.owner.get(n) ?? n) ?? i;
    for (const name of readsOf(n)) lastUse.set(name, Math.max(at, lastUse.get(name) ?? -1));
  });
  for (const o of g.outputs) lastUse.set(o.name, Number.POSITIVE_INFINITY);
  const dying = new Map<number, string[]>();
  for (const [name, at] of lastUse) {
    const list = dying.get(at);
    if (list) list.push(name);
    else dying.set(at, [name]);
  }
  const graphInputs = new Set(g.inputs.map((v) => v.name));
  /** Values that folded to constants (kept after they are dropped, for origin()). */
  const folded = new Set<string>();
  /** The (graph or body) input a non-constant value depends on, for error messages. */
  const origin = (name: string, seen = new Set<string>()): string | undefined => {
    if (!name || seen.has(name)) return undefined;
    seen.add(name);
    if (folded.has(name) || env.get(name)?.kind === "const") return undefined;
    if (graphInputs.has(name)) return name;
    const p = producers.get(name);
    if (!p) return outerOrigin?.(name);
    for (const i of readsOf(p)) {
      const o = origin(i, seen);
      if (o) return o;
    }
    return undefined;
  };
  share?.((name) => origin(name));
  const scope: Scope = {
    origin: (name) => origin(name),
    ...shared,
    lower(sub, prefix, binds, constPrefix) {
      const scoped = scopeGraph(sub, prefix, constPrefix ?? prefix);
      const child = new Env(env);
      for (const [name, c] of scoped.initializers) child.set(name, { kind: "const", c, name });
      if (binds.length !== scoped.inputs.length)
        throw new ConvertError(
          `${file}: subgraph ${prefix} takes ${scoped.inputs.length} inputs, the node passes ${binds.length}`,
        );
      for (const [k, vi] of scoped.inputs.entries()) child.set(vi.name, binds[k]);
      let inner: ((name: string) => string | undefined) | undefined;
      const steps = lowerNodes(ctx, scoped, child, file, shared, origin, (o) => {
        inner = o;
      });
      while (!steps.next().done);
      const outputs = scoped.outputs.map((o) => {
        const v = child.get(o.name);
        if (!v) throw new ConvertError(`${file}: subgraph output '${o.name}' is never produced`);
        return v;
      });
      return { outputs, origin: (k: number) => inner?.(scoped.outputs[k].name) };
    },
  };
  for (let i = 0; i < g.nodes.length; i++) {
    const n = g.nodes[i];
    if (!fusions.skip.has(n)) lowerNode(n, i);
    for (const name of dying.get(i) ?? []) env.drop(name);
    yield { done: i + 1, total: g.nodes.length };
  }
  function lowerNode(n: ONode, i: number) {
    const where = `${file}: node '${n.name}' (${n.op}, #${i})`;
    const ins = n.inputs.map((name) => (name ? env.get(name) : undefined));
    const val = (name?: string) => (name ? env.get(name) : undefined);
    let outs: Val[];
    const conv = fusions.convBn.get(n);
    const mm = fusions.matmulBias.get(n);
    const ln = fusions.layerNorm.get(n);
    if (conv) {
      const cw = `${file}: node '${conv.name}' (Conv+BatchNormalization, #${i})`;
      outs = lowerConv(
        ctx,
        { ...conv, outputs: n.outputs },
        conv.inputs.map(val),
        bnParamsOf(n, ins, where),
        cw,
      );
    } else if (mm) {
      const mw = `${file}: node '${mm.matmul.name}' (MatMul+Add, #${i})`;
      const mins = mm.matmul.inputs.map(val);
      const bias = env.get(mm.biasInput)!;
      const mmShape = matmulShape(mins);
      const full = broadcastShapes([mmShape, shapeOf(bias)], mw);
      if (full.length === mmShape.length && full.every((d, k) => d === mmShape[k])) {
        outs = lowerMatMul(ctx, { ...mm.matmul, outputs: n.outputs }, mins, bias, mw);
      } else {
        // The bias would broadcast the product to a bigger shape: keep two nodes.
        const prod = lowerMatMul(ctx, mm.matmul, mins, undefined, mw)[0];
        outs = HANDLERS.Add(
          ctx,
          n,
          n.inputs.map((x) => (x === mm.matmul.outputs[0] ? prod : val(x))),
          where,
        );
      }
    } else if (ln) {
      const epsV = val(ln.eps);
      const eps = epsV?.kind === "const" ? epsV.c.data[0] : 1e-5;
      const x = env.get(ln.x)!;
      const rank = shapeOf(x).length;
      const axesV = val(ln.mean.inputs[1]);
      const axes =
        (ln.mean.attrs.axes as number[] | undefined) ??
        (axesV?.kind === "const" ? Array.from(axesV.c.data) : [-1]);
      const axis = Math.min(...axes.map((a) => (a < 0 ? a + rank : a)));
      const lnNode: ONode = {
        ...ln.mean,
        name: `${ln.mean.name}..${n.name}`,
        op: "LayerNormalization(fused)",
        outputs: n.outputs,
      };
      outs = layerNormK(ctx, lnNode, x, val(ln.scale), val(ln.bias), axis, eps, where);
    } else if (CONTROL_HANDLERS[n.op]) {
      const missing = n.inputs.find((name, k) => name && !ins[k]);
      if (missing) throw new ConvertError(`${where}: input '${missing}' is not defined before use`);
      outs = CONTROL_HANDLERS[n.op](ctx, n, ins, where, scope);
    } else {
      const h = HANDLERS[n.op];
      if (!h)
        throw new ConvertError(`${file}: unsupported op '${n.op}' at node '${n.name}' (#${i})`, {
          file,
          node: i,
          nodeName: n.name,
          op: n.op,
        });
      const missing = n.inputs.find((name, k) => name && !ins[k]);
      if (missing) throw new ConvertError(`${where}: input '${missing}' is not defined before use`);
      outs = h(ctx, n, ins, where);
    }
    const outNames = n.outputs;
    outNames.forEach((name, k) => {
      if (!name || !outs[k]) return;
      env.set(name, outs[k]);
      if (outs[k].kind === "const") folded.add(name);
    });
  }
}

function manifestOf(
  low: Lowered,
  g: OGraph,
  file: string,
  opts: ConvertOptions,
  offsets: number[],
  roots: Hash[],
): Manifest {
  const { pruned } = low;
  return {
    format: FORMAT,
    name: opts.name ?? basename(file).replace(/\.onnx$/, ""),
    fracBits: 16,
    activations: pruned.activations,
    inputs: low.inputSlots.map(pruned.map),
    outputs: low.outSlots.map(pruned.map),
    weights: pruned.weights.map((w, k) => ({ ...w.info, offset: offsets[k], root: toHex(roots[k]) })),
    nodes: pruned.nodes,
    modelRoot: toHex(modelRoot(roots)),
    maxSteps: opts.stepBudget ?? DEFAULT_STEP_BUDGET,
    source: {
      file: basename(file),
      opset: g.opset,
      producer: g.producer,
      ...(opts.sourceSha256 ? { sha256: opts.sourceSha256 } : {}),
    },
  };
}

/** weights.bin offsets of tensors of these element counts (packWeights' layout: 32-byte aligned). */
function alignedOffsets(lengths: number[]): { offsets: number[]; size: number } {
  const offsets: number[] = [];
  let size = 0;
  for (const n of lengths) {
    offsets.push(size);
    size += align32(4 * n);
  }
  return { offsets, size };
}
const align32 = (bytes: number) => Math.ceil(bytes / 32) * 32;

/** Converts in memory: the package with every weight tensor held (fixtures, conformance, tests). */
export function convertGraph(g: OGraph, file: string, opts: ConvertOptions = {}): ModelPackage {
  const steps = lowerSteps(g, file, opts);
  let r = steps.next();
  while (!r.done) r = steps.next();
  const low = r.value;
  const weights = low.pruned.weights.map((w) => w.data!);
  const { offsets } = alignedOffsets(weights.map((w) => w.length));
  const manifest = manifestOf(
    low,
    g,
    file,
    opts,
    offsets,
    weights.map((w) => tensorRoot(w)),
  );
  return { manifest, weights };
}

export interface StreamOptions extends ConvertOptions {
  /** Replace an existing output directory (only once the new package is complete). */
  force?: boolean;
  /** Called after each ONNX node with the count done and the weight bytes written so far. */
  onProgress?: (p: LowerProgress & { weightBytes: number }) => void;
  /**
   * Runs on the complete package in its temporary directory before it is renamed into place
   * (loading, fidelity); a throw discards the package.
   */
  check?: (tmpDir: string, manifest: Manifest) => Promise<void> | void;
}

/**
 * Converts straight to a package directory, holding no more than one weight tensor at a time:
 * each is quantized, hashed and appended to weights.bin as lowering makes it. Everything is
 * written to a temporary sibling of `outDir` that replaces it only when complete and checked; any
 * failure (or SIGINT/SIGTERM) removes it and leaves an existing `outDir` as it was.
 */
export async function convertToPackage(
  g: OGraph,
  file: string,
  outDir: string,
  opts: StreamOptions = {},
): Promise<Manifest> {
  return withTempDir(outDir, opts.force ?? false, async (tmp) => {
    const out = new WeightFile(join(tmp, "weights.bin"));
    try {
      const steps = lowerSteps(g, file, opts, (k, _info, data) => out.add(k, data));
      let r = steps.next();
      let yielded = Date.now();
      let collected = 0;
      while (!r.done) {
        opts.onProgress?.({ ...r.value, weightBytes: out.bytes });
        if (out.bytes - collected >= GC_EVERY) {
          await collectGarbage(); // the decoded, transposed and quantized copies of what was written
          collected = out.bytes;
          yielded = Date.now();
        } else if (Date.now() - yielded > 100) {
          // Let signals and timers in now and then: lowering a big model takes a while.
          await new Promise((res) => setImmediate(res));
          yielded = Date.now();
        }
        r = steps.next();
      }
      const low = r.value;
      const offsets = out.finish(low.pruned.weightOrder);
      const roots = low.pruned.weightOrder.map((k) => out.roots[k]);
      const manifest = manifestOf(low, g, file, opts, offsets, roots);
      writeFileSync(join(tmp, "manifest.json"), `${JSON.stringify(manifest, null, 1)}\n`);
      await opts.check?.(tmp, manifest);
      return manifest;
    } finally {
      out.close();
    }
  });
}

/** Weight bytes written between forced collections while streaming. */
const GC_EVERY = 32 << 20;

/**
 * weights.bin written tensor by tensor in creation order (each at a 32-byte-aligned offset, the
 * gaps zero), keeping only each tensor's place and root. finish() rewrites it in the pruned
 * order when pruning dropped or reordered tensors, so the file equals packWeights' bytes.
 */
class WeightFile {
  readonly roots: Hash[] = [];
  private readonly at: { offset: number; length: number }[] = [];
  private fd: number | undefined;
  bytes = 0;
  constructor(private readonly path: string) {
    this.fd = openSync(path, "w+"); // read back by finish() when it compacts
  }

  add(k: number, data: Int32Array): void {
    if (k !== this.at.length) throw new Error(`weight ${k} made out of order`);
    const bytes = tensorBytes(data); // the little-endian words the root commits to
    writeAll(this.fd!, bytes, this.bytes);
    this.roots.push(tensorRoot(data));
    this.at.push({ offset: this.bytes, length: data.length });
    this.bytes += align32(bytes.length);
  }

  /** Lays out the kept tensors (`order`: indices in creation order); returns their offsets. */
  finish(order: number[]): number[] {
    const { offsets, size } = alignedOffsets(order.map((k) => this.at[k].length));
    if (order.length === this.at.length && order.every((k, i) => k === i)) {
      ftruncateSync(this.fd!, size); // the last tensor's padding
      return offsets;
    }
    const part = `${this.path}.part`;
    const dst = openSync(part, "w");
    try {
      const chunk = Buffer.allocUnsafe(1 << 24);
      order.forEach((k, i) => {
        const { offset, length } = this.at[k];
        for (let done = 0; done < 4 * length; ) {
          const n = readSync(this.fd!, chunk, 0, Math.min(chunk.length, 4 * length - done), offset + done);
          writeAll(dst, chunk.subarray(0, n), offsets[i] + done);
          done += n;
        }
      });
      ftruncateSync(dst, size);
    } finally {
      closeSync(dst);
    }
    this.close();
    renameSync(part, this.path);
    return offsets;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

let gc: (() => void) | undefined;
/**
 * A full garbage collection, then a turn of the event loop (V8 frees big buffers in a task after
 * the collection). Used between phases and after big tensors: V8's own heuristics let hundreds of
 * MB of dead tensors pile up, which is the difference between a bounded converter and not.
 */
export async function collectGarbage(): Promise<void> {
  if (!gc) {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
  await new Promise((res) => setTimeout(res, 0));
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.length; )
    done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}

/** Output shape of MatMul (numpy semantics), to decide whether a bias fuses. */
function matmulShape(ins: (Val | undefined)[]): number[] {
  const a = shapeOf(ins[0]!);
  const b = shapeOf(ins[1]!);
  const as = a.length === 1 ? [1, a[0]] : a;
  const bs = b.length === 1 ? [b[0], 1] : b;
  const batch = broadcastShapes([as.slice(0, -2), bs.slice(0, -2)], "MatMul");
  const full = [...batch, as[as.length - 2], bs[bs.length - 1]];
  return full.filter(
    (_, i) => !(a.length === 1 && i === full.length - 2) && !(b.length === 1 && i === full.length - 1),
  );
}

/** Writes an in-memory package (manifest.json + weights.bin) atomically, like convertToPackage. */
export function writePackage(pkg: ModelPackage, outDir: string, force = false): void {
  const { dir, tmp } = tempSibling(outDir, force);
  try {
    writeFileSync(join(tmp, "weights.bin"), packWeights(pkg.weights).bytes);
    writeFileSync(join(tmp, "manifest.json"), `${JSON.stringify(pkg.manifest, null, 1)}\n`);
    replaceDir(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The files a model package directory holds (the verified-root record included, §3.1). */
const PACKAGE_FILES = new Set(["manifest.json", "weights.bin", ".opml-roots.json"]);

/**
 * Why `--force` must not replace `dir` (undefined if it may): it is not a directory (a file, a
 * link), it is the working directory or holds it, it is not a model package (no manifest.json of
 * the package format), or it holds files a package does not (they would be deleted).
 */
function notReplaceable(dir: string): string | undefined {
  const st = lstatSync(dir);
  if (st.isSymbolicLink()) return "is a symbolic link, not a directory";
  if (!st.isDirectory()) return "is a file, not a directory";
  const cwd = process.cwd();
  if (cwd === dir || cwd.startsWith(`${dir}${sep}`)) return "is the working directory or holds it";
  let format: unknown;
  try {
    format = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"))?.format;
  } catch {
    format = undefined;
  }
  if (typeof format !== "string" || !format.startsWith("opml-model/"))
    return "is not a model package (no manifest.json of an opml model)";
  const other = readdirSync(dir).filter((f) => !PACKAGE_FILES.has(f));
  if (other.length > 0)
    return `holds files a model package does not (${other
      .slice(0, 3)
      .map((f) => `'${f}'`)
      .join(", ")}${other.length > 3 ? ", …" : ""})`;
  return undefined;
}

/** Refuses an existing `outDir` unless `force`; makes an empty temporary sibling of it. */
function tempSibling(outDir: string, force: boolean): { dir: string; tmp: string } {
  const dir = resolve(outDir);
  if (existsSync(dir) || isSymlink(dir)) {
    const why = notReplaceable(dir);
    if (why)
      throw new ConvertError(
        `${outDir}: ${why}; ${force ? "--force replaces only a model package directory" : "choose another --out"}`,
        { file: outDir, arg: force ? "--force" : "--out" },
      );
    if (!force)
      throw new ConvertError(`${outDir}: output directory already exists (use --force to replace it)`, {
        file: outDir,
        arg: "--force",
      });
  }
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  return { dir, tmp };
}

/** Renames `tmp` to `dir`; an existing `dir` is moved aside first and restored if that fails. */
function replaceDir(tmp: string, dir: string): void {
  if (!existsSync(dir)) {
    renameSync(tmp, dir);
    return;
  }
  const old = `${dir}.old-${process.pid}`;
  rmSync(old, { recursive: true, force: true });
  renameSync(dir, old);
  try {
    renameSync(tmp, dir);
  } catch (e) {
    renameSync(old, dir);
    throw e;
  }
  rmSync(old, { recursive: true, force: true });
}

/** Runs `fill` on a temporary sibling of `outDir` and renames it into place if it succeeds. */
async function withTempDir<T>(outDir: string, force: boolean, fill: (tmp: string) => Promise<T>): Promise<T> {
  const { dir, tmp } = tempSibling(outDir, force);
  const cleanup = () => rmSync(tmp, { recursive: true, force: true });
  // A signal ends the process where it stands; remove the partial package first, then die of it.
  const onSignal = (sig: NodeJS.Signals) => {
    cleanup();
    process.kill(process.pid, sig);
  };
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM"];
  for (const s of signals) process.once(s, onSignal);
  try {
    const r = await fill(tmp);
    replaceDir(tmp, dir);
    return r;
  } catch (e) {
    cleanup();
    throw e;
  } finally {
    for (const s of signals) process.removeListener(s, onSignal);
  }
}
