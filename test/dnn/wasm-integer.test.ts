// The DNN module must be integer-only: the VM and the onchain verifier accept no float or SIMD ops.
import { readFileSync } from "node:fs";
import { print } from "@bytecodealliance/jco";
import { describe, expect, it } from "vitest";
import { dnnWasmPath } from "../../dnn/src/wasm.js";

describe("dnn.wasm", () => {
  it("contains no f32/f64, SIMD, relaxed-SIMD or bulk-memory instructions or types", async () => {
    const wat = await print(readFileSync(dnnWasmPath()));
    const lines = wat.split("\n");
    const bad = lines.filter((l) =>
      /\b(f32|f64|v128|i8x16|i16x8|i32x4|i64x2|f32x4|f64x2)\b|relaxed|memory\.(copy|fill|init)|data\.drop/.test(
        l,
      ),
    );
    expect(lines.length).toBeGreaterThan(100); // really printed the module
    expect(bad).toEqual([]);
  });

  it("exports exec and memory and imports nothing", () => {
    const mod = new WebAssembly.Module(readFileSync(dnnWasmPath()));
    expect(WebAssembly.Module.imports(mod)).toEqual([]);
    expect(
      WebAssembly.Module.exports(mod)
        .map((e) => e.name)
        .sort(),
    ).toEqual(["exec", "memory"]);
  });
});
