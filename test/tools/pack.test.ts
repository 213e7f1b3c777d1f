// The package as a library: `npm pack` gives a tarball that installs into a scratch project, and the
// README's "Use it as a library" example, compiled against the installed declarations, converts a
// model, runs it and posts a claim on an anvil. Needs `npm run build` (dist/) and the npm registry's
// package metadata (tarballs come from the local npm cache: `--prefer-offline`).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createPublicClient, http } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANVIL_KEYS, type Anvil, startAnvil } from "../../chain/anvil.js";
import { artifact } from "../../game/artifacts.js";
import { convertFixture, FIXTURES, outputRoots } from "../../tools/fixtures.js";
import { ROOT } from "../helpers/helpers.js";

const pj = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
// onnxruntime-node's install script would download CUDA libraries (toolchain notes); the CPU
// backend is bundled. npm 11 runs no dependency install scripts by default anyway.
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip", npm_config_update_notifier: "false" };

/** The README's library example: the first ```ts block of its "Use it as a library" section. */
function readmeExample(readme: string): string {
  const section = readme.split(/^## /m).find((s) => s.startsWith("Use it as a library"));
  const m = section && /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('README.md: no ```ts block under "## Use it as a library"');
  return m[1];
}

function filesUnder(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p, base) : [relative(base, p)];
  });
}

