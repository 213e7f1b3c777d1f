// Einsum: lowered onto the kernels other ops use. Per operand, a repeated index takes the diagonal
// (one strided COPY) and an index no one else needs is summed (REDUCE); operands are then contracted
// left to right, each pair as one MATMUL over [shared-kept, own-kept, summed] views (the MATMUL's
// transposed-operand strides absorb e.g. attention's bhid,bhjd->bhij; other orders get a transposing
// COPY); a final COPY transposes to the output order when needed.
import { COPY_WORDS, Op, Reduce } from "../../../dnn/src/opcodes.js";
import { ConvertError, type ONode } from "../onnx.js";
import { type CopyDesc, copyWords, numel, stridesOf } from "../views.js";
import {
  attrStr,
  type Ctx,
  type Handler,
  isIntVal,
  kernel,
  type OpDoc,
  shapeOf,
  type Val,
} from "./context.js";
import { reshapeTo, transposeView } from "./copy.js";
import { matmulK } from "./linalg.js";

/** A tensor with one index letter per axis. */
interface Term {
  v: Val;
  idx: string[];
}

interface Parsed {
  inputs: string[][];
  output: string[];
  size: Map<string, number>;
}

/** Parses the equation: explicit or implicit output, "..." as fresh letters aligned from the right. */
function parse(eq: string, shapes: number[][], w: string): Parsed {
  const bad = (why: string) => new ConvertError(`${w}: attribute equation '${eq}': ${why}`);
  const e = eq.replace(/\s+/g, "");
  const [lhs, rhs, ...rest] = e.split("->");
  if (rest.length) throw bad("more than one '->'");
  const terms = lhs.split(",");
  if (terms.length !== shapes.length)
    throw bad(`names ${terms.length} operand(s), the node has ${shapes.length} input(s)`);
  const ELL = (k: number) => String.fromCharCode(0x100 + k); // private letters for "..." axes
  const split = terms.map((t, i) => {
    const parts = t.split("...");
    if (parts.length > 2) throw bad(`operand ${i} has more than one '...'`);
    for (const p of parts)
      if (!/^[A-Za-z]*$/.test(p)) throw bad(`operand ${i} term '${t}' has a character that is not a letter`);
    const letters = parts.join("").length;
    const r = shapes[i].length;
    if (letters > r || (parts.length === 1 && letters !== r))
      throw bad(`operand ${i} term '${t}' has ${letters} indices for rank ${r}`);
    return { parts, k: r - letters };
  });
  const ellRank = Math.max(0, ...split.filter((x) => x.parts.length === 2).map((x) => x.k));
  // An operand's k "..." axes are the last k of the ellRank (aligned from the right).
  const ins = split.map(({ parts, k }) =>
    parts.length === 1
      ? [...parts[0]]
      : [...parts[0], ...Array.from({ length: k }, (_, j) => ELL(ellRank - k + j)), ...parts[1]],
  );
  const size = new Map<string, number>();
  ins.forEach((xs, i) => {
    xs.forEach((c, a) => {
      const d = shapes[i][a];
      const had = size.get(c);
      if (had !== undefined && had !== d) {
        const name = c.charCodeAt(0) >= 0x100 ? "a '...' axis" : `index '${c}'`;
        throw bad(`${name} has sizes ${had} and ${d} (broadcasting is not supported)`);
      }
      size.set(c, d);
    });
  });
  const ell = Array.from({ length: ellRank }, (_, j) => ELL(j));
  let output: string[];
  if (rhs === undefined) {
    const count = new Map<string, number>();
    for (const xs of ins) for (const c of xs) count.set(c, (count.get(c) ?? 0) + 1);
    output = [
      ...ell,
      ...[...count]
        .filter(([c, k]) => k === 1 && c.charCodeAt(0) < 0x100)
        .map(([c]) => c)
        .sort(),
    ];
  } else {
    const parts = rhs.split("...");
    if (parts.length > 2) throw bad("the output has more than one '...'");
    for (const p of parts)
      if (!/^[A-Za-z]*$/.test(p)) throw bad("the output has a character that is not a letter");
    output = parts.length === 1 ? [...rhs] : [...parts[0], ...ell, ...parts[1]];
    const seen = new Set<string>();
    for (const c of output) {
      if (seen.has(c)) throw bad(`output index '${c}' repeats`);
      seen.add(c);
      if (!size.has(c)) throw bad(`output index '${c}' is in no operand`);
    }
  }
  return { inputs: ins, output, size };
}

