// The cross-language constants are generated from their TypeScript source (vm/isa.ts, vm/state.ts,
// dnn/src/opcodes.ts) by tools/vectors/constants.ts; this fails when a committed copy is stale.
// UPDATE_VECTORS=1 rewrites them (as `npm run gen:constants` does).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { generatedConstants } from "../../tools/vectors/constants.js";

const UPDATE = process.env.UPDATE_VECTORS === "1";

describe("generated cross-language constants", () => {
  for (const { path, text } of generatedConstants()) {
    it(`${path} is current`, () => {
      if (UPDATE) writeFileSync(path, text);
      expect(existsSync(path), `${path} missing: run npm run gen:constants`).toBe(true);
      expect(readFileSync(path, "utf8"), `${path} is stale: run npm run gen:constants`).toBe(text);
    });
  }

  it("the library and the verifiers use the generated copies, not their own numbers", () => {
    const as = readFileSync("dnn/assembly/index.ts", "utf8");
    expect(as).toMatch(/from "\.\/opcodes"/);
    expect(as).not.toMatch(/case \d+:/);
    for (const f of ["dnn/assembly/elementwise.ts", "dnn/assembly/reduce.ts", "dnn/assembly/copy.ts"]) {
      const src = readFileSync(f, "utf8");
      expect(src, f).not.toMatch(/export const (U|B|R|ERR)_\w+ =|const COPY_WORDS =/);
    }
    for (const f of [
      "contracts/src/step/StepState.sol",
      "contracts/src/game/NodeVmLink.sol",
      "contracts/src/game/Registry.sol",
    ]) {
      const src = readFileSync(f, "utf8");
      expect(src, f).toMatch(/VmConstants\.sol/);
      expect(src, f).not.toMatch(/constant (HALT_PC|MEMORY_DEPTH|LOCALS_DEPTH|GLOBALS_DEPTH|PAGE) = (0x)?\d/);
    }
  });
});
