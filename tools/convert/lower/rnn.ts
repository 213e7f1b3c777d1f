// LSTM, GRU and RNN: unrolled over the (static) sequence into MATMUL, UNARY, BINARY, WHERE and COPY
// kernels, so the VM runs them bit-identically with no kernel of their own.
//
// X·W^T + Wb (+ Rb) for every step and direction is one MATMUL up front; one COPY (more when over the
// step budget) cuts it into per-step gate-group slices. Each step then costs one MATMUL per gate group
// (H_{t-1}·R^T with the slice as its bias), one activation per group (gates sharing an activation are
// activated together) and a COPY splitting the group into gates, plus the cell's elementwise update:
// an LSTM step is 10 kernels (16 with peepholes), a GRU step 9 (10 with linear_before_reset), an RNN
// step 2. Steps past a sequence's length keep the state with a WHERE; Y is zero there.
import { stepBound } from "../../../dnn/src/cost.js";
import { quantize } from "../../../dnn/src/fixed.js";
import { Binary, COPY_WORDS, Op, Unary } from "../../../dnn/src/opcodes.js";
import type { DType } from "../../../dnn/src/package.js";
import { type Const, ConvertError, type ONode } from "../onnx.js";
import { type CopyDesc, copyWords, numel } from "../views.js";
import {
  attrInt,
  attrStr,
  type Ctx,
  constOf,
  derived,
  type Handler,
  intsOf,
  isIntVal,
  kernel,
  mkConst,
  need,
  type OpDoc,
  shapeOf,
  type Val,
} from "./context.js";
import { binaryK, ELEMENTWISE_HANDLERS, unaryK } from "./elementwise.js";
import { matmulK } from "./linalg.js";

type Kind = "RNN" | "GRU" | "LSTM";

/** A sub-node of an RNN node: its own name and output names, so every kernel's tensors are distinct. */
const sub = (n: ONode, tag: string, outs = 1): ONode => ({
  ...n,
  name: `${n.name}#${tag}`,
  outputs: Array.from({ length: outs }, (_, i) => `${n.name}#${tag}${outs > 1 ? `:${i}` : ""}`),
});

// ---------- activations ----------

interface Act {
  name: string;
  alpha: number;
  beta: number;
}
/** The activation functions of the ONNX RNN ops we lower, with their alpha/beta defaults (as onnxruntime). */
const ACTS: Record<string, { alpha?: number; beta?: number }> = {
  relu: {},
  tanh: {},
  sigmoid: {},
  softsign: {},
  softplus: {},
  leakyrelu: { alpha: 0.01 },
  thresholdedrelu: { alpha: 1 },
  elu: { alpha: 1 },
  hardsigmoid: { alpha: 0.2, beta: 0.5 },
  affine: { alpha: 1, beta: 0 },
  scaledtanh: { alpha: 1, beta: 1 },
};
const ACT_NAMES =
  "Relu, Tanh, Sigmoid, Softsign, Softplus, LeakyRelu, ThresholdedRelu, Elu, HardSigmoid, Affine, ScaledTanh";
const DEFAULT_ACTS: Record<Kind, string[]> = {
  RNN: ["Tanh"],
  GRU: ["Sigmoid", "Tanh"],
  LSTM: ["Sigmoid", "Tanh", "Tanh"],
};

/** Per direction, the cell's activations (f; f, g; f, g, h), alpha/beta consumed in order. */
function activationsOf(n: ONode, kind: Kind, D: number, w: string): Act[][] {
  const per = DEFAULT_ACTS[kind].length;
  let names = Array.isArray(n.attrs.activations) ? (n.attrs.activations as string[]) : undefined;
  if (!names) names = Array.from({ length: D }, () => DEFAULT_ACTS[kind]).flat();
  if (names.length === per && D === 2) names = [...names, ...names];
  if (names.length !== per * D)
    throw new ConvertError(
      `${w}: attribute activations has ${names.length} entries [${names.join(", ")}]; ${kind} with ${D} direction(s) needs ${per * D}`,
    );
  const alphas = Array.isArray(n.attrs.activation_alpha) ? (n.attrs.activation_alpha as number[]) : [];
  const betas = Array.isArray(n.attrs.activation_beta) ? (n.attrs.activation_beta as number[]) : [];
  let ai = 0;
  let bi = 0;
  const acts = names.map((name) => {
    const spec = ACTS[String(name).toLowerCase()];
    if (!spec)
      throw new ConvertError(
        `${w}: attribute activations names '${name}', which is not supported (supported: ${ACT_NAMES})`,
      );
    const alpha = spec.alpha === undefined ? 0 : ai < alphas.length ? alphas[ai++] : spec.alpha;
    const beta = spec.beta === undefined ? 0 : bi < betas.length ? betas[bi++] : spec.beta;
    return { name: String(name).toLowerCase(), alpha, beta };
  });
  return Array.from({ length: D }, (_, d) => acts.slice(d * per, (d + 1) * per));
}