function sub(n: ONode, tag: string): ONode {
  return { ...n, name: `${n.name}#${tag}`, outputs: [`${n.outputs[0]}#${tag}`] };
}

/** Diagonal over repeated letters: one strided COPY. */
function diagonal(ctx: Ctx, n: ONode, t: Term, size: Map<string, number>, w: string): Term {
  const uniq = [...new Set(t.idx)];
  if (uniq.length === t.idx.length) return t;
  const st = stridesOf(shapeOf(t.v));
  const dims = uniq.map((c) => size.get(c)!);
  const srcStrides = uniq.map((c) => t.idx.reduce((a, x, i) => (x === c ? a + st[i] : a), 0));
  const desc: CopyDesc = {
    src: 0,
    dst: 0,
    dims,
    srcOff: 0,
    srcStrides,
    dstOff: 0,
    dstStrides: stridesOf(dims),
  };
  const words = copyWords(desc, w);
  const v = kernel(
    ctx,
    n,
    {
      op: Op.COPY,
      params: [0, 0, 0, words.length / COPY_WORDS, ...words],
      inputs: [t.v],
      outShapes: [dims],
      outDtype: "q16",
    },
    w,
  )[0];
  return { v, idx: uniq };
}

/** Reorders a term's axes (a COPY unless the order already matches). */
function permuteTo(ctx: Ctx, n: ONode, t: Term, order: string[], w: string): Term {
  if (order.every((c, i) => c === t.idx[i])) return t;
  const s = shapeOf(t.v);
  const perm = order.map((c) => t.idx.indexOf(c));
  return {
    v: transposeView(
      ctx,
      n,
      t.v,
      s,
      perm,
      perm.map((p) => s[p]),
      w,
    ),
    idx: order,
  };
}

/** Sums the given letters out (moved last, then one REDUCE). */
function sumOut(ctx: Ctx, n: ONode, t: Term, drop: string[], size: Map<string, number>, w: string): Term {
  if (!drop.length) return t;
  const keep = t.idx.filter((c) => !drop.includes(c));
  const p = permuteTo(ctx, sub(n, "perm"), t, [...keep, ...drop], w);
  const outShape = keep.map((c) => size.get(c)!);
  const v = kernel(
    ctx,
    n,
    {
      op: Op.REDUCE,
      params: [Reduce.SUM, numel(outShape), numel(drop.map((c) => size.get(c)!)), 1],
      inputs: [p.v],
      outShapes: [outShape],
      outDtype: "q16",
    },
    w,
  )[0];
  return { v, idx: keep };
}

const same = (a: string[], b: string[]) => a.length === b.length && a.every((c, i) => c === b[i]);

/** One MATMUL contracting two terms; the result is indexed [batch, leftFree, rightFree]. */
function contract(
  ctx: Ctx,
  n: ONode,
  a: Term,
  b: Term,
  needed: Set<string>,
  size: Map<string, number>,
  w: string,
): Term {
  const inB = new Set(b.idx);
  const batch = a.idx.filter((c) => inB.has(c) && needed.has(c));
  const red = a.idx.filter((c) => inB.has(c) && !needed.has(c));
  const left = a.idx.filter((c) => !inB.has(c));
  const right = b.idx.filter((c) => !a.idx.includes(c));
  const dim = (cs: string[]) => numel(cs.map((c) => size.get(c)!));
  const [Bt, M, K, N] = [dim(batch), dim(left), dim(red), dim(right)];
  // A as [batch, M, K] or (transposed strides) [batch, K, M]; B as [batch, K, N] or [batch, N, K].
  let aT = false;
  let aa = a;
  if (same(a.idx, [...batch, ...red, ...left]) && red.length && left.length) aT = true;
  else aa = permuteTo(ctx, sub(n, "a"), a, [...batch, ...left, ...red], w);
  let bT = false;
  let bb = b;
  if (same(b.idx, [...batch, ...right, ...red]) && red.length && right.length) bT = true;
  else bb = permuteTo(ctx, sub(n, "b"), b, [...batch, ...red, ...right], w);
  const pre = Bt > 1 ? [Bt] : [];
  const aShape = [...pre, ...(aT ? [K, M] : [M, K])];
  const bShape = [...pre, ...(bT ? [N, K] : [K, N])];
  const idx = [...batch, ...left, ...right];
  const v = matmulK(ctx, n, aa.v, aShape, aT, bb.v, bShape, bT, undefined, [...pre, M, N], 1, 1, w, [
    ...idx.map((c) => size.get(c)!),
  ]);
  return { v, idx };
}

