// The TypeScript reference verifier (vm/verify/) and the Solidity one (contracts/src/step/) are
// twins: the same files (stems compared ignoring case and hyphens), the same functions per
// instruction family, and one ProofError code per Solidity custom error, thrown for the same fault.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fromHex } from "../../commit/merkle.js";
import { PROOF_ERROR_CODES, ProofError, type ProofErrorCode } from "../../vm/proof-format.js";
import { decodeFields, FIELD_COUNT, Status } from "../../vm/state.js";
import { verifyStep } from "../../vm/verify/one-step-prover.js";

const TS_DIR = "vm/verify";
const SOL_DIR = "contracts/src/step";

const stem = (file: string): string =>
  file
    .replace(/\.(ts|sol)$/, "")
    .replace(/-/g, "")
    .toLowerCase();
const files = (dir: string, ext: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith(ext))
    .sort();
const tsFiles = files(TS_DIR, ".ts");
const solFiles = files(SOL_DIR, ".sol");
const read = (dir: string, f: string): string => readFileSync(join(dir, f), "utf8");

/** The instruction families: every Step* file except the shared state. */
const FAMILIES = solFiles.filter((f) => /^Step/.test(f) && f !== "StepState.sol").map(stem);

describe("vm/verify ↔ contracts/src/step twins", () => {
  it("every file has a twin of the same stem on the other side", () => {
    const ts = new Set(tsFiles.map(stem));
    const sol = new Set(solFiles.map(stem));
    expect(
      tsFiles.filter((f) => !sol.has(stem(f))),
      `in ${TS_DIR} without a twin in ${SOL_DIR}`,
    ).toEqual([]);
    expect(
      solFiles.filter((f) => !ts.has(stem(f))),
      `in ${SOL_DIR} without a twin in ${TS_DIR}`,
    ).toEqual([]);
    expect(ts).toContain("onestepprover");
    expect(ts).toContain("stepstate");
  });

  it("each family has pops and step in both languages, and a witness writer in TS", () => {
    expect(FAMILIES.sort()).toEqual([
      "stepcalls",
      "stepcontrol",
      "stepmemory",
      "stepnumeric",
      "stepvariables",
    ]);
    for (const fam of FAMILIES) {
      const ts = read(TS_DIR, tsFiles.find((f) => stem(f) === fam) ?? "");
      const sol = read(SOL_DIR, solFiles.find((f) => stem(f) === fam) ?? "");
      for (const fn of ["pops", "step"]) {
        expect(ts, `${fam}.ts ${fn}`).toMatch(new RegExp(`export function ${fn}\\(`));
        expect(sol, `${fam}.sol ${fn}`).toMatch(new RegExp(`function ${fn}\\([^)]*\\) internal`));
      }
      expect(ts, `${fam}.ts witness`).toMatch(/export function witness\(/);
    }
    // The entries dispatch each of the three by family.
    const entry = read(TS_DIR, "one-step-prover.ts");
    const solEntry = read(SOL_DIR, "OneStepProver.sol");
    for (const lib of ["StepNumeric", "StepMemory", "StepVariables", "StepControl", "StepCalls"]) {
      for (const fn of ["pops", "step", "witness"]) expect(entry).toContain(`${lib}.${fn}(`);
      for (const fn of ["pops", "step"]) expect(solEntry).toContain(`${lib}.${fn}(`);
    }
    expect(entry).toMatch(/export function verifyStep\(/);
    expect(solEntry).toMatch(/function verifyStep\(/);
  });
});

/** `error X(...)` declarations of contracts/src/step/*.sol. */
function solidityErrors(): string[] {
  const out: string[] = [];
  for (const f of solFiles) for (const m of read(SOL_DIR, f).matchAll(/^error (\w+)\(/gm)) out.push(m[1]);
  return out.sort();
}

/** Codes the TS verifier throws: the quoted names in the first argument of each fail()/ProofError(). */
function tsThrownCodes(): Set<string> {
  const out = new Set<string>();
  const sources = [...tsFiles.map((f) => read(TS_DIR, f)), readFileSync("vm/proof-format.ts", "utf8")];
  for (const src of sources)
    for (const m of src.matchAll(/(?:\bfail|new ProofError)\(\s*([^,]+),/g))
      for (const q of m[1].matchAll(/"(\w+)"/g)) out.add(q[1]);
  return out;
}

/** Errors the Solidity verifier reverts with. */
function solidityReverts(): Set<string> {
  const out = new Set<string>();
  for (const f of solFiles) for (const m of read(SOL_DIR, f).matchAll(/revert (\w+)\(/g)) out.add(m[1]);
  return out;
}

describe("ProofError codes ↔ Solidity custom errors", () => {
  it("the TS codes are exactly the errors declared in contracts/src/step", () => {
    expect([...PROOF_ERROR_CODES].sort()).toEqual(solidityErrors());
  });

  it("the TS verifier throws every code the Solidity verifier reverts with, and no other", () => {
    expect([...tsThrownCodes()].sort()).toEqual([...solidityReverts()].sort());
  });

  // The step vectors carry no expected reverts; these faults mirror contracts/test/StepUnit.t.sol,
  // applied to every committed vector.
  it("corrupted vectors are rejected with the code Solidity reverts with", () => {
    const json = JSON.parse(readFileSync("contracts/test/vectors/steps.json", "utf8")) as {
      preRoots: string[];
      proofs: string[];
    };
    const codeOf = (preRoot: Uint8Array, proof: Uint8Array): ProofErrorCode | "accepted" => {
      try {
        verifyStep(preRoot, proof);
        return "accepted";
      } catch (e) {
        if (!(e instanceof ProofError)) throw e;
        return e.code;
      }
    };
    const STATE = 32 * FIELD_COUNT;
    let running = 0;
    json.proofs.forEach((hex, i) => {
      const preRoot = fromHex(json.preRoots[i]);
      const proof = fromHex(hex);
      const flip = (at: number): Uint8Array => {
        const p = Uint8Array.from(proof);
        p[at] ^= 1;
        return p;
      };
      expect(codeOf(preRoot, proof.subarray(0, proof.length - 1))).toBe("Truncated");
      expect(codeOf(preRoot, Uint8Array.from([...proof, 0]))).toBe("TrailingBytes");
      expect(codeOf(preRoot, proof.subarray(0, STATE - 1))).toBe("Truncated");
      expect(codeOf(preRoot, flip(STATE - 1))).toBe("PreStateMismatch");
      const pre = decodeFields(proof.subarray(0, STATE));
      if (pre.status !== Status.RUNNING) return;
      running++;
      const nAt = STATE + 10 + 32 * pre.codeDepth;
      if (pre.codeDepth > 0) expect(codeOf(preRoot, flip(STATE + 10))).toBe("InstructionNotInCode");
      expect(codeOf(preRoot, flip(STATE + 9))).toBe("InstructionNotInCode"); // the arg's low byte
      const n = proof[nAt];
      const more = Uint8Array.from(proof);
      more[nAt] = n + 1;
      expect(codeOf(preRoot, more)).toBe("WrongStackCount");
      expect(codeOf(preRoot, flip(nAt + 1 + 8 * n))).toBe("StackMismatch"); // the rest hash
    });
    expect(running).toBeGreaterThan(100);
  });
});
