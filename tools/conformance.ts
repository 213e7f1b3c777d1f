// Runs ONNX's own backend node tests (Debian libonnx-testdata) through the converter and the native
// fixed-point engine. A case passes when every output is within the tolerance of ONNX's expected
// output, and every kernel node it became gives the same bytes in the Merkle-ized VM as natively.
// Cases whose ops we do not support are not counted; everything else is, failures included.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { defaultBackend } from "../dnn/src/engine.js";
import { dequantize, intArray, quantizeArray } from "../dnn/src/fixed.js";
import { nodeInputs, runNodeInVm } from "../game/link.js";
import { convertGraph } from "./convert/convert.js";
import { SUPPORTED_OPS } from "./convert/lower/index.js";
import { decodeTensor, opsOf, parseOnnx } from "./convert/onnx.js";
import { onnx } from "./convert/onnx-proto.js";

const UINT16 = 4;
const BFLOAT16 = 16;

export const TESTDATA_DIR = "/usr/share/libonnx-testdata/data/node";
/** How to get the test data (.ci/run does this). */
export const TESTDATA_APT = "sudo apt-get install -y libonnx-testdata";

/** Why the suite cannot run from `dir` (one line naming it and the apt command), or undefined. */
export function missingTestdata(dir = TESTDATA_DIR): string | undefined {
  if (existsSync(dir)) return undefined;
  return `${dir}: no such directory (Debian's ONNX backend node tests); install them with: ${TESTDATA_APT}`;
}
/** |got − expected| ≤ ATOL + RTOL·|expected| for every element. */
export const ATOL = 1e-3;
export const RTOL = 1e-3;

export interface CaseResult {
  name: string;
  ops: string[];
  pass: boolean;
  detail: string;
  /** Kernel nodes run in the VM with outputs equal to the native engine's. */
  vmNodes: number;
}

export function runCase(dir: string, name: string): CaseResult {
  const caseDir = join(dir, name);
  const file = join(caseDir, "model.onnx");
  let ops: string[] = [];
  try {
    const g = parseOnnx(readFileSync(file), file);
    ops = [...opsOf(g)];
    const data = join(caseDir, "test_data_set_0");
    const load = (f: string) => decodeTensor(onnx.TensorProto.decode(readFileSync(join(data, f))), f);
    const odd = g.inputs.find((vi) => vi.kind !== "tensor");
    if (odd)
      throw new Error(
        `${name}: input '${odd.name}' has a ${odd.kind} type; only tensor inputs are supported`,
      );
    // numpy has no bfloat16: ONNX's test data stores a bfloat16 input as its uint16 bit patterns.
    const asDeclared = (t: ReturnType<typeof load>, f: string, elemType: number) => {
      const pb = onnx.TensorProto.decode(readFileSync(join(data, f)));
      if (elemType !== BFLOAT16 || pb.dataType !== UINT16) return t;
      const bits = new DataView(new ArrayBuffer(4));
      const vals = Array.from(t.data, (u) => {
        bits.setUint32(0, u << 16);
        return bits.getFloat32(0);
      });
      return { ...t, dtype: "float" as const, data: Float64Array.from(vals) };
    };
    const given = new Map(
      g.inputs.map((vi, i) => [vi.name, asDeclared(load(`input_${i}.pb`), `input_${i}.pb`, vi.elemType)]),
    );
    // Many cases feed shape-like parameters (axes, pads, BN statistics…) as graph inputs; a static
    // graph needs them constant. Try all-runtime first, then bind integer inputs, then all but the first.
    const bindings = [
      (_: string, _i: number) => false,
      (n: string) => given.get(n)!.dtype === "int",
      (_: string, i: number) => i > 0,
      () => true,
    ];
    // A binding is taken when the model converts AND runs on the case's inputs: some inputs cannot
    // be runtime tensors (±Inf/NaN values, or a CastLike "like" input whose data does not match its
    // declared shape) and are then bound by a later rule.
    let pkg: ReturnType<typeof convertGraph> | undefined;
    let acts: Int32Array[] | undefined;
    let lastErr: Error | undefined;
    for (const bind of bindings) {
      try {
        const constInputs = Object.fromEntries(
          g.inputs.filter((vi, i) => bind(vi.name, i)).map((vi) => [vi.name, given.get(vi.name)!]),
        );
        pkg = convertGraph(g, name, { constInputs });
        const m = pkg.manifest;
        const inputs = m.inputs.map((slot) => {
          const info = m.activations[slot];
          const t = given.get(info.name)!;
          return info.dtype === "q16" ? quantizeArray(t.data, info.name) : intArray(t.data, info.name);
        });
        acts = defaultBackend().prepare(pkg).run(inputs, { keepAll: true });
        break;
      } catch (e) {
        lastErr = e as Error;
      }
    }
    if (!pkg || !acts) throw lastErr;
    const m = pkg.manifest;
    // The VM must agree with the native engine bit for bit on every node (fed the native inputs).
    for (let k = 0; k < m.nodes.length; k++) {
      const vm = runNodeInVm(pkg, k, nodeInputs(pkg, k, acts)).outputs;
      const differs = m.nodes[k].outputs.findIndex((slot, j) => !sameInts(vm[j], acts[slot]));
      if (differs >= 0)
        return {
          name,
          ops,
          pass: false,
          detail: `node ${k} output ${differs}: the VM differs from native`,
          vmNodes: k,
        };
    }
    let worst = 0;
    for (let k = 0; k < m.outputs.length; k++) {
      const info = m.activations[m.outputs[k]];
      const exp = load(`output_${k}.pb`);
      const got = info.dtype === "q16" ? dequantize(acts[m.outputs[k]]) : acts[m.outputs[k]];
      if (exp.data.length !== got.length)
        return {
          name,
          ops,
          pass: false,
          detail: `output ${k}: ${got.length} values, expected ${exp.data.length}`,
          vmNodes: m.nodes.length,
        };
      for (let i = 0; i < got.length; i++) {
        const e = exp.data[i];
        const err = Math.abs(got[i] - e);
        if (!(err <= ATOL + RTOL * Math.abs(e))) {
          return {
            name,
            ops,
            pass: false,
            detail: `output ${k}[${i}]: got ${got[i]}, expected ${e}`,
            vmNodes: m.nodes.length,
          };
        }
        worst = Math.max(worst, err);
      }
    }
    return {
      name,
      ops,
      pass: true,
      detail: `max abs err ${worst.toExponential(2)}, ${m.nodes.length} nodes equal in the VM`,
      vmNodes: m.nodes.length,
    };
  } catch (e) {
    return { name, ops, pass: false, detail: (e as Error).message.replace(/^.*?: /, ""), vmNodes: 0 };
  }
}

