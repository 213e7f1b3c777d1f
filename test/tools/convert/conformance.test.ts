// ONNX's own backend node tests (Debian libonnx-testdata) for every op type the converter supports.
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ATOL, RTOL, runConformance, TESTDATA_DIR } from "../../../tools/conformance.js";

const present = existsSync(TESTDATA_DIR);

describe("ONNX backend node conformance", () => {
  it.runIf(present || process.env.CI)("passes at least 90% of the supported-op cases", () => {
    expect(present, `${TESTDATA_DIR} missing: apt-get install libonnx-testdata`).toBe(true);
    const { pass, total, byOp, results } = runConformance();
    const failed = results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`);
    console.log(
      `ONNX node conformance: ${pass}/${total} (${((100 * pass) / total).toFixed(1)}%), tolerance ${ATOL} + ${RTOL}·|expected|; ${byOp.size} op types\nfailing:\n  ${failed.join("\n  ")}`,
    );
    expect(total).toBeGreaterThan(400);
    expect(pass / total).toBeGreaterThanOrEqual(0.9);
  });
});
