// If, Loop and Scan (lower/control.ts): a folded If inlines its branch, a folded Loop and a Scan
// unroll. Each converted model is compared with onnxruntime (float reference) and every kernel
// node is rerun in the VM, byte-equal to the native engine; the refusals name the node and why.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import { describe, expect, it } from "vitest";
import { defaultBackend } from "../../../dnn/src/engine.js";
import { dequantize, quantizeArray } from "../../../dnn/src/fixed.js";
import type { ModelPackage } from "../../../dnn/src/package.js";
import { nodeInputs, runNodeInVm } from "../../../game/link.js";
import { type ConvertOptions, convertGraph } from "../../../tools/convert/convert.js";
import { parseOnnx } from "../../../tools/convert/onnx.js";
import { runOnnxRuntime } from "../../../tools/convert/reference.js";
import { cli } from "../../helpers/helpers.js";

const { onnx } = onnxProto as unknown as { onnx: typeof import("onnx-proto").onnx };
type INode = import("onnx-proto").onnx.INodeProto;
type IGraph = import("onnx-proto").onnx.IGraphProto;
const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;
const tmp = mkdtempSync(join(tmpdir(), "opml-control-"));

const vi = (name: string, dims: (number | string)[] | undefined, elemType: number = T.FLOAT) => ({
  name,
  type: {
    tensorType: {
      elemType,
      shape: dims && { dim: dims.map((d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d })) },
    },
  },
});
const floats = (name: string, dims: number[], data: number[]) => ({
  name,
  dims,
  dataType: T.FLOAT,
  floatData: data,
});
const int64s = (name: string, dims: number[], data: number[]) => ({
  name,
  dims,
  dataType: T.INT64,
  int64Data: data,
});
const bools = (name: string, dims: number[], data: number[]) => ({
  name,
  dims,
  dataType: T.BOOL,
  int32Data: data,
});
const node = (
  opType: string,
  input: string[],
  output: string[],
  attribute: object[] = [],
  name?: string,
): INode => ({
  opType,
  input,
  output,
  name: name ?? `${opType}_${output[0]}`,
  attribute,
});
const graphAttr = (name: string, g: IGraph) => ({ name, type: A.GRAPH, g });
const intAttr = (name: string, i: number) => ({ name, type: A.INT, i });
const intsAttr = (name: string, ints: number[]) => ({ name, type: A.INTS, ints });
const constNode = (out: string, t: object) =>
  node("Constant", [], [out], [{ name: "value", type: A.TENSOR, t }]);

function model(g: IGraph, opset = 13): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: "", version: opset }],
    graph: g,
  }).finish();
}

const rand = (n: number, seed: number) => {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return (s / 2 ** 31) * 2 - 1;
  });
};

/**
 * Converts, runs natively, compares every output with onnxruntime (float) and reruns every kernel
 * node in the VM; returns the package.
 */
async function check(
  name: string,
  bytes: Uint8Array,
  inputs: Record<string, { shape: number[]; data: number[] }>,
  opts: ConvertOptions = {},
  tol = 2e-3,
): Promise<ModelPackage> {
  const file = join(tmp, `${name}.onnx`);
  writeFileSync(file, bytes);
  const pkg = convertGraph(parseOnnx(bytes, file), file, opts);
  const m = pkg.manifest;
  const q = m.inputs.map((slot) => quantizeArray(inputs[m.activations[slot].name].data, "x"));
  const acts = defaultBackend().prepare(pkg).run(q, { keepAll: true });
  const refs = await runOnnxRuntime(
    file,
    Object.entries(inputs).map(([n, v]) => ({ name: n, shape: v.shape, dtype: "q16", data: v.data })),
  );
  m.outputs.forEach((slot, k) => {
    const got = dequantize(acts[slot]);
    expect(got.length, `output ${k}`).toBe(refs[k].length);
    for (let i = 0; i < got.length; i++)
      expect(Math.abs(got[i] - refs[k][i]), `output ${k}[${i}]`).toBeLessThan(tol);
  });
  m.nodes.forEach((n, k) => {
    const run = runNodeInVm(pkg, k, nodeInputs(pkg, k, acts));
    n.outputs.forEach((s, i) => {
      expect(Array.from(run.outputs[i]), `node ${k} ${n.name}`).toEqual(Array.from(acts[s]));
    });
  });
  return pkg;
}

