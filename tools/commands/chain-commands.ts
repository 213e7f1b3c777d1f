// CLI commands that talk to a chain: deploy, submit, watch.
import { makeClients, send, warp } from "../../chain/clients.js";
import { ChainClock, type Deadline, inChainTime } from "../../chain/clock.js";
import { jsonLogger } from "../../chain/log.js";
import { Watchtower } from "../../challenger/watchtower.js";
import { toHex } from "../../commit/merkle.js";
import { loadPackage, type ModelPackage } from "../../dnn/src/package.js";
import { UserError } from "../../errors/index.js";
import { gameDeadlines, readClaim, windowDeadline } from "../../game/deadlines.js";
import { DEFAULT_PARAMS, deployAll, registerModel } from "../../game/deploy.js";
import { candidateIds, checkModelRecord } from "../../game/model-check.js";
import {
  ClaimStatus,
  chainNow,
  type GameState,
  GameStatus,
  readGame,
  withdrawCredit,
} from "../../game/moves.js";
import { GraphError, validateGraph } from "../../game/registry.js";
import { openSession, privateKeyFrom, saveDeployment, UsageError } from "../../game/session.js";
import { parseLie } from "../../submitter/lies.js";
import { SubmitterService } from "../../submitter/serve.js";
import { defendOnce, gamesOf, postClaim } from "../../submitter/submitter.js";
import { readInputFile } from "./io.js";

/** A flag that turns true on SIGINT/SIGTERM, so a daemon finishes its tick and exits cleanly. */
function stopSignal(): () => boolean {
  let stop = false;
  const set = () => {
    stop = true;
  };
  process.once("SIGINT", set);
  process.once("SIGTERM", set);
  return () => stop;
}

/**
 * Reads and verifies a package that may be registered, and checks that its graph is one the
 * registry accepts, before anything is sent: a refusal names the directory and the node.
 */
function loadModel(dir: string): ModelPackage {
  const pkg = loadPackage(dir);
  try {
    validateGraph(pkg.manifest);
  } catch (e) {
    if (e instanceof GraphError)
      throw new GraphError(`${dir}: not a graph the registry accepts: ${e.message}`, {
        ...e.culprit,
        file: dir,
      });
    throw e;
  }
  return pkg;
}

interface ChainArgs {
  rpcUrl?: string;
  privateKey?: string;
  deployment?: string;
}

/** A window or clock in seconds for the DisputeGame constructor (1 … 2^32 − 1, else BadConfig). */
function seconds(v: string | undefined, arg: string, fallback: bigint): bigint {
  if (v === undefined) return fallback;
  if (!/^[1-9][0-9]*$/.test(String(v).trim()) || BigInt(String(v).trim()) > 0xffffffffn)
    throw new UsageError(`${arg} '${v}': expected whole seconds, 1 … 4294967295`, { arg });
  return BigInt(String(v).trim());
}

export async function deployCommand(
  a: ChainArgs & { out: string; model?: string[]; challengeWindow?: string; clockBudget?: string },
): Promise<void> {
  const rpcUrl = a.rpcUrl ?? process.env.OPML_RPC_URL;
  if (!rpcUrl)
    throw new UsageError("deploy needs --rpc-url (or OPML_RPC_URL): an embedded chain would vanish on exit");
  const key = privateKeyFrom(a.privateKey, "0x");
  const challengeWindow = seconds(a.challengeWindow, "--challenge-window", DEFAULT_PARAMS.challengeWindow);
  const params = {
    ...DEFAULT_PARAMS,
    challengeWindow,
    clockBudget: seconds(a.clockBudget, "--clock-budget", DEFAULT_PARAMS.clockBudget),
    // InferenceRequests' answer deadline: twice the window, as by default.
    answerWindow: 2n * challengeWindow,
  };
  // Every package is read (and verified) before anything is deployed or written.
  const pkgs = (a.model ?? []).map((dir) => [dir, loadModel(dir)] as const);
  const c = await makeClients(rpcUrl, key);
  const d = await deployAll(c, params);
  saveDeployment(a.out, d);
  console.log(
    `deployed to ${rpcUrl}: game ${d.game}, registry ${d.registry}, verifier ${d.verifier} → ${a.out}`,
  );
  console.log(
    `challenge window ${params.challengeWindow} s, clock budget ${params.clockBudget} s of chain time (on a local anvil: \`opml warp <seconds>\`)`,
  );
  for (const [dir, pkg] of pkgs) {
    const id = await registerModel(c, d, pkg, `file://${dir}`);
    console.log(`registered ${dir} as model ${id}`);
  }
}

/**
 * The model id for a package (finding 6): `--model-id` if given, else the first registration of
 * this model root whose whole record matches the package, else a fresh registration. An id whose
 * registry record does not match the package is refused with one line naming the id and the field.
 */
