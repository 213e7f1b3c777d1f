// Kernel opcodes and function ids: the one source of these numbers. dnn/assembly/opcodes.ts, which
// the AssemblyScript library imports, is generated from this file (tools/vectors/constants.ts;
// test/vm/constants.test.ts fails when it is stale). The numbers are part of the protocol: a node's
// parameter block is committed.
export const Op = {
  UNARY: 1,
  BINARY: 2,
  WHERE: 3,
  MATMUL: 4,
  CONV: 5,
  POOL: 6,
  SOFTMAX: 7,
  LAYERNORM: 8,
  CHANNEL_AFFINE: 9,
  REDUCE: 10,
  ARGMAX: 11,
  COPY: 12,
  GATHER: 13,
  /** MATMUL with int8 weights B and a Q16.16 scale per output column (docs/NUMERICS.md §8). */
  MATMUL_Q8: 14,
  /** CONV with int8 weights and a Q16.16 scale per output channel (docs/NUMERICS.md §8). */
  CONV_Q8: 15,
} as const;
export type OpCode = (typeof Op)[keyof typeof Op];

export const OP_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(Op).map(([k, v]) => [v, k]),
);

export const Unary = {
  IDENTITY: 0,
  RELU: 1,
  LEAKY: 2,
  SIGMOID: 3,
  TANH: 4,
  EXP: 5,
  LOG: 6,
  ERF: 7,
  GELU: 8,
  GELU_TANH: 9,
  SQRT: 10,
  RECIP: 11,
  NEG: 12,
  ABS: 13,
  SIGN: 14,
  FLOOR: 15,
  CEIL: 16,
  ROUND: 17,
  CLIP: 18,
  HARDSIGMOID: 19,
  HARDSWISH: 20,
  SOFTPLUS: 21,
  SOFTSIGN: 22,
  ELU: 23,
  SELU: 24,
  Q2I: 25,
  I2Q: 26,
  NOT: 27,
} as const;

export const Binary = {
  ADD: 0,
  SUB: 1,
  MUL: 2,
  DIV: 3,
  POW: 4,
  MIN: 5,
  MAX: 6,
  PRELU: 7,
  EQ: 8,
  LT: 9,
  GT: 10,
  LE: 11,
  GE: 12,
  ADD_INT: 13,
  SUB_INT: 14,
  MUL_INT: 15,
  AND: 16,
  OR: 17,
  XOR: 18,
  DIV_INT: 19,
  POW_INT: 20,
} as const;

export const Reduce = {
  SUM: 0,
  MEAN: 1,
  MAX: 2,
  MIN: 3,
  PROD: 4,
  L1: 5,
  L2: 6,
  SUMSQUARE: 7,
  LOGSUMEXP: 8,
  LOGSUM: 9,
} as const;

/** Words per descriptor of the COPY kernel. */
export const COPY_WORDS = 22;
/** Highest rank the strided kernels iterate over. */
export const MAX_RANK = 6;

/** Non-zero codes exec() can return. */
export const ExecError = {
  BAD_OPCODE: 1,
  GATHER_INDEX: 2,
} as const;

export const EXEC_ERRORS: Record<number, string> = {
  [ExecError.BAD_OPCODE]: "unknown opcode",
  [ExecError.GATHER_INDEX]: "Gather index out of range",
};
