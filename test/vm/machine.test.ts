// The Merkle-ized VM against the native engine, and its proofs against the reference verifier:
// every node of every fixture is bit-exact in the VM, the phase link holds for every node, and
// ≥ 10,000 randomly chosen steps across all fixtures prove and verify to the machine's own root.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { graphState, type Hash, tensorRoot, toHex } from "../../commit/merkle.js";
import { defaultBackend } from "../../dnn/src/engine.js";
import { loadPackage, type ModelPackage, numel } from "../../dnn/src/package.js";
import {
  activationTable,
  dnnVmProgram,
  nodeInitialFields,
  nodeInputs,
  nodeMachine,
  proveGraphUpdate,
  proveOutput,
  runNodeInVm,
  verifyGraphUpdate,
  verifyOutput,
} from "../../game/link.js";
import { GRID, NodeTrace, RECENT, StepRangeError } from "../../game/trace.js";
import { FIXTURE_MODELS, FIXTURES } from "../../tools/fixtures.js";
import { proveStep } from "../../vm/prove.js";
import { Status, stateRoot } from "../../vm/state.js";
import { ProofError, verifyStep } from "../../vm/verify/one-step-prover.js";
import { rng } from "../helpers/helpers.js";

function fixtureRun(model: string) {
  const pkg = loadPackage(join(FIXTURES, "packages", model));
  const m = pkg.manifest;
  const r = rng(model.length * 7919);
  const inputs = m.inputs.map((slot) => {
    const info = m.activations[slot];
    return Int32Array.from({ length: numel(info.shape) }, () => Math.floor((r() - 0.3) * 3 * 65536));
  });
  const acts = defaultBackend().prepare(pkg).run(inputs, { keepAll: true });
  return { pkg, acts };
}

const hex = (h: Hash) => toHex(h);

describe.each(FIXTURE_MODELS)("VM on fixture %s", (model) => {
  const { pkg, acts } = fixtureRun(model);
  const m = pkg.manifest;

  it("runs every node bit-identically to the native engine, and the phase link holds", () => {
    const prog = dnnVmProgram();
    let steps = 0;
    for (let k = 0; k < m.nodes.length; k++) {
      const ins = nodeInputs(pkg, k, acts);
      // Initial root from roots alone equals the real machine's root.
      const fromRoots = stateRoot(
        nodeInitialFields(
          prog,
          m,
          k,
          ins.map((t) => tensorRoot(t)),
        ),
      );
      expect(hex(fromRoots)).toBe(hex(nodeMachine(prog, m, k, ins).stateRoot()));
      const run = runNodeInVm(pkg, k, ins);
      expect(run.machine.status, `node ${k} ${run.machine.trapMessage}`).toBe(Status.FINISHED);
      expect(run.machine.result()).toBe(0n);
      m.nodes[k].outputs.forEach((slot, i) => {
        expect(
          Buffer.from(run.outputs[i].buffer).equals(Buffer.from(acts[slot].buffer)),
          `node ${k} output ${i}`,
        ).toBe(true);
        // The final state's output region has the output's tensor root.
        const p = proveOutput(run.machine, run.layout, i);
        expect(verifyOutput(run.machine.stateRoot(), tensorRoot(acts[slot]), p)).toBe(true);
        expect(verifyOutput(run.machine.stateRoot(), tensorRoot(new Int32Array(acts[slot].length)), p)).toBe(
          false,
        );
      });
      // Graph state after node k+1 = after node k with the output slots filled.
      const before = activationTable(m, acts, k);
      const after = activationTable(m, acts, k + 1);
      const slot = m.nodes[k].outputs[0];
      const gp = proveGraphUpdate(before, slot);
      const model = Buffer.from(m.modelRoot.slice(2), "hex");
      if (m.nodes[k].outputs.length === 1) {
        expect(
          verifyGraphUpdate(model, graphState(model, before), graphState(model, after), after[slot], gp),
        ).toBe(true);
      }
      steps += run.steps;
    }
    expect(steps).toBeGreaterThan(1000);
  });
});

