// The watchtower: follows every claim, re-executes it natively, challenges the wrong ones, plays
// both levels of the bisection, proves the final step, ends games whose opponent ran out of time,
// and withdraws what it won. Its progress is a small JSON file written atomically after every
// change; the game itself lives onchain, so a restarted watchtower reads each game and continues.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { decodeFunctionData, type Hex } from "viem";
import { toHex } from "../dnn/src/commit.js";
import type { ModelPackage } from "../dnn/src/package.js";
import { type Clients, events, send, withRetry } from "../tools/chain/clients.js";
import type { Deployment } from "../tools/chain/deploy.js";
import {
  disputedNode,
  GameStatus,
  moverRole,
  moverTimeLeft,
  playMove,
  readGame,
} from "../tools/chain/player.js";
import { ClaimTrace } from "../vm/claim-trace.js";

export interface WatchState {
  lastBlock: string;
  claims: Record<string, "valid" | "invalid" | "unverifiable">;
  games: Record<string, { claimId: string; done: boolean }>;
}

export interface Metrics {
  claimsChecked: number;
  gamesTracked: number;
  moves: number;
  stepsProven: number;
  gamesWon: number;
  gamesLost: number;
  bondsWonWei: bigint;
  vmSeconds: number;
  rpcErrors: number;
}

export type Logger = (
  level: "info" | "warn" | "error",
  msg: string,
  fields?: Record<string, unknown>,
) => void;

export const jsonLogger: Logger = (level, msg, fields = {}) => {
  const line = { t: new Date().toISOString(), level, msg, ...fields };
  console.log(JSON.stringify(line, (_, v) => (typeof v === "bigint" ? v.toString() : v)));
};

export class Watchtower {
  state: WatchState;
  metrics: Metrics = {
    claimsChecked: 0,
    gamesTracked: 0,
    moves: 0,
    stepsProven: 0,
    gamesWon: 0,
    gamesLost: 0,
    bondsWonWei: 0n,
    vmSeconds: 0,
    rpcErrors: 0,
  };
  private traces = new Map<string, ClaimTrace>();
  private server?: Server;
  /** Gas this watchtower spent, per game. */
  readonly gasByGame = new Map<string, bigint>();

  constructor(
    readonly c: Clients,
    readonly d: Deployment,
    /** Model packages this watchtower can re-execute, by model root. */
    readonly models: Map<string, ModelPackage>,
    readonly stateFile: string | undefined,
    readonly log: Logger = jsonLogger,
  ) {
    this.state =
      stateFile && existsSync(stateFile)
        ? JSON.parse(readFileSync(stateFile, "utf8"))
        : { lastBlock: (d.block - 1n).toString(), claims: {}, games: {} };
    if (stateFile && existsSync(stateFile))
      this.log("info", "resumed", {
        stateFile,
        lastBlock: this.state.lastBlock,
        games: Object.keys(this.state.games).length,
      });
  }

