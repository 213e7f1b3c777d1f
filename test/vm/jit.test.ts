// Differential tests of the block compiler (vm/jit.ts) against the interpreter (Machine.run, the
// proving reference): the state root and step count after every block, at random exact step
// targets and at the end, on fixture nodes and on integer functions in the style of the
// WebAssembly spec tests (fac, fib, br_table, block values, memory widths, grow, traps), and
// every integer numeric op on edge operands, with variable and constant operands.
import { join } from "node:path";
import { parse } from "@bytecodealliance/jco";
import { beforeAll, describe, expect, it } from "vitest";
import { type Hash, toHex } from "../../commit/merkle.js";
import { defaultBackend } from "../../dnn/src/engine.js";
import { loadPackage, numel } from "../../dnn/src/package.js";
import { dnnVmProgram, nodeInputs, nodeMachine, runNodeInVm } from "../../game/link.js";
import { MachineTrace } from "../../game/trace.js";
import { FIXTURE_MODELS, FIXTURES } from "../../tools/fixtures.js";
import { isFloatNumeric, NUMERIC_FIRST, NUMERIC_LAST, numericPops } from "../../vm/isa.js";
import { blockSteps, compiled, runBlocks, setVmEngine, vmEngine } from "../../vm/jit.js";
import { loadProgram } from "../../vm/loader.js";
import { LoadedProgram, Machine } from "../../vm/machine.js";
import { numericName, numericOperandIs64, numericResultIs64 } from "../../vm/numeric.js";
import { Status } from "../../vm/state.js";
import { rng } from "../helpers/helpers.js";

const hex = (h: Hash) => toHex(h);

/** Everything of a machine's state that a root or the next step could depend on, for messages. */
function where(m: Machine): string {
  return `step ${m.steps} pc ${m.pc} sp ${m.r.sp} fp ${m.r.fp} status ${m.status} ${m.trapMessage}`;
}

interface Lockstep {
  blocks: number;
  targets: number;
  steps: number;
}

/**
 * Runs `start` twice, interpreted and compiled: block by block for up to `maxBlocks` blocks
 * (root and steps compared after each), then to `targets` random exact steps, then to the end.
 * Returns what was compared; throws (through expect) at the first difference.
 */
function lockstep(start: Machine, maxBlocks: number, targets: number, seed: number): Lockstep {
  const ref = start.fork();
  const jit = start.fork();
  let blocks = 0;
  while (ref.status === Status.RUNNING && blocks < maxBlocks) {
    const n = blockSteps(jit);
    const a = ref.run(n);
    const b = runBlocks(jit, n);
    blocks++;
    if (a !== b || ref.steps !== jit.steps || hex(ref.stateRoot()) !== hex(jit.stateRoot()))
      expect(where(jit), `block ${blocks}`).toBe(where(ref));
  }
  // The end, from a compiled run of its own, sets the range of the random targets.
  const probe = jit.fork();
  while (probe.status === Status.RUNNING) runBlocks(probe, 1 << 30);
  const r = rng(seed);
  const ts = Array.from(
    { length: targets },
    () => jit.steps + Math.floor(r() * (probe.steps - jit.steps + 1)),
  );
  ts.sort((x, y) => x - y);
  for (const t of ts) {
    ref.run(t - ref.steps);
    runBlocks(jit, t - jit.steps);
    expect(jit.steps).toBe(t);
    if (ref.steps !== jit.steps || hex(ref.stateRoot()) !== hex(jit.stateRoot()))
      expect(where(jit), `target ${t}`).toBe(where(ref));
  }
  while (ref.status === Status.RUNNING) ref.run(1 << 30);
  while (jit.status === Status.RUNNING) runBlocks(jit, 1 << 30);
  expect(where(jit)).toBe(where(ref));
  expect(hex(jit.stateRoot())).toBe(hex(ref.stateRoot()));
  expect(hex(probe.stateRoot())).toBe(hex(ref.stateRoot()));
  expect(jit.result()).toBe(ref.result());
  expect(Buffer.from(jit.mem.bytes).equals(Buffer.from(ref.mem.bytes))).toBe(true);
  return { blocks, targets: ts.length, steps: ref.steps };
}

