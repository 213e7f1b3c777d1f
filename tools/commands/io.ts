import { readFileSync } from "node:fs";
import {
  InputError,
  type InputValues,
  inputValues,
  type Manifest,
  prepareInputs,
} from "../../dnn/src/package.js";

/** Reads and validates a user input JSON file against a manifest; returns quantized tensors. */
export function readInputFile(m: Manifest, file: string): Int32Array[] {
  return prepareInputs(m, readInputJson(file), file);
}

/** Reads and validates a user input JSON file; returns its values as given (floats unquantized). */
export function readInputValues(m: Manifest, file: string): InputValues[] {
  return inputValues(m, readInputJson(file), file);
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
