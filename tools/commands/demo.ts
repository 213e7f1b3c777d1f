// `opml demo`: the whole life of an honest and of dishonest claims on a local chain. Starts anvil,
// deploys, registers the model, posts an honest claim that finalizes after the (time-warped)
// window, then one lie of each kind that the watchtower must defeat. Exits non-zero if any honest
// party loses or anything fails.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hex } from "viem";
import { ANVIL_KEYS, startAnvil } from "../../chain/anvil.js";
import { type Clients, events, makeClients, send, warp } from "../../chain/clients.js";
import { agentLog, type Logger } from "../../chain/log.js";
import { FIXTURES } from "../../chain/paths.js";
import { Watchtower } from "../../challenger/watchtower.js";
import { loadPackage, type ModelPackage } from "../../dnn/src/package.js";
import { ClaimTrace } from "../../game/claim-trace.js";
import { DEFAULT_PARAMS, type Deployment, deployAll, registerModel } from "../../game/deploy.js";
import { GameStatus, readGame } from "../../game/moves.js";
import { heaviestNode, type Lie, parseLie } from "../../submitter/lies.js";
import { defendOnce, gamesOf, postClaim } from "../../submitter/submitter.js";
import { claimTimeline, decodeFinalStep, gasOf, nodeInfo, readGameRecord } from "./game-record.js";
import { readInputFile } from "./io.js";
import { type DisputeSummary, type ReportData, writeReport } from "./report.js";

export interface DemoArgs {
  model?: string;
  input?: string;
  json?: boolean;
  report?: string;
  rpcUrl?: string;
  lies?: string[];
  /** Saturate input values outside the Q16.16 range (with a warning) instead of refusing them. */
  clamp?: boolean;
  /** Print nothing (tests). */
  quiet?: boolean;
}

/** Honest claim: nobody challenges; after the window it finalizes and the bond comes back. */
async function honestClaim(
  sub: Clients,
  d: Deployment,
  modelId: bigint,
  pkg: ModelPackage,
  inputs: Int32Array[],
  wt: Watchtower,
  log: Logger,
) {
  const wall: { posted: number; warped?: number; finalized: number } = { posted: Date.now(), finalized: 0 };
  const claim = await postClaim(sub, d, modelId, pkg, inputs);
  await wt.tick();
  const verdict = wt.state.claims[claim.claimId.toString()];
  if (verdict !== "valid") throw new Error(`watchtower judged the honest claim ${verdict}`);
  await warp(sub, d.params.challengeWindow + 1n);
  wall.warped = Date.now();
  await send(sub, d.game, d.abis.game, "finalize", [claim.claimId]);
  wall.finalized = Date.now();
  const valid = await sub.publicClient.readContract({
    address: d.game,
    abi: d.abis.game,
    functionName: "isValid",
    args: [claim.claimId],
  });
  if (!valid) throw new Error("honest claim did not finalize");
  log("info", "honest claim finalized after the challenge window", { claimId: claim.claimId });
  return claimTimeline(sub, d, claim.claimId, wall);
}

async function dispute(
  sub: Clients,
  wt: Watchtower,
  d: Deployment,
  modelId: bigint,
  pkg: ModelPackage,
  inputs: Int32Array[],
  truth: ClaimTrace,
  lieText: string,
  log: Logger,
): Promise<DisputeSummary> {
  const lie: Lie = parseLie(lieText);
  const t0 = performance.now();
  const claim = await postClaim(sub, d, modelId, pkg, inputs, lie, truth);
  log("info", `lying claim posted (${lieText})`, { claimId: claim.claimId });
  let gameId: bigint | undefined;
  for (let round = 0; round < 400; round++) {
    const before = wt.metrics.moves;
    await wt.tick();
    if (gameId === undefined) gameId = (await gamesOf(sub, d, claim.claimId))[0];
    if (gameId === undefined) {
      // A tick can fail on a transient RPC error and retry on the next; give it a few.
      if (performance.now() - t0 < 60_000) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      throw new Error(
        `watchtower did not challenge the ${lieText} lie${wt.lastError ? ` (last error: ${wt.lastError})` : ""}`,
      );
    }
    const g = await readGame(sub, d, gameId);
    if (g.status !== GameStatus.Open) break;
    const cm = await defendOnce(sub, d, claim, lie);
    if (cm.length === 0 && wt.metrics.moves === before) await warp(sub, d.params.clockBudget + 1n); // a silent party
  }
  if (gameId === undefined) throw new Error("no game");
  const seconds = (performance.now() - t0) / 1000;
  const g = await readGame(sub, d, gameId);
  // Every transaction of the dispute, read back from the chain with its sender (both parties).
  const moves = await readGameRecord(sub, d, claim.claimId, gameId);
  const graph = moves.filter((m) => m.kind === "respond" && m.level === 0).length;
  const vm = moves.filter((m) => m.kind === "respond" && m.level > 0).length;
  const entered = moves.find((m) => m.kind === "enterVm");
  const node = entered ? Number(entered.lo) : undefined;
  const vmSteps = entered ? Number(entered.after.hi) : undefined;
  const [proven] = await events(sub, d.game, d.abis.game, "StepProven", { gameId }, d.block);
  const finalStep =
    proven && node !== undefined
      ? decodeFinalStep(truth, node, Number(proven.args.index), proven.args, g.hiRoot)
      : undefined;
  const winner =
    g.status === GameStatus.ChallengerWon
      ? "challenger"
      : g.status === GameStatus.ClaimantWon
        ? "claimant"
        : "none";
  return {
    lie: lieText,
    claimId: claim.claimId.toString(),
    gameId: gameId.toString(),
    winner,
    honestWon: winner === "challenger",
    rounds: { graph, vm },
    disputedNode: node,
    node: node === undefined ? undefined : nodeInfo(pkg, node),
    vmSteps,
    finalStep,
    gas: {
      claimant: gasOf(moves, "claimant").toString(),
      challenger: gasOf(moves, "challenger").toString(),
    },
    seconds,
    moves,
  };
}

