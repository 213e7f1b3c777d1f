// Locates and compiles the DNN library module built by dnn/build.mjs.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const CANDIDATES = ["../build/dnn.wasm", "../../../dnn/build/dnn.wasm"]; // from dnn/src or dist/dnn/src

export function dnnWasmPath(): string {
  for (const rel of CANDIDATES) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error("dnn/build/dnn.wasm is missing; run `npm run build:wasm`");
}

let cached: { bytes: Uint8Array; module: WebAssembly.Module } | undefined;

export function dnnWasm(): { bytes: Uint8Array; module: WebAssembly.Module } {
  if (!cached) {
    const bytes = new Uint8Array(readFileSync(dnnWasmPath()));
    cached = { bytes, module: new WebAssembly.Module(bytes) };
  }
  return cached;
}