const scalar = (v: number, name: string) => mkConst([], "float", [v], name);

/** Applies one activation: a single UNARY where the library has the function, else a short chain. */
function activate(ctx: Ctx, n: ONode, x: Val, a: Act, w: string): Val {
  const s = (t: string) => sub(n, t);
  switch (a.name) {
    case "relu":
      return unaryK(ctx, n, x, Unary.RELU, w);
    case "tanh":
      return unaryK(ctx, n, x, Unary.TANH, w);
    case "sigmoid":
      return unaryK(ctx, n, x, Unary.SIGMOID, w);
    case "softsign":
      return unaryK(ctx, n, x, Unary.SOFTSIGN, w);
    case "softplus":
      return unaryK(ctx, n, x, Unary.SOFTPLUS, w);
    case "leakyrelu":
      return unaryK(ctx, n, x, Unary.LEAKY, w, quantize(a.alpha));
    case "elu":
      return unaryK(ctx, n, x, Unary.ELU, w, quantize(a.alpha));
    case "hardsigmoid":
      return unaryK(ctx, n, x, Unary.HARDSIGMOID, w, quantize(a.alpha), quantize(a.beta));
    case "affine": {
      const m = binaryK(ctx, s("mul"), x, scalar(a.alpha, `rnn:alpha=${a.alpha}`), Binary.MUL, w);
      return binaryK(ctx, n, m, scalar(a.beta, `rnn:beta=${a.beta}`), Binary.ADD, w);
    }
    case "scaledtanh": {
      const m = binaryK(ctx, s("mul"), x, scalar(a.beta, `rnn:beta=${a.beta}`), Binary.MUL, w);
      const t = unaryK(ctx, s("tanh"), m, Unary.TANH, w);
      return binaryK(ctx, n, t, scalar(a.alpha, `rnn:alpha=${a.alpha}`), Binary.MUL, w);
    }
    case "thresholdedrelu": {
      const c = binaryK(ctx, s("gt"), x, scalar(a.alpha, `rnn:alpha=${a.alpha}`), Binary.GT, w, "i32");
      const zero = mkConst(shapeOf(x), "float", new Float64Array(numel(shapeOf(x))), "rnn:zeros");
      return ELEMENTWISE_HANDLERS.Where(ctx, n, [c, x, zero], w)[0];
    }
  }
  throw new ConvertError(`${w}: activation '${a.name}' is not supported`);
}

// ---------- COPY helpers ----------

function copyNode(
  ctx: Ctx,
  n: ONode,
  inputs: Val[],
  descs: CopyDesc[],
  outShapes: number[][],
  dtype: DType,
  w: string,
  fill = 0,
): Val[] {
  const words = descs.flatMap((d) => copyWords(d, w));
  const params = [fill > 0 ? 1 : 0, 0, fill, words.length / COPY_WORDS, ...words];
  return kernel(ctx, n, { op: Op.COPY, params, inputs, outShapes, outDtype: dtype }, w);
}

/**
 * Many outputs cut from one input: as few COPY nodes as keep each under the step budget (each
 * output's own bound is summed, an over-estimate of the joint one).
 */
