import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { encodeErrorResult } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANVIL_KEYS } from "../../chain/anvil.js";
import { loadPackage } from "../../dnn/src/package.js";
import { artifact } from "../../game/artifacts.js";
import { type CliResult, cli, cliAsync, DEPLOYMENT_GETTERS, ROOT } from "../helpers/helpers.js";
import { onnxModel } from "../helpers/onnx-models.js";

const tmp = mkdtempSync(join(tmpdir(), "opml-cli-"));
const CNN = join(ROOT, "fixtures/mnist_cnn.onnx");
const PKG = join(ROOT, "fixtures/packages/mnist_cnn");
const DIGIT = join(ROOT, "fixtures/inputs/mnist_0.json");

/** A one-node model Y = op(X) (plus an optional float initializer W as second input). */
function tinyModel(op: string, w?: number[]): Uint8Array {
  return onnxModel({
    nodes: [{ opType: op, name: `my_${op}`, input: w ? ["X", "W"] : ["X"], output: ["Y"] }],
    inputs: [["X", [1, 4]]],
    outputs: [["Y", [1, 4]]],
    initializers: w ? { W: w } : {},
  });
}

function expectCleanFailure(args: string[], pattern: RegExp, outDir?: string) {
  const r = cli(args);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
  if (outDir) {
    expect(existsSync(outDir)).toBe(false);
    expect(readdirSync(tmp).filter((f) => f.startsWith(`${basename(outDir)}.tmp-`))).toEqual([]);
  }
}

/**
 * A user error: exit 1, exactly one stderr line `opml: …` matching `pattern` (the culprit), no
 * stack, and none of `outputs` written.
 */
function expectUserError(r: Omit<CliResult, "ms">, pattern: RegExp, outputs: string[] = []) {
  expect(r.code, r.stderr).toBe(1);
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^opml: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toContain("    at ");
  expect(r.stderr).not.toContain("internal error");
  for (const f of outputs) expect(existsSync(f), f).toBe(false);
}

describe("opml convert: bad input", () => {
  beforeAll(() => {
    writeFileSync(join(tmp, "corrupt.onnx"), Buffer.from("this is not a protobuf at all \u0000\u00ff"));
    writeFileSync(join(tmp, "truncated.onnx"), readFileSync(CNN).subarray(0, 3000));
    writeFileSync(join(tmp, "unsupported.onnx"), tinyModel("NonMaxSuppression"));
    writeFileSync(join(tmp, "nan.onnx"), tinyModel("Add", [1, Number.NaN, 2, 3]));
    writeFileSync(join(tmp, "inf.onnx"), tinyModel("Mul", [1, 2, Number.POSITIVE_INFINITY, 3]));
    writeFileSync(join(tmp, "ok.onnx"), tinyModel("Add", [1, 2, 3, 4]));
  });

  it("missing file", () => {
    const out = join(tmp, "o-missing");
    expectCleanFailure(
      ["convert", join(tmp, "nope.onnx"), "-o", out],
      /nope\.onnx: cannot read \(ENOENT\)/,
      out,
    );
  });
  it("corrupt protobuf", () => {
    const out = join(tmp, "o-corrupt");
    expectCleanFailure(
      ["convert", join(tmp, "corrupt.onnx"), "-o", out],
      /corrupt\.onnx: not a valid ONNX model/,
      out,
    );
  });
  it("truncated file", () => {
    const out = join(tmp, "o-trunc");
    expectCleanFailure(
      ["convert", join(tmp, "truncated.onnx"), "-o", out],
      /truncated\.onnx: (not a valid ONNX model|.*truncated)/,
      out,
    );
  });
  it("unsupported op names the op and the node", () => {
    const out = join(tmp, "o-unsup");
    expectCleanFailure(
      ["convert", join(tmp, "unsupported.onnx"), "-o", out],
      /unsupported op 'NonMaxSuppression' at node 'my_NonMaxSuppression'/,
      out,
    );
  });
  it("NaN weights name the tensor; infinite ones saturate (docs/NUMERICS.md §1, masks)", () => {
    const out = join(tmp, "o-nan.onnx");
    expectCleanFailure(["convert", join(tmp, "nan.onnx"), "-o", out], /tensor 'W'.*element \d+ is NaN/, out);
    const outInf = join(tmp, "o-inf.onnx");
    expect(cli(["convert", join(tmp, "inf.onnx"), "-o", outInf, "--no-fidelity"]).code).toBe(0);
    const pkg = loadPackage(outInf);
    const w = pkg.weights.find((t) => t.some((v) => v === 2 ** 31 - 1 || v === -(2 ** 31)));
    expect(w, "a saturated weight word").toBeDefined();
  });
  it("refuses to overwrite an existing package without --force", () => {
    const out = join(tmp, "o-ok");
    expect(cli(["convert", join(tmp, "ok.onnx"), "-o", out]).code).toBe(0);
    expectCleanFailure(["convert", join(tmp, "ok.onnx"), "-o", out], /already exists/);
    expect(existsSync(join(out, "manifest.json"))).toBe(true);
  });
});

