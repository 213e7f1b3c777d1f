// Everything a party of the dispute game computes off-chain about one claim: the native run, the
// graph states after every node (level 0), each disputed node's VM trace with checkpoints (level 1),
// and the data of the phase link. The honest submitter and the watchtower use it as is; a lying
// submitter wraps it with a deliberate fault (see submitter/lies.ts).
import { depthFor, graphState, type Hash, leavesProof, leavesRoot, tensorRoot } from "../commit/merkle.js";
import { preparedModel } from "../dnn/src/engine.js";
import type { ModelPackage } from "../dnn/src/package.js";
import type { Machine } from "../vm/machine.js";
import {
  activationTableOf,
  nodeInputs,
  nodeLayout,
  type OutputProof,
  proveGraphUpdate,
  proveOutput,
} from "./link.js";
import { nodeDesc, nodesTree } from "./registry.js";
import { NodeTrace } from "./trace.js";

/** What a party believes about a claim: the states it will assert or accept at every index. */
export interface ClaimView {
  readonly nNodes: number;
  inputRoots(): Hash[];
  outputRoot(): Hash;
  graphState(i: number): Hash;
  tableRoot(i: number): Hash;
  /** Path of the output slot in the final table. */
  outputPath(): Hash[];
  vmSteps(k: number): number;
  vmRoot(k: number, step: number): Hash;
  link(k: number): LinkInfo;
  stepProof(k: number, step: number): Uint8Array;
}

export type LinkInfo = ReturnType<ClaimTrace["link"]>;

export class ClaimTrace implements ClaimView {
  readonly acts: Int32Array[];
  readonly model: Hash;
  private tables = new Map<number, Hash[]>();
  private traces = new Map<number, NodeTrace>();
  /** Tensor root of each activation slot, computed on first use. */
  private roots: (Hash | undefined)[] = [];

  constructor(
    readonly pkg: ModelPackage,
    readonly inputs: Int32Array[],
  ) {
    this.acts = preparedModel(pkg).run(inputs, { keepAll: true });
    this.model = Buffer.from(pkg.manifest.modelRoot.slice(2), "hex");
  }

  get nNodes(): number {
    return this.pkg.manifest.nodes.length;
  }

  get outputSlot(): number {
    return this.pkg.manifest.outputs[0];
  }

  /** Tensor root of activation slot s (cached). */
  slotRoot(s: number): Hash {
    let r = this.roots[s];
    if (!r) {
      r = tensorRoot(this.acts[s]);
      this.roots[s] = r;
    }
    return r;
  }

  outputRoot(): Hash {
    return this.slotRoot(this.outputSlot);
  }

  inputRoots(): Hash[] {
    return this.pkg.manifest.inputs.map((s) => this.slotRoot(s));
  }

  /** Activation table after the first i nodes. */
  table(i: number): Hash[] {
    let t = this.tables.get(i);
    if (!t) {
      t = activationTableOf(this.pkg.manifest, (s) => (this.acts[s] ? this.slotRoot(s) : undefined), i);
      this.tables.set(i, t);
    }
    return t;
  }

  graphState(i: number): Hash {
    return graphState(this.model, this.table(i));
  }

  /** Path of the output slot in the final table (posted with the claim). */
  outputPath(): Hash[] {
    return leavesProof(
      this.table(this.nNodes),
      this.outputSlot,
      depthFor(this.pkg.manifest.activations.length),
    );
  }

  nodeTrace(k: number): NodeTrace {
    let t = this.traces.get(k);
    if (!t) {
      t = new NodeTrace(this.pkg, k, nodeInputs(this.pkg, k, this.acts));
      this.traces.set(k, t);
    }
    return t;
  }

  vmRoot(k: number, step: number): Hash {
    return this.nodeTrace(k).stateRootAt(step);
  }

  vmSteps(k: number): number {
    return this.nodeTrace(k).totalSteps;
  }

  /** Proof of step → step + 1; at or past the halt the final machine maps to itself. */
  stepProof(k: number, step: number): Uint8Array {
    return this.nodeTrace(k).proveStep(step).proof;
  }

  /**
   * Phase-link data for node k: descriptor, input proofs, final VM state and output proofs.
   * A lying party passes its own final machine and activations.
   */
  link(k: number, finalMachine?: Machine, acts: Int32Array[] = this.acts) {
    const m = this.pkg.manifest;
    const node = m.nodes[k];
    const tree = nodesTree(m);
    const before = this.table(k);
    const weightsTree = depthFor(m.weights.length);
    const inputs = node.inputs.map((r) => {
      if (r[0] === "a") {
        return { root: before[r[1]], path: leavesProof(before, r[1], depthFor(before.length)) };
      }
      const roots = m.weights.map((w) => Buffer.from(w.root.slice(2), "hex"));
      return { root: roots[r[1]], path: leavesProof(roots, r[1], weightsTree) };
    });
    const trace = this.nodeTrace(k);
    const fin = finalMachine ?? trace.liveAt(trace.totalSteps); // read-only below: no copy
    const layout = nodeLayout(m, k);
    // Output i's table path is taken in the table with outputs 0 … i−1 already written, as
    // NodeVmLink._checkGraphUpdate folds them (a node with several outputs, e.g. Split).
    const table = before.slice();
    const outputs = node.outputs.map((slot, i): { root: Hash; proof: OutputProof; tablePath: Hash[] } => {
      const root = acts === this.acts ? this.slotRoot(slot) : tensorRoot(acts[slot]);
      const tablePath = proveGraphUpdate(table, slot).path;
      table[slot] = root;
      return { root, proof: proveOutput(fin, layout, i), tablePath };
    });
    return {
      node: k,
      desc: nodeDesc(m, k),
      nodePath: tree.proof(k),
      tableRootBefore: this.tableRoot(k),
      inputs,
      finalRoot: fin.stateRoot(),
      steps: trace.totalSteps,
      outputs,
    };
  }

  /** graphState(i) = keccak(modelRoot ‖ tableRoot(i)); the contract checks paths against it. */
  tableRoot(i: number): Hash {
    return leavesRoot(this.table(i));
  }
}
