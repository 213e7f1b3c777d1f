// Traces with bounded memory (game/trace.ts): every state and step proof a trace answers equals
// the one of a straight run, in any query order and across its restore and eviction paths (a
// program that writes a lot of memory and grows it, a trap, steps past the halt, a DNN node), and
// the checkpoints it holds stay bounded in number and bytes as the step count grows.
import { join } from "node:path";
import { parse } from "@bytecodealliance/jco";
import { describe, expect, it } from "vitest";
import { toHex } from "../../commit/merkle.js";
import { defaultBackend } from "../../dnn/src/engine.js";
import { loadPackage, numel } from "../../dnn/src/package.js";
import { dnnVmProgram, nodeInputs, nodeMachine } from "../../game/link.js";
import { GRID, MachineTrace, NodeTrace, RECENT, StepRangeError } from "../../game/trace.js";
import { FIXTURES } from "../../tools/fixtures.js";
import { loadProgram } from "../../vm/loader.js";
import { LoadedProgram, Machine } from "../../vm/machine.js";
import { proveStep } from "../../vm/prove.js";
import { Status } from "../../vm/state.js";
import { verifyStep } from "../../vm/verify/one-step-prover.js";
import { rng } from "../helpers/helpers.js";

// Writes one i32 and one i64 per iteration (in a call, so the suspended caller's locals are part
// of the state) at addresses that sweep 128 KiB (unaligned, so stores straddle 4 KiB blocks),
// grows memory by 2 pages halfway and sweeps 256 KiB from then on; with $trap it ends in
// `unreachable`.
const WRITER = `(module (memory 2 8)
  (func $put (param $a i32) (param $i i32)
    local.get $a local.get $i i32.const -1640531535 i32.mul i32.store align=1
    local.get $a i32.const 17 i32.xor local.get $i i64.extend_i32_u i64.const 0x9e3779b97f4a7c15 i64.mul i64.store align=1)
  (func (export "run") (param $n i32) (param $trap i32) (result i32)
    (local $i i32) (local $lim i32)
    i32.const 131040 local.set $lim
    (block $done (loop $top
      local.get $i local.get $n i32.ge_u br_if $done
      local.get $i local.get $n i32.const 1 i32.shr_u i32.eq
      (if (then i32.const 2 memory.grow drop i32.const 262112 local.set $lim))
      local.get $i i32.const 4103 i32.mul local.get $lim i32.rem_u local.get $i call $put
      local.get $i i32.const 1 i32.add local.set $i
      br $top))
    local.get $trap (if (then unreachable))
    local.get $i))`;

let writer: LoadedProgram | undefined;
async function writerProgram(): Promise<LoadedProgram> {
  writer ??= new LoadedProgram(loadProgram(new Uint8Array(await parse(WRITER)), "writer.wat"));
  return writer;
}

const start = (p: LoadedProgram, n: number, trap: boolean) =>
  Machine.start(p, "run", [BigInt(n), trap ? 1n : 0n]);

/** Roots and proofs at `steps` from one straight run (no checkpoints, no restores). */
function straight(fresh: () => Machine, steps: number[]) {
  const m = fresh();
  const out = new Map<number, { root: string; proof: string; post: string }>();
  for (const s of [...new Set(steps)].sort((a, b) => a - b)) {
    m.run(s - m.steps);
    const p = proveStep(Machine.restore(m.prog, m.snapshot()));
    out.set(s, { root: toHex(m.stateRoot()), proof: toHex(p.proof), post: toHex(p.postRoot) });
  }
  return out;
}

/** The query sequence of one bisection of [0, T] towards `target` (the disagreement point). */
function bisection(T: number, target: number): number[] {
  const qs: number[] = [];
  let [lo, hi] = [0, T];
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    qs.push(mid);
    if (mid <= target) lo = mid;
    else hi = mid;
  }
  return qs;
}

