// An upper bound on the VM steps of one kernel node, from its opcode and parameter block alone
// (docs/PROTOCOL.md §5.8). The converter splits any node whose bound exceeds the step budget, and
// the registry's twin (game/registry.ts) refuses a package with a node above its maxSteps, so an
// honest party can always play a node's VM level to the end. The constants are measured worst
// cases per element with head-room (test/dnn/cost.test.ts runs real kernels and every fixture node
// in the VM and checks steps ≤ bound); a bound that is too loose only makes the split finer.
import { Binary, COPY_WORDS, Op, Reduce, Unary } from "./opcodes.js";

/** Default per-node VM step budget: ⌈log2⌉ = 26 VM bisection rounds, ~1–2 s of VM per replay. */
export const DEFAULT_STEP_BUDGET = 2 ** 26;

/** Fixed cost of a kernel call: entry, parameter decoding, dispatch, return. */
const CALL = 4096;

const EXPENSIVE_UNARY = new Set<number>([
  Unary.SIGMOID,
  Unary.TANH,
  Unary.EXP,
  Unary.LOG,
  Unary.ERF,
  Unary.GELU,
  Unary.GELU_TANH,
  Unary.SQRT,
  Unary.ELU,
  Unary.SELU,
]);

/** Steps per element of a UNARY function (measured worst ≈ 600; softplus ≈ 900). */
function unaryCost(fn: number): number {
  if (fn === Unary.SOFTPLUS) return 1536;
  return EXPENSIVE_UNARY.has(fn) ? 1024 : 128;
}

/** Steps per element of a BINARY function (pow's loop depends on the exponent's bits). */
function binaryCost(fn: number): number {
  if (fn === Binary.POW || fn === Binary.POW_INT) return 2048;
  if (fn === Binary.DIV) return 192;
  return 128;
}

/**
 * CONV (dnn/assembly/linalg.ts conv): each output row goes in blocks of four outputs where the
 * whole window lies inside the input row, and one output at a time elsewhere (rows narrower than
 * four, padded borders). Which positions are blocked depends only on the parameters, so both
 * counts are exact; per input channel a block costs ≈ 31 + 44·kH + 53·kH·kW steps and a single
 * output ≈ 31 + 35·kH + 34·kH·kW (measured in the VM; the constants below add head-room).
 */
function convCost(p: readonly number[]): number {
  const [N, C, , W, M, OH, OW, kH, kW, , sW, , pL, , dW] = p;
  const Cg = C / Math.max(1, p[15]);
  let blocks = 0;
  let singles = 0;
  for (let ow = 0; ow < OW; ) {
    const iw0 = ow * sW - pL;
    if (ow + 4 <= OW && iw0 >= 0 && iw0 + 3 * sW + (kW - 1) * dW < W) {
      blocks++;
      ow += 4;
    } else {
      singles++;
      ow++;
    }
  }
  const block = 512 + Cg * (48 + 56 * kH + 64 * kH * kW);
  const single = 320 + Cg * (48 + 48 * kH + 44 * kH * kW);
  return N * M * OH * (160 + 32 * kH + blocks * block + singles * single);
}

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/** The int8-weight kernels' bound from their Q16 twin's (see stepBound). */
export const q8Bound = (q16: number) => Math.ceil((q16 * 9) / 8);

/** Upper bound on the VM steps of a kernel node with this opcode and parameter block. */
export function stepBound(op: number, p: readonly number[]): number {
  const words = 16 * p.length;
  switch (op) {
    case Op.UNARY:
      return CALL + words + unaryCost(p[0]) * p[1];
    case Op.BINARY:
      return CALL + words + binaryCost(p[0]) * prod(p.slice(1, 7)) + 64 * prod(p.slice(1, 6));
    case Op.WHERE:
      return CALL + words + 256 * prod(p.slice(0, 6)) + 64 * prod(p.slice(0, 5));
    case Op.MATMUL: {
      const batch = prod(p.slice(0, 4));
      const [M, K, N] = [p[16], p[17], p[18]];
      // Columns go four at a time (≈57 steps per k per block); the N mod 4 rest one at a time (≈25).
      const cols = 15 * (N - (N % 4)) + 26 * (N % 4);
      return CALL + words + batch * (256 + M * (128 + 160 * N + cols * K));
    }
    case Op.CONV:
      return CALL + words + convCost(p);
    case Op.POOL: {
      const [, NC, , , OH, OW, kH, kW] = p;
      // An average's rounded division per output (divRound of an i64 sum) costs ≈ 100 more.
      return CALL + words + NC * OH * OW * (256 + 48 * kH * kW);
    }
    case Op.SOFTMAX:
      return CALL + words + p[0] * p[2] * (256 + 1024 * p[1]);
    case Op.LAYERNORM:
      return CALL + words + p[0] * (1024 + 384 * p[1]);
    case Op.CHANNEL_AFFINE:
      return CALL + words + 128 * p[0] * p[1] * p[2];
    case Op.REDUCE:
      // LogSumExp takes an exp per element; the others a compare or a multiply-add, plus one
      // division, isqrt or log per output.
      return CALL + words + p[1] * p[3] * (1024 + (p[0] === Reduce.LOGSUMEXP ? 1024 : 96) * p[2]);
    case Op.ARGMAX:
      return CALL + words + p[0] * p[2] * (64 + 48 * p[1]);
    case Op.COPY: {
      // Data-independent, so the bound is tight (17 steps a word in a contiguous row, 21 strided,
      // ≈70 a row): a model's final concatenation is often the largest copy it has.
      let s = CALL + words + (p[0] !== 0 ? 8 * p[2] : 0);
      for (let c = 0; c < p[3]; c++) {
        const q = 4 + c * COPY_WORDS;
        const dims = p.slice(q + 2, q + 8);
        const contiguous = p[q + 14] === 1 && p[q + 21] === 1;
        s +=
          64 +
          (contiguous ? 18 : 22) * prod(dims) +
          80 * prod(dims.slice(0, 5)) +
          32 * prod(dims.slice(0, 4));
      }
      return s;
    }
    case Op.GATHER:
      return CALL + words + p[0] * p[3] * (96 + 48 * p[2]);
    case Op.MATMUL_Q8:
    case Op.CONV_Q8:
      // The same loops with byte loads, plus a scale load and multiply per output: a few steps
      // against MATMUL's ≥ 160 and CONV's ≥ 320 per output, so 9/8 of the Q16 bound covers it.
      return q8Bound(stepBound(op === Op.MATMUL_Q8 ? Op.MATMUL : Op.CONV, p));
    default:
      return Number.POSITIVE_INFINITY;
  }
}
