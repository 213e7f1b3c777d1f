// Deliberate faults for simulations (`--lie output|node:K|step:N|silent`). Each lie is a ClaimView
// that agrees with the truth up to one point and is self-consistent after it, as a careful cheat
// would be: the graph states after the faulty node are recomputed from the corrupted tensor, and the
// VM trace of the faulty node is real execution up to the fault.

import { depthFor, graphState, type Hash, leavesProof, leavesRoot, tensorRoot } from "../commit/merkle.js";
import { stepBound } from "../dnn/src/cost.js";
import { type PreparedModel, preparedModel } from "../dnn/src/engine.js";
import { numel } from "../dnn/src/package.js";
import { UserError } from "../errors/index.js";
import type { ClaimTrace, ClaimView, LinkInfo } from "../game/claim-trace.js";
import { activationTableOf, nodeLayout } from "../game/link.js";
import { MachineTrace } from "../game/trace.js";
import type { Machine } from "../vm/machine.js";

export type Lie =
  | { kind: "none" }
  | { kind: "output" }
  | { kind: "node"; node: number }
  | { kind: "step"; step: number; node?: number }
  /** Claims one step more than the node runs and a corrupted output after the halt (finding 1). */
  | { kind: "afterHalt"; node?: number }
  | { kind: "silent" };

/** A `--lie` spec that does not parse or does not fit the model. */
export class LieError extends UserError {
  override readonly kind: string = "lie";
}

/**
 * Parses a `--lie` spec; with `nNodes`, also refuses a node the model does not have (node:K,
 * step:N@K, after-halt@K), so a bad spec is one line before anything is sent.
 */
export function parseLie(s: string | undefined, nNodes?: number): Lie {
  const lie = parseLieSpec(s);
  const node = lie.kind === "node" || lie.kind === "step" || lie.kind === "afterHalt" ? lie.node : undefined;
  if (nNodes !== undefined && node !== undefined && node >= nNodes)
    throw new LieError(
      `--lie ${s}: node ${node} is out of range: the model has ${nNodes} nodes (0..${nNodes - 1})`,
      {
        arg: "--lie",
        node,
      },
    );
  return lie;
}

function parseLieSpec(s: string | undefined): Lie {
  if (!s || s === "none") return { kind: "none" };
  if (s === "output") return { kind: "output" };
  if (s === "silent") return { kind: "silent" };
  let m = /^node:(\d+)$/.exec(s);
  if (m) return { kind: "node", node: Number(m[1]) };
  if (s === "step") return { kind: "step", step: -1 };
  m = /^after-halt(?:@(\d+))?$/.exec(s);
  if (m) return { kind: "afterHalt", node: m[1] === undefined ? undefined : Number(m[1]) };
  m = /^step:(\d+)(?:@(\d+))?$/.exec(s);
  if (m) return { kind: "step", step: Number(m[1]), node: m[2] === undefined ? undefined : Number(m[2]) };
  throw new LieError(`--lie '${s}': expected output, node:K, step:N[@K], after-halt[@K] or silent`, {
    arg: "--lie",
  });
}

/** A ClaimView that lies at one point. `silent` lies about the output and then never moves. */
export class LyingView implements ClaimView {
  readonly node: number;
  private readonly acts: Int32Array[];
  private readonly prepared: PreparedModel;
  private tables = new Map<number, Hash[]>();
  private roots = new Map<number, Hash>();
  /** Fault inside the VM: the step after which the trace is corrupted, and the corrupted run from there. */
  private faultStep: number;
  private fake: MachineTrace;
  /** Steps the liar claims for its node (one more than the truth for afterHalt). */
  private steps: number;

