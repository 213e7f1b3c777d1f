import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANVIL_KEYS, type Anvil, freePort, startAnvil } from "../../chain/anvil.js";
import { loadPackage } from "../../dnn/src/package.js";
import { type CliResult, cliAsync, DEPLOYMENT_GETTERS, ROOT } from "../helpers/helpers.js";

const tmp = mkdtempSync(join(tmpdir(), "opml-fail-"));
const PKG = join(ROOT, "fixtures/packages/mnist_cnn");
const CNN = join(ROOT, "fixtures/mnist_cnn.onnx");
const MLP = join(ROOT, "fixtures/mnist_mlp.onnx");
const TRANSFORMER = join(ROOT, "fixtures/transformer_block.onnx");
const DIGIT = join(ROOT, "fixtures/inputs/mnist_0.json");
const KEY = ANVIL_KEYS[0];
/** Keys of accounts anvil never funded. */
const UNFUNDED = `0x${"11".repeat(32)}` as const;
const UNFUNDED2 = `0x${"22".repeat(32)}` as const;

/** The CLI in a child process (without blocking this one: a test server here must answer it). */
const run = (args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> =>
  cliAsync(args, { timeoutMs: 60_000, ...opts });

/** The lines of stderr that are not log lines (JSON objects) or warnings. */
function errorLines(stderr: string): string[] {
  return stderr
    .trimEnd()
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("{") && !l.startsWith("opml: warning:"));
}

/**
 * A user error: exit 1, one `opml: …` error line matching `pattern` (log lines, JSON, may precede
 * it on stderr), no stack, within `withinMs`, and none of `outputs` written.
 */
function expectFailure(r: CliResult, pattern: RegExp, o: { withinMs?: number; outputs?: string[] } = {}) {
  expect(r.code, r.stderr).toBe(1);
  const lines = errorLines(r.stderr);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^opml: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toContain("    at ");
  expect(r.stderr).not.toContain("internal error");
  expect(r.stderr.length, "no dump").toBeLessThan(2000);
  if (o.withinMs !== undefined) expect(r.ms, `took ${r.ms.toFixed(0)} ms`).toBeLessThan(o.withinMs);
  for (const f of o.outputs ?? []) expect(existsSync(f), f).toBe(false);
}

