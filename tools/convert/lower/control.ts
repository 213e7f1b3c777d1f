// Control flow: If, Loop and Scan are lowered away at conversion time. A model package is a
// static list of kernels, so an If whose condition folds to a constant becomes its taken branch,
// and a Loop whose trip count and condition fold (or a Scan, whose length is a static shape) is
// unrolled: its body is lowered once per iteration. Anything that would need a data-dependent
// branch at run time is refused, naming the node and the input the condition depends on.
import { type Const, ConvertError, isGraph, type OGraph, type ONode } from "../onnx.js";
import { type CopyDesc, normAxis, numel, stridesOf } from "../views.js";
import { attrInt, attrInts, type Ctx, mkConst, type OpDoc, shapeOf, type Val } from "./context.js";
import { copyKernel } from "./copy.js";

/** Most iterations a Loop or Scan may unroll to (each is a copy of the body's kernels). */
export const MAX_UNROLL = 10_000;

/** What the main lowering loop lends a control-flow handler (convert.ts makes it). */
export interface Scope {
  /**
   * Lowers subgraph `g` into the current scope: its inputs bound to `binds`, its own names
   * prefixed by `prefix` (by `constPrefix` for initializers and Constant nodes, the same in every
   * iteration); returns its outputs and what each depends on (for error messages).
   */
  lower(g: OGraph, prefix: string, binds: Val[], constPrefix?: string): Lowered;
  /** The graph (or body) input that a non-constant value depends on, if one is found. */
  origin(name: string): string | undefined;
  /** A name prefix no other subgraph lowering has used ("If_3/" → "If_3#2/" when taken). */
  unique(prefix: string): string;
  /** Whether `name` is an input of the model (which --input-value can fix at conversion). */
  isModelInput(name: string): boolean;
}

export interface Lowered {
  outputs: Val[];
  /** The graph input (or body input) that non-constant output k depends on, if one is found. */
  origin(k: number): string | undefined;
}

export type ControlHandler = (
  ctx: Ctx,
  n: ONode,
  ins: (Val | undefined)[],
  where: string,
  scope: Scope,
) => Val[];

const H: Record<string, ControlHandler> = {};

function subgraph(n: ONode, attr: string, where: string): OGraph {
  const g = n.attrs[attr];
  if (!isGraph(g)) throw new ConvertError(`${where}: missing graph attribute '${attr}'`);
  return g;
}

/** A boolean/scalar constant's value, or a one-line error saying what it depends on. */
function foldedScalar(
  v: Val | undefined,
  origin: () => string | undefined,
  what: string,
  only: string,
  where: string,
  scope: Scope,
): number {
  if (!v) throw new ConvertError(`${where}: missing ${what}`);
  if (v.kind !== "const") {
    const o = origin();
    const why = o ? `depends on input '${o}'` : "is not known at conversion time";
    const hint = o && scope.isModelInput(o) ? ` (fix the input with --input-value ${o}=…)` : "";
    throw new ConvertError(`${where}: ${what} ${why}; ${only}${hint}`);
  }
  if (v.c.data.length !== 1)
    throw new ConvertError(`${where}: ${what} has ${v.c.data.length} elements, expected one`);
  return v.c.data[0];
}

/**
 * The outputs of a lowered subgraph renamed to the node's outputs: activations made by the
 * subgraph take the outer name (graph outputs keep their ONNX names in the manifest).
 */
function adopt(ctx: Ctx, n: ONode, outs: Val[], firstSlot: number): Val[] {
  return outs.map((v, k) => {
    const name = n.outputs[k];
    if (!name) return v;
    if (v.kind === "const") return { ...v, name };
    if (v.slot >= firstSlot) ctx.activations[v.slot] = { ...ctx.activations[v.slot], name };
    return v;
  });
}

H.If = (ctx, n, ins, where, scope) => {
  const only = "only If with a condition known at conversion time is supported";
  const c = foldedScalar(ins[0], () => scope.origin(n.inputs[0]), "condition", only, where, scope);
  const branch = c !== 0 ? "then" : "else";
  const g = subgraph(n, `${branch}_branch`, where);
  if (g.outputs.length !== n.outputs.length)
    throw new ConvertError(
      `${where}: ${branch}_branch has ${g.outputs.length} outputs, the node ${n.outputs.length}`,
    );
  const first = ctx.activations.length;
  const outs = scope.lower(g, scope.unique(`${n.name}/${branch}/`), []).outputs;
  return adopt(ctx, n, outs, first);
};