  constructor(
    readonly truth: ClaimTrace,
    readonly lie: Exclude<Lie, { kind: "none" }>,
  ) {
    const m = truth.pkg.manifest;
    const n = truth.nNodes;
    if (lie.kind === "node" && (lie.node < 0 || lie.node >= n)) {
      throw new LieError(`--lie node:${lie.node}: the model has ${n} nodes (0..${n - 1})`, {
        arg: "--lie",
        node: lie.node,
      });
    }
    this.node =
      lie.kind === "node"
        ? lie.node
        : lie.kind === "step"
          ? (lie.node ?? heaviestNode(truth))
          : lie.kind === "afterHalt"
            ? (lie.node ?? n - 1)
            : n - 1;
    if (this.node < 0 || this.node >= n)
      throw new LieError(`--lie: node ${this.node} is out of range: the model has ${n} nodes (0..${n - 1})`, {
        arg: "--lie",
        node: this.node,
      });
    this.prepared = preparedModel(truth.pkg);
    const trace = truth.nodeTrace(this.node);
    const T = trace.totalSteps;
    const layout = nodeLayout(m, this.node);
    const out0 = layout.outputs[0].addr;
    const slot = m.nodes[this.node].outputs[0];
    const trueOut = truth.acts[slot];
    this.steps = T;
    if (lie.kind === "afterHalt") {
      // Honest through the halt at T; the claimed machine after T + 1 steps has a corrupted output.
      this.faultStep = T;
      this.steps = T + 1;
      const mach = trace.machineAt(T);
      corruptWord(mach, out0);
      mach.r.steps = T + 1; // the fake trace counts the claimed step
      this.fake = new MachineTrace(mach, undefined, `the lie's node ${this.node}`);
    } else if (lie.kind === "step") {
      // Corrupt output element 0 once it holds its final value, at or after the asked step, so the
      // fault survives to the end of the node; the trace is honest up to that step.
      let s = Math.min(lie.step < 0 ? Math.floor(T * 0.6) : lie.step, T - 1);
      const mach = trace.machineAt(s);
      while (s < T - 1 && mach.mem.view.getInt32(out0, true) !== trueOut[0]) {
        mach.step();
        s++;
      }
      if (s >= T - 1)
        throw new LieError(
          `--lie step:${lie.step}: node ${this.node} has no step after which its output can be corrupted (${T} steps)`,
        );
      this.faultStep = s;
      mach.step(); // the honest machine after s + 1 steps, then corrupted
      corruptWord(mach, out0);
      this.fake = new MachineTrace(mach, undefined, `the lie's node ${this.node}`);
    } else {
      // The node runs honestly; only the claimed final state has a corrupted output.
      this.faultStep = T - 1;
      const mach = trace.machineAt(T);
      corruptWord(mach, out0);
      this.fake = new MachineTrace(mach, undefined, `the lie's node ${this.node}`);
    }
    // Activations as the liar sees them: the faulty node's output read from its fake final memory,
    // everything after it recomputed natively from the corrupted tensor.
    this.acts = truth.acts.slice();
    const fakeOut = new Int32Array(
      this.finalFake().mem.bytes.slice(out0, out0 + 4 * numel(m.activations[slot].shape)).buffer,
    );
    this.acts[slot] = fakeOut;
    for (let k = this.node + 1; k < n; k++) {
      const ins = m.nodes[k].inputs.map((r) => (r[0] === "w" ? truth.pkg.weights[r[1]] : this.acts[r[1]]));
      const outs = this.prepared.runNode(k, ins);
      m.nodes[k].outputs.forEach((s2, i) => {
        this.acts[s2] = outs[i];
      });
    }
  }

  get nNodes(): number {
    return this.truth.nNodes;
  }
  inputRoots(): Hash[] {
    return this.truth.inputRoots();
  }
  /** Root of slot s as the liar sees it: the truth's cached root where the tensor is the truth's. */
  private slotRoot(s: number): Hash | undefined {
    const a = this.acts[s];
    if (!a) return undefined;
    if (a === this.truth.acts[s]) return this.truth.slotRoot(s);
    let r = this.roots.get(s);
    if (!r) {
      r = tensorRoot(a);
      this.roots.set(s, r);
    }
    return r;
  }
  outputRoot(): Hash {
    return this.slotRoot(this.truth.outputSlot) ?? tensorRoot(this.acts[this.truth.outputSlot]);
  }
  private table(i: number): Hash[] {
    if (i <= this.node) return this.truth.table(i);
    let t = this.tables.get(i);
    if (!t) {
      t = activationTableOf(this.truth.pkg.manifest, (s) => this.slotRoot(s), i);
      this.tables.set(i, t);
    }
    return t;
  }
  graphState(i: number): Hash {
    return graphState(this.truth.model, this.table(i));
  }
  tableRoot(i: number): Hash {
    return leavesRoot(this.table(i));
  }
  outputPath(): Hash[] {
    const t = this.table(this.nNodes);
    return leavesProof(t, this.truth.outputSlot, depthFor(t.length));
  }
  vmSteps(k: number): number {
    return k === this.node ? this.steps : this.truth.vmSteps(k);
  }
  /** The liar's final machine (borrowed from its fake trace). */
  private finalFake(): Machine {
    return this.fake.liveAt(this.fake.totalSteps);
  }
  /** The trace the liar answers `step` from: the truth up to the fault, its fake run after. */
  private traceFor(step: number): MachineTrace {
    return step <= this.faultStep ? this.truth.nodeTrace(this.node) : this.fake;
  }
  vmRoot(k: number, step: number): Hash {
    if (k !== this.node) return this.truth.vmRoot(k, step);
    return this.traceFor(step).stateRootAt(step);
  }
  link(k: number): LinkInfo {
    if (k !== this.node) return this.truth.link(k);
    return { ...this.truth.link(k, this.finalFake(), this.acts), steps: this.steps };
  }
  stepProof(k: number, step: number): Uint8Array {
    if (k !== this.node) return this.truth.stepProof(k, step);
    return this.traceFor(step).proveStep(step).proof;
  }
}

/** Adds one ulp to the i32 word at `addr` (marking its leaf dirty). */
function corruptWord(m: Machine, addr: number): void {
  const v = m.mem.view.getInt32(addr, true);
  m.mem.view.setInt32(addr, (v + 1) | 0, true);
  m.mem.touch(addr, 4);
}

/**
 * The node with the largest step bound (dnn/src/cost.ts; the first of equals): the heaviest VM
 * level a dispute can reach, found without running any node in the VM (a large model has
 * thousands of nodes and ~10^11 VM steps in all).
 */
export function heaviestNode(t: ClaimTrace): number {
  let best = 0;
  let most = -1;
  t.pkg.manifest.nodes.forEach((n, k) => {
    const b = stepBound(n.op, n.params);
    if (b > most) [best, most] = [k, b];
  });
  return best;
}
