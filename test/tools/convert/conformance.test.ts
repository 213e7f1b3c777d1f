// ONNX's own backend node tests (Debian libonnx-testdata) for every op type the converter supports.
// Without the test data the suite is skipped with the reason and the apt command printed (in CI,
// where .ci/run installs it, its absence fails instead); `npm run conformance` then exits 1 with one
// line naming the directory.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ATOL, missingTestdata, RTOL, runConformance, TESTDATA_APT } from "../../../tools/conformance.js";
import { SUPPORTED_OPS } from "../../../tools/convert/lower/index.js";
import { ROOT } from "../../helpers/helpers.js";

const missing = missingTestdata();
const run = !missing || !!process.env.CI;
if (!run) console.warn(`ONNX node conformance skipped: ${missing}`);

describe("ONNX backend node conformance", () => {
  it.runIf(run)("passes at least 97% of the supported-op cases, VM bit-identical", () => {
    expect(missing, missing).toBeUndefined();
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
  });
  // Listed as skipped, with the reason in its name (the warning above says the same).
  if (!run) it.skip(`skipped: ${missing}`, () => {});
});

describe("without the test data", () => {
  it("the skip reason names the directory and the apt command", () => {
    const why = missingTestdata("/nonexistent/libonnx-testdata/data/node");
    expect(why).toBe(
      `/nonexistent/libonnx-testdata/data/node: no such directory (Debian's ONNX backend node tests); install them with: ${TESTDATA_APT}`,
    );
    expect(TESTDATA_APT).toMatch(/apt-get install -y libonnx-testdata$/);
  });
  it("`npm run conformance` exits 1 with one line naming the directory and the apt command, no stack", () => {
    const dir = "/nonexistent/libonnx-testdata/data/node";
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [join(ROOT, "dist/tools/conformance.js"), dir], {
      encoding: "utf8",
    });
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(r.status, r.stderr).toBe(1);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(`conformance: ${missingTestdata(dir)}`);
    expect(r.stderr).not.toContain("ENOENT");
    expect(r.stderr).not.toContain("    at ");
    expect(r.stdout).toBe("");
  });
});