/** One tensor made of `parts` (all of one shape) stacked along a new axis. */
function stack(ctx: Ctx, n: ONode, parts: Val[], axis: number, out: string, where: string): Val {
  const s = shapeOf(parts[0]);
  for (const p of parts) {
    const ps = shapeOf(p);
    if (ps.length !== s.length || ps.some((d, i) => d !== s[i]))
      throw new ConvertError(
        `${where}: scan output '${out}' changes shape between iterations ([${s}] vs [${ps}])`,
      );
  }
  const ax = normAxis(axis, s.length + 1, where);
  const shape = [...s.slice(0, ax), parts.length, ...s.slice(ax)];
  if (parts.every((p) => p.kind === "const")) {
    const data = new Float64Array(numel(shape));
    const outer = numel(s.slice(0, ax));
    const inner = numel(s.slice(ax));
    parts.forEach((p, t) => {
      const src = (p as { c: Const }).c.data;
      for (let o = 0; o < outer; o++)
        for (let i = 0; i < inner; i++) data[(o * parts.length + t) * inner + i] = src[o * inner + i];
    });
    const dtype = (parts[0] as { c: Const }).c.dtype;
    return mkConst(shape, dtype, data, out);
  }
  const ost = stridesOf(shape);
  const dstStrides = ost.filter((_, i) => i !== ax);
  const descs: CopyDesc[] = parts.map((_, t) =>
    s.length === 0
      ? { src: t, dst: 0, dims: [1], srcOff: 0, srcStrides: [1], dstOff: t, dstStrides: [1] }
      : { src: t, dst: 0, dims: s, srcOff: 0, srcStrides: stridesOf(s), dstOff: t * ost[ax], dstStrides },
  );
  const node: ONode = { ...n, name: `${n.name}:${out}`, outputs: [out] };
  return copyKernel(ctx, node, parts, descs, [shape], where)[0];
}

/** Slices of `x` along `axis` (the axis removed), one per index, from one copy kernel. */
function unstack(ctx: Ctx, n: ONode, x: Val, axis: number, name: string, where: string): Val[] {
  const s = shapeOf(x);
  const ax = normAxis(axis, s.length, where);
  const len = s[ax];
  const part = s.filter((_, i) => i !== ax);
  const outs = Array.from({ length: len }, (_, t) => `${name}[${t}]`);
  if (x.kind === "const") {
    const outer = numel(s.slice(0, ax));
    const inner = numel(s.slice(ax + 1));
    return outs.map((o, t) => {
      const data = new Float64Array(outer * inner);
      for (let a = 0; a < outer; a++)
        for (let i = 0; i < inner; i++) data[a * inner + i] = x.c.data[(a * len + t) * inner + i];
      return mkConst(part, x.c.dtype, data, o);
    });
  }
  const st = stridesOf(s);
  const srcStrides = st.filter((_, i) => i !== ax);
  const descs: CopyDesc[] = outs.map((_, t) =>
    part.length === 0
      ? { src: 0, dst: t, dims: [1], srcOff: t, srcStrides: [1], dstOff: 0, dstStrides: [1] }
      : {
          src: 0,
          dst: t,
          dims: part,
          srcOff: t * st[ax],
          srcStrides,
          dstOff: 0,
          dstStrides: stridesOf(part),
        },
  );
  const node: ONode = { ...n, name: `${n.name}:${name}`, outputs: outs };
  return copyKernel(
    ctx,
    node,
    [x],
    descs,
    outs.map(() => part),
    where,
  );
}

