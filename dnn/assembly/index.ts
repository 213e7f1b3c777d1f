// The DNN library's single entry point. The host writes a parameter block (docs/PROTOCOL.md §2)
// and calls exec(ptr); both the native engine (V8) and the Merkle-ized VM run this same module.
import { copy, gather } from "./copy";
import { binary, unary, where } from "./elementwise";
import { conv, convQ8, matmul, matmulQ8 } from "./linalg";
import { channelAffine, layernorm, softmax } from "./norm";
import {
  ERR_BAD_OPCODE,
  OP_ARGMAX,
  OP_BINARY,
  OP_CHANNEL_AFFINE,
  OP_CONV,
  OP_CONV_Q8,
  OP_COPY,
  OP_GATHER,
  OP_LAYERNORM,
  OP_MATMUL,
  OP_MATMUL_Q8,
  OP_POOL,
  OP_REDUCE,
  OP_SOFTMAX,
  OP_UNARY,
  OP_WHERE,
} from "./opcodes";
import { bind } from "./params";
import { pool } from "./pool";
import { argmax, reduce } from "./reduce";

export function exec(p: usize): i32 {
  switch (bind(p)) {
    case OP_UNARY:
      return unary();
    case OP_BINARY:
      return binary();
    case OP_WHERE:
      return where();
    case OP_MATMUL:
      return matmul();
    case OP_CONV:
      return conv();
    case OP_POOL:
      return pool();
    case OP_SOFTMAX:
      return softmax();
    case OP_LAYERNORM:
      return layernorm();
    case OP_CHANNEL_AFFINE:
      return channelAffine();
    case OP_REDUCE:
      return reduce();
    case OP_ARGMAX:
      return argmax();
    case OP_COPY:
      return copy();
    case OP_GATHER:
      return gather();
    case OP_MATMUL_Q8:
      return matmulQ8();
    case OP_CONV_Q8:
      return convQ8();
    default:
      return ERR_BAD_OPCODE;
  }
}