const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}`;
/** A deployment file (addresses 1…5, as the mock chain below answers). */
function depFile(name: string, over: Record<string, unknown> = {}, raw?: string): string {
  const f = join(tmp, `${name}.json`);
  const base = {
    verifier: addr(1),
    registry: addr(2),
    link: addr(3),
    game: addr(4),
    requests: addr(5),
    block: "0",
    chainId: 31337,
    params: { minBond: "1", challengerBond: "1", challengeWindow: "3600", clockBudget: "1800" },
  };
  writeFileSync(f, raw ?? JSON.stringify({ ...base, ...over }));
  return f;
}

describe("an RPC URL that cannot work: one line within seconds naming the cause and the URL", () => {
  let refused = "";
  beforeAll(async () => {
    refused = `http://127.0.0.1:${await freePort()}`; // nothing listens there
  });
  const chainArgs = (url: string) => ["--rpc-url", url, "--private-key", KEY, "--deployment", depFile("ok")];

  it("connection refused (submit, watch, deploy)", async () => {
    const pattern = new RegExp(`^opml: ${refused}: connection refused`);
    const out = join(tmp, "refused-dep.json");
    for (const args of [
      ["submit", ...chainArgs(refused), "--model", PKG, "--input", DIGIT],
      ["watch", ...chainArgs(refused), "--model", PKG, "--once"],
      ["deploy", "--rpc-url", refused, "--private-key", KEY, "-o", out],
    ])
      expectFailure(await run(args), pattern, { withinMs: 10_000, outputs: [out] });
  });
  it("unknown host", async () => {
    const url = "http://no-such-host.invalid:8545";
    expectFailure(
      await run(["submit", ...chainArgs(url), "--model", PKG, "--input", DIGIT]),
      /^opml: http:\/\/no-such-host\.invalid:8545: (unknown host|cannot resolve host) 'no-such-host\.invalid'/,
      { withinMs: 10_000 },
    );
  });
  it("a missing or unsupported scheme", async () => {
    expectFailure(
      await run(["watch", ...chainArgs("127.0.0.1:8545"), "--model", PKG]),
      /^opml: 127\.0\.0\.1:8545: not a URL: the scheme is missing \(try http:\/\/127\.0\.0\.1:8545\)$/,
      { withinMs: 10_000 },
    );
    expectFailure(
      await run(["submit", ...chainArgs("localhost:8545"), "--model", PKG, "--input", DIGIT]),
      /^opml: localhost:8545: not a URL: the scheme is missing/,
      { withinMs: 10_000 },
    );
    expectFailure(
      await run(["submit", ...chainArgs("ws://127.0.0.1:8545"), "--model", PKG, "--input", DIGIT]),
      /^opml: ws:\/\/127\.0\.0\.1:8545: unsupported scheme 'ws'/,
      { withinMs: 10_000 },
    );
  });
  it("a transient failure is retried, and each retry is logged as it happens", async () => {
    // Two HTTP 503s, then a node on another chain: the retries are logged before the answer.
    let calls = 0;
    const srv = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => {
        body += d;
      });
      req.on("end", () => {
        if (++calls <= 2) {
          res.statusCode = 503;
          res.end("busy");
          return;
        }
        const q = JSON.parse(body);
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ jsonrpc: "2.0", id: q.id, result: "0x1" }));
      });
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    try {
      const r = await run(["watch", ...chainArgs(url), "--model", PKG, "--once"]);
      expectFailure(r, /written for chain id 31337, but .* serves chain id 1$/, { withinMs: 10_000 });
      const retries = `${r.stdout}\n${r.stderr}`
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l))
        .filter((j) => j.msg === "rpc retry");
      expect(retries.map((j) => j.attempt)).toEqual([1, 2]);
      expect(retries[0]).toMatchObject({ level: "warn", method: "eth_chainId", url });
      expect(retries[0].error).toMatch(/HTTP request failed/);
    } finally {
      srv.close();
    }
  });
});

