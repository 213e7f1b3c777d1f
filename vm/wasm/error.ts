// The one error the decoder throws: its message names the file, the place and the byte offset.
import { UserError } from "../../errors/index.js";

export class WasmDecodeError extends UserError {
  override readonly kind: string = "wasm";
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}
