// One-step proof vectors (tools/vectors/step-vectors.ts → contracts/test/vectors/steps.json), the fixtures the
// Solidity step verifier is tested against. The committed file must equal a fresh build; every
// instruction the loader can emit has ≥ 3 proven steps; every vector verifies; no single corrupted
// byte, truncation or trailing byte gets past the reference verifier; and every scenario the vectors
// come from ends as V8's own WebAssembly engine says it must.
//
// UPDATE_VECTORS=1 npx vitest run test/vm/step-vectors.test.ts rewrites steps.json.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "@bytecodealliance/jco";
import { beforeAll, describe, expect, it } from "vitest";
import { toHex } from "../../commit/merkle.js";
import {
  buildStepCases,
  fillPattern,
  flattenStepCases,
  type Outcome,
  type Scenario,
  STEP_VECTORS_PATH,
  type StepCase,
  type StepVector,
  serializeStepVectors,
  stepVectorsJson,
} from "../../tools/vectors/step-vectors.js";
import { Ctl, isFloatNumeric, NUMERIC_FIRST, NUMERIC_LAST, Wasm } from "../../vm/isa.js";
import { ACCESS_SIZE } from "../../vm/machine.js";
import { decodeFields, FIELD_COUNT, Status, stateRoot } from "../../vm/state.js";
import { ProofError, verifyStep } from "../../vm/verify/one-step-prover.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FILE = ROOT + STEP_VECTORS_PATH;
const UPDATE = process.env.UPDATE_VECTORS === "1";
const PRE_BYTES = 32 * FIELD_COUNT;

let cases: StepCase[];
let vectors: StepVector[];

beforeAll(async () => {
  cases = await buildStepCases();
  vectors = flattenStepCases(cases);
});

/** Every op the loader can emit, from vm/isa.ts: the kept WASM ops, the flat control ops, integer numerics. */
function emittableOps(): Set<number> {
  const ops = new Set<number>([...Object.values(Wasm), ...Object.values(Ctl)]);
  for (let op = NUMERIC_FIRST; op <= NUMERIC_LAST; op++) if (!isFloatNumeric(op)) ops.add(op);
  return ops;
}

/** The verifier module that dispatches each op (vm/verify/one-step-prover.ts), written out independently. */
function expectedFamily(op: number): string {
  if (op === 0x10 || op === 0x0f) return "calls";
  if (op >= 0x20 && op <= 0x24) return "variables";
  if ((op >= 0x28 && op <= 0x3e) || op === 0x3f || op === 0x40) return "memory";
  if (op >= 0x45 && op <= 0xc4) return "numeric";
  return "control";
}

const running = (v: StepVector): boolean =>
  decodeFields(v.proof.subarray(0, PRE_BYTES)).status === Status.RUNNING;

/** Whether the vector's post state is its pre state with status = trapped. */
function traps(v: StepVector): boolean {
  const pre = decodeFields(v.proof.subarray(0, PRE_BYTES));
  return toHex(stateRoot({ ...pre, status: Status.TRAPPED })) === toHex(v.postRoot);
}

/** Number of memory leaves in a load/store proof (§4.5 layout). */
function memoryLeaves(v: StepVector): number {
  const pre = decodeFields(v.proof.subarray(0, PRE_BYTES));
  const nAt = PRE_BYTES + 10 + 32 * pre.codeDepth;
  const n = v.proof[nAt];
  return v.proof[nAt + 1 + 8 * n + 32];
}

