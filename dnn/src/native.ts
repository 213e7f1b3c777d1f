// Loads the native backend's addon (dnn/native, built by `npm ci` / `npm run build`). It is
// optional: when it is missing or does not load, native runs use the reference WASM module and
// nativeStatus() says why.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** The addon's interface (dnn/native/opml_native.cc). */
export interface NativeAddon {
  /**
   * Runs the nodes whose parameter blocks start at ptrs[from..to) on the WASM module's memory, in
   * order, and returns the index of the first one it does not implement (to when it ran them all).
   */
  run(memory: ArrayBuffer, ptrs: Int32Array, from: number, to: number): number;
  /** "avx2+fma" or "scalar": the kernels chosen for this CPU. */
  features(): string;
}

// From dnn/src (vitest, tsx) or dist/dnn/src (the build).
const CANDIDATES = [
  "../native/build/Release/opml_native.node",
  "../../../dnn/native/build/Release/opml_native.node",
];

let loaded: { addon?: NativeAddon; status: string } | undefined;

function load(): { addon?: NativeAddon; status: string } {
  if (process.env.OPML_NO_NATIVE) return { status: "disabled by OPML_NO_NATIVE" };
  const file = CANDIDATES.map((rel) => fileURLToPath(new URL(rel, import.meta.url))).find(existsSync);
  if (!file) return { status: "addon not built (see dnn/native/build.mjs)" };
  try {
    const addon = createRequire(import.meta.url)(file) as NativeAddon;
    return { addon, status: `loaded (${addon.features()})` };
  } catch (e) {
    return { status: `addon failed to load: ${(e as Error).message.split("\n")[0]}` };
  }
}

/** The addon, or undefined when it is not available on this machine. */
export function nativeAddon(): NativeAddon | undefined {
  loaded ??= load();
  return loaded.addon;
}

/** One line: whether the native kernels are in use, and if not, why. */
export function nativeStatus(): string {
  loaded ??= load();
  return loaded.status;
}