function sliceMany(
  ctx: Ctx,
  n: ONode,
  x: Val,
  outs: { shape: number[]; descs: Omit<CopyDesc, "dst" | "src">[] }[],
  w: string,
): Val[] {
  const budget = ctx.budget?.steps ?? Number.POSITIVE_INFINITY;
  const cost = outs.map((o) => {
    const words = o.descs.flatMap((d) => copyWords({ ...d, src: 0, dst: 0 }, w));
    return stepBound(Op.COPY, [0, 0, 0, words.length / COPY_WORDS, ...words]);
  });
  const result: Val[] = [];
  let start = 0;
  let part = 0;
  while (start < outs.length) {
    let end = start + 1;
    let sum = cost[start];
    while (end < outs.length && sum + cost[end] <= budget) sum += cost[end++];
    const group = outs.slice(start, end);
    const descs = group.flatMap((o, k) => o.descs.map((d) => ({ ...d, src: 0, dst: k })));
    const node = sub(n, `slices${part++}`, group.length);
    result.push(
      ...copyNode(
        ctx,
        node,
        [x],
        descs,
        group.map((o) => o.shape),
        "q16",
        w,
      ),
    );
    start = end;
  }
  return result;
}

// ---------- the cell ----------

const GATES: Record<Kind, number> = { RNN: 1, GRU: 3, LSTM: 4 };
// ONNX gate order in W, R, B: LSTM i, o, f, c; GRU z, r, h; RNN i.
const [Li, Lo, Lf, Lc] = [0, 1, 2, 3];
const [Gz, Gr, Gh] = [0, 1, 2];

/** One group of gates computed by one MATMUL per step and activated together. */
interface Group {
  gates: number[];
}

function groupsOf(kind: Kind, peep: boolean, inputForget: boolean): Group[] {
  if (kind === "RNN") return [{ gates: [0] }];
  if (kind === "GRU") return [{ gates: [Gz, Gr] }, { gates: [Gh] }];
  const i = inputForget ? [Li] : [Li, Lf];
  if (peep) return [{ gates: i }, { gates: [Lc] }, { gates: [Lo] }];
  return [{ gates: [...i, Lo] }, { gates: [Lc] }];
}

function rows(c: Const, d: number, perDir: number, rowLen: number, gates: number[], H: number): Float64Array {
  const out = new Float64Array(gates.length * H * rowLen);
  gates.forEach((g, k) => {
    const from = d * perDir + g * H * rowLen;
    out.set(c.data.subarray(from, from + H * rowLen), k * H * rowLen);
  });
  return out;
}