const sameInts = (a: Int32Array | undefined, b: Int32Array | undefined) =>
  !!a && !!b && a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Cases whose every op type is supported, those inside subgraphs (If branches, Loop bodies)
 * included (by name; a few we support are single-op tests).
 */
export function selectCases(dir = TESTDATA_DIR): string[] {
  const supported = new Set(SUPPORTED_OPS);
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, "model.onnx")))
    .filter((name) => {
      try {
        const g = parseOnnx(readFileSync(join(dir, name, "model.onnx")), name);
        return [...opsOf(g)].every((op) => supported.has(op));
      } catch {
        return false;
      }
    })
    .sort();
}

export function runConformance(dir = TESTDATA_DIR) {
  const results = selectCases(dir).map((c) => runCase(dir, c));
  const byOp = new Map<string, { pass: number; total: number }>();
  for (const r of results) {
    for (const op of r.ops) {
      const s = byOp.get(op) ?? { pass: 0, total: 0 };
      s.total++;
      if (r.pass) s.pass++;
      byOp.set(op, s);
    }
  }
  const pass = results.filter((r) => r.pass).length;
  const vmNodes = results.reduce((n, r) => n + (r.pass ? r.vmNodes : 0), 0);
  return { results, pass, total: results.length, byOp, vmNodes };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2] ?? TESTDATA_DIR;
  const missing = missingTestdata(dir);
  if (missing) {
    console.error(`conformance: ${missing}`);
    process.exit(1);
  }
  const { results, pass, total, byOp, vmNodes } = runConformance(dir);
  for (const r of results) console.log(`${r.pass ? "PASS" : "FAIL"} ${r.name}: ${r.detail}`);
  console.log(`\nper op: ${[...byOp].map(([k, v]) => `${k} ${v.pass}/${v.total}`).join(", ")}`);
  console.log(
    `\nONNX node conformance: ${pass}/${total} passed (${((100 * pass) / total).toFixed(1)}%), tolerance |err| <= ${ATOL} + ${RTOL}·|expected|; ${byOp.size} op types; ${vmNodes} kernel nodes of passing cases bit-identical in the VM`,
  );
}