describe.each(FIXTURE_MODELS)("compiled blocks on fixture %s", (model) => {
  it("match the interpreter after every block (first blocks of each node), at random steps and at the end", () => {
    const pkg = loadPackage(join(FIXTURES, "packages", model));
    const m = pkg.manifest;
    const r = rng(model.length * 31);
    const inputs = m.inputs.map((slot) =>
      Int32Array.from({ length: numel(m.activations[slot].shape) }, () =>
        Math.floor((r() - 0.4) * 4 * 65536),
      ),
    );
    const acts = defaultBackend().prepare(pkg).run(inputs, { keepAll: true });
    const prog = dnnVmProgram();
    const steps = m.nodes.map((_, k) => runNodeInVm(pkg, k, nodeInputs(pkg, k, acts)).steps);
    const heaviest = steps.indexOf(Math.max(...steps));
    let blocks = 0;
    for (let k = 0; k < m.nodes.length; k++) {
      const start = nodeMachine(prog, m, k, nodeInputs(pkg, k, acts));
      const done = lockstep(start, k === heaviest ? 4000 : 400, 6, k + 1);
      expect(done.steps).toBe(steps[k]);
      blocks += done.blocks;
    }
    expect(blocks).toBeGreaterThan(1000);
  });
});

describe("compiled blocks in a checkpointed trace", () => {
  it("answer the same roots as the interpreter's trace at any step (restores and replays included)", () => {
    const pkg = loadPackage(join(FIXTURES, "packages", "mnist_cnn"));
    const m = pkg.manifest;
    const acts = defaultBackend()
      .prepare(pkg)
      .run([Int32Array.from({ length: 784 }, (_, i) => (i * 977) % 65536)], { keepAll: true });
    const k = 1;
    const prog = dnnVmProgram();
    const before = vmEngine();
    setVmEngine("interp");
    const slow = new MachineTrace(nodeMachine(prog, m, k, nodeInputs(pkg, k, acts)), 5000);
    setVmEngine("blocks");
    const fast = new MachineTrace(nodeMachine(prog, m, k, nodeInputs(pkg, k, acts)), 5000);
    try {
      expect(fast.totalSteps).toBe(slow.totalSteps);
      const r = rng(77);
      // A bisection's pattern: forward and backward queries, some repeated.
      const qs = [
        0,
        1,
        fast.totalSteps,
        ...Array.from({ length: 30 }, () => Math.floor(r() * fast.totalSteps)),
      ];
      for (const q of [...qs, ...qs.slice().reverse()]) {
        setVmEngine("interp");
        const want = hex(slow.stateRootAt(q));
        setVmEngine("blocks");
        expect(hex(fast.stateRootAt(q)), `step ${q}`).toBe(want);
      }
    } finally {
      setVmEngine(before);
    }
  });
});

// ---- integer functions in the style of the spec tests --------------------------------------------

