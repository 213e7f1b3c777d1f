// The one error the decoder throws: its message names the file, the place and the byte offset.
export class WasmDecodeError extends Error {
  override name = "WasmDecodeError";
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}
