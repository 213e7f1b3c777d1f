// A node's execution, answered at any step with memory that does not grow with the step count.
// The node runs once (its length and final status are then known); a state the bisection asks for
// is rebuilt by restoring the nearest checkpoint at or below it into the one live machine and
// replaying. Checkpoints are light (vm/memory.ts: the memory blocks the run wrote, shared between
// checkpoints where unchanged; inputs and weights are never copied), and at most
// GRID + RECENT + 1 of them are held, whatever the step count:
//  - a grid from the first run: evenly spaced, thinned (every other one dropped, spacing doubled)
//    whenever it exceeds GRID, so the first queries of any bisection replay ≤ 2T/GRID steps;
//  - the RECENT most recently used query states: a bisection restores only from its current `lo`
//    (every query lies in (lo, hi), and a query below the live machine follows a move of hi), and
//    between two uses of lo's checkpoint one other is made, so LRU keeps it for a few games at once;
//  - the final state (the phase link and every step at or past the halt read it).
// A query ahead of the live machine replays forward without a restore, so one bisection replays
// at most T/2 + T/4 + … ≤ T steps beyond the first run. Nothing is saved: the trace is a pure
// function of the node's inputs, so a restarted agent rebuilds it by replaying.

import type { Hash } from "../commit/merkle.js";
import type { ModelPackage } from "../dnn/src/package.js";
import { UserError } from "../errors/index.js";
import { advance } from "../vm/jit.js";
import type { Checkpoint, Machine } from "../vm/machine.js";
import { proveStep, type StepProof } from "../vm/prove.js";
import { Status } from "../vm/state.js";
import { dnnVmProgram, nodeMachine } from "./link.js";

/** A node or step index outside the model or the trace (e.g. `opml prove --node 99`). */
export class StepRangeError extends UserError {
  override readonly kind: string = "step";
}

/** Most grid checkpoints kept from the first run. */
export const GRID = 16;
/** Most query checkpoints kept (least recently used evicted). */
export const RECENT = 8;

interface Held {
  at: number;
  cp: Checkpoint;
  used: number;
}

export interface TraceStats {
  /** Checkpoints held now. */
  checkpoints: number;
  /** Bytes they hold, with the memory's write tracking (each shared block counted once). */
  bytes: number;
  /** The most `bytes` ever was, first run included. */
  peakBytes: number;
  /** Steps replayed by queries (the first run not included), and checkpoint restores. */
  replayed: number;
  restores: number;
}

/** Any machine's run from its current state; the steps it answers count as the machine counts them. */
export class MachineTrace {
  /** Steps until the machine halted (or trapped). */
  readonly totalSteps: number;
  readonly finalStatus: number;
  /** The first step the trace answers (the start machine's step count). */
  readonly firstStep: number;
  private grid: Held[];
  private recent: Held[] = [];
  /** Set once the first run ends. */
  private final?: Held;
  private readonly live: Machine;
  private clock = 0;
  private replayed = 0;
  private restores = 0;
  private peakBytes = 0;

  /** Takes ownership of `start`; `interval` is the grid's first spacing. */
  constructor(
    start: Machine,
    readonly interval = 1 << 16,
    private readonly label = "the machine",
  ) {
    const m = start;
    this.live = m;
    m.mem.rebase(); // writes made before the trace (inputs, a liar's corruption) are the base
    const first = m.steps;
    this.firstStep = first;
    this.grid = [this.hold(first)];
    let spacing = interval;
    while (m.status === Status.RUNNING) {
      advance(m, first + (Math.floor((m.steps - first) / spacing) + 1) * spacing - m.steps);
      if (m.status !== Status.RUNNING) break;
      this.grid.push(this.hold(m.steps));
      if (this.grid.length > GRID) {
        this.grid = this.grid.filter((h) => (h.at - first) % (2 * spacing) === 0);
        spacing *= 2;
      }
      this.account();
    }
    this.totalSteps = m.steps;
    this.finalStatus = m.status;
    this.final = this.hold(m.steps);
    this.account();
  }

