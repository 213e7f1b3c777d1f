// Builds dnn/assembly → dnn/build/dnn.wasm (+ .wat) with AssemblyScript. Integer-only features:
// SIMD, reference types, GC and float-conversion extensions stay off so the VM can accept the module.
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";

const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(join(here, "build"), { recursive: true });
const { error, stderr } = await asc.main([
  join(here, "assembly/index.ts"),
  "-O3",
  "--runtime",
  "stub",
  "--noAssert",
  "--disable",
  "simd,reference-types,gc,nontrapping-f2i,multi-value,relaxed-simd,threads,exception-handling",
  "--outFile",
  join(here, "build/dnn.wasm"),
  "--textFile",
  join(here, "build/dnn.wat"),
]);
if (error) {
  console.error(stderr.toString());
  console.error(`dnn/build.mjs: AssemblyScript build failed: ${error.message}`);
  process.exit(1);
}
console.log("built dnn/build/dnn.wasm");