H.Loop = (ctx, n, ins, where, scope) => {
  const only = "only Loop with a trip count and condition known at conversion time is supported";
  const body = subgraph(n, "body", where);
  const [, , ...init] = ins;
  const nCarried = init.length;
  const nScan = body.outputs.length - 1 - nCarried;
  if (body.inputs.length !== 2 + nCarried || nScan < 0)
    throw new ConvertError(
      `${where}: body has ${body.inputs.length} inputs and ${body.outputs.length} outputs for ${nCarried} loop-carried values`,
    );
  if (n.outputs.length > nCarried + nScan)
    throw new ConvertError(`${where}: ${n.outputs.length} outputs, the body makes ${nCarried + nScan}`);
  const tripGiven = !!n.inputs[0];
  const condGiven = !!n.inputs[1];
  const trips = tripGiven
    ? foldedScalar(ins[0], () => scope.origin(n.inputs[0]), "trip count", only, where, scope)
    : Number.POSITIVE_INFINITY;
  let cond = condGiven
    ? foldedScalar(ins[1], () => scope.origin(n.inputs[1]), "condition", only, where, scope) !== 0
    : true;
  const base = scope.unique(`${n.name}/`);
  const first = ctx.activations.length;
  let carried = init as Val[];
  const scans: Val[][] = Array.from({ length: nScan }, () => []);
  let i = 0;
  for (; i < trips && cond; i++) {
    if (i >= MAX_UNROLL)
      throw new ConvertError(
        `${where}: the loop runs over ${MAX_UNROLL} iterations (trip count ${tripGiven ? trips : "absent"}); unrolling is capped at ${MAX_UNROLL}`,
      );
    const binds = [
      mkConst([], "int", [i], `${base}${i}/iter`),
      mkConst([], "int", [cond ? 1 : 0], `${base}${i}/cond`),
      ...carried,
    ];
    const r = scope.lower(body, `${base}${i}/`, binds, base);
    const outs = r.outputs;
    carried = outs.slice(1, 1 + nCarried);
    for (const [k, v] of outs.slice(1 + nCarried).entries()) scans[k].push(v);
    // Without a cond input the body's condition output is ignored (a plain for loop).
    if (condGiven)
      cond =
        foldedScalar(outs[0], () => r.origin(0), `condition after iteration ${i}`, only, where, scope) !== 0;
  }
  if (nScan > 0 && i === 0)
    throw new ConvertError(`${where}: the loop runs no iteration, so its scan outputs would be empty`);
  const outs = [
    ...carried,
    ...scans.map((parts, k) => stack(ctx, n, parts, 0, n.outputs[nCarried + k] || `${base}scan${k}`, where)),
  ];
  return adopt(ctx, n, outs.slice(0, n.outputs.length), first);
};

interface ScanSpec {
  states: Val[];
  xs: Val[];
  inAxes: number[];
  inDirs: number[];
  outAxes: number[];
  outDirs: number[];
  /** Unique name prefix of this unrolling. */
  base: string;
  /** Outer names of the stacked outputs. */
  outNames: string[];
}

/** Unrolls a Scan body over its static sequence; returns the final states and stacked outputs. */
function unrollScan(ctx: Ctx, n: ONode, body: OGraph, sp: ScanSpec, where: string, scope: Scope): Val[] {
  const nState = sp.states.length;
  const nOut = body.outputs.length - nState;
  if (body.inputs.length !== nState + sp.xs.length || nOut < 0)
    throw new ConvertError(
      `${where}: body has ${body.inputs.length} inputs and ${body.outputs.length} outputs`,
    );
  const lens = sp.xs.map((x, j) => shapeOf(x)[normAxis(sp.inAxes[j] ?? 0, shapeOf(x).length, where)]);
  const len = lens[0];
  if (lens.some((l) => l !== len))
    throw new ConvertError(`${where}: scan inputs have different sequence lengths (${lens.join(", ")})`);
  if (len === 0)
    throw new ConvertError(`${where}: the sequence is empty, so the scan outputs would be empty`);
  if (len > MAX_UNROLL)
    throw new ConvertError(`${where}: the sequence has ${len} steps; unrolling is capped at ${MAX_UNROLL}`);
  const slices = sp.xs.map((x, j) => {
    const parts = unstack(ctx, n, x, sp.inAxes[j] ?? 0, `${sp.base}in${j}`, where);
    return sp.inDirs[j] === 1 ? parts.reverse() : parts;
  });
  let state = sp.states;
  const outs: Val[][] = Array.from({ length: nOut }, () => []);
  for (let t = 0; t < len; t++) {
    const r = scope.lower(body, `${sp.base}${t}/`, [...state, ...slices.map((s) => s[t])], sp.base).outputs;
    state = r.slice(0, nState);
    for (const [k, v] of r.slice(nState).entries()) outs[k].push(v);
  }
  const stacked = outs.map((parts, k) =>
    stack(
      ctx,
      n,
      sp.outDirs[k] === 1 ? parts.reverse() : parts,
      sp.outAxes[k] ?? 0,
      sp.outNames[k] || `${sp.base}out${k}`,
      where,
    ),
  );
  return [...state, ...stacked];
}