const SPEC_WAT = `(module
  (memory 1 3)
  (global $g (mut i32) (i32.const 0))
  (global $h (mut i64) (i64.const -5))
  (func $fac-rec (export "fac-rec") (param i64) (result i64)
    (if (result i64) (i64.eq (local.get 0) (i64.const 0))
      (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $fac-rec (i64.sub (local.get 0) (i64.const 1)))))))
  (func (export "fac-iter") (param i64) (result i64) (local i64 i64)
    (local.set 1 (local.get 0))
    (local.set 2 (i64.const 1))
    (block (loop
      (if (i64.eq (local.get 1) (i64.const 0))
        (then (br 2))
        (else
          (local.set 2 (i64.mul (local.get 1) (local.get 2)))
          (local.set 1 (i64.sub (local.get 1) (i64.const 1)))))
      (br 0)))
    (local.get 2))
  (func $fib (export "fib-rec") (param i64) (result i64)
    (if (result i64) (i64.le_u (local.get 0) (i64.const 1))
      (then (i64.const 1))
      (else (i64.add (call $fib (i64.sub (local.get 0) (i64.const 2)))
                     (call $fib (i64.sub (local.get 0) (i64.const 1)))))))
  (func (export "fib-iter") (param i32) (result i32) (local i32 i32 i32)
    (local.set 1 (i32.const 0)) (local.set 2 (i32.const 1))
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get 0)))
      (local.set 3 (i32.add (local.get 1) (local.get 2)))
      (local.set 1 (local.get 2)) (local.set 2 (local.get 3))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br $next)))
    (local.get 1))
  (func (export "switch") (param i32) (result i32)
    (block $ret (result i32)
      (i32.mul (i32.const 10)
        (block $exit (result i32)
          (block $0 (block $default (block $3 (block $2 (block $1
            (br_table $0 $1 $2 $3 $default (local.get 0)))
            (br $exit (i32.const 1)))
            (br $exit (i32.const 2)))
            (br $ret (i32.const 3)))
            (br $ret (i32.const 4)))
          (i32.const 5)))))
  (func (export "table-values") (param i32) (result i64)
    (block $a (result i64)
      (i64.const 100)
      (block $b (result i64)
        (i64.const 7) (i64.const 8)
        (br_table $a $b $a (i64.extend_i32_u (local.get 0)) (local.get 0)))
      (i64.add)))
  (func (export "drop-keep") (param i32) (result i32)
    (block (result i32)
      (i32.const 1) (i32.const 2)
      (loop (br_if 0 (i32.eqz (i32.const 1))))
      (drop (br_if 0 (i32.const 30) (local.get 0)))
      (br 0 (i32.add (i32.const 3) (local.get 0)))))
  (func (export "drop-keep-virtual") (param i32) (result i32)
    (block (result i32)
      (i32.const 1) (i32.const 2)
      (drop (br_if 0 (i32.const 30) (local.get 0)))
      (br 0 (i32.const 3))))
  (func (export "select") (param i32 i64 i64) (result i64)
    (i64.add
      (select (local.get 1) (local.get 2) (local.get 0))
      (i64.extend_i32_s (select (i32.const -7) (i32.const 9) (i32.eqz (local.get 0))))))
  (func (export "globals") (param i32) (result i64)
    (block (loop
      (global.set $g (i32.add (global.get $g) (i32.const 3)))
      (global.set $h (i64.mul (global.get $h) (i64.const -3)))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br_if 0 (local.get 0))))
    (i64.add (global.get $h) (i64.extend_i32_u (global.get $g))))
  (func (export "memory-widths") (param i32) (result i64) (local i32 i64)
    (block (loop
      (i64.store offset=8 (local.get 1) (i64.mul (i64.extend_i32_u (local.get 1)) (i64.const 0x9e3779b97f4a7c15)))
      (i32.store8 offset=3 (local.get 1) (i32.const 0x1ff))
      (i32.store16 offset=5 (local.get 1) (i32.sub (i32.const 0) (local.get 1)))
      (i64.store32 offset=17 (local.get 1) (i64.const -1))
      (i64.store8 offset=21 (local.get 1) (i64.const 0x80))
      (i64.store16 offset=22 (local.get 1) (i64.const 0x8001))
      (local.set 2 (i64.add (local.get 2)
        (i64.add (i64.add (i64.load offset=8 (local.get 1)) (i64.load8_s offset=3 (local.get 1)))
          (i64.add (i64.add (i64.load16_s offset=5 (local.get 1)) (i64.load32_u offset=17 (local.get 1)))
            (i64.add (i64.add (i64.load8_u offset=21 (local.get 1)) (i64.load16_u offset=22 (local.get 1)))
              (i64.add (i64.load32_s offset=17 (local.get 1))
                (i64.extend_i32_u (i32.add (i32.add (i32.load8_s offset=21 (local.get 1)) (i32.load8_u offset=21 (local.get 1)))
                  (i32.add (i32.load16_s offset=22 (local.get 1)) (i32.add (i32.load16_u offset=22 (local.get 1)) (i32.load offset=2 (local.get 1))))))))))))
      (local.set 1 (i32.add (local.get 1) (i32.const 4093)))
      (br_if 0 (i32.lt_u (local.get 1) (local.get 0)))))
    (local.get 2))
  (func (export "grow") (param i32) (result i32)
    (local.set 0 (memory.grow (local.get 0)))
    (i32.store (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)) (i32.const 77))
    (i32.add (local.get 0) (i32.load (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)))))
  (func (export "store-then-trap") (param i32) (result i32)
    (i32.store (i32.const 100) (i32.const 5))
    (i32.store (local.get 0) (i32.const 6))
    (i32.load (i32.const 100)))
  (func (export "load-trap") (param i32) (result i64)
    (i64.add (i64.const 1) (i64.load offset=16 (local.get 0))))
  (func (export "div-trap") (param i32 i32 i64 i64) (result i64)
    (i64.add
      (i64.extend_i32_s (i32.add (i32.div_s (local.get 0) (local.get 1)) (i32.rem_u (local.get 0) (local.get 1))))
      (i64.add (i64.div_s (local.get 2) (local.get 3)) (i64.rem_s (local.get 2) (local.get 3)))))
  (func $runaway (export "runaway") (call $runaway))
  (func (export "unreachable") (param i32) (result i32)
    (if (local.get 0) (then (unreachable)))
    (i32.const 9))
)`;