describe("on a real chain (anvil): unfunded keys and deployment files for another chain", () => {
  let anvil: Anvil;
  let dep = "";
  beforeAll(async () => {
    anvil = await startAnvil();
    dep = join(tmp, "anvil-dep.json");
    const r = await run(["deploy", "--rpc-url", anvil.rpcUrl, "--private-key", KEY, "-o", dep]);
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await anvil?.stop();
  });
  const chain = (key: string, d = dep) => [
    "--rpc-url",
    anvil.rpcUrl,
    "--private-key",
    key,
    "--deployment",
    d,
  ];

  it("an unfunded key: one line with the address, its balance and the amount needed (no viem dump)", async () => {
    const who = privateKeyToAccount(UNFUNDED).address;
    const r = await run(["submit", ...chain(UNFUNDED), "--model", PKG, "--input", DIGIT]);
    expectFailure(
      r,
      new RegExp(
        `^opml: ${who}: not enough ETH for \\w+: balance 0 ETH, needs [0-9.]+ ETH \\(.*gas \\d+ × [0-9.]+ gwei\\)`,
      ),
      { withinMs: 30_000 },
    );
    const out = join(tmp, "unfunded-dep.json");
    const d = await run(["deploy", "--rpc-url", anvil.rpcUrl, "--private-key", UNFUNDED2, "-o", out]);
    expectFailure(
      d,
      new RegExp(
        `^opml: ${privateKeyToAccount(UNFUNDED2).address}: not enough ETH for deploy OneStepProver: balance 0 ETH, needs [0-9.]+ ETH`,
      ),
      { withinMs: 30_000, outputs: [out] },
    );
  }, 90_000);

  it("an account with gas money but not the bond: the bond is named in the amount needed", async () => {
    const who = privateKeyToAccount(UNFUNDED2).address;
    await fetch(anvil.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "anvil_setBalance",
        params: [who, "0x2386F26FC10000"],
      }),
    });
    const r = await run(["submit", ...chain(UNFUNDED2), "--model", PKG, "--input", DIGIT]);
    expectFailure(
      r,
      new RegExp(
        `^opml: ${who}: not enough ETH for postClaimWithInputs: balance 0\\.0\\d+ ETH, needs 1\\.[0-9]+ ETH \\(1 ETH value \\+ gas \\d+`,
      ),
      { withinMs: 60_000 },
    );
  }, 90_000);

  const deployed = () => JSON.parse(readFileSync(dep, "utf8"));
  it("a deployment file whose contracts are not there: submit, watch --once and watch all exit 1", async () => {
    const d = deployed();
    const swapped = depFile("swapped", { ...d, game: d.registry, registry: d.game });
    const pattern = new RegExp(
      `swapped\\.json: the contract at game address ${d.registry} on chain id 31337 is not the DisputeGame this file describes \\(registry\\(\\) fails`,
    );
    for (const args of [
      ["submit", ...chain(KEY, swapped), "--model", PKG, "--input", DIGIT],
      ["watch", ...chain(ANVIL_KEYS[1], swapped), "--model", PKG, "--once"],
      ["watch", ...chain(ANVIL_KEYS[1], swapped), "--model", PKG], // the daemon: no endless loop
    ])
      expectFailure(await run(args, { timeoutMs: 30_000 }), pattern, { withinMs: 10_000 });
  }, 90_000);
  it("a deployment file from a chain with more blocks, or with other code or parameters", async () => {
    const d = deployed();
    expectFailure(
      await run([
        "submit",
        ...chain(KEY, depFile("future", { ...d, block: "1000000" })),
        "--model",
        PKG,
        "--input",
        DIGIT,
      ]),
      /future\.json: deployed in block 1000000, but the head of chain id 31337 at .* is block \d+ \(a file for another chain, or the chain was reset; redeploy\)$/,
      { withinMs: 10_000 },
    );
    expectFailure(
      await run([
        "watch",
        ...chain(KEY, depFile("nocode", { ...d, link: addr(0xabc) })),
        "--model",
        PKG,
        "--once",
      ]),
      new RegExp(`nocode\\.json: no contract at link address ${addr(0xabc)} on chain id 31337$`),
      { withinMs: 10_000 },
    );
    const bond = depFile("bond", { ...d, params: { ...d.params, challengerBond: "5" } });
    expectFailure(
      await run(["watch", ...chain(KEY, bond), "--model", PKG, "--once"]),
      new RegExp(
        `bond\\.json: the DisputeGame at ${d.game} on chain id 31337 has challengerBond\\(\\) = 10{18}, but the file says 5$`,
      ),
      { withinMs: 10_000 },
    );
  }, 90_000);
  it("the deployment file as written works (the checks refuse nothing good)", async () => {
    const r = await run(["watch", ...chain(ANVIL_KEYS[1]), "--model", PKG, "--once"]);
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);
});

