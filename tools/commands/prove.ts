import { toHex } from "../../commit/merkle.js";
import { defaultBackend } from "../../dnn/src/engine.js";
import { loadPackage } from "../../dnn/src/package.js";
import { nodeInputs } from "../../game/link.js";
import { NodeTrace, StepRangeError } from "../../game/trace.js";
import { verifyStep } from "../../vm/verify/one-step-prover.js";
import { readInputFile } from "./io.js";

export interface ProveArgs {
  dir: string;
  input: string;
  node: number;
  step: number;
  clamp?: boolean;
}

/** Prints the one-step proof of step N of node K as JSON: {preRoot, proof, postRoot, …}. */
export async function proveCommand(a: ProveArgs): Promise<void> {
  const pkg = loadPackage(a.dir);
  const m = pkg.manifest;
  if (!Number.isInteger(a.node) || a.node < 0 || a.node >= m.nodes.length) {
    throw new StepRangeError(
      `--node ${a.node} is out of range: the model has ${m.nodes.length} nodes (0..${m.nodes.length - 1})`,
      { arg: "--node", node: a.node },
    );
  }
  if (!Number.isInteger(a.step) || a.step < 0)
    throw new StepRangeError(`--step ${a.step} must be a non-negative integer`, {
      arg: "--step",
      step: a.step,
    });
  const inputs = readInputFile(m, a.input, a.clamp);
  const acts = defaultBackend().prepare(pkg).run(inputs, { keepAll: true });
  const trace = new NodeTrace(pkg, a.node, nodeInputs(pkg, a.node, acts));
  const p = trace.proveStep(a.step);
  const post = verifyStep(p.preRoot, p.proof); // self-check before printing
  const node = m.nodes[a.node];
  console.log(
    JSON.stringify({
      node: a.node,
      nodeName: node.name,
      onnxOp: node.onnxOp,
      step: a.step,
      totalSteps: trace.totalSteps,
      preRoot: toHex(p.preRoot),
      proof: toHex(p.proof),
      postRoot: toHex(p.postRoot),
      verified: toHex(post) === toHex(p.postRoot),
    }),
  );
}