function shuffle<T>(a: T[], r: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Asks `trace` for every step of `order` (root, and a proof for every third) against `ref`. */
function check(trace: MachineTrace, order: number[], ref: ReturnType<typeof straight>, T: number) {
  order.forEach((s, i) => {
    const want = ref.get(Math.min(s, T));
    expect(want, `step ${s} has a reference`).toBeDefined();
    expect(toHex(trace.stateRootAt(s)), `root at step ${s}`).toBe(want?.root);
    if (i % 3 === 0) {
      const p = trace.proveStep(s);
      expect(toHex(p.proof), `proof of step ${s}`).toBe(want?.proof);
      expect(toHex(verifyStep(p.preRoot, p.proof))).toBe(want?.post);
    }
  });
}

describe("a trace with bounded checkpoints", () => {
  it("answers like a straight run in random orders, through grows, restores and evictions", async () => {
    const prog = await writerProgram();
    const r = rng(2026);
    for (const trap of [false, true]) {
      const n = 3000;
      const trace = new MachineTrace(start(prog, n, trap), 500);
      const T = trace.totalSteps;
      expect(trace.finalStatus).toBe(trap ? Status.TRAPPED : Status.FINISHED);
      const targets = [
        0,
        1,
        T - 1,
        T,
        T + 1,
        T + 40,
        ...Array.from({ length: 40 }, () => Math.floor(r() * T)),
        ...bisection(T, Math.floor(r() * T)),
        ...bisection(T, Math.floor(T / 2) + 3), // just past the grow
      ];
      const ref = straight(
        () => start(prog, n, trap),
        targets.map((s) => Math.min(s, T)),
      );
      check(trace, shuffle([...targets], r), ref, T);
      // Two interleaved bisections, as two games on one node.
      const a = bisection(T, Math.floor(r() * T));
      const b = bisection(T, Math.floor(r() * T));
      const both = a.flatMap((s, i) => (i < b.length ? [s, b[i]] : [s]));
      check(
        trace,
        both,
        straight(() => start(prog, n, trap), both),
        T,
      );
      const st = trace.stats();
      expect(st.checkpoints).toBeLessThanOrEqual(GRID + RECENT + 1);
      expect(st.restores).toBeGreaterThan(20);
      // A halted or trapped machine maps to itself, and its proof says so.
      const p = trace.proveStep(T + 5);
      expect(p.proof.length).toBe(384);
      expect(toHex(verifyStep(p.preRoot, p.proof))).toBe(toHex(p.preRoot));
    }
  });

  it("machineAt gives an independent copy; steps before the start are refused", async () => {
    const prog = await writerProgram();
    const trace = new MachineTrace(start(prog, 400, false), 100, "the writer");
    const mine = trace.machineAt(1234);
    const root = toHex(mine.stateRoot());
    mine.run(1_000_000); // the caller's copy, run on and changed
    mine.mem.bytes.fill(7);
    expect(toHex(trace.stateRootAt(1234))).toBe(root);
    expect(() => trace.stateRootAt(-1)).toThrow(StepRangeError);
    expect(() => trace.stateRootAt(1.5)).toThrow(/steps count from 0 \(the writer\)/);
  });

  it("a bisection replays at most T steps; checkpoints and their bytes do not grow with T", async () => {
    const prog = await writerProgram();
    const r = rng(9);
    const seen: { T: number; peak: number; count: number }[] = [];
    for (const n of [8000, 32000, 128000]) {
      const trace = new MachineTrace(start(prog, n, false), 1 << 12);
      const T = trace.totalSteps;
      const target = Math.floor(r() * T);
      const qs = bisection(T, target);
      for (const s of qs) trace.stateRootAt(s);
      trace.proveStep(target);
      const st = trace.stats();
      expect(st.replayed).toBeLessThanOrEqual(T);
      expect(st.checkpoints).toBeLessThanOrEqual(GRID + RECENT + 1);
      seen.push({ T, peak: st.peakBytes, count: st.checkpoints });
    }
    // Every run writes all of its 256 KiB; the checkpoints, the undo log and the last recorded
    // content hold at most GRID + RECENT + 3 copies of it (plus small stacks), at any T.
    const bound = (GRID + RECENT + 3) * 256 * 1024 + 64 * 1024;
    for (const s of seen) expect(s.peak).toBeLessThanOrEqual(bound);
    expect(seen[2].T).toBeGreaterThan(15 * seen[0].T);
    expect(seen[2].peak).toBeLessThan(1.5 * seen[0].peak);
  });

  it("a DNN node: roots and proofs match a straight run; memory stays a few blocks per checkpoint", () => {
    const pkg = loadPackage(join(FIXTURES, "packages", "mnist_mlp"));
    const m = pkg.manifest;
    const r = rng(31);
    const inputs = m.inputs.map((slot) =>
      Int32Array.from({ length: numel(m.activations[slot].shape) }, () =>
        Math.floor((r() - 0.3) * 3 * 65536),
      ),
    );
    const acts = defaultBackend().prepare(pkg).run(inputs, { keepAll: true });
    const k = 1; // the Gemm: 784×128 weights in memory, 128 outputs written
    const ins = nodeInputs(pkg, k, acts);
    const trace = new NodeTrace(pkg, k, ins, 1000);
    const T = trace.totalSteps;
    const targets = [0, 999, 1000, T, ...Array.from({ length: 30 }, () => Math.floor(r() * T))];
    const ref = straight(() => nodeMachine(dnnVmProgram(), m, k, ins), targets);
    check(trace, shuffle([...targets], r), ref, T);
    // The weights (≈ 400 KB) are never copied: what the trace holds is far below one memory copy.
    const memBytes = nodeMachine(dnnVmProgram(), m, k, ins).mem.bytes.length;
    expect(trace.stats().peakBytes).toBeLessThan(memBytes / 2);
  });
});
