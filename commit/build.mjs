// Builds commit/keccak → commit/build/keccak.wasm with AssemblyScript: the Merkle pair hasher.
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";

const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(join(here, "build"), { recursive: true });
// The Merkle hasher: keccak256 of 64-byte nodes, whole levels per call, used by commit/merkle.ts
// (noble is the fallback when this file is absent).
const k = await asc.main([
  join(here, "keccak/keccak.ts"),
  "-O3",
  "--runtime",
  "stub",
  "--noAssert",
  "--enable",
  "simd",
  "--memoryBase",
  "1024",
  "--initialMemory",
  "1",
  "--outFile",
  join(here, "build/keccak.wasm"),
]);
if (k.error) {
  console.error(k.stderr.toString());
  console.error(`commit/build.mjs: keccak build failed: ${k.error.message}`);
  process.exit(1);
}
console.log("built commit/build/keccak.wasm");
