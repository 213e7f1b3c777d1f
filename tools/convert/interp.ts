// Float64 interpreter for the kernels that constant folding needs (data movement and simple
// elementwise math on shape-like tensors). It reads the same parameter words as dnn/assembly, so a
// folded constant equals what the kernel would have produced on the unquantized values.
import { Binary, COPY_WORDS, Op, Reduce, Unary } from "../../dnn/src/opcodes.js";

const S = 65536;

function unaryF(fn: number, x: number, a: number, b: number, isInt: boolean): number | undefined {
  switch (fn) {
    case Unary.IDENTITY:
      return x;
    case Unary.RELU:
      return Math.max(0, x);
    case Unary.NEG:
      return -x;
    case Unary.ABS:
      return Math.abs(x);
    case Unary.SIGN:
      return Math.sign(x);
    case Unary.SQRT:
      return Math.sqrt(x);
    case Unary.RECIP:
      return 1 / x;
    case Unary.EXP:
      return Math.exp(x);
    case Unary.LOG:
      return Math.log(x);
    case Unary.FLOOR:
      return Math.floor(x);
    case Unary.CEIL:
      return Math.ceil(x);
    case Unary.ROUND: {
      const r = Math.round(x);
      return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
    }
    case Unary.CLIP:
      return Math.min(isInt ? b : b / S, Math.max(isInt ? a : a / S, x));
    case Unary.Q2I:
      return Math.trunc(x);
    case Unary.I2Q:
      return x;
    case Unary.NOT:
      return x === 0 ? 1 : 0;
    default:
      return undefined;
  }
}

function binaryF(fn: number, a: number, b: number, isInt: boolean): number {
  switch (fn) {
    case Binary.ADD:
    case Binary.ADD_INT:
      return a + b;
    case Binary.SUB:
    case Binary.SUB_INT:
      return a - b;
    case Binary.MUL:
    case Binary.MUL_INT:
      return a * b;
    case Binary.DIV:
    case Binary.DIV_INT:
      return isInt ? (b === 0 ? 0 : Math.trunc(a / b)) : a / b;
    case Binary.POW:
    case Binary.POW_INT:
      return isInt ? Math.trunc(a ** b) : a ** b;
    case Binary.MIN:
      return Math.min(a, b);
    case Binary.MAX:
      return Math.max(a, b);
    case Binary.PRELU:
      return a < 0 ? a * b : a;
    case Binary.EQ:
      return a === b ? 1 : 0;
    case Binary.LT:
      return a < b ? 1 : 0;
    case Binary.GT:
      return a > b ? 1 : 0;
    case Binary.LE:
      return a <= b ? 1 : 0;
    case Binary.GE:
      return a >= b ? 1 : 0;
    case Binary.AND:
      return a && b ? 1 : 0;
    case Binary.OR:
      return a || b ? 1 : 0;
    case Binary.XOR:
      return !!a !== !!b ? 1 : 0;
    default:
      return Number.NaN;
  }
}

function* iter6(d: number[]): Generator<number[]> {
  for (let i0 = 0; i0 < d[0]; i0++)
    for (let i1 = 0; i1 < d[1]; i1++)
      for (let i2 = 0; i2 < d[2]; i2++)
        for (let i3 = 0; i3 < d[3]; i3++)
          for (let i4 = 0; i4 < d[4]; i4++) for (let i5 = 0; i5 < d[5]; i5++) yield [i0, i1, i2, i3, i4, i5];
}
const dot = (i: number[], s: number[]) => i.reduce((acc, v, k) => acc + v * s[k], 0);

/**
 * Interprets one kernel over float64 values. `inputsInt` says whether inputs are integer tensors.
 * Returns undefined when the kernel is not foldable here (it is then emitted as a runtime node).
 */
export function interpret(
  op: number,
  params: number[],
  inputs: Float64Array[],
  outSizes: number[],
  isInt: boolean,
): Float64Array[] | undefined {
  const outs = outSizes.map((n) => new Float64Array(n));
  const p = params;
  switch (op) {
    case Op.UNARY: {
      const [fn, n, a, b] = p;
      for (let i = 0; i < n; i++) {
        const v = unaryF(fn, inputs[0][i], a, b, isInt);
        if (v === undefined) return undefined;
        outs[0][i] = v;
      }
      return outs;
    }
    case Op.BINARY: {
      const d = p.slice(1, 7);
      const sa = p.slice(7, 13);
      const sb = p.slice(13, 19);
      let k = 0;
      for (const idx of iter6(d))
        outs[0][k++] = binaryF(p[0], inputs[0][dot(idx, sa)], inputs[1][dot(idx, sb)], isInt);
      return outs;
    }
    case Op.WHERE: {
      const d = p.slice(0, 6);
      let k = 0;
      for (const idx of iter6(d)) {
        const c = inputs[0][dot(idx, p.slice(6, 12))];
        outs[0][k++] = c !== 0 ? inputs[1][dot(idx, p.slice(12, 18))] : inputs[2][dot(idx, p.slice(18, 24))];
      }
      return outs;
    }
    case Op.COPY: {
      if (p[0]) outs[0].fill(isInt ? p[1] : p[1] / S, 0, p[2]);
      for (let c = 0; c < p[3]; c++) {
        const w = p.slice(4 + c * COPY_WORDS, 4 + (c + 1) * COPY_WORDS);
        const [src, dst] = w;
        const dims = w.slice(2, 8);
        const ss = w.slice(9, 15);
        const ts = w.slice(16, 22);
        for (const idx of iter6(dims)) outs[dst][w[15] + dot(idx, ts)] = inputs[src][w[8] + dot(idx, ss)];
      }
      return outs;
    }
    case Op.GATHER: {
      const [outer, axisDim, inner, nIdx] = p;
      for (let o = 0; o < outer; o++)
        for (let t = 0; t < nIdx; t++) {
          let k = inputs[1][t];
          if (k < 0) k += axisDim;
          if (k < 0 || k >= axisDim) return undefined;
          for (let i = 0; i < inner; i++)
            outs[0][(o * nIdx + t) * inner + i] = inputs[0][(o * axisDim + k) * inner + i];
        }
      return outs;
    }
    case Op.REDUCE: {
      const [fn, outer, red, inner] = p;
      const ok: number[] = [Reduce.SUM, Reduce.MEAN, Reduce.MAX, Reduce.MIN, Reduce.PROD];
      if (!ok.includes(fn)) return undefined;
      for (let o = 0; o < outer; o++)
        for (let i = 0; i < inner; i++) {
          const vals: number[] = [];
          for (let j = 0; j < red; j++) vals.push(inputs[0][(o * red + j) * inner + i]);
          let r: number;
          if (fn === Reduce.SUM) r = vals.reduce((a, b) => a + b, 0);
          else if (fn === Reduce.MEAN) r = vals.reduce((a, b) => a + b, 0) / red;
          else if (fn === Reduce.MAX) r = Math.max(...vals);
          else if (fn === Reduce.MIN) r = Math.min(...vals);
          else r = vals.reduce((a, b) => a * b, 1);
          outs[0][o * inner + i] = r;
        }
      return outs;
    }
    default:
      return undefined;
  }
}
