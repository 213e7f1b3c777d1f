// Every user error gets one clear line naming the culprit, a non-zero exit, and no partial output.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import onnxProto from "onnx-proto";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, ROOT } from "../helpers/helpers.js";

const { onnx } = onnxProto as unknown as { onnx: typeof import("onnx-proto").onnx };
const tmp = mkdtempSync(join(tmpdir(), "opml-cli-"));
const CNN = join(ROOT, "fixtures/mnist_cnn.onnx");
const PKG = join(ROOT, "fixtures/packages/mnist_cnn");
const DIGIT = join(ROOT, "fixtures/inputs/mnist_0.json");

/** A one-node model Y = op(X) (plus an optional float initializer W as second input). */
function tinyModel(op: string, w?: number[]): Uint8Array {
  const f32 = onnx.TensorProto.DataType.FLOAT;
  const vi = (name: string, dims: number[]) => ({
    name,
    type: { tensorType: { elemType: f32, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  const graph = {
    name: "g",
    node: [{ opType: op, name: `my_${op}`, input: w ? ["X", "W"] : ["X"], output: ["Y"] }],
    initializer: w ? [{ name: "W", dims: [w.length], dataType: f32, floatData: w }] : [],
    input: [vi("X", [1, 4])],
    output: [vi("Y", [1, 4])],
  };
  return onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: "", version: 13 }], graph }).finish();
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
  it("NaN and Inf weights name the tensor", () => {
    for (const [f, what] of [
      ["nan.onnx", "NaN"],
      ["inf.onnx", "Infinity"],
    ]) {
      const out = join(tmp, `o-${f}`);
      expectCleanFailure(
        ["convert", join(tmp, f), "-o", out],
        new RegExp(`tensor 'W'.*element \\d+ is ${what}`),
        out,
      );
    }
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