describe("step vectors (contracts/test/vectors/steps.json)", () => {
  it("the committed file equals a fresh build", () => {
    const text = serializeStepVectors(vectors);
    if (UPDATE) {
      mkdirSync(dirname(FILE), { recursive: true });
      writeFileSync(FILE, text);
    }
    expect(existsSync(FILE), `${STEP_VECTORS_PATH} is missing: run with UPDATE_VECTORS=1`).toBe(true);
    const committed = readFileSync(FILE, "utf8");
    expect(JSON.parse(committed)).toEqual(stepVectorsJson(vectors));
    expect(committed, "same content but different formatting: run with UPDATE_VECTORS=1").toBe(text);
    expect(Buffer.byteLength(committed)).toBeLessThan(3 * 1024 * 1024);
  });

  it("parallel arrays of equal length, hex-encoded, with unique names", () => {
    const j = JSON.parse(readFileSync(FILE, "utf8")) as Record<string, unknown[]>;
    expect(Object.keys(j)).toEqual(["names", "ops", "families", "preRoots", "proofs", "postRoots"]);
    for (const k of Object.keys(j)) expect(j[k].length, k).toBe(vectors.length);
    expect(new Set(j.names).size).toBe(vectors.length);
    for (const k of ["preRoots", "postRoots"]) for (const h of j[k]) expect(h).toMatch(/^0x[0-9a-f]{64}$/);
    for (const p of j.proofs) expect(p).toMatch(/^0x([0-9a-f]{2})+$/);
    for (const op of j.ops) expect(Number.isInteger(op)).toBe(true);
  });

  it("covers exactly the ops the loader can emit, each with ≥ 3 proven steps", () => {
    const want = emittableOps();
    expect(want.size).toBe(66 + 34 + 4); // integer numerics, kept WASM ops, flat control ops
    const covered = new Map<number, number>();
    for (const v of vectors) {
      expect(v.family, v.name).toBe(expectedFamily(v.op));
      if (running(v)) {
        // The proof's instruction field is the vector's op.
        expect((v.proof[PRE_BYTES] << 8) | v.proof[PRE_BYTES + 1], v.name).toBe(v.op);
        covered.set(v.op, (covered.get(v.op) ?? 0) + 1);
      } else {
        expect(v.proof.length, v.name).toBe(PRE_BYTES);
        expect(toHex(v.postRoot), v.name).toBe(toHex(v.preRoot));
      }
    }
    const hexes = (s: Iterable<number>) => [...s].sort((a, b) => a - b).map((op) => `0x${op.toString(16)}`);
    expect(hexes(covered.keys())).toEqual(hexes(want));
    for (const [op, n] of covered) expect(n, `op 0x${op.toString(16)}`).toBeGreaterThanOrEqual(3);
  });

  it("covers traps, two-leaf and out-of-bounds accesses, and stopped machines", () => {
    const of = (op: number) => vectors.filter((v) => v.op === op && running(v));
    for (const op of [0x6d, 0x6e, 0x6f, 0x70, 0x7f, 0x80, 0x81, 0x82]) {
      // div/rem by zero (twice), and div_s's MIN / -1.
      const divS = op === 0x6d || op === 0x7f;
      expect(of(op).filter(traps).length, `op 0x${op.toString(16)}`).toBe(divS ? 3 : 2);
      expect(of(op).filter((v) => !traps(v)).length).toBeGreaterThanOrEqual(4);
    }
    for (let op: number = Wasm.I32_LOAD; op <= Wasm.I64_STORE32; op++) {
      if (op === 0x2a || op === 0x2b || op === 0x38 || op === 0x39) continue; // float loads/stores
      const leaves = of(op).map(memoryLeaves);
      expect(
        leaves.filter((n) => n === 0).length,
        `op 0x${op.toString(16)}: out of bounds`,
      ).toBeGreaterThanOrEqual(3);
      expect(leaves.filter((n) => n === 1).length).toBeGreaterThanOrEqual(3);
      if (ACCESS_SIZE[op - Wasm.I32_LOAD] > 1)
        expect(leaves.filter((n) => n === 2).length).toBeGreaterThanOrEqual(3);
      for (const v of of(op)) expect(traps(v), v.name).toBe(memoryLeaves(v) === 0);
    }
    expect(of(Wasm.UNREACHABLE).every(traps)).toBe(true);
    expect(of(Wasm.CALL).filter(traps).length).toBe(1); // the call at depth 1023
    const stopped = vectors.filter((v) => !running(v));
    const statuses = stopped.map((v) => decodeFields(v.proof.subarray(0, PRE_BYTES)).status);
    expect(statuses).toContain(Status.FINISHED);
    expect(statuses).toContain(Status.TRAPPED);
  });

  it("every vector verifies to its post root", () => {
    for (const v of vectors) expect(toHex(verifyStep(v.preRoot, v.proof)), v.name).toBe(toHex(v.postRoot));
  });
});

// ---- corruption ----------------------------------------------------------------------------------

/** mulberry32: a seeded 32-bit PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** A corrupted proof must be rejected with a ProofError or verify to some other root. */
function rejected(v: StepVector, bad: Uint8Array): string | undefined {
  try {
    const post = verifyStep(v.preRoot, bad);
    return toHex(post) === toHex(v.postRoot) ? "accepted with the same post root" : undefined;
  } catch (e) {
    return e instanceof ProofError ? undefined : `threw ${String(e)} instead of a ProofError`;
  }
}

function flipped(proof: Uint8Array, at: number, mask: number): Uint8Array {
  const bad = Uint8Array.from(proof);
  bad[at] ^= mask;
  return bad;
}