const H: Record<string, Handler> = {};
H.Einsum = (ctx, n, ins, w) => {
  const xs = ins.filter((v): v is Val => !!v);
  const eq = attrStr(n, "equation", "");
  if (xs.length === 0) throw new ConvertError(`${w}: Einsum needs at least one input`);
  if (xs.some((v) => isIntVal(v)))
    throw new ConvertError(`${w}: attribute equation '${eq}': integer operands are not supported`);
  const { inputs, output, size } = parse(eq, xs.map(shapeOf), w);
  const firstSlot = ctx.activations.length;
  let k = 0;
  const step = () => sub(n, `${k++}`);
  const terms: Term[] = inputs.map((idx, i) => diagonal(ctx, step(), { v: xs[i], idx }, size, w));
  // Letters each operand alone holds and the output does not need: summed first.
  for (let i = 0; i < terms.length; i++) {
    const others = new Set([...output, ...terms.filter((_, j) => j !== i).flatMap((t) => t.idx)]);
    terms[i] = sumOut(
      ctx,
      step(),
      terms[i],
      terms[i].idx.filter((c) => !others.has(c)),
      size,
      w,
    );
  }
  let acc = terms[0];
  for (let i = 1; i < terms.length; i++) {
    const needed = new Set([...output, ...terms.slice(i + 1).flatMap((t) => t.idx)]);
    acc = contract(ctx, step(), acc, terms[i], needed, size, w);
    // A letter only the accumulated term still holds and nobody needs (e.g. ij,j-> with i dropped).
    const later = new Set([...output, ...terms.slice(i + 1).flatMap((t) => t.idx)]);
    acc = sumOut(
      ctx,
      step(),
      acc,
      acc.idx.filter((c) => !later.has(c)),
      size,
      w,
    );
  }
  acc = permuteTo(ctx, step(), acc, output, w);
  const outShape = output.map((c) => size.get(c)!);
  const v = acc.v;
  if (v.kind === "act" && v.slot >= firstSlot) {
    // The last kernel's output is the node's output: relabel it rather than copy it.
    ctx.activations[v.slot] = { ...ctx.activations[v.slot], name: n.outputs[0], shape: outShape };
    return [{ ...v, shape: outShape }];
  }
  return [reshapeTo(ctx, n, v, outShape, w)];
};
export const EINSUM_HANDLERS = H;

export const EINSUM_DOCS: Record<string, OpDoc> = {
  Einsum: {
    opsets: "12+",
    attrs: "equation (explicit or implicit output, '...' axes of equal sizes)",
    notes:
      "Repeated indices take a diagonal (COPY), indices only one operand holds are summed (REDUCE SUM), " +
      "operands contract left to right, one MATMUL per pair (transposed-operand strides where the order " +
      "allows, else a transposing COPY), and a final COPY orders the output. Covers attention " +
      "(bhid,bhjd->bhij; bhij,bhjd->bhid), bilinear (bn,anm,bm->ba), batch matmul, inner/outer products, " +
      "transpose, sums and diagonals (ii->i, bii->bi). Rounding: one per MATMUL (exact i64 dot product), " +
      "sums exact; with 3+ operands each intermediate is rounded once. Refused: broadcasting a size-1 " +
      "index against a larger one, integer operands.",
  },
};