function lowerRnn(kind: Kind, ctx: Ctx, n: ONode, ins: (Val | undefined)[], w: string): Val[] {
  const G = GATES[kind];
  // Names of derived constants (weights dedupe by name): an output name is unique in the graph.
  const id = n.outputs.find((o) => o) || n.name;
  const x = need(ins[0], 0, n, w);
  const Wc = constOf(ins[1], "input W", w);
  const Rc = constOf(ins[2], "input R", w);
  const Bc = ins[3] ? constOf(ins[3], "input B", w) : undefined;
  const direction = attrStr(n, "direction", "forward");
  if (!["forward", "reverse", "bidirectional"].includes(direction))
    throw new ConvertError(
      `${w}: attribute direction '${direction}' is not one of forward, reverse, bidirectional`,
    );
  const D = direction === "bidirectional" ? 2 : 1;
  const layout = attrInt(n, "layout", 0);
  if (layout !== 0 && layout !== 1) throw new ConvertError(`${w}: attribute layout ${layout} is not 0 or 1`);
  const xs = shapeOf(x);
  if (xs.length !== 3) throw new ConvertError(`${w}: X must have rank 3 (got [${xs}])`);
  const [T, B, I] = layout === 0 ? xs : [xs[1], xs[0], xs[2]];
  const H = attrInt(n, "hidden_size", Rc.shape[2]);
  const same = (s: number[], want: number[]) => s.length === want.length && s.every((v, i) => v === want[i]);
  if (!same(Wc.shape, [D, G * H, I]))
    throw new ConvertError(`${w}: W has shape [${Wc.shape}], expected [${[D, G * H, I]}]`);
  if (!same(Rc.shape, [D, G * H, H]))
    throw new ConvertError(`${w}: R has shape [${Rc.shape}], expected [${[D, G * H, H]}]`);
  if (Bc && !same(Bc.shape, [D, 2 * G * H]))
    throw new ConvertError(`${w}: B has shape [${Bc.shape}], expected [${[D, 2 * G * H]}]`);
  const clip = typeof n.attrs.clip === "number" ? (n.attrs.clip as number) : undefined;
  if (clip !== undefined && !(clip > 0))
    throw new ConvertError(`${w}: attribute clip ${clip} must be positive`);
  const lbr = kind === "GRU" ? attrInt(n, "linear_before_reset", 0) : 0;
  if (lbr !== 0 && lbr !== 1)
    throw new ConvertError(`${w}: attribute linear_before_reset ${lbr} is not 0 or 1`);
  const inputForget = kind === "LSTM" && attrInt(n, "input_forget", 0) === 1;
  const acts = activationsOf(n, kind, D, w);

  // sequence_lens: a constant fixes the masks at conversion; a runtime one (forward only: reverse
  // reads each sequence from its own end) is compared with the step number in the graph.
  let lens = new Array(B).fill(T);
  let runLens: Extract<Val, { kind: "act" }> | undefined;
  if (ins[4] && ins[4].kind !== "const") {
    if (direction !== "forward")
      throw new ConvertError(
        `${w}: input sequence_lens must be a constant known at conversion time for direction '${direction}' (a runtime one works forward only)`,
      );
    if (!isIntVal(ins[4]) || numel(shapeOf(ins[4])) !== B)
      throw new ConvertError(`${w}: input sequence_lens must be an integer tensor of ${B} lengths`);
    runLens = { ...ins[4], shape: [B, 1] };
  } else if (ins[4]) {
    lens = intsOf(ins[4].c);
    if (lens.length !== B || lens.some((l) => l < 1 || l > T))
      throw new ConvertError(`${w}: sequence_lens [${lens}] must hold ${B} lengths in 1..${T}`);
  }
  const steps = Math.max(...lens);

  // Peepholes P = [D, 3H] in order i, o, f; an all-zero P is none.
  const Pc = kind === "LSTM" && ins[7] ? constOf(ins[7], "input P", w) : undefined;
  if (Pc && !same(Pc.shape, [D, 3 * H]))
    throw new ConvertError(`${w}: P has shape [${Pc.shape}], expected [${[D, 3 * H]}]`);
  const peep = !!Pc && Pc.data.some((v) => v !== 0);
  const groups = groupsOf(kind, peep, inputForget);
  const used = groups.flatMap((g) => g.gates);
  const GU = used.length;

  // ---- X·W^T + bias for all steps and directions: [rows, D·GU·H], row = t·B + b (layout 1: b·T + t).
  const NC = D * GU * H;
  const wAll = new Float64Array(NC * I);
  const bAll = new Float64Array(NC);
  for (let d = 0; d < D; d++) {
    wAll.set(rows(Wc, d, G * H * I, I, used, H), d * GU * H * I);
    if (Bc) {
      used.forEach((g, k) => {
        for (let j = 0; j < H; j++) {
          const wb = Bc.data[d * 2 * G * H + g * H + j];
          // GRU with linear_before_reset keeps Rb_h inside the reset product (added per step).
          const rb = kind === "GRU" && lbr === 1 && g === Gh ? 0 : Bc.data[d * 2 * G * H + (G + g) * H + j];
          bAll[d * GU * H + k * H + j] = wb + rb;
        }
      });
    }
  }
  const hasBias = bAll.some((v) => v !== 0);
  const xw = matmulK(
    ctx,
    sub(n, "xw"),
    x,
    [T * B, I],
    false,
    derived({ shape: [NC, I], dtype: "float", data: wAll }, `${id}:W*`),
    [NC, I],
    true,
    hasBias ? derived({ shape: [NC], dtype: "float", data: bAll }, `${id}:B*`) : undefined,
    [T * B, NC],
    1,
    1,
    w,
  );
  const rowOf = (t: number, b: number) => (layout === 0 ? t * B + b : b * T + t);
  const rowStrideB = layout === 0 ? 1 : T;
  /** The time step direction d reads at step s for batch row b (reverse: within the row's length). */
  const timeOf = (d: number, s: number, b: number) => {
    const reverse = direction === "reverse" || d === 1;
    return reverse ? Math.max(0, lens[b] - 1 - s) : s;
  };
  const uniform = (d: number, s: number) => {
    const t0 = timeOf(d, s, 0);
    for (let b = 1; b < B; b++) if (timeOf(d, s, b) !== t0) return undefined;
    return t0;
  };
  const gShape = (k: number) => (k === 1 ? [B, H] : [B, k, H]);

  // ---- per-step slices of xw, one per (direction, step, group)
  const sliceSpecs: { shape: number[]; descs: Omit<CopyDesc, "dst" | "src">[] }[] = [];
  for (let d = 0; d < D; d++) {
    for (let s = 0; s < steps; s++) {
      let col = d * GU * H;
      for (const g of groups) {
        const kH = g.gates.length * H;
        const t = uniform(d, s);
        const descs =
          t !== undefined
            ? [
                {
                  dims: [B, kH],
                  srcOff: rowOf(t, 0) * NC + col,
                  srcStrides: [rowStrideB * NC, 1],
                  dstOff: 0,
                  dstStrides: [kH, 1],
                },
              ]
            : Array.from({ length: B }, (_, b) => ({
                dims: [kH],
                srcOff: rowOf(timeOf(d, s, b), b) * NC + col,
                srcStrides: [1],
                dstOff: b * kH,
                dstStrides: [1],
              }));
        sliceSpecs.push({ shape: gShape(g.gates.length), descs });
        col += kH;
      }
    }
  }
  const slices = sliceMany(ctx, n, xw, sliceSpecs, w);
  const sliceAt = (d: number, s: number, j: number) => slices[(d * steps + s) * groups.length + j];

  // ---- initial states, per direction [B, H]; undefined = zeros.
  const initial = (v: Val | undefined, what: string): (Val | undefined)[] => {
    const none = new Array<Val | undefined>(D).fill(undefined);
    if (!v) return none;
    const want = layout === 0 ? [D, B, H] : [B, D, H];
    if (!same(shapeOf(v), want))
      throw new ConvertError(`${w}: ${what} has shape [${shapeOf(v)}], expected [${want}]`);
    const at = (d: number, b: number) => (layout === 0 ? (d * B + b) * H : (b * D + d) * H);
    if (v.kind === "const") {
      if (v.c.data.every((z) => z === 0)) return none;
      return Array.from({ length: D }, (_, d) => {
        const data = new Float64Array(B * H);
        for (let b = 0; b < B; b++) data.set(v.c.data.subarray(at(d, b), at(d, b) + H), b * H);
        return mkConst([B, H], "float", data, `${v.name}[${d}]`);
      });
    }
    const descs = Array.from({ length: D }, (_, d) => ({
      src: 0,
      dst: d,
      dims: [B, H],
      srcOff: at(d, 0),
      srcStrides: [at(0, 1) - at(0, 0), 1],
      dstOff: 0,
      dstStrides: [H, 1],
    }));
    return copyNode(
      ctx,
      sub(n, what, D),
      [v],
      descs,
      descs.map(() => [B, H]),
      "q16",
      w,
    );
  };
  const h0 = initial(ins[5], "initial_h");
  const c0 = kind === "LSTM" ? initial(ins[6], "initial_c") : [];

  // ---- constants per direction and group
  const Rg = (d: number, gates: number[], tag: string) =>
    derived(
      { shape: [gates.length * H, H], dtype: "float", data: rows(Rc, d, G * H * H, H, gates, H) },
      `${id}:R${d}${tag}`,
    );
  const peepOf = (d: number, gates: number[]) => {
    // P order i, o, f.
    const pIdx = (g: number) => (g === Li ? 0 : g === Lo ? 1 : 2);
    const data = new Float64Array(gates.length * H);
    gates.forEach((g, k) => {
      data.set((Pc as Const).data.subarray(d * 3 * H + pIdx(g) * H, d * 3 * H + (pIdx(g) + 1) * H), k * H);
    });
    return mkConst(gates.length === 1 ? [H] : [gates.length, H], "float", data, `${id}:P${d}[${gates}]`);
  };
  const clipped = (nd: ONode, v: Val) =>
    clip === undefined ? v : unaryK(ctx, nd, v, Unary.CLIP, w, quantize(-clip), quantize(clip));
  /** Splits a [B, k, H] group into its k gates. */
  const split = (nd: ONode, v: Val, k: number): Val[] => {
    if (k === 1) return [v];
    const descs = Array.from({ length: k }, (_, j) => ({
      src: 0,
      dst: j,
      dims: [B, H],
      srcOff: j * H,
      srcStrides: [k * H, 1],
      dstOff: 0,
      dstStrides: [H, 1],
    }));
    return copyNode(
      ctx,
      { ...nd, outputs: descs.map((_, j) => `${nd.outputs[0]}:${j}`) },
      [v],
      descs,
      descs.map(() => [B, H]),
      "q16",
      w,
    );
  };
  const mul = (tag: string, a: Val, b: Val) => binaryK(ctx, sub(n, tag), a, b, Binary.MUL, w);
  const add = (tag: string, a: Val, b: Val) => binaryK(ctx, sub(n, tag), a, b, Binary.ADD, w);
  const subt = (tag: string, a: Val, b: Val) => binaryK(ctx, sub(n, tag), a, b, Binary.SUB, w);
  /** Broadcast a [B, H] state over k gates ([B, 1, H]). */
  const over = (v: Val, k: number): Val =>
    k === 1
      ? v
      : v.kind === "act"
        ? { ...v, shape: [B, 1, H] }
        : derived({ ...v.c, shape: [B, 1, H] }, v.name);

  const hsOut: Val[][] = [];
  const hLast: (Val | undefined)[] = [];
  const cLast: (Val | undefined)[] = [];
  for (let d = 0; d < D; d++) {
    const [f, g, hAct] = acts[d];
    let h = h0[d];
    let c = kind === "LSTM" ? c0[d] : undefined;
    const R = groups.map((gr, j) => Rg(d, gr.gates, `g${j}`));
    const hsD: Val[] = [];
    for (let s = 0; s < steps; s++) {
      const tag = (t: string) => `d${d}s${s}.${t}`;
      /** Pre-activation of group j: H_{t-1}·R^T plus the step's slice. */
      const pre = (j: number, bias: Val = sliceAt(d, s, j)): Val => {
        const k = groups[j].gates.length;
        if (!h) return bias;
        // MATMUL sees the [B, k, H] group as its [B, k·H] output matrix (the same words).
        const flat: Val = bias.kind === "act" ? { ...bias, shape: [B, k * H] } : bias;
        return matmulK(
          ctx,
          sub(n, tag(`mm${j}`)),
          h,
          [B, H],
          false,
          R[j],
          [k * H, H],
          true,
          flat,
          [B, k * H],
          1,
          1,
          w,
          gShape(k),
        );
      };
      let hNew: Val;
      let cNew: Val | undefined;
      if (kind === "RNN") {
        hNew = activate(ctx, sub(n, tag("h")), clipped(sub(n, tag("clip")), pre(0)), f, w);
      } else if (kind === "GRU") {
        const zr = activate(ctx, sub(n, tag("zr")), clipped(sub(n, tag("clip0")), pre(0)), f, w);
        const [z, r] = split(sub(n, tag("zr.split")), zr, 2);
        let preH: Val;
        if (lbr === 0) {
          const hr = h ? mul(tag("rh"), r, h) : undefined;
          preH = hr
            ? matmulK(
                ctx,
                sub(n, tag("mm1")),
                hr,
                [B, H],
                false,
                R[1],
                [H, H],
                true,
                sliceAt(d, s, 1),
                [B, H],
                1,
                1,
                w,
              )
            : sliceAt(d, s, 1);
        } else {
          const rbh = new Float64Array(H);
          if (Bc) rbh.set(Bc.data.subarray(d * 2 * G * H + (G + Gh) * H, d * 2 * G * H + (G + Gh + 1) * H));
          const rb = rbh.some((v) => v !== 0) ? mkConst([H], "float", rbh, `${id}:Rbh${d}`) : undefined;
          const q = h
            ? matmulK(ctx, sub(n, tag("mm1")), h, [B, H], false, R[1], [H, H], true, rb, [B, H], 1, 1, w)
            : rb;
          preH = q ? add(tag("xh"), sliceAt(d, s, 1), mul(tag("rq"), r, q)) : sliceAt(d, s, 1);
        }
        const hh = activate(ctx, sub(n, tag("hh")), clipped(sub(n, tag("clip1")), preH), g, w);
        // H_t = (1 − z)⊙h̃ + z⊙H_{t−1} = h̃ + z⊙(H_{t−1} − h̃)
        hNew = h
          ? add(tag("h"), hh, mul(tag("zd"), z, subt(tag("d"), h, hh)))
          : subt(tag("h"), hh, mul(tag("zh"), z, hh));
      } else {
        // LSTM: groups [i, f, o] & [c]; with peepholes [i, f], [c], [o]; input_forget drops f (f = 1 − i).
        let p0 = pre(0);
        const k0 = groups[0].gates.length;
        if (peep && c) p0 = add(tag("pif"), p0, mul(tag("pcif"), over(c, k0), peepOf(d, groups[0].gates)));
        const a0 = activate(ctx, sub(n, tag("ifo")), clipped(sub(n, tag("clip0")), p0), f, w);
        const gates0 = split(sub(n, tag("ifo.split")), a0, k0);
        const it = gates0[0];
        const ft = inputForget ? subt(tag("f"), scalar(1, "rnn:one"), it) : gates0[1];
        const ct = activate(ctx, sub(n, tag("c~")), clipped(sub(n, tag("clip1")), pre(1)), g, w);
        const ic = mul(tag("ic"), it, ct);
        cNew = c ? add(tag("c"), mul(tag("fc"), ft, c), ic) : ic;
        let ot: Val;
        if (peep) {
          const p2 = add(tag("po"), pre(2), mul(tag("pco"), cNew, peepOf(d, [Lo])));
          ot = activate(ctx, sub(n, tag("o")), clipped(sub(n, tag("clip2")), p2), f, w);
        } else ot = gates0[gates0.length - 1];
        hNew = mul(tag("h"), ot, activate(ctx, sub(n, tag("hc")), cNew, hAct, w));
      }
      hsD.push(hNew);
      const valid = lens.map((l) => s < l);
      if (runLens) {
        // valid[b] = sequence_lens[b] > s, an integer [B, 1] mask made in the graph.
        const mask = binaryK(
          ctx,
          sub(n, tag("valid")),
          runLens,
          mkConst([], "int", [s], `${id}:step${s}`),
          Binary.GT,
          w,
          "i32",
        );
        const zero = mkConst([B, H], "float", new Float64Array(B * H), `${id}:zeros`);
        const hold = (t: string, nv: Val, old: Val | undefined) =>
          ELEMENTWISE_HANDLERS.Where(ctx, sub(n, tag(t)), [mask, nv, old ?? zero], w)[0];
        h = hold("hold.h", hNew, h);
        if (cNew) c = hold("hold.c", cNew, c);
      } else if (valid.every((v) => v)) {
        h = hNew;
        c = cNew;
      } else {
        // Rows past their length keep the state (WHERE on a constant [B, 1] mask).
        const mask = mkConst([B, 1], "int", valid.map(Number), `${id}:mask${s}`);
        const maskQ = mkConst([B, 1], "float", valid.map(Number), `${id}:maskq${s}`);
        const hold = (t: string, nv: Val, old: Val | undefined) =>
          old
            ? ELEMENTWISE_HANDLERS.Where(ctx, sub(n, tag(t)), [mask, nv, old], w)[0]
            : mul(tag(t), nv, maskQ);
        h = hold("hold.h", hNew, h);
        if (cNew) c = hold("hold.c", cNew, c);
      }
    }
    hsOut.push(hsD);
    hLast.push(h);
    cLast.push(c);
  }

  // ---- outputs
  const outs: Val[] = [];
  if (n.outputs[0]) {
    const shape = layout === 0 ? [T, D, B, H] : [B, T, D, H];
    const at = (t: number, d: number, b: number) =>
      layout === 0 ? ((t * D + d) * B + b) * H : ((b * T + t) * D + d) * H;
    const inputs: Val[] = [];
    const descs: CopyDesc[] = [];
    let partial = steps < T;
    for (let d = 0; d < D; d++) {
      for (let s = 0; s < steps; s++) {
        const src = inputs.length;
        inputs.push(hsOut[d][s]);
        const t = uniform(d, s);
        const valid = lens.map((l) => s < l);
        if (t !== undefined && valid.every((v) => v)) {
          descs.push({
            src,
            dst: 0,
            dims: [B, H],
            srcOff: 0,
            srcStrides: [H, 1],
            dstOff: at(t, d, 0),
            dstStrides: [B > 1 ? at(t, d, 1) - at(t, d, 0) : H, 1],
          });
        } else {
          partial = true;
          for (let b = 0; b < B; b++) {
            if (!valid[b]) continue;
            descs.push({
              src,
              dst: 0,
              dims: [H],
              srcOff: b * H,
              srcStrides: [1],
              dstOff: at(timeOf(d, s, b), d, b),
              dstStrides: [1],
            });
          }
        }
      }
    }
    if (runLens) {
      // Zero past each runtime length: one mask over all of Y (sequence_lens[b] > t), one WHERE.
      const raw = copyNode(ctx, sub(n, "Y.all"), inputs, descs, [shape], "q16", w)[0];
      const lensV: Val = { ...runLens, shape: layout === 0 ? [1, 1, B, 1] : [B, 1, 1, 1] };
      const tShape = layout === 0 ? [T, 1, 1, 1] : [1, T, 1, 1];
      const ts = mkConst(
        tShape,
        "int",
        Array.from({ length: T }, (_, t) => t),
        `${id}:steps`,
      );
      const mask = binaryK(ctx, sub(n, "Y.valid"), lensV, ts, Binary.GT, w, "i32");
      outs[0] = ELEMENTWISE_HANDLERS.Where(ctx, n, [mask, raw, scalar(0, "rnn:zero")], w)[0];
    } else outs[0] = copyNode(ctx, n, inputs, descs, [shape], "q16", w, partial ? numel(shape) : 0)[0];
  }
  const stateOut = (k: number, states: (Val | undefined)[], what: string) => {
    const shape = layout === 0 ? [D, B, H] : [B, D, H];
    const zero = mkConst([B, H], "float", new Float64Array(B * H), `${id}:zeros`);
    const inputs = states.map((v) => v ?? zero);
    const descs = inputs.map((_, d) => ({
      src: d,
      dst: 0,
      dims: [B, H],
      srcOff: 0,
      srcStrides: [H, 1],
      dstOff: layout === 0 ? d * B * H : d * H,
      dstStrides: [layout === 0 ? H : D * H, 1],
    }));
    const node: ONode = { ...n, name: `${n.name}#${what}`, outputs: [n.outputs[k]] };
    outs[k] = copyNode(ctx, node, inputs, descs, [shape], "q16", w)[0];
  };
  if (n.outputs[1]) stateOut(1, hLast, "Y_h");
  if (kind === "LSTM" && n.outputs[2]) stateOut(2, cLast, "Y_c");
  return outs;
}