describe("opml infer: bad input", () => {
  it("wrong input shape names the input and both shapes", () => {
    const f = join(tmp, "badshape.json");
    writeFileSync(f, JSON.stringify({ shape: [1, 784], data: new Array(784).fill(0) }));
    expectCleanFailure(
      ["infer", PKG, "--input", f],
      /input 'input' has shape \[1,784\] but the model expects \[1,1,28,28\]/,
    );
  });
  it("wrong element count", () => {
    const f = join(tmp, "badcount.json");
    writeFileSync(f, JSON.stringify({ shape: [1, 1, 28, 28], data: [1, 2, 3] }));
    expectCleanFailure(["infer", PKG, "--input", f], /has 3 values; shape \[1,1,28,28\] needs 784/);
  });
  it("NaN in the input", () => {
    const f = join(tmp, "nan-in.json");
    const data = new Array(784).fill(0);
    writeFileSync(f, JSON.stringify({ shape: [1, 1, 28, 28], data }).replace("[0,", "[1e999,"));
    expectCleanFailure(["infer", PKG, "--input", f], /element 0 is Infinity/);
  });
  it("missing input file, invalid JSON, missing package", () => {
    expectCleanFailure(["infer", PKG, "--input", join(tmp, "none.json")], /none\.json: cannot read/);
    const bad = join(tmp, "bad.json");
    writeFileSync(bad, "{ nope");
    expectCleanFailure(["infer", PKG, "--input", bad], /bad\.json: invalid JSON/);
    expectCleanFailure(
      ["infer", join(tmp, "no-pkg"), "--input", DIGIT],
      /not a model package \(no manifest\.json\)/,
    );
  });
  it("a tampered weights file is caught by its root", () => {
    const dir = join(tmp, "tampered");
    expect(cli(["convert", join(tmp, "ok.onnx"), "-o", dir, "--force"]).code).toBe(0);
    const w = readFileSync(join(dir, "weights.bin"));
    w[0] ^= 1;
    writeFileSync(join(dir, "weights.bin"), w);
    const f = join(tmp, "x.json");
    writeFileSync(f, JSON.stringify({ shape: [1, 4], data: [1, 2, 3, 4] }));
    expectCleanFailure(["infer", dir, "--input", f], /weight 'W' does not match its root/);
  });
  it("unknown command and missing required option exit non-zero", () => {
    expect(cli(["frobnicate"]).code).not.toBe(0);
    expectCleanFailure(["infer", PKG], /Missing required argument: input/);
  });
});

describe("opml infer --vm and opml prove", () => {
  it("infer --vm --json adds the VM step count and keeps the native output root", () => {
    const native = JSON.parse(cli(["infer", PKG, "--input", DIGIT, "--json"]).stdout);
    const r = cli(["infer", PKG, "--input", DIGIT, "--vm", "--json"]);
    expect(r.code).toBe(0);
    const vm = JSON.parse(r.stdout);
    expect(vm.outputRoot).toBe(native.outputRoot);
    expect(vm.steps).toBeGreaterThan(1_000_000);
  });
  it("prove prints a proof that verifies, and names bad node/step indices", () => {
    const r = cli(["prove", PKG, "--input", DIGIT, "--node", "1", "--step", "100"]);
    expect(r.code).toBe(0);
    const p = JSON.parse(r.stdout);
    expect(p.verified).toBe(true);
    expect(p.preRoot).toMatch(/^0x[0-9a-f]{64}$/);
    expect(p.proof.length).toBeGreaterThan(2 + 2 * 384);
    expectCleanFailure(
      ["prove", PKG, "--input", DIGIT, "--node", "99", "--step", "0"],
      /--node 99 is out of range: the model has 10 nodes/,
    );
    // Past the halt the machine maps to itself: the proof is its 384 state bytes.
    const past = cli(["prove", PKG, "--input", DIGIT, "--node", "1", "--step", "999999999"]);
    expect(past.code).toBe(0);
    const q = JSON.parse(past.stdout);
    expect(q.verified).toBe(true);
    expect(q.postRoot).toBe(q.preRoot);
    expect(q.proof.length).toBe(2 + 2 * 384);
  });
});