/** [function, argument lists] run through the lockstep comparison. */
const SPEC_CASES: [string, bigint[][]][] = [
  ["fac-rec", [[0n], [1n], [5n], [25n]]],
  ["fac-iter", [[0n], [7n], [25n]]],
  ["fib-rec", [[0n], [5n], [12n]]],
  ["fib-iter", [[0n], [1n], [30n]]],
  ["switch", [[0n], [1n], [2n], [3n], [4n], [5n], [100n], [0xffffffffn]]],
  ["table-values", [[0n], [1n], [2n], [3n], [0xffffffffn]]],
  ["drop-keep", [[0n], [1n], [7n]]],
  ["drop-keep-virtual", [[0n], [1n]]],
  [
    "select",
    [
      [0n, 5n, 6n],
      [1n, 5n, 6n],
      [0xffffffffn, 0xffffffff00000001n, 2n],
    ],
  ],
  ["globals", [[1n], [50n]]],
  ["memory-widths", [[1n], [60000n], [65530n]]],
  ["grow", [[0n], [1n], [2n], [5n]]],
  ["store-then-trap", [[0n], [65532n], [65533n], [0xfffffffcn]]],
  ["load-trap", [[0n], [65512n], [65513n], [0xfffffff0n]]],
  [
    "div-trap",
    [
      [7n, 2n, 9n, 4n],
      [7n, 0n, 9n, 4n],
      [0x80000000n, 0xffffffffn, 9n, 4n],
      [7n, 2n, 9n, 0n],
      [7n, 2n, 1n << 63n, (1n << 64n) - 1n],
      [0xfffffff9n, 2n, (1n << 64n) - 9n, 4n],
    ],
  ],
  ["runaway", [[]]],
  ["unreachable", [[0n], [1n]]],
];

describe("compiled blocks on spec-style integer functions", () => {
  let prog: LoadedProgram;
  beforeAll(async () => {
    prog = new LoadedProgram(loadProgram((await parse(SPEC_WAT)) as Uint8Array, "spec.wat"));
  });

  it("match the interpreter after every block, at random steps and at the end (traps included)", () => {
    const outcomes: string[] = [];
    SPEC_CASES.forEach(([name, argLists], i) => {
      for (const args of argLists) {
        const start = Machine.start(prog, name, args);
        lockstep(start, 1 << 30, 5, i + 1);
        const m = start.fork();
        while (m.status === Status.RUNNING) runBlocks(m, 1 << 30);
        outcomes.push(
          `${name}(${args.join(",")}) = ${m.status === Status.TRAPPED ? m.trapMessage : m.result()}`,
        );
      }
    });
    // The functions compute what the spec tests say (so the comparison ran real code paths).
    expect(outcomes).toContain("fac-rec(25) = 7034535277573963776");
    expect(outcomes).toContain("fac-iter(25) = 7034535277573963776");
    expect(outcomes).toContain("fib-rec(12) = 233");
    expect(outcomes).toContain("fib-iter(30) = 832040");
    expect(outcomes).toContain("switch(2) = 20");
    expect(outcomes).toContain("switch(3) = 3");
    expect(outcomes).toContain("switch(0) = 50");
    expect(outcomes).toContain("switch(100) = 4");
    expect(outcomes).toContain("table-values(1) = 101");
    expect(outcomes).toContain("drop-keep(1) = 30");
    expect(outcomes).toContain("drop-keep(0) = 3");
    expect(outcomes).toContain("grow(2) = 78");
    expect(outcomes).toContain("grow(5) = 76");
    expect(outcomes).toContain("store-then-trap(65533) = out of bounds memory access");
    expect(outcomes).toContain("load-trap(65513) = out of bounds memory access");
    expect(outcomes).toContain("div-trap(7,0,9,4) = integer divide by zero");
    expect(outcomes).toContain("div-trap(2147483648,4294967295,9,4) = integer overflow");
    expect(outcomes).toContain("div-trap(7,2,9223372036854775808,18446744073709551615) = integer overflow");
    expect(outcomes).toContain("runaway() = call stack exhausted");
    expect(outcomes).toContain("unreachable(1) = unreachable executed");
    // Compiled code ran: most blocks of the module are compiled (calls, returns, grow stay interpreted).
    expect(compiled(prog).units.length).toBeGreaterThan(10);
  });
});