const convertError = (bytes: Uint8Array, opts: ConvertOptions = {}) => {
  try {
    convertGraph(parseOnnx(bytes, "m.onnx"), "m.onnx", opts);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("converted");
};

/**
 * y = If(rows(x) == 2): then x·W_t + t_outer (W_t a branch initializer named like the outer one,
 * with other values: it shadows the outer W), else x + 1.
 */
function ifModel(): Uint8Array {
  const thenG: IGraph = {
    name: "then",
    node: [node("MatMul", ["x", "W"], ["tt"]), node("Add", ["tt", "t_outer"], ["y_then"])],
    initializer: [floats("W", [3, 3], rand(9, 7))],
    output: [vi("y_then", [2, 3])],
  };
  const elseG: IGraph = {
    name: "else",
    node: [
      constNode("one", floats("one", [], [1])),
      node("Add", ["x", "one"], ["te"]),
      node("Identity", ["te"], ["y_else"]),
    ],
    output: [vi("y_else", undefined)],
  };
  return model({
    name: "if",
    node: [
      node("Shape", ["x"], ["s"]),
      node("Gather", ["s", "zero"], ["rows"], [intAttr("axis", 0)]),
      node("Equal", ["rows", "two"], ["c"]),
      node("Mul", ["x", "W"], ["t"]),
      node("Relu", ["t"], ["t_outer"]),
      node("If", ["c"], ["y"], [graphAttr("then_branch", thenG), graphAttr("else_branch", elseG)], "If_3"),
      node("Add", ["y", "t"], ["z"]),
    ],
    initializer: [int64s("zero", [], [0]), int64s("two", [], [2]), floats("W", [3], [0.5, -1, 2])],
    input: [vi("x", ["N", 3])],
    output: [vi("z", ["N", 3])],
  });
}

describe("If", () => {
  it("inlines the then branch when the condition folds true (branch names scoped)", async () => {
    const pkg = await check(
      "if-then",
      ifModel(),
      { x: { shape: [2, 3], data: rand(6, 1) } },
      { inputShapes: { x: [2, 3] } },
    );
    const names = pkg.manifest.nodes.map((n) => n.name);
    expect(names.some((n) => n.startsWith("If_3/then/"))).toBe(true);
    expect(names.some((n) => n.includes("/else/"))).toBe(false);
    expect(pkg.manifest.nodes.some((n) => n.onnxOp === "MatMul")).toBe(true);
    // Two weights called "W" (outer [3], branch [3,3]) both made it, the branch's under its scope.
    const ws = pkg.manifest.weights.map((w) => `${w.name}:${w.shape}`);
    expect(ws).toContain("W:3");
    expect(ws.some((w) => /^If_3\/then\/W\b.*:3,3$/.test(w))).toBe(true);
  });
  it("folds a condition on a scalar int64 input fixed by --input-value (CLI, with the fidelity check)", () => {
    // y = rate > 8000 ? x·2 : x·0.5
    const branch = (k: number): IGraph => ({
      name: `b${k}`,
      node: [node("Mul", ["x", `k${k}`], [`y${k}`])],
      initializer: [floats(`k${k}`, [], [k])],
      output: [vi(`y${k}`, [2, 3])],
    });
    const bytes = model({
      name: "rate",
      node: [
        node("Greater", ["rate", "limit"], ["c"]),
        node(
          "If",
          ["c"],
          ["y"],
          [graphAttr("then_branch", branch(2)), graphAttr("else_branch", branch(0.5))],
          "If_rate",
        ),
      ],
      initializer: [int64s("limit", [], [8000])],
      input: [vi("x", [2, 3]), vi("rate", [], T.INT64)],
      output: [vi("y", [2, 3])],
    });
    const f = join(tmp, "rate.onnx");
    writeFileSync(f, bytes);
    const refused = cli(["convert", f, "-o", join(tmp, "rate-0")]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/condition depends on input 'rate'.*--input-value rate=…/);
    for (const [rate, k] of [
      [16000, 2],
      [4000, 0.5],
    ]) {
      const out = join(tmp, `rate-${rate}`);
      const r = cli(["convert", f, "-o", out, "--input-value", `rate=${rate}`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/output .y. \[2,3\]: max abs err [0-9.]+e[-+][0-9]+/);
      const input = join(tmp, `rate-${rate}.json`);
      writeFileSync(input, JSON.stringify({ shape: [2, 3], dtype: "float32", data: [1, 2, 3, -1, -2, 0.5] }));
      const inf = cli(["infer", out, "--input", input, "--json"]);
      expect(inf.code, inf.stderr).toBe(0);
      expect(JSON.parse(inf.stdout).data).toEqual([1, 2, 3, -1, -2, 0.5].map((v) => v * k));
    }
    const bad = cli(["convert", f, "-o", join(tmp, "rate-bad"), "--input-value", "rate=1.5"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trimEnd()).toBe("opml: --input-value 'rate=1.5': input 'rate' is an integer tensor");
  }, 60_000);
  it("inlines the else branch when it folds false", async () => {
    const pkg = await check(
      "if-else",
      ifModel(),
      { x: { shape: [4, 3], data: rand(12, 2) } },
      { inputShapes: { x: [4, 3] } },
    );
    const names = pkg.manifest.nodes.map((n) => n.name);
    expect(names.some((n) => n.includes("/then/"))).toBe(false);
    expect(pkg.manifest.nodes.some((n) => n.onnxOp === "MatMul")).toBe(false);
  });
  it("refuses a condition that depends on a runtime input, naming the node and the input", () => {
    const g = ifModel();
    const m = onnx.ModelProto.decode(g);
    const nodes = m.graph!.node!;
    nodes.splice(
      2,
      1,
      node("ReduceSum", ["x"], ["sum"], [intAttr("keepdims", 0)]),
      node("Greater", ["sum", "zf"], ["c"]),
    );
    m.graph!.initializer!.push(floats("zf", [], [0]));
    const msg = convertError(onnx.ModelProto.encode(m).finish(), { inputShapes: { x: [2, 3] } });
    expect(msg).toMatch(
      /^m\.onnx: node 'If_3' \(If, #\d+\): condition depends on input 'x'; only If with a condition known at conversion time is supported \(fix the input with --input-value x=…\)$/,
    );
    // Through the CLI: exit 1, one line, no package left behind.
    const f = join(tmp, "if-dyn.onnx");
    writeFileSync(f, onnx.ModelProto.encode(m).finish());
    const r = cli(["convert", f, "-o", join(tmp, "if-dyn-pkg"), "--input-shape", "x=2,3"]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^opml: .*if-dyn\.onnx: node 'If_3' \(If, #\d+\): condition depends on input 'x'/,
    );
  });
});

/** Loop body: y = y·0.5 + x + iter·0.25 (x from the outer scope); scan output y·W (W in the body). */
function loopBody(condOut: INode): IGraph {
  return {
    name: "body",
    node: [
      condOut,
      node("Cast", ["i"], ["fi"], [intAttr("to", T.FLOAT)]),
      node("Mul", ["fi", "quarter"], ["fq"]),
      node("Mul", ["y_in", "half"], ["a"]),
      node("Add", ["a", "x"], ["b"]),
      node("Add", ["b", "fq"], ["y_out"]),
      node("Mul", ["y_out", "W"], ["s_out"]),
    ],
    initializer: [floats("half", [], [0.5]), floats("quarter", [], [0.25]), floats("W", [3], [1, -2, 0.5])],
    input: [vi("i", [], T.INT64), vi("c_in", [], T.BOOL), vi("y_in", [2, 3])],
    output: [vi("c_out", [], T.BOOL), vi("y_out", [2, 3]), vi("s_out", [2, 3])],
  };
}

function loopModel(
  trip: number | "input",
  cond: number | "none",
  condOut: INode,
  extraInit: object[] = [],
): Uint8Array {
  const init: object[] = [floats("y0", [2, 3], rand(6, 3)), ...extraInit];
  const inputs = [vi("x", [2, 3])];
  if (trip === "input") inputs.push(vi("M", [], T.INT64));
  else init.push(int64s("M", [], [trip]));
  if (cond !== "none") init.push(bools("c0", [], [cond]));
  return model({
    name: "loop",
    node: [
      node(
        "Loop",
        [trip === "input" || trip >= 0 ? "M" : "", cond === "none" ? "" : "c0", "y0"],
        ["y_final", "scan"],
        [graphAttr("body", loopBody(condOut))],
        "Loop_7",
      ),
    ],
    initializer: init,
    input: inputs,
    output: [vi("y_final", [2, 3]), vi("scan", [5, 2, 3])],
  });
}

describe("Loop", () => {
  const x = { shape: [2, 3], data: rand(6, 4) };
  it("unrolls a for loop (trip count 5, body condition passed through), carried and scan outputs match onnxruntime", async () => {
    const pkg = await check("loop-for", loopModel(5, 1, node("Identity", ["c_in"], ["c_out"])), { x });
    const m = pkg.manifest;
    expect(m.activations[m.outputs[1]].shape).toEqual([5, 2, 3]);
    expect(m.activations[m.outputs[0]].name).toBe("y_final");
    // Each iteration's nodes are scoped; the body's weight W is shared by all iterations.
    for (let i = 0; i < 5; i++) expect(m.nodes.some((n) => n.name.startsWith(`Loop_7/${i}/`))).toBe(true);
    expect(m.weights.filter((w) => w.name.endsWith("/W"))).toHaveLength(1);
  });
  it("stops when the body's condition folds false (a while loop: iter < 2 runs 3 times)", async () => {
    const bytes = loopModel(100, 1, node("Less", ["i", "two"], ["c_out"]));
    const mm = onnx.ModelProto.decode(bytes);
    mm.graph!.node![0].attribute![0].g!.initializer!.push(int64s("two", [], [2]));
    mm.graph!.output![1] = vi("scan", [3, 2, 3]);
    const pkg = await check("loop-while", onnx.ModelProto.encode(mm).finish(), { x });
    expect(pkg.manifest.activations[pkg.manifest.outputs[1]].shape).toEqual([3, 2, 3]);
  });
  it("refuses a trip count that depends on an input, naming the node and the input", () => {
    expect(convertError(loopModel("input", 1, node("Identity", ["c_in"], ["c_out"])))).toMatch(
      /^m\.onnx: node 'Loop_7' \(Loop, #0\): trip count depends on input 'M'; only Loop with a trip count and condition known at conversion time is supported \(fix the input with --input-value M=…\)$/,
    );
  });
  it("refuses a body condition computed from runtime values", () => {
    const cond = node("Greater", ["y_in_sum", "zf"], ["c_out"]);
    const bytes = loopModel(5, 1, cond);
    const mm = onnx.ModelProto.decode(bytes);
    const body = mm.graph!.node![0].attribute![0].g!;
    body.node!.unshift(node("ReduceSum", ["x"], ["y_in_sum"], [intAttr("keepdims", 0)]));
    body.initializer!.push(floats("zf", [], [0]));
    expect(convertError(onnx.ModelProto.encode(mm).finish())).toMatch(
      /^m\.onnx: node 'Loop_7' \(Loop, #0\): condition after iteration 0 depends on input 'x'; only Loop with/,
    );
  });
  it("caps unrolling at 10,000 iterations, naming the node", () => {
    expect(convertError(loopModel(20000, "none", node("Identity", ["c_in"], ["c_out"])))).toMatch(
      /^m\.onnx: node 'Loop_7' \(Loop, #0\): the loop runs over 10000 iterations \(trip count 20000\); unrolling is capped at 10000$/,
    );
  });
  it("an If nested in the body sees the iteration number and outer names (both branches taken)", async () => {
    // y_out = iter < 2 ? y_in·0.5 + x : y_in + W (W also names an outer initializer).
    const thenG: IGraph = {
      name: "then",
      node: [node("Mul", ["y_in", "half"], ["h"]), node("Add", ["h", "x"], ["r"])],
      initializer: [floats("half", [], [0.5])],
      output: [vi("r", [2, 3])],
    };
    const elseG: IGraph = {
      name: "else",
      node: [node("Add", ["y_in", "W"], ["r"])],
      output: [vi("r", [2, 3])],
    };
    const body: IGraph = {
      name: "body",
      node: [
        node("Identity", ["c_in"], ["c_out"]),
        node("Less", ["i", "two"], ["early"]),
        node(
          "If",
          ["early"],
          ["y_out"],
          [graphAttr("then_branch", thenG), graphAttr("else_branch", elseG)],
          "inner_if",
        ),
        node("Identity", ["y_out"], ["s_out"]),
      ],
      initializer: [int64s("two", [], [2]), floats("W", [3], [0.1, 0.2, 0.3])],
      input: [vi("i", [], T.INT64), vi("c_in", [], T.BOOL), vi("y_in", [2, 3])],
      output: [vi("c_out", [], T.BOOL), vi("y_out", [2, 3]), vi("s_out", [2, 3])],
    };
    const bytes = model({
      name: "nested",
      node: [
        node("Mul", ["x", "W"], ["t"]),
        node("Loop", ["M", "", "t"], ["y_final", "scan"], [graphAttr("body", body)], "Loop_7"),
        node("Add", ["y_final", "t"], ["z"]),
      ],
      initializer: [int64s("M", [], [4]), floats("W", [3], [-1, 1, 2])],
      input: [vi("x", [2, 3])],
      output: [vi("z", [2, 3]), vi("scan", [4, 2, 3])],
    });
    const pkg = await check("loop-nested", bytes, { x });
    const names = pkg.manifest.nodes.map((n) => n.name);
    expect(names.some((n) => n.startsWith("Loop_7/0/inner_if/then/"))).toBe(true);
    expect(names.some((n) => n.startsWith("Loop_7/1/inner_if/then/"))).toBe(true);
    expect(names.some((n) => n.startsWith("Loop_7/2/inner_if/else/"))).toBe(true);
  });
});

describe("Scan", () => {
  it("unrolls a Scan-9 with a reversed input and output axis 1, matching onnxruntime", async () => {
    const body: IGraph = {
      name: "body",
      node: [node("Add", ["s_in", "xt"], ["s_out"]), node("Mul", ["s_out", "xt"], ["o"])],
      input: [vi("s_in", [3]), vi("xt", [3])],
      output: [vi("s_out", [3]), vi("o", [3])],
    };
    const bytes = model({
      name: "scan",
      node: [
        node(
          "Scan",
          ["s0", "x"],
          ["s_final", "ys"],
          [
            graphAttr("body", body),
            intAttr("num_scan_inputs", 1),
            intsAttr("scan_input_directions", [1]),
            intsAttr("scan_output_axes", [1]),
          ],
          "Scan_1",
        ),
      ],
      initializer: [floats("s0", [3], [0.1, -0.2, 0.3])],
      input: [vi("x", [4, 3])],
      output: [vi("s_final", [3]), vi("ys", [3, 4])],
    });
    const pkg = await check("scan9", bytes, { x: { shape: [4, 3], data: rand(12, 5) } });
    expect(pkg.manifest.activations[pkg.manifest.outputs[1]].shape).toEqual([3, 4]);
  });
});
