// Finding 1 of issue 8: a claimant that enters the VM level with T = T_honest + 1 steps and lies
// only after the halt narrows the game to lo = T_honest. The honest side must prove that step: a
// halted (or trapped) machine maps to itself, its 384 state bytes are the whole proof.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Hex } from "viem";
import { describe, expect, it } from "vitest";
import { ANVIL_KEYS, startAnvil } from "../../chain/anvil.js";
import { makeClients, send, warp } from "../../chain/clients.js";
import { Watchtower } from "../../challenger/watchtower.js";
import { toHex } from "../../commit/merkle.js";
import { loadPackage, prepareInputs } from "../../dnn/src/package.js";
import { ClaimTrace, type ClaimView } from "../../game/claim-trace.js";
import { DEFAULT_PARAMS, deployAll, registerModel } from "../../game/deploy.js";
import { dnnVmProgram } from "../../game/link.js";
import { GameStatus, readGame } from "../../game/moves.js";
import { NodeTrace } from "../../game/trace.js";
import { LyingView } from "../../submitter/lies.js";
import { defendOnce, gamesOf, postClaim } from "../../submitter/submitter.js";
import { FIXTURES } from "../../tools/fixtures.js";
import { Machine } from "../../vm/machine.js";
import { proveStep } from "../../vm/prove.js";
import { Status } from "../../vm/state.js";
import { verifyStep } from "../../vm/verify/one-step-prover.js";

const pkg = loadPackage(join(FIXTURES, "packages", "mnist_mlp"));
const inputs = prepareInputs(
  pkg.manifest,
  JSON.parse(readFileSync(join(FIXTURES, "inputs", "mnist_1.json"), "utf8")),
  "mnist_1.json",
);
const NODE = 2; // a short node (≈1.5k steps)

/** The level-1 bisection between a claimant view and a challenger view; returns who wins. */
function playVmLevel(claimant: ClaimView, challenger: ClaimView, k: number): "claimant" | "challenger" {
  let lo = 0;
  let hi = claimant.vmSteps(k);
  const hiRoot = toHex(claimant.vmRoot(k, hi));
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const agree = toHex(challenger.vmRoot(k, mid)) === toHex(claimant.vmRoot(k, mid));
    if (agree) lo = mid;
    else hi = mid;
  }
  const pre = challenger.vmRoot(k, lo);
  const post = verifyStep(pre, challenger.stepProof(k, lo));
  return toHex(post) === (hi === claimant.vmSteps(k) ? hiRoot : toHex(claimant.vmRoot(k, hi)))
    ? "claimant"
    : "challenger";
}

describe("steps at or past the halt", () => {
  it("NodeTrace proves any step at or past the halt; the proof maps the halted state to itself", () => {
    const truth = new ClaimTrace(pkg, inputs);
    const t = truth.nodeTrace(NODE);
    const T = t.totalSteps;
    for (const s of [T, T + 1, T + 1000]) {
      const p = t.proveStep(s);
      expect(p.proof.length).toBe(384);
      expect(toHex(verifyStep(p.preRoot, p.proof))).toBe(toHex(t.stateRootAt(T)));
      expect(toHex(p.preRoot)).toBe(toHex(t.stateRootAt(T)));
    }
    expect(toHex(t.stateRootAt(T + 5))).toBe(toHex(t.stateRootAt(T)));
  });

  it("a claimant with T_honest + 1 steps lying only after the halt loses the VM level", () => {
    const truth = new ClaimTrace(pkg, inputs);
    const liar = new LyingView(truth, { kind: "afterHalt", node: NODE });
    const T = truth.vmSteps(NODE);
    expect(liar.vmSteps(NODE)).toBe(T + 1);
    expect(liar.link(NODE).steps).toBe(T + 1);
    // The liar agrees with the truth up to the halt and differs only at T + 1.
    expect(toHex(liar.vmRoot(NODE, T))).toBe(toHex(truth.vmRoot(NODE, T)));
    expect(toHex(liar.vmRoot(NODE, T + 1))).not.toBe(toHex(truth.vmRoot(NODE, T + 1)));
    expect(playVmLevel(liar, truth, NODE)).toBe("challenger");
  });

  it("a trapped machine maps to itself too", () => {
    const t = new NodeTrace(pkg, NODE, [inputs[0]]);
    const m = t.machineAt(10);
    (m as unknown as { r: { status: number } }).r.status = Status.TRAPPED;
    const root = m.stateRoot();
    const p = proveStep(Machine.restore(dnnVmProgram(), m.snapshot()));
    expect(p.proof.length).toBe(384);
    expect(toHex(verifyStep(root, p.proof))).toBe(toHex(root));
  });
});

describe("after-halt lie on anvil", () => {
  it("the watchtower proves the step at the halt and wins", async () => {
    const anvil = await startAnvil();
    try {
      const sub = await makeClients(anvil.rpcUrl, ANVIL_KEYS[0] as Hex);
      const wtc = await makeClients(anvil.rpcUrl, ANVIL_KEYS[1] as Hex);
      const d = await deployAll(sub, DEFAULT_PARAMS);
      const modelId = await registerModel(sub, d, pkg);
      const lie = { kind: "afterHalt", node: NODE } as const;
      const claim = await postClaim(sub, d, modelId, pkg, inputs, lie);
      const quiet = () => {};
      const wt = new Watchtower(wtc, d, new Map([[pkg.manifest.modelRoot, pkg]]), undefined, quiet);
      let status: number = GameStatus.Open;
      for (let i = 0; i < 60 && status === GameStatus.Open; i++) {
        await wt.tick();
        await defendOnce(sub, d, claim, lie);
        const [g] = await gamesOf(sub, d, claim.claimId);
        if (g !== undefined) status = (await readGame(sub, d, g)).status;
      }
      if (status === GameStatus.Open) {
        // The watchtower could not move: its clock runs out and the false claim wins.
        const [g] = await gamesOf(sub, d, claim.claimId);
        await warp(sub, d.params.clockBudget + 1n);
        await send(sub, d.game, d.abis.game, "timeout", [g]);
        status = (await readGame(sub, d, g)).status;
      }
      expect(status).toBe(GameStatus.ChallengerWon);
    } finally {
      await anvil.stop();
    }
  }, 180_000);
});
