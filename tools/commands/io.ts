import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import {
  InputError,
  type InputValues,
  inputValues,
  type Manifest,
  prepareInputs,
} from "../../dnn/src/package.js";

/**
 * Reads and validates a user input JSON file against a manifest; returns quantized tensors. A
 * float value outside the Q16.16 range is an error, or with `clamp` a warning on stderr.
 */
export function readInputFile(m: Manifest, file: string, clamp = false): Int32Array[] {
  return prepareInputs(m, readInputJson(file), file, {
    clamp,
    warn: (msg) => console.error(`opml: warning: ${msg}`),
  });
}

/** Reads and validates a user input JSON file; returns its values as given (floats unquantized). */
export function readInputValues(m: Manifest, file: string): InputValues[] {
  return inputValues(m, readInputJson(file), file);
}

/** SHA-256 of a file (hex), read in 1 MiB chunks (an ONNX model may be large). */
export function sha256File(file: string): string {
  const h = createHash("sha256");
  const buf = Buffer.alloc(1 << 20);
  const fd = openSync(file, "r");
  try {
    for (let n: number; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest("hex");
}

function readInputJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new InputError(
      `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      { file },
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file}: invalid JSON (${(e as Error).message})`, { file });
  }
}