describe("corrupted step proofs", () => {
  it("one pseudo-randomly chosen byte flipped, in every vector", () => {
    const next = prng(0x73746570); // "step"
    const failures: string[] = [];
    for (const v of vectors) {
      const at = next() % v.proof.length;
      const mask = 1 + (next() % 255);
      const why = rejected(v, flipped(v.proof, at, mask));
      if (why) failures.push(`${v.name}: byte ${at} ^ ${mask}: ${why}`);
    }
    expect(failures).toEqual([]);
  });

  it("every byte flipped in turn, and every truncation, for the longest proof of each family and a stopped machine", () => {
    const picks = new Map<string, StepVector>();
    for (const v of vectors) {
      const best = picks.get(v.family);
      if (!best || v.proof.length > best.proof.length) picks.set(v.family, v);
    }
    expect([...picks.keys()].sort()).toEqual(["calls", "control", "memory", "numeric", "variables"]);
    const stopped = vectors.find((v) => !running(v));
    expect(stopped).toBeDefined();
    const failures: string[] = [];
    for (const v of [...picks.values(), stopped!]) {
      for (let at = 0; at < v.proof.length; at++)
        for (const mask of [0x01, 0x80]) {
          const why = rejected(v, flipped(v.proof, at, mask));
          if (why) failures.push(`${v.name}: byte ${at} ^ ${mask}: ${why}`);
        }
      for (let len = 0; len < v.proof.length; len++) {
        const why = rejected(v, v.proof.slice(0, len));
        if (why) failures.push(`${v.name}: truncated to ${len}: ${why}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it("truncation by one byte and one extra trailing byte throw, in every vector", () => {
    for (const v of vectors) {
      expect(() => verifyStep(v.preRoot, v.proof.subarray(0, v.proof.length - 1)), v.name).toThrow(
        ProofError,
      );
      for (const extra of [0x00, 0xff])
        expect(() => verifyStep(v.preRoot, Uint8Array.from([...v.proof, extra])), v.name).toThrow(ProofError);
    }
  });

  it("a proof against another vector's pre root is rejected", () => {
    for (let i = 0; i < vectors.length; i++) {
      const v = vectors[i];
      const other = vectors[(i + 1) % vectors.length];
      if (toHex(other.preRoot) === toHex(v.preRoot)) continue;
      expect(() => verifyStep(other.preRoot, v.proof), v.name).toThrow(ProofError);
    }
  });
});

// ---- the scenarios against V8 ------------------------------------------------------------------

type Kind =
  | "finished"
  | "divide by zero"
  | "integer overflow"
  | "out of bounds"
  | "unreachable"
  | "other trap";

function trapKind(message: string): Kind {
  // V8 says "divide by zero" / "remainder by zero" and "divide result unrepresentable".
  if (/(divide|remainder) by zero/.test(message)) return "divide by zero";
  if (/overflow|unrepresentable/.test(message)) return "integer overflow";
  if (/out of bounds/.test(message)) return "out of bounds";
  if (/unreachable/.test(message)) return "unreachable";
  return "other trap";
}

async function native(sc: Scenario): Promise<Outcome> {
  const mod = new WebAssembly.Module(new Uint8Array(await parse(sc.wat)));
  const inst = new WebAssembly.Instance(mod, {});
  const mem = inst.exports.mem as WebAssembly.Memory | undefined;
  if (sc.fill && mem) new Uint8Array(mem.buffer).set(fillPattern(mem.buffer.byteLength));
  const f = inst.exports[sc.entry] as (...args: (number | bigint)[]) => unknown;
  const args = sc.args.map((a) => (a.t === "i32" ? Number(BigInt.asIntN(32, a.v)) : BigInt.asIntN(64, a.v)));
  const memory = () => (mem ? new Uint8Array(mem.buffer).slice() : new Uint8Array(0));
  try {
    const r = f(...args);
    const result =
      typeof r === "bigint" ? BigInt.asUintN(64, r) : typeof r === "number" ? BigInt(r >>> 0) : undefined;
    return { status: "finished", result, memory: memory() };
  } catch (e) {
    if (!(e instanceof WebAssembly.RuntimeError)) throw e;
    return { status: "trapped", trap: e.message, memory: memory() };
  }
}

describe("the vectors' scenarios against V8", () => {
  it("every run ends as in V8: same result or same kind of trap, same memory", async () => {
    const mismatches: string[] = [];
    let compared = 0;
    for (const c of cases) {
      if (c.scenario.native === false) continue;
      const want = await native(c.scenario);
      const got = c.outcome;
      const what = `${c.scenario.entry}(${c.scenario.args.map((a) => `0x${a.v.toString(16)}`).join(", ")}) [${c.vectors[0].name}]`;
      const kind = (o: Outcome): Kind => (o.status === "finished" ? "finished" : trapKind(o.trap ?? ""));
      if (kind(got) !== kind(want))
        mismatches.push(`${what}: VM ${kind(got)} (${got.trap}), V8 ${kind(want)} (${want.trap})`);
      else if (got.result !== want.result)
        mismatches.push(`${what}: VM result ${got.result}, V8 ${want.result}`);
      else if (want.memory.length > 0 && Buffer.compare(got.memory, want.memory) !== 0)
        mismatches.push(`${what}: final memory differs`);
      compared++;
    }
    expect(mismatches).toEqual([]);
    expect(compared).toBeGreaterThan(cases.length - 3);
  });
});