const H: Record<string, Handler> = {};
H.RNN = (ctx, n, ins, w) => lowerRnn("RNN", ctx, n, ins, w);
H.GRU = (ctx, n, ins, w) => lowerRnn("GRU", ctx, n, ins, w);
H.LSTM = (ctx, n, ins, w) => lowerRnn("LSTM", ctx, n, ins, w);
export const RNN_HANDLERS = H;

const COMMON =
  "Unrolled over the static sequence: one MATMUL for X·W^T + Wb + Rb of every step and direction, COPY " +
  "slices of it per step, then per step one MATMUL per gate group (H·R^T + slice), one UNARY per " +
  "activation, BINARY updates; Y/Y_h/Y_c are COPY nodes. W, R, B and P must be constants, sequence_lens " +
  "too except forward (runtime: a GT mask and WHERE per step, 2 kernels more, 3 for LSTM); initial_h/initial_c may be runtime. Steps past a sequence's length keep the state (WHERE) and give Y = 0; " +
  "reverse runs each sequence backwards from its own last step. Activations: " +
  ACT_NAMES +
  " (Affine, ScaledTanh, ThresholdedRelu as 2–3 kernels); others are refused by name. clip bounds the gate " +
  "pre-activations (UNARY CLIP). Rounding: MatMul (one rounding per dot product), then the activations' " +
  "bounds (docs/NUMERICS.md §4); the error compounds over steps (see docs/NUMERICS.md, recurrent ops).";
export const RNN_DOCS: Record<string, OpDoc> = {
  RNN: {
    opsets: "7+",
    attrs: "direction, layout, hidden_size, activations, activation_alpha/beta, clip",
    notes: `2 kernels a step per direction. ${COMMON}`,
  },
  GRU: {
    opsets: "7+",
    attrs:
      "direction, layout, hidden_size, activations, activation_alpha/beta, clip, linear_before_reset 0/1",
    notes: `9 kernels a step per direction (10 with linear_before_reset). ${COMMON}`,
  },
  LSTM: {
    opsets: "7+",
    attrs:
      "direction, layout, hidden_size, activations, activation_alpha/beta, clip, input_forget, P (peepholes)",
    notes: `10 kernels a step per direction (16 with peepholes). ${COMMON}`,
  },
};