describe("watch --once exits 1 when its one pass failed", () => {
  /** A node that passes the start-up checks but refuses eth_getLogs (a limit of its own). */
  let srv: Server;
  let url = "";
  const block = {
    number: "0x0",
    hash: `0x${"ab".repeat(32)}`,
    parentHash: `0x${"00".repeat(32)}`,
    timestamp: "0x0",
    gasLimit: "0x1c9c380",
    gasUsed: "0x0",
    baseFeePerGas: "0x1",
    miner: addr(0),
    transactions: [],
    uncles: [],
  };
  beforeAll(async () => {
    srv = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => {
        body += d;
      });
      req.on("end", () => {
        const answer = (q: { id: number; method: string; params?: [{ data?: string }] }) => {
          const ok = (result: unknown) => ({ jsonrpc: "2.0", id: q.id, result });
          if (q.method === "eth_chainId") return ok("0x7a69");
          if (q.method === "eth_blockNumber") return ok("0x10");
          if (q.method === "eth_getCode") return ok("0x6080");
          if (q.method === "eth_getBlockByNumber") return ok(block);
          const getter = DEPLOYMENT_GETTERS[q.params?.[0]?.data?.slice(0, 10) ?? ""];
          if (q.method === "eth_call" && getter !== undefined) return ok(getter);
          return { jsonrpc: "2.0", id: q.id, error: { code: -32602, message: `${q.method} refused here` } };
        };
        const q = JSON.parse(body);
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(Array.isArray(q) ? q.map(answer) : answer(q)));
      });
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    srv.close();
  });
  it("instead of 0 (a node that refuses eth_getLogs)", async () => {
    const r = await run([
      "watch",
      "--rpc-url",
      url,
      "--private-key",
      KEY,
      "--deployment",
      depFile("mock-ok"),
      "--model",
      PKG,
      "--state",
      join(tmp, "mock-state.json"),
      "--once",
    ]);
    expectFailure(r, /^opml: watch --once: the pass failed: \S/, { withinMs: 20_000 });
  }, 30_000);
});

