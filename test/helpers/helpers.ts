// Test helpers: call one kernel of the DNN module directly, and run the CLI as a child process.
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { toFunctionSelector } from "viem";
import { dnnWasm } from "../../dnn/src/wasm.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Runs one exec() with the given opcode/params on fresh memory; returns the output tensors. */
export function runKernel(
  op: number,
  params: number[],
  inputs: Int32Array[],
  outSizes: number[],
): { code: number; outs: Int32Array[] } {
  const inst = new WebAssembly.Instance(dnnWasm().module, {});
  const mem = inst.exports.memory as WebAssembly.Memory;
  const exec = inst.exports.exec as (p: number) => number;
  const hdr = 4 * (4 + inputs.length + outSizes.length + params.length);
  let off = Math.ceil(hdr / 32) * 32;
  const inPtrs = inputs.map((t) => {
    const p = off;
    off += Math.ceil((4 * t.length) / 32) * 32 + 32;
    return p;
  });
  const outPtrs = outSizes.map((n) => {
    const p = off;
    off += Math.ceil((4 * n) / 32) * 32 + 32;
    return p;
  });
  mem.grow(Math.ceil(off / 65536) + 1);
  const m = new Int32Array(mem.buffer);
  m.set([op, inputs.length, outSizes.length, params.length, ...inPtrs, ...outPtrs, ...params], 0);
  inputs.forEach((t, i) => {
    m.set(t, inPtrs[i] >> 2);
  });
  const code = exec(0);
  const outs = outPtrs.map((p, i) => m.slice(p >> 2, (p >> 2) + outSizes[i]));
  return { code, outs };
}

export function cli(args: string[], opts: { cwd?: string } = {}) {
  const r = spawnSync(process.execPath, [`${ROOT}/bin/opml.js`, ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: "utf8",
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const word = (v: bigint) => `0x${v.toString(16).padStart(64, "0")}`;

/**
 * eth_call answers (by 4-byte selector) of a mock RPC node for the getters the agents' start-up
 * wiring check reads: addresses 1–4 and the test deployment's bonds and windows.
 */
export const DEPLOYMENT_GETTERS: Readonly<Record<string, string>> = Object.fromEntries(
  (
    [
      ["verifier()", 1n],
      ["registry()", 2n],
      ["links(uint256)", 3n],
      ["game()", 4n],
      ["minBond()", 1n],
      ["challengerBond()", 1n],
      ["challengeWindow()", 3600n],
      ["clockBudget()", 1800n],
    ] as const
  ).map(([f, v]) => [toFunctionSelector(f), word(v)]),
);

export type CliResult = { code: number; stdout: string; stderr: string; ms: number };

/**
 * The CLI in a child process without blocking this one (a test server or anvil here must answer
 * it). A hang is a failure too: past `timeoutMs` it is killed and what it printed is returned.
 */
export function cliAsync(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, [`${ROOT}/bin/opml.js`, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: opts.env,
    });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => {
      stdout += d;
    });
    p.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => p.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/** xorshift32 PRNG in [0, 1). */
export function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}