describe("every user error: exit 1, one line naming the culprit, no stack, no output", () => {
  const KEY = ANVIL_KEYS[0];
  /** A JSON-RPC node that is up but is not the chain the deployment was written for. */
  let rpc: Server;
  let rpcUrl = "";
  let notRpc: Server;
  let notRpcUrl = "";
  const rpcState = { chainId: 1, code: "0x", revert: "0x" };
  const registryAbi = artifact("Registry.sol", "Registry").abi;
  const dep = (over: Record<string, unknown> = {}) => {
    const f = join(
      tmp,
      `dep-${Object.keys(over).join("-") || "ok"}-${Math.random().toString(36).slice(2)}.json`,
    );
    const a = (n: number) => `0x${n.toString(16).padStart(40, "0")}`;
    writeFileSync(
      f,
      JSON.stringify({
        verifier: a(1),
        registry: a(2),
        link: a(3),
        game: a(4),
        requests: a(5),
        block: "0",
        chainId: 31337,
        params: { minBond: "1", challengerBond: "1", challengeWindow: "3600", clockBudget: "1800" },
        ...over,
      }),
    );
    return f;
  };
  beforeAll(async () => {
    rpc = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => {
        body += d;
      });
      req.on("end", () => {
        const answer = (q: { id: number; method: string; params?: [{ data?: string }] }) => {
          const ok = (result: unknown) => ({ jsonrpc: "2.0", id: q.id, result });
          // The deployment's getters answer as the file says (the start-up wiring check).
          const getter = DEPLOYMENT_GETTERS[q.params?.[0]?.data?.slice(0, 10) ?? ""];
          if (q.method === "eth_call" && getter !== undefined) return ok(getter);
          if (q.method === "eth_chainId") return ok(`0x${rpcState.chainId.toString(16)}`);
          if (q.method === "eth_getCode") return ok(rpcState.code);
          if (q.method === "eth_getLogs") return ok([]);
          if (q.method === "eth_blockNumber") return ok("0x10");
          if (q.method === "eth_call")
            return {
              jsonrpc: "2.0",
              id: q.id,
              error: { code: 3, message: "execution reverted", data: rpcState.revert },
            };
          return { jsonrpc: "2.0", id: q.id, error: { code: -32601, message: `no ${q.method} here` } };
        };
        const q = JSON.parse(body);
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(Array.isArray(q) ? q.map(answer) : answer(q)));
      });
    });
    notRpc = createServer((_req, res) => {
      res.statusCode = 404;
      res.end("<html>not found</html>");
    });
    for (const s of [rpc, notRpc]) await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    rpcUrl = `http://127.0.0.1:${(rpc.address() as AddressInfo).port}`;
    notRpcUrl = `http://127.0.0.1:${(notRpc.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    rpc.close();
    notRpc.close();
  });

  it("convert: an unsupported op (ConvertError) names the op and the node", () => {
    writeFileSync(join(tmp, "unsupported2.onnx"), tinyModel("NonMaxSuppression"));
    const out = join(tmp, "o-unsup2");
    expectUserError(
      cli(["convert", join(tmp, "unsupported2.onnx"), "-o", out]),
      /unsupported2\.onnx: unsupported op 'NonMaxSuppression' at node 'my_NonMaxSuppression'/,
      [out],
    );
  });
  it("convert: a bad --input-shape (UsageError) names the option", () => {
    writeFileSync(join(tmp, "ok2.onnx"), tinyModel("Add", [1, 2, 3, 4]));
    const out = join(tmp, "o-shape");
    expectUserError(
      cli(["convert", join(tmp, "ok2.onnx"), "-o", out, "--input-shape", "X=1,x"]),
      /--input-shape 'X=1,x': expected name=d0,d1/,
      [out],
    );
  });
  it("infer: a bad package dir (PackageError) and a bad input JSON (InputError) name the file", () => {
    const empty = join(tmp, "empty-pkg");
    mkdirSync(empty, { recursive: true });
    expectUserError(cli(["infer", empty, "--input", DIGIT]), /empty-pkg: not a model package/);
    const bad = join(tmp, "bad2.json");
    writeFileSync(bad, "{ nope");
    expectUserError(cli(["infer", PKG, "--input", bad]), /bad2\.json: invalid JSON/);
  });
  it("prove: a node out of range (StepRangeError) names the option", () => {
    expectUserError(
      cli(["prove", PKG, "--input", DIGIT, "--node", "99", "--step", "0"]),
      /--node 99 is out of range: the model has 10 nodes/,
    );
  });
  it("submit: a bad --lie (LieError) names the spec (it printed a stack before)", () => {
    expectUserError(
      cli(["submit", "--model", PKG, "--input", DIGIT, "--lie", "bogus"]),
      /--lie 'bogus': expected output, node:K/,
    );
  });
  it("submit: a bad --model-id (UsageError) names the option", () => {
    expectUserError(
      cli(["submit", "--model", PKG, "--input", DIGIT, "--model-id", "abc"]),
      /--model-id 'abc': expected a positive integer/,
    );
  });
  it("submit: a missing or invalid input file (InputError) names the file (it printed a stack before)", async () => {
    const args = ["submit", "--rpc-url", rpcUrl, "--private-key", KEY, "--deployment", dep(), "--model", PKG];
    expectUserError(
      cli([...args, "--input", join(tmp, "none2.json")]),
      /none2\.json: cannot read \(ENOENT\)/,
    );
    const bad = join(tmp, "bad3.json");
    writeFileSync(bad, "[1,");
    expectUserError(await cliAsync([...args, "--input", bad]), /bad3\.json: invalid JSON/);
  });
  const watchArgs = (d: string, ...extra: string[]) => [
    "watch",
    "--rpc-url",
    rpcUrl,
    "--private-key",
    KEY,
    "--deployment",
    d,
    "--model",
    PKG,
    ...extra,
  ];
  it("a missing, invalid or incomplete deployment file (UsageError) names the file", async () => {
    const args = (d: string) => watchArgs(d);
    expectUserError(
      await cliAsync(args(join(tmp, "nope-dep.json"))),
      /nope-dep\.json: no such deployment file/,
    );
    const bad = join(tmp, "bad-dep.json");
    writeFileSync(bad, "{");
    expectUserError(await cliAsync(args(bad)), /bad-dep\.json: not a deployment file/);
    expectUserError(
      await cliAsync(args(dep({ game: "0x12" }))),
      /: not a deployment file written by `opml deploy` \('game' is "0x12", not an address\)/,
    );
    expectUserError(
      await cliAsync(args(dep({ params: {} }))),
      /: not a deployment file written by `opml deploy`/,
    );
  });
  it("deploy: an unreachable or non-JSON-RPC --rpc-url (RpcError) names the URL and writes nothing", async () => {
    const out = join(tmp, "dep-out.json");
    const r = await cliAsync(["deploy", "--rpc-url", notRpcUrl, "--private-key", KEY, "--out", out]);
    expectUserError(r, new RegExp(`${notRpcUrl}: not a JSON-RPC endpoint`), [out]);
  });
  it("deploy: a package whose graph the registry refuses (GraphError) names the dir and the node", () => {
    const dir = join(tmp, "bad-graph");
    expect(cli(["convert", join(tmp, "ok2.onnx"), "-o", dir, "--force"]).code).toBe(0);
    const mf = join(dir, "manifest.json");
    const m = JSON.parse(readFileSync(mf, "utf8"));
    m.nodes[0].outputs[0] = 0; // writes the graph input
    writeFileSync(mf, JSON.stringify(m));
    const out = join(tmp, "dep-graph.json");
    expectUserError(
      cli(["deploy", "--rpc-url", "http://127.0.0.1:1", "--private-key", KEY, "--out", out, "--model", dir]),
      /bad-graph: not a graph the registry accepts: node 0 \(op \d+\): writes slot 0, already written/,
      [out],
    );
  });
  it("a deployment used on another chain, or with no contract at its address (UsageError), is refused", async () => {
    const args = (d: string) => watchArgs(d, "--once");
    rpcState.chainId = 1;
    expectUserError(
      await cliAsync(args(dep())),
      new RegExp(`written for chain id 31337, but ${rpcUrl} serves chain id 1`),
    );
    rpcState.chainId = 31337;
    rpcState.code = "0x";
    expectUserError(
      await cliAsync(args(dep())),
      /no contract at verifier address 0x0{39}1 on chain id 31337/,
    );
  });
  it("submit: a transaction the chain refused (TxError) names the function and the error", async () => {
    rpcState.chainId = 31337;
    rpcState.code = "0x6080";
    rpcState.revert = encodeErrorResult({ abi: registryAbi, errorName: "BadProgram" });
    const r = await cliAsync([
      "submit",
      "--rpc-url",
      rpcUrl,
      "--private-key",
      KEY,
      "--deployment",
      dep(),
      "--model",
      PKG,
      "--input",
      DIGIT,
    ]);
    expectUserError(r, /^opml: registerProgram: reverted BadProgram$/);
  });
});