describe("CLI arguments and files that cannot work: one line, before anything starts", () => {
  it("--lie bogus and --lie node:99 (submit on the embedded chain, serve-submitter, demo)", async () => {
    expectFailure(
      await run(["submit", "--model", PKG, "--input", DIGIT, "--lie", "bogus"]),
      /^opml: --lie 'bogus': expected output, node:K, step:N\[@K\], after-halt\[@K\] or silent$/,
      { withinMs: 10_000 },
    );
    const node99 =
      /^opml: --lie (node:99|step:5@99|after-halt@99): node 99 is out of range: the model has 10 nodes \(0\.\.9\)$/;
    for (const args of [
      ["submit", "--model", PKG, "--input", DIGIT, "--lie", "node:99"],
      ["submit", "--model", PKG, "--input", DIGIT, "--lie", "step:5@99"],
      ["submit", "--model", PKG, "--input", DIGIT, "--lie", "after-halt@99"],
      ["demo", "--lie", "node:99"],
      [
        "serve-submitter",
        "--rpc-url",
        "http://127.0.0.1:9",
        "--private-key",
        KEY,
        "--deployment",
        depFile("ok"),
        "--model",
        PKG,
        "--lie",
        "node:99",
      ],
    ])
      expectFailure(await run(args), node99, { withinMs: 10_000 });
  }, 60_000);

  it("a malformed --deployment names the file and the field", async () => {
    const args = (d: string) => [
      "submit",
      "--rpc-url",
      "http://127.0.0.1:9",
      "--private-key",
      KEY,
      "--deployment",
      d,
      "--model",
      PKG,
      "--input",
      DIGIT,
    ];
    const cases: [string, RegExp][] = [
      [depFile("not-json", {}, "{ nope"), /not-json\.json: not a deployment file \(.*JSON/],
      [
        depFile("array", {}, "[1, 2]"),
        /array\.json: not a deployment file written by `opml deploy` \('verifier' is missing\)$/,
      ],
      [depFile("no-registry", { registry: undefined }), /no-registry\.json: .*\('registry' is missing\)$/],
      [
        depFile("bad-address", { verifier: "0xzz" }),
        /bad-address\.json: .*\('verifier' is "0xzz", not an address\)$/,
      ],
      [
        depFile("no-budget", { params: { minBond: "1", challengerBond: "1", challengeWindow: "3600" } }),
        /no-budget\.json: .*\('params\.clockBudget' is missing\)$/,
      ],
      [
        depFile("bad-block", { block: "abc" }),
        /bad-block\.json: .*\('block' is "abc", not a non-negative integer\)$/,
      ],
      [depFile("no-params", { params: undefined }), /no-params\.json: .*\('params' is missing\)$/],
      [depFile("null-params", { params: null }), /null-params\.json: .*\('params' is not an object\)$/],
      [depFile("no-chain", { chainId: undefined }), /no-chain\.json: 'chainId' is missing/],
    ];
    for (const [f, pattern] of cases) {
      const r = await run(args(f));
      expectFailure(r, pattern, { withinMs: 10_000 });
      expect(r.stderr).not.toMatch(/BigInt|undefined/);
    }
  }, 120_000);

  it("deploy --model <tampered> validates the package before sending anything or writing the file", async () => {
    let requests = 0;
    const srv = createServer((_req, res) => {
      requests++;
      res.statusCode = 500;
      res.end();
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    try {
      const bad = join(tmp, "tampered");
      cpSync(PKG, bad, { recursive: true });
      rmSync(join(bad, ".opml-roots.json"), { force: true });
      const w = readFileSync(join(bad, "weights.bin"));
      w[64] ^= 1;
      writeFileSync(join(bad, "weights.bin"), w);
      const out = join(tmp, "tampered-dep.json");
      expectFailure(
        await run(["deploy", "--rpc-url", url, "--private-key", KEY, "-o", out, "--model", bad]),
        /tampered\/weights\.bin: weight '.*' does not match its root/,
        { withinMs: 10_000, outputs: [out] },
      );
      expect(requests, "nothing sent").toBe(0);
    } finally {
      srv.close();
    }
  }, 30_000);
});

describe("convert --force replaces only a directory that is a model package", () => {
  it("refuses a plain file, the working directory, a non-package directory; all left as they were", async () => {
    const file = join(tmp, "existing.txt");
    writeFileSync(file, "keep me");
    expectFailure(
      await run(["convert", MLP, "-o", file, "--force", "--no-fidelity"]),
      /existing\.txt: is a file, not a directory; --force replaces only a model package directory$/,
    );
    expect(readFileSync(file, "utf8")).toBe("keep me");
    // Without --force it is not called a directory that --force would replace.
    expectFailure(
      await run(["convert", MLP, "-o", file, "--no-fidelity"]),
      /existing\.txt: is a file, not a directory; choose another --out$/,
    );
    expect(readFileSync(file, "utf8")).toBe("keep me");

    const cwd = join(tmp, "work");
    mkdirSync(cwd);
    writeFileSync(join(cwd, "notes.txt"), "mine");
    expectFailure(
      await run(["convert", MLP, "-o", ".", "--force", "--no-fidelity"], { cwd }),
      /^opml: \.: is the working directory or holds it; --force replaces only a model package directory$/,
    );
    expect(readdirSync(cwd)).toEqual(["notes.txt"]);

    const other = join(tmp, "not-a-package");
    mkdirSync(other);
    writeFileSync(join(other, "data.csv"), "1,2");
    expectFailure(
      await run(["convert", MLP, "-o", other, "--force", "--no-fidelity"]),
      /not-a-package: is not a model package \(no manifest\.json of an opml model\)/,
    );
    expect(readdirSync(other)).toEqual(["data.csv"]);

    // A package someone put other files in: those files would be lost.
    const mixed = join(tmp, "mixed");
    cpSync(join(ROOT, "fixtures/packages/mnist_mlp"), mixed, { recursive: true });
    writeFileSync(join(mixed, "README"), "mine");
    expectFailure(
      await run(["convert", MLP, "-o", mixed, "--force", "--no-fidelity"]),
      /mixed: holds files a model package does not \('README'\)/,
    );
    expect(existsSync(join(mixed, "README"))).toBe(true);
    expect(readdirSync(tmp).filter((f) => /\.(tmp|old)-\d+$/.test(f))).toEqual([]);
  }, 120_000);

  it("replaces a model package", async () => {
    const out = join(tmp, "pkg-force");
    expect((await run(["convert", MLP, "-o", out, "--no-fidelity"])).code).toBe(0);
    const r = await run(["convert", CNN, "-o", out, "--force", "--no-fidelity"]);
    expect(r.code, r.stderr).toBe(0);
    expect(loadPackage(out).manifest.name).toBe("mnist_cnn");
  }, 120_000);
});

describe("inputs out of the Q16.16 range, and --compare-onnx against the right model", () => {
  const big = join(tmp, "big.json");
  beforeAll(() => {
    const j = JSON.parse(readFileSync(DIGIT, "utf8"));
    j.data[3] = 1e12;
    j.data[7] = -40000;
    writeFileSync(big, JSON.stringify(j));
  });

  it("an out-of-range value is an error naming the file, the tensor and the count", async () => {
    for (const args of [
      ["infer", PKG, "--input", big],
      ["prove", PKG, "--input", big, "--node", "0", "--step", "0"],
      ["submit", "--model", PKG, "--input", big],
    ])
      expectFailure(
        await run(args),
        /big\.json: input 'input': 2 values outside the Q16\.16 range \[-32768, 32767\.99998\] \(element 3 is 1000000000000\); pass --clamp to saturate them to its limits$/,
        { withinMs: 10_000 },
      );
  }, 60_000);
  it("--clamp turns it into a warning naming the tensor and the count, and saturates", async () => {
    const r = await run(["infer", PKG, "--input", big, "--clamp", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.trim()).toMatch(
      /^opml: warning: .*big\.json: input 'input': 2 values outside the Q16\.16 range \[-32768, 32767\.99998\] clamped to its limits \(--clamp\)$/,
    );
    // The same bits as the saturated values written out (the quantization rule is unchanged).
    const j = JSON.parse(readFileSync(big, "utf8"));
    j.data[3] = (2 ** 31 - 1) / 65536;
    j.data[7] = -32768;
    const sat = join(tmp, "saturated.json");
    writeFileSync(sat, JSON.stringify(j));
    const s = await run(["infer", PKG, "--input", sat, "--json"]);
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(r.stdout).outputRoot).toBe(JSON.parse(s.stdout).outputRoot);
  }, 60_000);

  it("a model of another rank: one line naming the input and both shapes", async () => {
    const r = await run(["infer", PKG, "--input", DIGIT, "--compare-onnx", TRANSFORMER]);
    expect(r.stdout).toBe("");
    expectFailure(
      r,
      /transformer_block\.onnx: input 'input' has shape \[1,8,32\] there, but the package's is \[1,1,28,28\]/,
      { withinMs: 20_000 },
    );
  }, 30_000);

  it("packages record the source's sha256 (no root changes); another model is compared with a warning; JSON is numbers", async () => {
    const out = join(tmp, "cnn-hashed");
    expect((await run(["convert", CNN, "-o", out, "--no-fidelity"])).code).toBe(0);
    const m = loadPackage(out).manifest;
    expect(m.source?.sha256).toBe(createHash("sha256").update(readFileSync(CNN)).digest("hex"));
    // Descriptive only: the model root and every tensor root are the committed fixture's.
    const fixture = loadPackage(PKG).manifest;
    expect(m.modelRoot).toBe(fixture.modelRoot);
    expect(m.weights.map((w) => w.root)).toEqual(fixture.weights.map((w) => w.root));

    const same = await run(["infer", out, "--input", DIGIT, "--compare-onnx", CNN, "--json"]);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stderr).toBe("");
    const j = JSON.parse(same.stdout);
    expect(j.compare).toEqual([
      { output: "output", maxAbs: expect.any(Number), maxRel: expect.any(Number), argmaxAgree: 1, rows: 1 },
    ]);
    expect(j.compare[0].maxAbs).toBeLessThan(1e-2);

    const other = await run(["infer", out, "--input", DIGIT, "--compare-onnx", MLP, "--json"]);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stderr.trim()).toMatch(
      /^opml: warning: .*mnist_mlp\.onnx: not the model this package was converted from \(its sha256 is [0-9a-f]{16}…, the package's source mnist_cnn\.onnx has [0-9a-f]{16}…\); comparing anyway$/,
    );
    expect(JSON.parse(other.stdout).compare[0].maxAbs).toBeGreaterThan(1);
  }, 120_000);
});
