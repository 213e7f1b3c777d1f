// Lies the CLI's --lie kinds do not cover, built on the same LyingView: they agree with the truth
// everywhere except in the claimed VM run of the last node.
import type { Hash } from "../../commit/merkle.js";
import type { ClaimTrace, ClaimView, LinkInfo } from "../../game/claim-trace.js";
import { LyingView } from "../../submitter/lies.js";

/**
 * Enters the VM level with T = T_honest + extra steps (extra = 1: "a fake final state one step
 * after the real halt") and lies only after the halt: every VM root up to the halt is true, the
 * claimed final state (with a corrupted output) comes after it.
 */
export class PastHaltView implements ClaimView {
  private readonly lie: LyingView;
  readonly node: number;

  constructor(
    readonly truth: ClaimTrace,
    readonly extra: number,
  ) {
    this.lie = new LyingView(truth, { kind: "output" });
    this.node = this.lie.node;
  }

  get nNodes(): number {
    return this.truth.nNodes;
  }
  inputRoots(): Hash[] {
    return this.lie.inputRoots();
  }
  outputRoot(): Hash {
    return this.lie.outputRoot();
  }
  graphState(i: number): Hash {
    return this.lie.graphState(i);
  }
  tableRoot(i: number): Hash {
    return this.lie.tableRoot(i);
  }
  outputPath(): Hash[] {
    return this.lie.outputPath();
  }
  vmSteps(k: number): number {
    return k === this.node ? this.truth.vmSteps(k) + this.extra : this.truth.vmSteps(k);
  }
  vmRoot(k: number, step: number): Hash {
    if (k !== this.node) return this.truth.vmRoot(k, step);
    const T = this.truth.vmSteps(k);
    // True through the halt (a halted machine stays halted), the fake final state at the end.
    return step < T + this.extra ? this.truth.vmRoot(k, Math.min(step, T)) : this.lie.vmRoot(k, T);
  }
  link(k: number): LinkInfo {
    const l = this.lie.link(k);
    return k === this.node ? { ...l, steps: this.vmSteps(k) } : l;
  }
  stepProof(k: number, step: number): Uint8Array {
    return this.truth.stepProof(k, step);
  }
}
