// The first run from a fresh clone (issue 13, item 5): `npm ci` compiles the contracts (sources
// only: tests and scripts compile when `forge test`/`forge script` need them), forge prints no lint
// findings during a build, and npm is given nothing it warns about. onnxruntime-node's install
// script (it would download CUDA libraries) is denied through package.json's `allowScripts`, not
// an unknown `.npmrc` key (npm 11 warned about that one ~20 times per install).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/helpers.js";

const pj = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8"));

describe("first run", () => {
  it("npm ci's build (prepare) compiles the contract sources, skipping tests and scripts", () => {
    expect(pj.scripts.prepare).toBe("npm run build");
    expect(pj.scripts.build).toContain("npm run build:sol");
    expect(pj.scripts["build:sol"]).toMatch(/^forge build --quiet --skip test --skip script$/);
    expect(pj.scripts.demo).toMatch(/^npm run build && /);
  });

  it("forge does not lint on build (no lint findings in `npm run demo`)", () => {
    const toml = readFileSync(join(ROOT, "foundry.toml"), "utf8");
    expect(toml).toMatch(/^\[lint\]\nlint_on_build = false$/m);
  });

  it("no .npmrc key npm does not know; every dependency install script is reviewed in allowScripts", () => {
    if (existsSync(join(ROOT, ".npmrc")))
      expect(readFileSync(join(ROOT, ".npmrc"), "utf8")).not.toMatch(/onnxruntime/);
    expect(pj.allowScripts["onnxruntime-node"]).toBe(false);
    const withScripts = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean }>)
      .filter(([path, p]) => path !== "" && p.hasInstallScript)
      .map(([path]) => path.replace(/^.*node_modules\//, ""));
    expect(withScripts.length).toBeGreaterThan(0);
    for (const name of withScripts) expect(pj.allowScripts, name).toHaveProperty([name]);
  });

  it("onnxruntime-node works without its install script (the CPU backend is bundled)", async () => {
    const ort = await import("onnxruntime-node");
    const t = new ort.Tensor("float32", Float32Array.from([1, 2]), [2]);
    expect(t.dims).toEqual([2]);
    expect(ort.listSupportedBackends().map((b) => b.name)).toContain("cpu");
  });
});
