// ONNX's own backend node tests (Debian libonnx-testdata) for every op type the converter supports.
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ATOL, RTOL, runConformance, TESTDATA_DIR } from "../../../tools/conformance.js";
import { SUPPORTED_OPS } from "../../../tools/convert/lower/index.js";

const present = existsSync(TESTDATA_DIR);

describe("ONNX backend node conformance", () => {
  it.runIf(present || process.env.CI)(
    "passes at least 97% of the supported-op cases, VM bit-identical",
    () => {
      expect(present, `${TESTDATA_DIR} missing: apt-get install libonnx-testdata`).toBe(true);
      const { pass, total, byOp, results, vmNodes } = runConformance();
      const failed = results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`);
      console.log(
        `ONNX node conformance: ${pass}/${total} (${((100 * pass) / total).toFixed(1)}%), tolerance ${ATOL} + ${RTOL}·|expected|; ${byOp.size} op types, ${vmNodes} nodes VM-checked\nfailing:\n  ${failed.join("\n  ")}`,
      );
      expect(SUPPORTED_OPS.length).toBeGreaterThanOrEqual(110);
      expect(total).toBeGreaterThan(750);
      expect(pass / total).toBeGreaterThanOrEqual(0.97);
      // Every passing case ran each of its kernel nodes in the VM with the native bytes.
      expect(vmNodes).toBeGreaterThan(2500);
    },
  );
});