export interface DemoResult {
  model: string;
  honestClaim: "finalized";
  /** The honest claim's timeline (posted, window, finalized). */
  honest: ReportData["honest"];
  disputes: DisputeSummary[];
}

export async function demoCommand(a: DemoArgs): Promise<void> {
  const r = await runDemo(a);
  const lost = r.disputes.filter((d) => !d.honestWon);
  if (lost.length)
    throw new DemoFailure(
      `the honest watchtower lost ${lost.length} dispute(s): ${lost.map((d) => d.lie).join(", ")}`,
    );
}

export class DemoFailure extends Error {}

export async function runDemo(a: DemoArgs): Promise<DemoResult> {
  // The agents' log lines go to stderr (--log-format); stdout is the transcript or the JSON summary.
  const log: Logger = a.quiet ? () => {} : agentLog;
  const say = (s: string) => {
    if (!a.json && !a.quiet) console.log(s);
  };
  const dir = a.model ?? join(FIXTURES, "packages", "mnist_cnn");
  const pkg = loadPackage(dir);
  const inputFile = a.input ?? join(FIXTURES, "inputs", "mnist_0.json");
  const inputs = readInputFile(pkg.manifest, inputFile, a.clamp);
  for (const l of a.lies ?? []) parseLie(l, pkg.manifest.nodes.length); // refused before the chain starts
  const chain = a.rpcUrl ? undefined : await startAnvil();
  const rpc = a.rpcUrl ?? chain!.rpcUrl;
  const stateDir = mkdtempSync(join(tmpdir(), "opml-demo-"));
  try {
    say(`== chain: ${chain ? `anvil on ${rpc} (embedded)` : rpc}`);
    const sub = await makeClients(rpc, ANVIL_KEYS[0] as Hex);
    const wtc = await makeClients(rpc, ANVIL_KEYS[1] as Hex);
    const d = await deployAll(sub, DEFAULT_PARAMS);
    say(`== deployed: verifier ${d.verifier}, registry ${d.registry}, game ${d.game}`);
    const modelId = await registerModel(sub, d, pkg, `file://${dir}`);
    say(
      `== registered model ${pkg.manifest.name} (id ${modelId}, ${pkg.manifest.nodes.length} nodes, root ${pkg.manifest.modelRoot.slice(0, 18)}…)`,
    );
    const wt = new Watchtower(
      wtc,
      d,
      new Map([[pkg.manifest.modelRoot, pkg]]),
      join(stateDir, "watch.json"),
      log,
      // The demo moves time itself when nobody has a move to make: no stuck-clock warnings.
      { clock: { probe: false, stallMs: Number.POSITIVE_INFINITY } },
    );
    say("== 1. honest claim");
    const t0 = performance.now();
    const truth = new ClaimTrace(pkg, inputs);
    const honest = await honestClaim(sub, d, modelId, pkg, inputs, wt, log);
    say(
      `   finalized after the challenge window, unchallenged (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    const mid = Math.floor(truth.nNodes / 2);
    const heavy = heaviestNode(truth);
    const lies = a.lies ?? [
      "output",
      `node:${mid}`,
      `step:${Math.floor(truth.vmSteps(heavy) * 0.6)}@${heavy}`,
      "silent",
    ];
    const results: DisputeSummary[] = [];
    for (const [i, lie] of lies.entries()) {
      say(`== ${i + 2}. lying claim: --lie ${lie}`);
      const r = await dispute(sub, wt, d, modelId, pkg, inputs, truth, lie, log);
      results.push(r);
      say(
        `   ${r.winner === "challenger" ? "watchtower won" : `WATCHTOWER LOST (${r.winner})`}: ${r.rounds.graph} graph rounds, ${r.rounds.vm} VM rounds` +
          (r.disputedNode !== undefined ? `, node ${r.disputedNode} (${r.vmSteps} VM steps)` : "") +
          `, ${r.seconds.toFixed(1)} s`,
      );
    }
    const table = [
      [
        "dispute",
        "winner",
        "graph rounds",
        "VM rounds",
        "node",
        "VM steps",
        "claimant gas",
        "challenger gas",
        "wall s",
      ],
      ...results.map((r) => [
        r.lie,
        r.winner,
        String(r.rounds.graph),
        String(r.rounds.vm),
        r.disputedNode === undefined ? "-" : String(r.disputedNode),
        r.vmSteps === undefined ? "-" : String(r.vmSteps),
        r.gas.claimant,
        r.gas.challenger,
        r.seconds.toFixed(1),
      ]),
    ];
    const widths = table[0].map((_, j) => Math.max(...table.map((row) => row[j].length)));
    const result: DemoResult = {
      model: pkg.manifest.name,
      honestClaim: "finalized",
      honest,
      disputes: results,
    };
    if (a.json) console.log(JSON.stringify(result, null, 1));
    else if (!a.quiet) {
      console.log("");
      for (const row of table) console.log(row.map((c, j) => c.padEnd(widths[j])).join("  "));
    }
    if (a.report)
      writeReport(a.report, {
        ...result,
        chain: chain ? `anvil on ${rpc} (embedded)` : rpc,
        generated: new Date().toISOString(),
      });
    return result;
  } finally {
    await chain?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