async function modelIdFor(
  c: Awaited<ReturnType<typeof openSession>>,
  pkg: ModelPackage,
  dir: string,
  wanted?: bigint,
): Promise<bigint> {
  const d = c.deployment;
  if (wanted !== undefined) {
    const chk = await checkModelRecord(c.clients, d, wanted, pkg);
    if (!chk.ok) throw new UsageError(`${dir}: refusing ${chk.reason}`, { file: dir, arg: "--model-id" });
    return wanted;
  }
  for (const id of await candidateIds(c.clients, d, pkg)) {
    if ((await checkModelRecord(c.clients, d, id, pkg)).ok) return id;
  }
  return registerModel(c.clients, d, pkg, `file://${dir}`);
}

/** Posts one claim and defends it until every game on it resolves (and finalizes it if it can). */
export async function submitCommand(
  a: ChainArgs & { model: string; input: string; lie?: string; modelId?: bigint; clamp?: boolean },
): Promise<void> {
  parseLie(a.lie); // a spec that does not parse is refused before the package is read
  const pkg = loadModel(a.model);
  const lie = parseLie(a.lie, pkg.manifest.nodes.length);
  const inputs = readInputFile(pkg.manifest, a.input, a.clamp);
  const s = await openSession(a);
  try {
    const modelId = await modelIdFor(s, pkg, a.model, a.modelId);
    const claim = await postClaim(s.clients, s.deployment, modelId, pkg, inputs, lie);
    jsonLogger("info", "claim posted", {
      claimId: claim.claimId,
      outputRoot: toHex(claim.outputRoot),
      lie: a.lie ?? "none",
    });
    console.log(
      `claim ${claim.claimId} posted: output root ${toHex(claim.outputRoot)}${a.lie ? ` (lie: ${a.lie})` : ""}`,
    );
    const d = s.deployment;
    const clock = new ChainClock(s.clients, jsonLogger);
    const posted = await readClaim(s.clients, d, claim.claimId);
    const postedAt = await chainNow(s.clients);
    jsonLogger(
      "info",
      `claim ${claim.claimId}'s challenge window closes ${inChainTime(posted.deadline - postedAt)}`,
      {
        claimId: claim.claimId,
        deadline: posted.deadline,
        chainTime: postedAt,
        inSeconds: posted.deadline - postedAt,
      },
    );
    if (s.anvil)
      jsonLogger(
        "warn",
        `nobody is watching claim ${claim.claimId}: this embedded chain has no watchtower, so the claim finalizes unchallenged once the window is warped past${lie.kind === "none" ? "" : ` (the lie --lie ${a.lie} finalizes too)`}; to see lies challenged run \`opml demo\`, or \`opml deploy\` to a chain of your own and \`opml watch\` it`,
        { claimId: claim.claimId },
      );
    // One turn: play, read the claim, finalize when it can be. A turn can fail without the claim
    // being lost (a move that lost a race, an RPC node that is away for a while): read everything
    // again next turn; only an error that keeps coming back ends the command. A "wait" says what it
    // waits for (the window's close, a challenger's clock), observed by the chain clock.
    const turn = async (): Promise<"done" | "wait" | "again"> => {
      for (const m of await defendOnce(s.clients, d, claim, lie))
        jsonLogger("info", m.kind, {
          claimId: claim.claimId,
          gameLevel: m.level,
          lo: m.lo,
          hi: m.hi,
          gas: m.tx.gasUsed,
        });
      const claimState = await readClaim(s.clients, d, claim.claimId);
      if (claimState.status === ClaimStatus.Rejected) {
        jsonLogger("warn", "claim rejected", { claimId: claim.claimId });
        console.log(`claim ${claim.claimId} rejected: a challenger won its game; the bond is lost`);
        return "done";
      }
      if (claimState.status === ClaimStatus.Finalized) {
        jsonLogger("info", "claim finalized", { claimId: claim.claimId });
        console.log(`claim ${claim.claimId} finalized`);
        return "done";
      }
      const games = await gamesOf(s.clients, d, claim.claimId);
      const open: { id: bigint; g: GameState }[] = [];
      for (const id of games) {
        const g = await readGame(s.clients, d, id);
        if (g.status === GameStatus.Open) open.push({ id, g });
      }
      const now = await chainNow(s.clients);
      if (open.length === 0 && now >= claimState.deadline) {
        await send(s.clients, d.game, d.abis.game, "finalize", [claim.claimId]);
        jsonLogger("info", "claim finalized", { claimId: claim.claimId });
        console.log(`claim ${claim.claimId} finalized`);
        return "done";
      }
      if (s.anvil && open.length === 0) {
        // Embedded chain: nobody else is watching, so warp past the window.
        const by = claimState.deadline - now + 1n;
        await warp(s.clients, by);
        jsonLogger(
          "info",
          `warped the embedded chain ${by} s forward, past claim ${claim.claimId}'s challenge window`,
          {
            claimId: claim.claimId,
            seconds: by,
          },
        );
        return "again";
      }
      const waitingOn: Deadline[] =
        open.length === 0
          ? [windowDeadline(claim.claimId, claimState.deadline)]
          : open.flatMap(({ id, g }) => gameDeadlines(id, g, "claimant"));
      await clock.observe(now, waitingOn);
      return "wait";
    };
    const retrying = async <T>(f: () => Promise<T>): Promise<T> => {
      for (let failures = 0; ; ) {
        try {
          return await f();
        } catch (e) {
          if (++failures >= 20) throw e;
          jsonLogger("warn", "turn failed; will read the game again", {
            claimId: claim.claimId,
            error: (e as Error).message.split("\n")[0],
          });
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    };
    for (;;) {
      const r = await retrying(turn);
      if (r === "done") break;
      if (r === "wait") await new Promise((res) => setTimeout(res, 1000));
    }
    await retrying(() => withdrawCredit(s.clients, d));
  } finally {
    await s.close();
  }
}

/** The watchtower daemon. */
export async function watchCommand(
  a: ChainArgs & {
    model: string[];
    state?: string;
    metricsPort?: number;
    interval?: number;
    once?: boolean;
    rescan?: boolean;
  },
): Promise<void> {
  if (!a.rpcUrl && !process.env.OPML_RPC_URL)
    throw new UsageError("watch needs --rpc-url (or OPML_RPC_URL) and --deployment");
  if (!a.deployment) throw new UsageError("watch needs --deployment <file.json> (from `opml deploy`)");
  const s = await openSession({ ...a, keyIndex: 1 });
  const models = new Map(
    a.model.map((dir) => {
      const p = loadPackage(dir);
      return [p.manifest.modelRoot, p] as const;
    }),
  );
  const wt = new Watchtower(s.clients, s.deployment, models, a.state, jsonLogger, { rescan: a.rescan });
  try {
    await wt.init(); // refuses a state file written for another chain (finding 12)
  } catch (e) {
    await s.close();
    throw e;
  }
  if (a.metricsPort !== undefined) {
    const port = await wt.serveMetrics(a.metricsPort);
    jsonLogger("info", "metrics", {
      url: `http://127.0.0.1:${port}/metrics`,
      health: `http://127.0.0.1:${port}/healthz`,
    });
    console.log(`metrics at http://127.0.0.1:${port}/metrics, health at http://127.0.0.1:${port}/healthz`);
  }
  const stopping = stopSignal();
  jsonLogger("info", "watching", { game: s.deployment.game, models: [...models.keys()], state: a.state });
  console.log(`watching game ${s.deployment.game} for ${models.size} model(s); log lines on stderr`);
  try {
    if (a.once) {
      await wt.tick();
      // One pass that could not be made is a failure (exit 1), not a clean exit.
      if (wt.lastError !== undefined)
        throw new UserError(`watch --once: the pass failed: ${wt.lastError}`, {
          url: s.clients.chain.rpcUrls.default.http[0],
        });
    } else await wt.run(stopping, a.interval ?? 500);
  } finally {
    wt.close();
    await s.close();
  }
}

/** serve-submitter: answers InferenceRequested events for the served models until stopped. */
export async function serveSubmitterCommand(
  a: ChainArgs & {
    model: string[];
    state?: string;
    interval?: number;
    lie?: string;
    once?: boolean;
    rescan?: boolean;
  },
): Promise<void> {
  if (!a.rpcUrl && !process.env.OPML_RPC_URL)
    throw new UsageError("serve-submitter needs --rpc-url (or OPML_RPC_URL) and --deployment");
  if (!a.deployment)
    throw new UsageError("serve-submitter needs --deployment <file.json> (from `opml deploy`)");
  const lie = parseLie(a.lie);
  // Every package is read, and the lie checked against it, before anything connects.
  const pkgs = a.model.map((dir) => {
    const pkg = loadModel(dir);
    parseLie(a.lie, pkg.manifest.nodes.length);
    return [dir, pkg] as const;
  });
  const s = await openSession(a);
  const models = new Map<bigint, ModelPackage>();
  for (const [dir, pkg] of pkgs) models.set(await modelIdFor(s, pkg, dir), pkg);
  const service = new SubmitterService(s.clients, s.deployment, models, jsonLogger, a.state, lie, {
    rescan: a.rescan,
  });
  try {
    await service.init(); // refuses a state file written for another chain (finding 12)
  } catch (e) {
    await s.close();
    throw e;
  }
  const stopping = stopSignal();
  jsonLogger("info", "serving requests", { requests: s.deployment.requests, models: [...models.keys()] });
  console.log(
    `serving requests on ${s.deployment.requests} for model id(s) ${[...models.keys()].join(", ")}; log lines on stderr`,
  );
  do {
    try {
      await service.tick();
    } catch (e) {
      jsonLogger("error", "tick failed; will retry", { error: (e as Error).message.split("\n")[0] });
    }
    if (!a.once) await new Promise((r) => setTimeout(r, a.interval ?? 1000));
  } while (!a.once && !stopping());
  await s.close();
}
