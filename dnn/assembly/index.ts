// The DNN library's single entry point. The host writes a parameter block (docs/PROTOCOL.md §2)
// and calls exec(ptr); both the native engine (V8) and the Merkle-ized VM run this same module.
import { copy, gather } from "./copy";
import { binary, unary, where } from "./elementwise";
import { conv, matmul } from "./linalg";
import { channelAffine, layernorm, softmax } from "./norm";
import { bind } from "./params";
import { pool } from "./pool";
import { argmax, reduce } from "./reduce";

const ERR_BAD_OPCODE: i32 = 1;

export function exec(p: usize): i32 {
  switch (bind(p)) {
    case 1:
      return unary();
    case 2:
      return binary();
    case 3:
      return where();
    case 4:
      return matmul();
    case 5:
      return conv();
    case 6:
      return pool();
    case 7:
      return softmax();
    case 8:
      return layernorm();
    case 9:
      return channelAffine();
    case 10:
      return reduce();
    case 11:
      return argmax();
    case 12:
      return copy();
    case 13:
      return gather();
    default:
      return ERR_BAD_OPCODE;
  }
}