  private save(): void {
    if (!this.stateFile) return;
    const tmp = `${this.stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.state, null, 1));
    renameSync(tmp, this.stateFile);
  }

  /** Serves Prometheus text metrics on 127.0.0.1:port. */
  serveMetrics(port: number): Promise<number> {
    this.server = createServer((req, res) => {
      if (req.url !== "/metrics") {
        res.writeHead(404).end();
        return;
      }
      const m = this.metrics;
      const lines = [
        ["opml_claims_checked_total", m.claimsChecked],
        ["opml_games_tracked", Object.values(this.state.games).filter((g) => !g.done).length],
        ["opml_games_total", m.gamesTracked],
        ["opml_moves_total", m.moves],
        ["opml_steps_proven_total", m.stepsProven],
        ["opml_games_won_total", m.gamesWon],
        ["opml_games_lost_total", m.gamesLost],
        ["opml_bonds_won_wei", m.bondsWonWei],
        ["opml_vm_seconds_total", m.vmSeconds.toFixed(3)],
        ["opml_rpc_errors_total", m.rpcErrors],
      ];
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      res.end(`${lines.map(([k, v]) => `${k} ${v}`).join("\n")}\n`);
    });
    return new Promise((resolve) => {
      this.server!.listen(port, "127.0.0.1", () => {
        const a = this.server!.address();
        resolve(typeof a === "object" && a ? a.port : port);
      });
    });
  }

  close(): void {
    this.server?.close();
  }

  private async trace(claimId: bigint): Promise<ClaimTrace | undefined> {
    const key = claimId.toString();
    const cached = this.traces.get(key);
    if (cached) return cached;
    const [ev] = await this.gameEvents<{ modelId: bigint }>("ClaimPosted", { claimId });
    if (!ev) return undefined;
    const model = (await withRetry(
      () =>
        this.c.publicClient.readContract({
          address: this.d.registry,
          abi: this.d.abis.registry,
          functionName: "model",
          args: [ev.args.modelId],
        }),
      "registry.model",
    )) as unknown as { modelRoot: Hex };
    const pkg = this.models.get(model.modelRoot);
    if (!pkg) return undefined;
    const tx = await withRetry(
      () => this.c.publicClient.getTransaction({ hash: ev.transactionHash }),
      "getTransaction",
    );
    let inputs: Int32Array[];
    try {
      const call = decodeFunctionData({ abi: this.d.abis.game, data: tx.input });
      if (call.functionName !== "postClaimWithInputs") return undefined;
      const raw = (call.args as unknown as [bigint, Hex[]])[1];
      inputs = raw.map((h) => {
        const b = Buffer.from(h.slice(2), "hex");
        return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
      });
    } catch {
      return undefined; // posted through a contract or with roots only: inputs are not public here
    }
    const t0 = performance.now();
    const t = new ClaimTrace(pkg, inputs);
    this.metrics.vmSeconds += (performance.now() - t0) / 1000;
    this.traces.set(key, t);
    return t;
  }

  /** Scans new claims, challenges wrong ones. */
  async scanClaims(): Promise<void> {
    const from = BigInt(this.state.lastBlock) + 1n;
    const to = await withRetry(() => this.c.publicClient.getBlockNumber({ cacheTime: 0 }), "blockNumber");
    if (to < from) return;
    const logs = await this.gameEvents<{ claimId: bigint; outputRoot: Hex; finalGraphState: Hex }>(
      "ClaimPosted",
      undefined,
      from,
      to,
    );
    for (const l of logs) {
      const a = l.args;
      const key = a.claimId.toString();
      if (this.state.claims[key]) continue;
      const t = await this.trace(a.claimId);
      this.metrics.claimsChecked++;
      if (!t) {
        this.state.claims[key] = "unverifiable";
        this.log("warn", "claim not verifiable here (unknown model or inputs not in calldata)", {
          claimId: a.claimId,
        });
        this.save();
        continue;
      }
      const ok =
        toHex(t.outputRoot()) === a.outputRoot && toHex(t.graphState(t.nNodes)) === a.finalGraphState;
      this.state.claims[key] = ok ? "valid" : "invalid";
      this.log("info", ok ? "claim checks out" : "claim is WRONG", {
        claimId: a.claimId,
        claimed: a.outputRoot,
        actual: toHex(t.outputRoot()),
      });
      if (!ok) await this.challenge(a.claimId);
      this.save();
    }
    this.state.lastBlock = to.toString();
    this.save();
  }

  private async challenge(claimId: bigint): Promise<void> {
    // A game opened before a crash (tx mined, state not saved) is found again by its event.
    const started = () =>
      this.gameEvents<{ gameId: bigint }>("GameStarted", { claimId, challenger: this.c.account.address });
    const mine = await started();
    let gameId: bigint;
    if (mine.length > 0) gameId = mine[0].args.gameId;
    else {
      const tx = await send(
        this.c,
        this.d.game,
        this.d.abis.game,
        "challenge",
        [claimId],
        this.d.params.challengerBond,
      );
      const after = await started();
      gameId = after[after.length - 1].args.gameId;
      this.addGas(gameId, tx.gasUsed);
      this.log("info", "challenged", { claimId, gameId });
    }
    if (!this.state.games[gameId.toString()]) {
      this.state.games[gameId.toString()] = { claimId: claimId.toString(), done: false };
      this.metrics.gamesTracked++;
    }
    this.save();
  }

  private gameEvents<A>(
    eventName: string,
    args?: Record<string, unknown>,
    fromBlock = this.d.block,
    toBlock?: bigint,
  ) {
    return events<A>(this.c, this.d.game, this.d.abis.game, eventName, args, fromBlock, toBlock);
  }

  private addGas(gameId: bigint, gas: bigint) {
    const k = gameId.toString();
    this.gasByGame.set(k, (this.gasByGame.get(k) ?? 0n) + gas);
  }

  /** Plays every open game of ours as far as it can right now. */
  async playGames(): Promise<void> {
    for (const [key, info] of Object.entries(this.state.games)) {
      if (info.done) continue;
      const gameId = BigInt(key);
      const t = await this.trace(BigInt(info.claimId));
      for (;;) {
        const g = await readGame(this.c, this.d, gameId);
        if (g.status !== GameStatus.Open) {
          const won = g.status === GameStatus.ChallengerWon || g.status === GameStatus.Void;
          if (g.status === GameStatus.ChallengerWon) this.metrics.gamesWon++;
          if (g.status === GameStatus.ClaimantWon) this.metrics.gamesLost++;
          this.log(won ? "info" : "warn", "game over", { gameId, status: g.status });
          info.done = true;
          this.save();
          break;
        }
        if (!t) break;
        if (moverRole(g.phase) !== "challenger") {
          const block = await this.c.publicClient.getBlock();
          if (moverTimeLeft(g, block.timestamp) < 0n) {
            const tx = await send(this.c, this.d.game, this.d.abis.game, "timeout", [gameId]);
            this.addGas(gameId, tx.gasUsed);
            this.log("info", "opponent's clock ran out: timeout", { gameId });
            continue;
          }
          break;
        }
        const t0 = performance.now();
        const m = await playMove(this.c, this.d, gameId, g, "challenger", t, () =>
          disputedNode(this.c, this.d, gameId),
        );
        this.metrics.vmSeconds += (performance.now() - t0) / 1000;
        if (!m) break;
        this.metrics.moves++;
        if (m.kind === "proveStep") this.metrics.stepsProven++;
        this.addGas(gameId, m.tx.gasUsed);
        this.log("info", m.kind, {
          gameId,
          level: m.level,
          lo: m.lo,
          hi: m.hi,
          detail: m.detail,
          gas: m.tx.gasUsed,
        });
      }
    }
    await this.collect();
  }

  /** Withdraws any credit (won bonds). */
  async collect(): Promise<void> {
    const credit = (await withRetry(
      () =>
        this.c.publicClient.readContract({
          address: this.d.game,
          abi: this.d.abis.game,
          functionName: "credit",
          args: [this.c.account.address],
        }),
      "credit",
    )) as bigint;
    if (credit === 0n) return;
    await send(this.c, this.d.game, this.d.abis.game, "withdraw", []);
    this.metrics.bondsWonWei += credit;
    this.log("info", "withdrew", { wei: credit });
  }

  /** The last error a tick swallowed (it retries on the next tick). */
  lastError?: string;

  async tick(): Promise<void> {
    try {
      await this.scanClaims();
      await this.playGames();
      this.lastError = undefined;
    } catch (e) {
      this.metrics.rpcErrors++;
      this.lastError = (e as Error).message.split("\n")[0];
      this.log("error", "tick failed; will retry", { error: this.lastError });
    }
  }

  /** Runs until `stop()` returns true, polling every `intervalMs`. */
  async run(stop: () => boolean, intervalMs = 500): Promise<void> {
    while (!stop()) {
      await this.tick();
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