  private hold(at: number): Held {
    return { at, cp: this.live.checkpoint(), used: ++this.clock };
  }

  private *held(): Generator<Held> {
    yield* this.grid;
    yield* this.recent;
    if (this.final) yield this.final;
  }

  /**
   * The trace's own machine after exactly `step` steps, borrowed: valid until the next call on this
   * trace, and only for reading (stepping it on is allowed, any other change corrupts the trace).
   * `machineAt` gives a machine of one's own.
   */
  liveAt(step: number): Machine {
    if (!Number.isInteger(step) || step < this.firstStep) {
      throw new StepRangeError(
        `step ${step} is out of range: steps count from ${this.firstStep} (${this.label})`,
      );
    }
    const s = Math.min(step, this.totalSteps);
    const m = this.live;
    let best = this.grid[0];
    for (const h of this.held()) if (h.at <= s && h.at > best.at) best = h;
    if (m.steps > s || m.steps < best.at) {
      m.rewind(best.cp);
      best.used = ++this.clock;
      this.restores++;
    }
    const from = m.steps;
    if (s > from) {
      advance(m, s - from);
      this.replayed += s - from;
      if (![...this.held()].some((h) => h.at === s)) this.remember(s);
    }
    return m;
  }

  private remember(at: number): void {
    this.recent.push({ at, cp: this.live.checkpoint(), used: ++this.clock });
    if (this.recent.length > RECENT) {
      let lru = 0;
      for (let i = 1; i < this.recent.length; i++) if (this.recent[i].used < this.recent[lru].used) lru = i;
      this.recent.splice(lru, 1);
    }
    this.account();
  }

  /**
   * The machine after exactly `step` steps (the first step = the start state), a copy of one's own.
   * A halted or trapped machine maps to itself, so any step at or past totalSteps is the final machine.
   */
  machineAt(step: number): Machine {
    return this.liveAt(step).fork();
  }

  stateRootAt(step: number): Hash {
    return this.liveAt(step).stateRoot();
  }

  /**
   * Proof of step `step` → `step + 1`. At or past the halt (or a trap) the machine maps to itself
   * and the proof is its 384 state bytes: a claimant that claims more steps than the node runs and
   * lies only after the halt is refuted by exactly this proof (issue 8, finding 1).
   */
  proveStep(step: number): StepProof {
    return proveStep(this.liveAt(step));
  }

  /** Steps of the checkpoints held now, ascending. */
  get checkpoints(): number[] {
    return [...this.held()].map((h) => h.at).sort((a, b) => a - b);
  }

  stats(): TraceStats {
    return {
      checkpoints: [...this.held()].length,
      bytes: this.heldBytes(),
      peakBytes: this.peakBytes,
      replayed: this.replayed,
      restores: this.restores,
    };
  }

  private heldBytes(): number {
    const seen = new Set<Uint8Array>();
    let regs = 0;
    for (const a of this.live.mem.trackedArrays()) seen.add(a);
    for (const h of this.held()) {
      for (const d of h.cp.mem.data) seen.add(d);
      const c = h.cp;
      for (const a of [c.sLo, c.sHi, c.lLo, c.lHi, c.fBase, c.fRet, c.fLoc, c.fNLoc, c.gLo, c.gHi])
        regs += a.byteLength;
    }
    let bytes = regs;
    for (const a of seen) bytes += a.byteLength;
    return bytes;
  }

  private account(): void {
    this.peakBytes = Math.max(this.peakBytes, this.heldBytes());
  }
}

/** A node's run in the VM (link.ts's machine for it), from step 0. */
export class NodeTrace extends MachineTrace {
  constructor(
    pkg: ModelPackage,
    readonly node: number,
    inputs: Int32Array[],
    interval = 1 << 16,
  ) {
    super(nodeMachine(dnnVmProgram(), pkg.manifest, node, inputs), interval, `node ${node}`);
  }
}
