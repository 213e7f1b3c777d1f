import { readFileSync } from "node:fs";
import { InputError, type Manifest, prepareInputs } from "../../dnn/src/package.js";

/** Reads and validates a user input JSON file against a manifest; returns quantized tensors. */
export function readInputFile(m: Manifest, file: string): Int32Array[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new InputError(
      `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      { file },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file}: invalid JSON (${(e as Error).message})`, { file });
  }
  return prepareInputs(m, json, file);
}
