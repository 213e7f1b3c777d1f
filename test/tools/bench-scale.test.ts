// `npm run bench:scale` (tools/bench-scale.ts) on the tiny xs decoder without the demo: the harness
// runs end to end and its figures agree with values computed here. Building the model needs Debian's
// torch; where /usr/bin/python3 cannot import it (CI installs only libonnx-testdata) the run is
// skipped, with the reason in the test's name and on stderr. Speed goals are not asserted (a benchmark
// measures them); only that each figure is there and consistent.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultBackend } from "../../dnn/src/engine.js";
import { loadPackage } from "../../dnn/src/package.js";
import { nodeInputs, runNodeInVm } from "../../game/link.js";
import { readInputFile } from "../../tools/commands/io.js";
import { ROOT } from "../helpers/helpers.js";

const HARNESS = join(ROOT, "dist", "tools", "bench-scale.js");
const bench = (args: string[]) =>
  spawnSync(process.execPath, [HARNESS, ...args], { cwd: ROOT, encoding: "utf8" });

const hasTorch = spawnSync("/usr/bin/python3", ["-c", "import torch"]).status === 0;
const WHY = "skipped: needs /usr/bin/python3 with torch (apt-get install python3-torch)";
if (!hasTorch) console.warn(`test/tools/bench-scale.test.ts: xs run ${WHY}`);

describe("bench:scale arguments", () => {
  it.each([
    [["--sizes", "xs,q"], "bench:scale: --sizes: unknown size 'q' (sizes: xs, s, m, l)"],
    [["--bogus"], "bench:scale: unknown option '--bogus'"],
    [["--threads", "0"], "bench:scale: --threads '0': expected a positive integer"],
    [
      ["--lies", "output,nod:3"],
      "bench:scale: --lies: 'nod:3': expected output, node:K, step:N[@K], after-halt[@K] or silent",
    ],
  ])("%j is refused in one line, exit 1", (args, line) => {
    const r = bench(args);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(line);
    expect(r.stdout).toBe("");
  });
});

describe.skipIf(!hasTorch)(`bench:scale --sizes xs --skip-demo --json${hasTorch ? "" : ` (${WHY})`}`, () => {
  const cache = mkdtempSync(join(tmpdir(), "opml-bench-scale-"));
  afterAll(() => rmSync(cache, { recursive: true, force: true }));

  it("measures every stage, and the figures check out", () => {
    const r = bench(["--sizes", "xs", "--skip-demo", "--json", "--keep", "--cache", cache]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1); // one JSON object per size
    const j = JSON.parse(lines[0]);
    expect(j.errors).toEqual([]);
    expect(j.size).toBe("xs");
    const { layers, d, vocab, ctx } = j.config;
    expect(j.config).toEqual({ layers: 2, d: 64, heads: 2, vocab: 512, ctx: 16 });
    // GPT parameters, tied embedding once: wte + wpe + per block (LN 2·2d, attention 4d²+4d, MLP
    // 8d²+5d) + the final LayerNorm.
    expect(j.params).toBe(vocab * d + ctx * d + layers * (12 * d * d + 13 * d) + 2 * d);

    const pkgDir = join(cache, "pkg-xs");
    expect(j.onnxBytes).toBe(statSync(join(cache, "gpt-xs.onnx")).size);
    expect(j.packageBytes).toBe(
      statSync(join(pkgDir, "weights.bin")).size + statSync(join(pkgDir, "manifest.json")).size,
    );
    // A Node process that loaded the converter and onnxruntime: more than 40 MiB, far below 4 GiB.
    expect(j.convert.seconds).toBeGreaterThan(0);
    expect(j.convert.peakRss).toBeGreaterThan(40 * 2 ** 20);
    expect(j.convert.peakRss).toBeLessThan(4 * 2 ** 30);
    expect(j.open.coldSeconds).toBeGreaterThan(0);
    expect(j.open.cachedSeconds).toBeGreaterThan(0);

    // Fidelity over the size's input and two seeded ones, every position; fixed point is close to
    // float but not equal to it.
    const f = j.forward;
    expect(f.inputs).toBe(3);
    expect(f.positions).toBe(3 * ctx);
    expect(f.argmaxAgree).toBe(1);
    expect(f.maxAbs).toBeGreaterThan(0);
    expect(f.maxAbs).toBeLessThan(1e-2);
    expect(f.ratio).toBeCloseTo(f.nativeMs / f.ortMs, 9);
    expect(f.threads).toBe(1);

    // The heaviest node, found here by running every node in the VM (the harness runs only the top
    // candidates by estimate).
    const pkg = loadPackage(pkgDir);
    const acts = defaultBackend()
      .prepare(pkg)
      .run(readInputFile(pkg.manifest, join(cache, "gpt-xs.json")), { keepAll: true });
    let node = -1;
    let most = -1;
    for (let k = 0; k < pkg.manifest.nodes.length; k++) {
      const s = runNodeInVm(pkg, k, nodeInputs(pkg, k, acts)).steps;
      if (s > most) [node, most] = [k, s];
    }
    expect(j.vm).toMatchObject({ node, steps: most, halted: true, matchesNative: true, trapped: false });
    expect(j.vm.stepsPerSecond).toBeCloseTo(j.vm.steps / j.vm.seconds, 3);
    expect(j.demo).toEqual({ skipped: true });
  }, 90_000);
});
