// Node splitting (docs/PROTOCOL.md §5.8): a kernel whose VM step bound (dnn/src/cost.ts) exceeds the
// step budget becomes sub-kernels over disjoint slices of its output, then one COPY that joins them.
// Constant operands (a MatMul's weight matrix, a bias) are pre-split into their own weight tensors,
// so the graph-level bisection already isolates one slice and the VM level never sees more than the
// budget: no new contract or game level is needed. Activation operands are sliced by COPY nodes.
//
// Every slice below is a contiguous range of an operand's words: a chunk is taken along the output's
// outermost axis of size > 1, and an operand that varies along that axis has it as its own outermost
// axis (the axes above it are 1), so its words for the chunk are contiguous.
import { stepBound } from "../../../dnn/src/cost.js";
import { COPY_WORDS, Op } from "../../../dnn/src/opcodes.js";
import type { DType } from "../../../dnn/src/package.js";
import type { Const, ONode } from "../onnx.js";
import { type CopyDesc, copyWords, numel } from "../views.js";
import { type Ctx, derived, isIntVal, type KSpec, kernel, shapeOf, type Val } from "./context.js";

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/** Largest u in 1..max with fits(u) (fits is monotone); 0 if even u = 1 does not fit. */
function largest(max: number, fits: (u: number) => boolean): number {
  if (!fits(1)) return 0;
  let lo = 1;
  let hi = max;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * As few chunks of at most `size` units as cover 0..total, balanced (sizes differ by at most
 * `multiple`, and each but the last is a multiple of it).
 */
function chunks(total: number, size: number, multiple = 1): [number, number][] {
  const count = Math.ceil(total / size);
  const even = Math.min(size, Math.ceil(total / count / multiple) * multiple);
  const out: [number, number][] = [];
  for (let s = 0; s < total; s += even) out.push([s, Math.min(total, s + even)]);
  return out;
}

const sub = (n: ONode, tag: string): ONode => ({ ...n, name: `${n.name}/${tag}`, outputs: [] });

/** Words [start, start+len) of an operand as a 1-D value: a const slice, or a COPY of an activation. */
function flatSlice(ctx: Ctx, n: ONode, v: Val, start: number, len: number, tag: string, where: string): Val {
  if (start === 0 && len === numel(shapeOf(v))) return v;
  if (v.kind === "const") {
    const c: Const = { shape: [len], dtype: v.c.dtype, data: v.c.data.subarray(start, start + len) };
    return derived(c, `${v.name}[${start}:${start + len}]`);
  }
  const desc: CopyDesc = {
    src: 0,
    dst: 0,
    dims: [len],
    srcOff: start,
    srcStrides: [1],
    dstOff: 0,
    dstStrides: [1],
  };
  const words = copyWords(desc, where);
  const spec: KSpec = {
    op: Op.COPY,
    params: [0, 0, 0, words.length / COPY_WORDS, ...words],
    inputs: [v],
    outShapes: [[len]],
    outDtype: v.dtype,
  };
  return kernel(ctx, sub(n, tag), spec, where)[0];
}

/** One COPY writing each part into the output (`descs[i]` places part i). */
function join(
  ctx: Ctx,
  n: ONode,
  parts: Val[],
  descs: CopyDesc[],
  shape: number[],
  dtype: DType,
  where: string,
): Val {
  const words = descs.flatMap((d) => copyWords(d, where));
  const spec: KSpec = {
    op: Op.COPY,
    params: [0, 0, 0, words.length / COPY_WORDS, ...words],
    inputs: parts,
    outShapes: [shape],
    outDtype: dtype,
    foldable: false,
  };
  return kernel(ctx, n, spec, where)[0];
}

/** Parts that are consecutive word ranges of the output. */
function joinFlat(ctx: Ctx, n: ONode, parts: Val[], shape: number[], dtype: DType, where: string): Val {
  let off = 0;
  const descs = parts.map((p, i): CopyDesc => {
    const len = numel(shapeOf(p));
    const d = { src: i, dst: 0, dims: [len], srcOff: 0, srcStrides: [1], dstOff: off, dstStrides: [1] };
    off += len;
    return d;
  });
  return join(ctx, n, parts, descs, shape, dtype, where);
}

/**
 * An elementwise kernel (BINARY, WHERE) in the 6-d view form: `dims` at `dimsAt` in the
 * parameters, then one stride list per input. Chunks along the first axis of size > 1; a chunk that
 * is still over the budget splits again (kernel() calls back here) along the next axis.
 */
function splitView(
  ctx: Ctx,
  n: ONode,
  spec: KSpec,
  where: string,
  budget: number,
  dimsAt: number,
): Val[] | undefined {
  const p = spec.params;
  const dims = p.slice(dimsAt, dimsAt + 6);
  const strides = spec.inputs.map((_, j) => p.slice(dimsAt + 6 * (j + 1), dimsAt + 6 * (j + 2)));
  const axis = dims.findIndex((d) => d > 1);
  if (axis < 0) return undefined;
  const withDim = (u: number) => {
    const q = p.slice();
    q[dimsAt + axis] = u;
    return q;
  };
  // The axis is split into chunks that fit; if even one index does not fit, chunks of one index
  // recurse into the next axis.
  const size = Math.max(
    1,
    largest(dims[axis], (u) => stepBound(spec.op, withDim(u)) <= budget),
  );
  if (size >= dims[axis]) return undefined;
  const inner = prod(dims.slice(axis + 1));
  const parts = chunks(dims[axis], size).map(([u0, u1], i) => {
    const ins = spec.inputs.map((v, j) => {
      const s = strides[j][axis];
      return s === 0 ? v : flatSlice(ctx, n, v, u0 * s, (u1 - u0) * s, `in${j}.${i}`, where);
    });
    const outShape = [(u1 - u0) * inner];
    return kernel(
      ctx,
      sub(n, `part${i}`),
      { ...spec, params: withDim(u1 - u0), inputs: ins, outShapes: [outShape] },
      where,
    )[0];
  });
  return [joinFlat(ctx, n, parts, spec.outShapes[0], spec.outDtype, where)];
}

/** Row-wise kernels (SOFTMAX, LAYERNORM with one output): chunks of the `outer` rows. */
function splitRows(ctx: Ctx, n: ONode, spec: KSpec, where: string, budget: number): Val[] | undefined {
  if (spec.outShapes.length !== 1) return undefined;
  const p = spec.params;
  const outer = p[0];
  const rowWords = spec.op === Op.SOFTMAX ? p[1] * p[2] : p[1];
  const withOuter = (u: number) => [u, ...p.slice(1)];
  const size = largest(outer, (u) => stepBound(spec.op, withOuter(u)) <= budget);
  if (size === 0 || size >= outer) return undefined;
  const parts = chunks(outer, size).map(([o0, o1], i) => {
    const x = flatSlice(ctx, n, spec.inputs[0], o0 * rowWords, (o1 - o0) * rowWords, `x.${i}`, where);
    return kernel(
      ctx,
      sub(n, `rows${i}`),
      {
        ...spec,
        params: withOuter(o1 - o0),
        inputs: [x, ...spec.inputs.slice(1)],
        outShapes: [[(o1 - o0) * rowWords]],
      },
      where,
    )[0];
  });
  return [joinFlat(ctx, n, parts, spec.outShapes[0], spec.outDtype, where)];
}

/** REDUCE (params fn, outer, red, inner): chunks of the `outer` rows, each red·inner words in, inner out. */
function splitReduce(ctx: Ctx, n: ONode, spec: KSpec, where: string, budget: number): Val[] | undefined {
  const [fn, outer, red, inner] = spec.params;
  const size = largest(outer, (u) => stepBound(Op.REDUCE, [fn, u, red, inner]) <= budget);
  if (size === 0 || size >= outer) return undefined;
  const parts = chunks(outer, size).map(([o0, o1], i) => {
    const x = flatSlice(ctx, n, spec.inputs[0], o0 * red * inner, (o1 - o0) * red * inner, `x.${i}`, where);
    const part = {
      ...spec,
      params: [fn, o1 - o0, red, inner],
      inputs: [x],
      outShapes: [[(o1 - o0) * inner]],
    };
    return kernel(ctx, sub(n, `rows${i}`), part, where)[0];
  });
  return [joinFlat(ctx, n, parts, spec.outShapes[0], spec.outDtype, where)];
}

// MATMUL parameter offsets (dnn/assembly/linalg.ts).
const MM = { M: 16, K: 17, N: 18, sAm: 19, sAk: 20, sBk: 21, sBn: 22, hasBias: 23, sCm: 24, sCn: 25 };

/**
 * MATMUL: over the first batch axis of size > 1; else over output columns when B is a constant
 * matrix (stored [N, K], so columns are rows of B, pre-split into separate weights); else over rows
 * of a contiguous A.
 */
function splitMatmul(ctx: Ctx, n: ONode, spec: KSpec, where: string, budget: number): Val[] | undefined {
  const p = spec.params;
  const [a, b] = spec.inputs;
  const bias = p[MM.hasBias] ? spec.inputs[2] : undefined;
  const M = p[MM.M];
  const K = p[MM.K];
  const N = p[MM.N];
  const batch = p.slice(0, 4);
  const outShape = spec.outShapes[0];
  const dtype = spec.outDtype;
  const bAx = batch.findIndex((d) => d > 1);
  if (bAx >= 0) {
    const bs = [4, 8, 12].map((at) => p[at + bAx]); // batch strides of A, B, bias on that axis
    const withB = (u: number) => {
      const q = p.slice();
      q[bAx] = u;
      return q;
    };
    const size = Math.max(
      1,
      largest(batch[bAx], (u) => stepBound(Op.MATMUL, withB(u)) <= budget),
    );
    const inner = prod(batch.slice(bAx + 1)) * M * N;
    const parts = chunks(batch[bAx], size).map(([u0, u1], i) => {
      const ins = spec.inputs.map((v, j) =>
        bs[j] === 0 ? v : flatSlice(ctx, n, v, u0 * bs[j], (u1 - u0) * bs[j], `in${j}.${i}`, where),
      );
      return kernel(
        ctx,
        sub(n, `batch${i}`),
        { ...spec, params: withB(u1 - u0), inputs: ins, outShapes: [[(u1 - u0) * inner]] },
        where,
      )[0];
    });
    return [joinFlat(ctx, n, parts, outShape, dtype, where)];
  }
  const withN = (u: number) => {
    const q = p.slice();
    q[MM.N] = u;
    return q;
  };
  const withM = (u: number) => {
    const q = p.slice();
    q[MM.M] = u;
    return q;
  };
  const biasByCol = !bias || (p[MM.sCm] === 0 && p[MM.sCn] <= 1);
  const bIsMatrix = b.kind === "const" && p[MM.sBk] === 1 && p[MM.sBn] === K && numel(b.c.shape) === N * K;
  // Column chunks whose width is a multiple of 4 keep the kernel's four-column blocking.
  // When even four columns are over budget, four-column chunks still go: kernel() splits each
  // again by rows.
  const colSize = Math.max(
    4,
    largest(Math.ceil(N / 4), (u) => stepBound(Op.MATMUL, withN(4 * u)) <= budget) * 4,
  );
  if (bIsMatrix && biasByCol && colSize < N) {
    const parts = chunks(N, colSize, 4).map(([c0, c1], i) => {
      const w = c1 - c0;
      const bc = b as { c: Const; name: string };
      const bPart = derived(
        { shape: [w, K], dtype: bc.c.dtype, data: bc.c.data.subarray(c0 * K, c1 * K) },
        `${bc.name}[${c0}:${c1}]`,
      );
      const ins = [a, bPart];
      if (bias) ins.push(p[MM.sCn] === 0 ? bias : flatSlice(ctx, n, bias, c0, w, `bias.${i}`, where));
      return kernel(
        ctx,
        sub(n, `cols${c0}`),
        { ...spec, params: withN(w), inputs: ins, outShapes: [[M, w]] },
        where,
      )[0];
    });
    // Chunk i holds columns c0..c1 of every row: one strided copy per chunk.
    const descs = chunks(N, colSize, 4).map(
      ([c0, c1], i): CopyDesc => ({
        src: i,
        dst: 0,
        dims: [M, c1 - c0],
        srcOff: 0,
        srcStrides: [c1 - c0, 1],
        dstOff: c0,
        dstStrides: [N, 1],
      }),
    );
    return [join(ctx, n, parts, descs, outShape, dtype, where)];
  }
  // Row-major A, an activation or a constant (e.g. Resize's interpolation matrix times an activation).
  const aRows = p[MM.sAm] === K && p[MM.sAk] === 1;
  // Bias words per output row: whole ([N] or scalar), N (a full [M, N] bias) or 1 (an [M, 1] bias).
  const biasRow =
    !bias || p[MM.sCm] === 0
      ? 0
      : p[MM.sCm] === N && p[MM.sCn] === 1
        ? N
        : p[MM.sCm] === 1 && p[MM.sCn] === 0
          ? 1
          : -1;
  const rowSize = largest(M, (u) => stepBound(Op.MATMUL, withM(u)) <= budget);
  if (aRows && biasRow >= 0 && rowSize > 0 && rowSize < M) {
    const parts = chunks(M, rowSize).map(([m0, m1], i) => {
      const ins = [flatSlice(ctx, n, a, m0 * K, (m1 - m0) * K, `a.${i}`, where), b];
      if (bias) {
        ins.push(
          biasRow === 0
            ? bias
            : flatSlice(ctx, n, bias, m0 * biasRow, (m1 - m0) * biasRow, `bias.${i}`, where),
        );
      }
      return kernel(
        ctx,
        sub(n, `rows${m0}`),
        { ...spec, params: withM(m1 - m0), inputs: ins, outShapes: [[(m1 - m0) * N]] },
        where,
      )[0];
    });
    return [joinFlat(ctx, n, parts, outShape, dtype, where)];
  }
  return undefined;
}

/**
 * CONV (params N, C, H, W, M, OH, OW, kH, kW, sH, sW, pT, pL, dH, dW, group, hasBias): sub-convs
 * over tiles of (batch items, output channels, output rows). A row range [r0, r1) reads only the
 * input rows start..end of its windows; a COPY cuts them (for the tile's batch items and input
 * channels) and the sub-conv gets pT' = pT + start − r0·sH, so each output is the same sum of the
 * same products as in the whole conv (the kernel's own bounds checks handle both edges). Output
 * channels are split only when one output row of all of them is over budget: by whole groups
 * (group' = groups in the chunk), or, when one group is still too much, by channels within a group
 * (group' = 1); W and the bias are cut along M (constant slices become their own weights).
 */
function splitConv(ctx: Ctx, n: ONode, spec: KSpec, where: string, budget: number): Val[] | undefined {
  const p = spec.params;
  const [N, C, H, W, M, OH, OW, kH, kW, sH, , pT, , dH, , group, hasBias] = p;
  const [x, wt] = spec.inputs;
  const bias = hasBias ? spec.inputs[2] : undefined;
  const Cg = C / group;
  const Mg = M / group;
  const kArea = kH * kW;
  const span = (rows: number) => Math.min(H, (rows - 1) * sH + (kH - 1) * dH + 1);
  /** The COPY that cuts input rows [start, start+h) of channels [c0, c0+cc) of items [n0, n0+nn). */
  const cut = (n0: number, nn: number, c0: number, cc: number, start: number, h: number): CopyDesc => ({
    src: 0,
    dst: 0,
    dims: [nn, cc, h * W],
    srcOff: ((n0 * C + c0) * H + start) * W,
    srcStrides: [C * H * W, H * W, 1],
    dstOff: 0,
    dstStrides: [cc * h * W, h * W, 1],
  });
  const copyParams = (d: CopyDesc) => {
    const words = copyWords(d, where);
    return [0, 0, 0, words.length / COPY_WORDS, ...words];
  };
  // A tile: nn items, cc input channels, mm output channels in gg groups, rows output rows.
  const tileParams = (nn: number, cc: number, mm: number, gg: number, rows: number, h: number) => {
    const q = p.slice();
    q[0] = nn;
    q[1] = cc;
    q[2] = h;
    q[4] = mm;
    q[5] = rows;
    q[15] = gg;
    return q;
  };
  const fits = (nn: number, cc: number, mm: number, gg: number, rows: number) => {
    const h = span(rows);
    if (stepBound(Op.CONV, tileParams(nn, cc, mm, gg, rows, h)) > budget) return false;
    const whole = nn === N && cc === C && h === H;
    return whole || stepBound(Op.COPY, copyParams(cut(0, nn, 0, cc, 0, h))) <= budget;
  };
  // Channel tiling: [m0, m1) ranges with their input channels and group count.
  type Chan = { m0: number; m1: number; c0: number; c1: number; g: number };
  let nSize = largest(N, (u) => fits(u, C, M, group, 1));
  let chans: Chan[] = [{ m0: 0, m1: M, c0: 0, c1: C, g: group }];
  if (nSize === 0) {
    nSize = 1;
    const gSize = largest(group, (u) => fits(1, u * Cg, u * Mg, u, 1));
    if (gSize > 0) {
      chans = chunks(group, gSize).map(([g0, g1]) => ({
        m0: g0 * Mg,
        m1: g1 * Mg,
        c0: g0 * Cg,
        c1: g1 * Cg,
        g: g1 - g0,
      }));
    } else {
      const mSize = largest(Mg, (u) => fits(1, Cg, u, 1, 1));
      if (mSize === 0) return undefined; // one output row of one channel is over budget
      chans = [];
      for (let g = 0; g < group; g++) {
        for (const [a, b] of chunks(Mg, mSize)) {
          chans.push({ m0: g * Mg + a, m1: g * Mg + b, c0: g * Cg, c1: (g + 1) * Cg, g: 1 });
        }
      }
    }
  }
  const bChunks = chunks(N, nSize);
  const parts: Val[] = [];
  const descs: CopyDesc[] = [];
  for (const ch of chans) {
    const mm = ch.m1 - ch.m0;
    const cc = ch.c1 - ch.c0;
    const chTag = chans.length > 1 ? `ch${ch.m0}.` : "";
    const wPart = flatSlice(ctx, n, wt, ch.m0 * Cg * kArea, mm * Cg * kArea, `${chTag}w`, where);
    const bPart = bias && flatSlice(ctx, n, bias, ch.m0, mm, `${chTag}bias`, where);
    for (const [n0, n1] of bChunks) {
      const nn = n1 - n0;
      const rowSize = largest(OH, (u) => fits(nn, cc, mm, ch.g, u));
      if (rowSize === 0) return undefined;
      const tag = `${bChunks.length > 1 ? `batch${n0}.` : ""}${chTag}`;
      for (const [r0, r1] of chunks(OH, rowSize)) {
        const start = Math.max(0, r0 * sH - pT);
        const end = Math.min(H, (r1 - 1) * sH - pT + (kH - 1) * dH + 1);
        // Rows whose windows lie wholly in the padding: no input row to cut (a rare pad ≥ kernel).
        if (end <= start) return undefined;
        const h = end - start;
        let xPart = x;
        if (!(nn === N && cc === C && h === H)) {
          xPart = kernel(
            ctx,
            sub(n, `${tag}x${r0}`),
            {
              op: Op.COPY,
              params: copyParams(cut(n0, nn, ch.c0, cc, start, h)),
              inputs: [x],
              outShapes: [[nn, cc, h, W]],
              outDtype: spec.outDtype,
            },
            where,
          )[0];
        }
        const q = tileParams(nn, cc, mm, ch.g, r1 - r0, h);
        q[11] = pT + start - r0 * sH;
        const ins = bPart ? [xPart, wPart, bPart] : [xPart, wPart];
        const rows = r1 - r0;
        descs.push({
          src: parts.length,
          dst: 0,
          dims: [nn, mm, rows * OW],
          srcOff: 0,
          srcStrides: [mm * rows * OW, rows * OW, 1],
          dstOff: ((n0 * M + ch.m0) * OH + r0) * OW,
          dstStrides: [M * OH * OW, OH * OW, 1],
        });
        parts.push(
          kernel(
            ctx,
            sub(n, `${tag}rows${r0}`),
            { ...spec, params: q, inputs: ins, outShapes: [[nn, mm, rows, OW]] },
            where,
          )[0],
        );
      }
    }
  }
  if (parts.length === 1) return undefined;
  return [join(ctx, n, parts, descs, spec.outShapes[0], spec.outDtype, where)];
}

/**
 * POOL (params mode, NC, H, W, OH, OW, kH, kW, sH, sW, pT, pL, dH, dW, countIncludePad): tiles of
 * (planes, output rows), the rows' input window cut by a COPY as for CONV. Every window keeps all
 * the input elements its outputs read and no others, so the max, the sum and the count of
 * in-bounds elements (the average's divisor without countIncludePad) are unchanged.
 */
function splitPool(ctx: Ctx, n: ONode, spec: KSpec, where: string, budget: number): Val[] | undefined {
  const p = spec.params;
  const [, NC, H, W, OH, OW, kH, , sH, , pT, , dH] = p;
  const x = spec.inputs[0];
  const span = (rows: number) => Math.min(H, (rows - 1) * sH + (kH - 1) * dH + 1);
  const cut = (c0: number, cc: number, start: number, h: number): CopyDesc => ({
    src: 0,
    dst: 0,
    dims: [cc, h * W],
    srcOff: (c0 * H + start) * W,
    srcStrides: [H * W, 1],
    dstOff: 0,
    dstStrides: [h * W, 1],
  });
  const copyParams = (d: CopyDesc) => {
    const words = copyWords(d, where);
    return [0, 0, 0, words.length / COPY_WORDS, ...words];
  };
  const tileParams = (cc: number, rows: number, h: number) => {
    const q = p.slice();
    q[1] = cc;
    q[2] = h;
    q[4] = rows;
    return q;
  };
  const fits = (cc: number, rows: number) => {
    const h = span(rows);
    if (stepBound(Op.POOL, tileParams(cc, rows, h)) > budget) return false;
    return (cc === NC && h === H) || stepBound(Op.COPY, copyParams(cut(0, cc, 0, h))) <= budget;
  };
  const cSize = largest(NC, (u) => fits(u, OH)) || largest(NC, (u) => fits(u, 1));
  if (cSize === 0) return undefined; // one output row of one plane is over budget
  const rowSize = largest(OH, (u) => fits(cSize, u));
  const parts: Val[] = [];
  const descs: CopyDesc[] = [];
  for (const [c0, c1] of chunks(NC, cSize)) {
    const cc = c1 - c0;
    for (const [r0, r1] of chunks(OH, rowSize)) {
      const start = Math.max(0, r0 * sH - pT);
      const end = Math.min(H, (r1 - 1) * sH - pT + (kH - 1) * dH + 1);
      if (end <= start) return undefined; // rows that read only padding
      const h = end - start;
      const tag = `${rowSize < OH ? `ch${c0}.rows${r0}` : `part${parts.length}`}`;
      const xPart =
        cc === NC && h === H
          ? x
          : kernel(
              ctx,
              sub(n, `${tag}.x`),
              {
                op: Op.COPY,
                params: copyParams(cut(c0, cc, start, h)),
                inputs: [x],
                outShapes: [[cc * h * W]],
                outDtype: spec.outDtype,
              },
              where,
            )[0];
      const q = tileParams(cc, r1 - r0, h);
      q[10] = pT + start - r0 * sH;
      const rows = r1 - r0;
      descs.push({
        src: parts.length,
        dst: 0,
        dims: [cc, rows * OW],
        srcOff: 0,
        srcStrides: [rows * OW, 1],
        dstOff: (c0 * OH + r0) * OW,
        dstStrides: [OH * OW, 1],
      });
      parts.push(
        kernel(
          ctx,
          sub(n, tag),
          { ...spec, params: q, inputs: [xPart], outShapes: [[cc * rows * OW]] },
          where,
        )[0],
      );
    }
  }
  if (parts.length === 1) return undefined;
  return [join(ctx, n, parts, descs, spec.outShapes[0], spec.outDtype, where)];
}

/** Splits an over-budget kernel; undefined when this op or operand form has no split. */
export function splitKernel(
  ctx: Ctx,
  n: ONode,
  spec: KSpec,
  where: string,
  budget: number,
): Val[] | undefined {
  if (spec.inputs.some((v) => isIntVal(v) !== isIntVal(spec.inputs[0])) && spec.op !== Op.WHERE) {
    // Mixed operand types only occur in WHERE (an integer condition); anything else is left whole.
    return undefined;
  }
  switch (spec.op) {
    case Op.UNARY: {
      const [fn, count, x, y] = spec.params;
      const size = largest(count, (u) => stepBound(Op.UNARY, [fn, u, x, y]) <= budget);
      if (size === 0 || size >= count) return undefined;
      const parts = chunks(count, size).map(
        ([s0, s1], i) =>
          kernel(
            ctx,
            sub(n, `part${i}`),
            {
              ...spec,
              params: [fn, s1 - s0, x, y],
              inputs: [flatSlice(ctx, n, spec.inputs[0], s0, s1 - s0, `x.${i}`, where)],
              outShapes: [[s1 - s0]],
            },
            where,
          )[0],
      );
      return [joinFlat(ctx, n, parts, spec.outShapes[0], spec.outDtype, where)];
    }
    case Op.BINARY:
      return splitView(ctx, n, spec, where, budget, 1);
    case Op.WHERE:
      return splitView(ctx, n, spec, where, budget, 0);
    case Op.SOFTMAX:
    case Op.LAYERNORM:
      return splitRows(ctx, n, spec, where, budget);
    case Op.MATMUL:
      return splitMatmul(ctx, n, spec, where, budget);
    case Op.REDUCE:
      return splitReduce(ctx, n, spec, where, budget);
    case Op.CONV:
      return splitConv(ctx, n, spec, where, budget);
    case Op.POOL:
      return splitPool(ctx, n, spec, where, budget);
    default:
      return undefined;
  }
}