describe("npm pack: the library installed elsewhere", () => {
  let dir = "";
  let tarball = "";
  let packed: string[] = [];
  let anvil: Anvil | undefined;

  beforeAll(() => {
    if (!existsSync(join(ROOT, "dist/tools/index.d.ts")))
      throw new Error("dist/ has no declarations: run `npm run build` first");
    dir = mkdtempSync(join(tmpdir(), "opml-pack-"));
    // --ignore-scripts: `npm pack` would otherwise run `prepare` (the whole build, forge included).
    const out = execFileSync(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], {
      cwd: ROOT,
      env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    const info = JSON.parse(out)[0] as { filename: string; files: { path: string }[] };
    tarball = join(dir, info.filename);
    packed = info.files.map((f) => f.path).sort();
  });

  afterAll(async () => {
    await anvil?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("ships every export's JS and declarations, the WASM modules and the deploy artifacts", () => {
    const want = [
      "bin/opml.js",
      "README.md",
      "dnn/build/dnn.wasm",
      "commit/build/keccak.wasm",
      "fixtures/mnist_mlp.onnx",
      "docs/PROTOCOL.md",
      ...["OneStepProver", "Registry", "NodeVmLink", "DisputeGame", "InferenceRequests"].map(
        (c) => `out/${c}.sol/${c}.json`,
      ),
    ];
    for (const e of Object.values(pj.exports) as (string | { types: string; default: string })[]) {
      if (typeof e === "string") want.push(e.replace(/^\.\//, ""));
      else want.push(e.types.replace(/^\.\//, ""), e.default.replace(/^\.\//, ""));
    }
    expect(want.filter((f) => !packed.includes(f))).toEqual([]);
    // No test, no Solidity source, no dev-only tool.
    expect(
      packed.filter((f) => /^(test|contracts)\/|\.test\.|dist\/tools\/(bench|vectors|adversarial)/.test(f)),
    ).toEqual([]);
  });

  it("imports at runtime only its dependencies and Node's built-ins", () => {
    const deps = new Set(Object.keys(pj.dependencies));
    const bare = new Set<string>();
    for (const f of packed.filter((p) => p.endsWith(".js"))) {
      const src = readFileSync(join(ROOT, f), "utf8");
      for (const m of src.matchAll(/(?:\bfrom|\bimport\s*\(|\brequire\s*\()\s*["']([^"'.][^"']*)["']/g))
        bare.add(m[1]);
    }
    const pkgName = (s: string) =>
      (s.startsWith("@") ? s.split("/").slice(0, 2) : s.split("/").slice(0, 1)).join("/");
    const foreign = [...bare].filter(
      (s) => !s.startsWith("node:") && !builtinModules.includes(s) && !deps.has(pkgName(s)),
    );
    expect(foreign).toEqual([]);
    expect(bare.has("viem")).toBe(true);
  });

  it("installs without building; the README example converts, runs and posts a claim", async () => {
    const app = join(dir, "app");
    execFileSync("mkdir", ["-p", app]);
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify({ name: "scratch", private: true, type: "module" }),
    );
    const t0 = Date.now();
    execFileSync(npm, ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball], {
      cwd: app,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const installS = (Date.now() - t0) / 1000;
    // Installed as packed: nothing built or generated in the package folder (no prepare run).
    const installed = join(app, "node_modules/opml-toolkit");
    expect(filesUnder(installed).sort()).toEqual(packed);
    expect(installS).toBeLessThan(300);

    // Compile the README's block as it stands against the installed declarations (strict, NodeNext).
    writeFileSync(join(app, "example.ts"), readmeExample(readFileSync(join(ROOT, "README.md"), "utf8")));
    const tsc = spawnSync(
      process.execPath,
      [
        join(ROOT, "node_modules/typescript/bin/tsc"),
        "example.ts",
        ...["--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--strict"],
        ...["--skipLibCheck", "--types", "node", "--typeRoots", join(ROOT, "node_modules/@types")],
      ],
      { cwd: app, encoding: "utf8" },
    );
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.status).toBe(0);

    anvil = await startAnvil();
    const model = join(FIXTURES, "mnist_mlp.onnx");
    const input = join(FIXTURES, "inputs", "mnist_0.json");
    const run = spawnSync(process.execPath, ["example.js", model, input, anvil.rpcUrl, ANVIL_KEYS[0]], {
      cwd: app,
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const modelRoot = /^model root (0x[0-9a-f]{64})$/m.exec(run.stdout)?.[1];
    const claim = /^claim (\d+) output root (0x[0-9a-f]{64})$/m.exec(run.stdout);
    expect(claim, run.stdout).not.toBeNull();

    // The repository's own computation of the same model and input, and its pinned roots.
    const pkg = convertFixture("mnist_mlp");
    const pinned = JSON.parse(readFileSync(join(FIXTURES, "pinned-roots.json"), "utf8")).mnist_mlp;
    expect(modelRoot).toBe(pkg.manifest.modelRoot);
    expect(modelRoot).toBe(pinned.modelRoot);
    expect(claim![2]).toBe(outputRoots(pkg, "mnist_mlp")["mnist_0.json"]);
    expect(claim![2]).toBe(pinned.outputs["mnist_0.json"]);

    // And the chain's: the ClaimPosted event of that id carries that output root.
    const pc = createPublicClient({ transport: http(anvil.rpcUrl) });
    const logs = await pc.getContractEvents({
      abi: artifact("DisputeGame.sol", "DisputeGame").abi,
      eventName: "ClaimPosted",
      fromBlock: 0n,
    });
    const posted = logs.map((l) => l.args as { claimId: bigint; outputRoot: `0x${string}` });
    expect(posted.map((a) => [a.claimId.toString(), a.outputRoot])).toEqual([[claim![1], claim![2]]]);

    // A typed user error: a wrong input shape is one line and exit 1, before any transaction.
    writeFileSync(join(app, "bad.json"), JSON.stringify({ shape: [1, 3], data: [1, 2, 3] }));
    const bad = spawnSync(process.execPath, ["example.js", model, "bad.json", anvil.rpcUrl, ANVIL_KEYS[0]], {
      cwd: app,
      encoding: "utf8",
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(
      /^opml: bad\.json: input '.+' has shape \[1,3\] but the model expects \[1,1,28,28\]\n$/,
    );
    // The root export loads every stage; the CLI runs from the installed package too.
    const root = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        'const m = await import("opml-toolkit"); console.log(typeof m.postClaim, typeof m.Watchtower, typeof m.convertGraph);',
      ],
      { cwd: app, encoding: "utf8" },
    );
    expect(root.stdout + root.stderr).toBe("function function function\n");
    const cli = spawnSync(join(app, "node_modules/.bin/opml"), ["--help"], { cwd: app, encoding: "utf8" });
    expect(cli.status).toBe(0);
    expect(cli.stdout).toMatch(/convert/);
    console.log(`npm install of the tarball: ${installS.toFixed(1)} s`);
  });
});
