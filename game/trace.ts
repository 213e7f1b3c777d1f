// A node's execution with checkpoints: snapshots every K steps, so the state (and its root) at any
// step N is reached by replaying at most K steps. This is what the bisection asks for repeatedly.

import type { Hash } from "../commit/merkle.js";
import type { ModelPackage } from "../dnn/src/package.js";
import { UserError } from "../errors/index.js";
import { type LoadedProgram, Machine, type Snapshot } from "../vm/machine.js";
import { proveStep, type StepProof } from "../vm/prove.js";
import { Status } from "../vm/state.js";
import { dnnVmProgram, nodeMachine } from "./link.js";

/** A node or step index outside the model or the trace (e.g. `opml prove --node 99`). */
export class StepRangeError extends UserError {
  override readonly kind: string = "step";
}

export class NodeTrace {
  readonly checkpoints: Snapshot[] = [];
  /** Steps until the node's machine halted (or trapped). */
  readonly totalSteps: number;
  readonly finalStatus: number;
  private readonly prog: LoadedProgram;

  constructor(
    pkg: ModelPackage,
    readonly node: number,
    inputs: Int32Array[],
    readonly interval = 1 << 16,
  ) {
    this.prog = dnnVmProgram();
    const m = nodeMachine(this.prog, pkg.manifest, node, inputs);
    this.checkpoints.push(m.snapshot());
    while (m.status === Status.RUNNING) {
      m.run(interval);
      if (m.status === Status.RUNNING) this.checkpoints.push(m.snapshot());
    }
    this.totalSteps = m.steps;
    this.finalStatus = m.status;
  }

  /**
   * The machine after exactly `step` steps (0 = initial state). A halted or trapped machine maps to
   * itself, so any step at or past totalSteps is the final machine.
   */
  machineAt(step: number): Machine {
    if (!Number.isInteger(step) || step < 0) {
      throw new StepRangeError(`step ${step} is out of range: steps count from 0 (node ${this.node})`);
    }
    step = Math.min(step, this.totalSteps);
    const cp = this.checkpoints[Math.min(Math.floor(step / this.interval), this.checkpoints.length - 1)];
    const m = Machine.restore(this.prog, cp);
    m.run(step - m.steps);
    return m;
  }

  stateRootAt(step: number): Hash {
    return this.machineAt(step).stateRoot();
  }

  /**
   * Proof of step `step` → `step + 1`. At or past the halt (or a trap) the machine maps to itself
   * and the proof is its 384 state bytes: a claimant that claims more steps than the node runs and
   * lies only after the halt is refuted by exactly this proof (issue 8, finding 1).
   */
  proveStep(step: number): StepProof {
    return proveStep(this.machineAt(step));
  }
}