H.Scan = (ctx, n, ins, where, scope) => {
  const body = subgraph(n, "body", where);
  const nIn = attrInt(n, "num_scan_inputs", 0);
  const first = ctx.activations.length;
  const base = scope.unique(`${n.name}/`);
  if (ctx.opset >= 9) {
    const nState = ins.length - nIn;
    if (nIn <= 0 || nState < 0)
      throw new ConvertError(
        `${where}: attribute 'num_scan_inputs' is ${nIn}, the node has ${ins.length} inputs`,
      );
    const nOut = body.outputs.length - nState;
    const outs = unrollScan(
      ctx,
      n,
      body,
      {
        states: ins.slice(0, nState) as Val[],
        xs: ins.slice(nState) as Val[],
        inAxes: attrInts(n, "scan_input_axes") ?? new Array(nIn).fill(0),
        inDirs: attrInts(n, "scan_input_directions") ?? new Array(nIn).fill(0),
        outAxes: attrInts(n, "scan_output_axes") ?? new Array(Math.max(0, nOut)).fill(0),
        outDirs: attrInts(n, "scan_output_directions") ?? new Array(Math.max(0, nOut)).fill(0),
        base,
        outNames: n.outputs.slice(nState),
      },
      where,
      scope,
    );
    return adopt(ctx, n, outs, first);
  }
  // Scan-8: input 0 is the optional sequence_lens, every other input has a batch axis 0 and
  // scan inputs a sequence axis 1. Each batch row is scanned on its own, then restacked.
  const nState = ins.length - 1 - nIn;
  if (nIn <= 0 || nState < 0)
    throw new ConvertError(
      `${where}: attribute 'num_scan_inputs' is ${nIn}, the node has ${ins.length} inputs`,
    );
  const vals = ins.slice(1) as Val[];
  const batch = shapeOf(vals[0])[0];
  const seq = shapeOf(vals[nState])[1];
  if (ins[0]) {
    if (ins[0].kind !== "const" || ins[0].c.data.some((l) => l !== seq))
      throw new ConvertError(
        `${where}: sequence_lens must be a constant equal to the full sequence length ${seq} (a ragged batch is not supported)`,
      );
  }
  const rows = vals.map((v, j) => unstack(ctx, n, v, 0, `${base}b${j}`, where));
  const per: Val[][] = [];
  for (let b = 0; b < batch; b++) {
    per.push(
      unrollScan(
        ctx,
        n,
        body,
        {
          states: rows.slice(0, nState).map((r) => r[b]),
          xs: rows.slice(nState).map((r) => r[b]),
          inAxes: new Array(nIn).fill(0),
          inDirs: attrInts(n, "directions") ?? new Array(nIn).fill(0),
          outAxes: [],
          outDirs: [],
          base: `${base}b${b}/`,
          outNames: [],
        },
        where,
        scope,
      ),
    );
  }
  const outs = per[0].map((_, k) =>
    stack(
      ctx,
      n,
      per.map((r) => r[k]),
      0,
      n.outputs[k] || `${base}out${k}`,
      where,
    ),
  );
  return adopt(ctx, n, outs, first);
};

export const CONTROL_HANDLERS = H;

export const CONTROL_DOCS: Record<string, OpDoc> = {
  If: {
    opsets: "1+",
    attrs: "then_branch, else_branch",
    notes:
      "condition must fold to a constant at conversion time (once --input-shape fixes the dims, or --input-value fixes an input); the taken branch is inlined, no kernel of its own. Otherwise refused, naming the input the condition depends on",
  },
  Loop: {
    opsets: "1+",
    attrs: "body",
    notes: `unrolled: trip count and condition (input and the body's output each iteration) must fold to constants; at most ${MAX_UNROLL} iterations; scan outputs stacked by one COPY kernel. Sequence-typed loop values are not supported`,
  },
  Scan: {
    opsets: "8+",
    attrs:
      "body, num_scan_inputs, scan_input_axes, scan_input_directions, scan_output_axes, scan_output_directions; Scan-8: directions, sequence_lens only when equal to the full length",
    notes: `unrolled over the (static) sequence length, at most ${MAX_UNROLL} steps; inputs sliced and outputs stacked by COPY kernels (exact)`,
  },
};