// ---- every numeric op ------------------------------------------------------------------------------

const ACCEPTED: number[] = [];
for (let op = NUMERIC_FIRST; op <= NUMERIC_LAST; op++) if (!isFloatNumeric(op)) ACCEPTED.push(op);

const EDGES = [
  0n,
  1n,
  2n,
  31n,
  32n,
  33n,
  63n,
  64n,
  0x7fffn,
  0x8000n,
  0xffffn,
  (1n << 31n) - 1n,
  1n << 31n,
  (1n << 32n) - 1n,
  1n << 32n,
  (1n << 32n) + 5n,
  (1n << 53n) + 1n,
  (1n << 63n) - 1n,
  1n << 63n,
  (1n << 64n) - 1n,
  (1n << 64n) - 2n,
  0xdeadbeefcafebaben,
  0xffffffff7fffffffn,
];
const CONSTS = [0n, 1n, 16n, 31n, 32n, 33n, 63n, (1n << 64n) - 1n, 1n << 63n, 0x80000000n];

/** Per op: a function of variable operands, and one per constant second operand. */
function numericWat(): string {
  const fns: string[] = [];
  for (const op of ACCEPTED) {
    const name = numericName(op);
    const w = numericOperandIs64(op) ? "" : " i32.wrap_i64";
    const ext = numericResultIs64(op) ? "" : " i64.extend_i32_u";
    if (numericPops(op) === 1) {
      fns.push(`(func (export "${name}") (param i64) (result i64) local.get 0${w} ${name}${ext})`);
      continue;
    }
    fns.push(
      `(func (export "${name}") (param i64 i64) (result i64) local.get 0${w} local.get 1${w} ${name}${ext})`,
    );
    CONSTS.forEach((c, j) => {
      const k = numericOperandIs64(op)
        ? `i64.const ${BigInt.asIntN(64, c)}`
        : `i32.const ${BigInt.asIntN(32, c)}`;
      fns.push(`(func (export "${name}/${j}") (param i64) (result i64) local.get 0${w} ${k} ${name}${ext})`);
    });
  }
  return `(module\n${fns.join("\n")}\n)`;
}

describe("compiled blocks on every integer numeric op", () => {
  let prog: LoadedProgram;
  beforeAll(async () => {
    prog = new LoadedProgram(loadProgram((await parse(numericWat())) as Uint8Array, "numeric.wat"));
  });

  it("give the interpreter's result or trap, at the same step, on edge operands", () => {
    const outcome = (m: Machine) =>
      `${m.steps} ${m.status} ${m.status === Status.TRAPPED ? `${m.trapMessage} pc ${m.pc}` : m.result()} ${hex(m.stateRoot())}`;
    let runs = 0;
    const check = (name: string, args: bigint[]) => {
      const ref = Machine.start(prog, name, args);
      const jit = Machine.start(prog, name, args);
      ref.run(1 << 30);
      runBlocks(jit, 1 << 30);
      const want = outcome(ref);
      const got = outcome(jit);
      if (got !== want)
        expect(`${name}(${args.join(",")}) ${got}`).toBe(`${name}(${args.join(",")}) ${want}`);
      runs++;
    };
    for (const op of ACCEPTED) {
      const name = numericName(op);
      for (const a of EDGES) {
        if (numericPops(op) === 1) {
          check(name, [a]);
          continue;
        }
        for (const b of EDGES) check(name, [a, b]);
        CONSTS.forEach((_, j) => {
          check(`${name}/${j}`, [a]);
        });
      }
    }
    expect(runs).toBeGreaterThan(30000);
  });
});