describe("one-step proofs", () => {
  it("≥ 10,000 random steps across all fixtures verify to the machine's post-state root", () => {
    const prog = dnnVmProgram();
    const r = rng(2024);
    const runs = FIXTURE_MODELS.map(fixtureRun);
    const perNode: { pkg: ModelPackage; acts: Int32Array[]; k: number; steps: number }[] = [];
    for (const { pkg, acts } of runs) {
      for (let k = 0; k < pkg.manifest.nodes.length; k++) {
        perNode.push({ pkg, acts, k, steps: runNodeInVm(pkg, k, nodeInputs(pkg, k, acts)).steps });
      }
    }
    const total = perNode.reduce((a, n) => a + n.steps, 0);
    const ops = new Set<number>();
    let checked = 0;
    for (const n of perNode) {
      // Samples proportional to the node's length, at least 8 per node; sorted so one pass suffices.
      const count = Math.max(8, Math.ceil((10_500 * n.steps) / total));
      const at = Array.from({ length: count }, () => Math.floor(r() * n.steps)).sort((a, b) => a - b);
      const mach = nodeMachine(prog, n.pkg.manifest, n.k, nodeInputs(n.pkg, n.k, n.acts));
      for (const s of at) {
        mach.run(s - mach.steps);
        if (mach.status !== Status.RUNNING) break;
        ops.add(prog.program.code[mach.pc].op);
        const p = proveStep(mach);
        expect(hex(verifyStep(p.preRoot, p.proof))).toBe(hex(p.postRoot));
        checked++;
      }
    }
    console.log(
      `verified ${checked} random steps over ${total} VM steps in ${perNode.length} nodes; ${ops.size} distinct opcodes`,
    );
    expect(checked).toBeGreaterThanOrEqual(10_000);
  });

  it("flipping any byte of a proof makes verification fail or give a different root", () => {
    const { pkg, acts } = fixtureRun("mnist_cnn");
    const prog = dnnVmProgram();
    const mach = nodeMachine(prog, pkg.manifest, 0, nodeInputs(pkg, 0, acts));
    const r = rng(99);
    let flips = 0;
    for (let i = 0; i < 40; i++) {
      mach.run(Math.floor(r() * 400));
      const p = proveStep(mach);
      // Every byte of the first few proofs, random bytes of the rest.
      const positions =
        i < 3 ? p.proof.map((_, j) => j) : Array.from({ length: 30 }, () => Math.floor(r() * p.proof.length));
      for (const pos of positions) {
        const bad = Uint8Array.from(p.proof);
        bad[pos] ^= 1 + Math.floor(r() * 255);
        let post: Hash | undefined;
        try {
          post = verifyStep(p.preRoot, bad);
        } catch (e) {
          expect(e).toBeInstanceOf(ProofError);
        }
        if (post) expect(hex(post)).not.toBe(hex(p.postRoot));
        flips++;
      }
      expect(() => verifyStep(p.preRoot, p.proof.subarray(0, p.proof.length - 1))).toThrow(ProofError);
      expect(() => verifyStep(p.preRoot, Uint8Array.from([...p.proof, 0]))).toThrow(ProofError);
    }
    expect(flips).toBeGreaterThan(1000);
  });
});

describe("checkpointed trace", () => {
  it("seeks to any step from a bounded set of checkpoints; past the end the machine maps to itself", () => {
    const { pkg, acts } = fixtureRun("mnist_mlp");
    const k = 1;
    const trace = new NodeTrace(pkg, k, nodeInputs(pkg, k, acts), 1000);
    const direct = nodeMachine(dnnVmProgram(), pkg.manifest, k, nodeInputs(pkg, k, acts));
    const r = rng(5);
    const targets = [
      0,
      1,
      999,
      1000,
      1001,
      trace.totalSteps,
      ...Array.from({ length: 10 }, () => Math.floor(r() * trace.totalSteps)),
    ].sort((a, b) => a - b);
    for (const t of targets) {
      direct.run(t - direct.steps);
      expect(hex(trace.stateRootAt(t))).toBe(hex(direct.stateRoot()));
    }
    // Not one per 1000 steps (720 here): a thinned grid, recent queries and the final state.
    expect(trace.checkpoints.length).toBeLessThanOrEqual(GRID + RECENT + 1);
    expect(trace.checkpoints[0]).toBe(0);
    expect(trace.checkpoints.at(-1)).toBe(trace.totalSteps);
    expect(() => trace.machineAt(-1)).toThrow(StepRangeError);
    expect(hex(trace.stateRootAt(trace.totalSteps + 1))).toBe(hex(trace.stateRootAt(trace.totalSteps)));
    expect(trace.proveStep(trace.totalSteps + 7).proof.length).toBe(384);
    // A finished machine's step is the identity, and its proof says so.
    const fin = trace.machineAt(trace.totalSteps);
    const p = proveStep(fin);
    expect(hex(verifyStep(p.preRoot, p.proof))).toBe(hex(p.preRoot));
  });
});
