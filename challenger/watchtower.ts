// The watchtower: follows every claim, re-executes it natively, challenges the wrong ones, plays
// both levels of the bisection, proves the final step, ends games whose opponent ran out of time,
// and withdraws what it won. Its progress is a small JSON file written atomically after every
// change; the game itself lives onchain, so a restarted watchtower reads each game and continues.
import { createServer, type Server } from "node:http";
import type { ContractEventArgs, ContractEventName, Hex } from "viem";
import {
  type Clients,
  type EventArgs,
  events,
  isTransient,
  oneLine,
  send,
  withRetry,
} from "../chain/clients.js";
import { ChainClock, type Deadline } from "../chain/clock.js";
import { jsonLogger, type Logger } from "../chain/log.js";
import { toHex } from "../commit/merkle.js";
import type { ModelPackage } from "../dnn/src/package.js";
import type { disputeGameAbi } from "../game/abi.js";
import { ClaimTrace } from "../game/claim-trace.js";
import { gameDeadlines } from "../game/deadlines.js";
import type { Deployment } from "../game/deploy.js";
import { publishedInputs, tensorFromBytes } from "../game/inputs.js";
import { checkModelRecord, registryRecord } from "../game/model-check.js";
import {
  ClaimStatus,
  chainNow,
  claimStatus,
  disputedNode,
  type GameState,
  GameStatus,
  moverRole,
  moverTimeLeft,
  playTurn,
  readGame,
  withdrawCredit,
} from "../game/moves.js";
import { type ChainBinding, chainBinding, loadBound, saveBound } from "../game/state-file.js";
import { gameStatusName } from "../game/status.js";

/** What the watchtower concluded about a claim (final; a claim is looked at once). */
export type Verdict =
  /** Re-executed: the claim is right. */
  | "valid"
  /** Re-executed: the claim is wrong (challenged). */
  | "invalid"
  /** No published inputs that reproduce its graphState0: nothing to re-execute. */
  | "unverifiable"
  /** Its model id's registry record matches none of our packages. */
  | "unknown-model"
  /** Its data makes re-execution fail (e.g. an input of the wrong element count). */
  | "malformed";

export interface GameInfo {
  claimId: string;
  done: boolean;
  /** How it ended: "ChallengerWon", "ClaimantWon", "Void". */
  result?: string;
  /** The last non-transient error a move hit (logged once). */
  lastError?: string;
}

export interface WatchState {
  lastBlock: string;
  claims: Record<string, Verdict>;
  games: Record<string, GameInfo>;
  /** The counters at the last save (bigints as strings), so a restart continues them. */
  metrics?: Partial<Record<keyof Metrics, string | number>>;
}

export interface Metrics {
  claimsChecked: number;
  gamesTracked: number;
  moves: number;
  stepsProven: number;
  gamesWon: number;
  gamesLost: number;
  gamesVoided: number;
  bondsWonWei: bigint;
  vmSeconds: number;
  rpcErrors: number;
  itemErrors: number;
}

/** The counters a fresh watchtower starts from. */
function zeroMetrics(): Metrics {
  return {
    claimsChecked: 0,
    gamesTracked: 0,
    moves: 0,
    stepsProven: 0,
    gamesWon: 0,
    gamesLost: 0,
    gamesVoided: 0,
    bondsWonWei: 0n,
    vmSeconds: 0,
    rpcErrors: 0,
    itemErrors: 0,
  };
}

/** Counters read back from a state file: each a finite number (bondsWonWei a decimal string). */
function restoreMetrics(saved: WatchState["metrics"]): Metrics {
  const m = zeroMetrics();
  if (!saved || typeof saved !== "object") return m;
  for (const k of Object.keys(m) as (keyof Metrics)[]) {
    const v = saved[k];
    if (k === "bondsWonWei") {
      if (typeof v === "string" && /^[0-9]+$/.test(v)) m.bondsWonWei = BigInt(v);
    } else if (typeof v === "number" && Number.isFinite(v) && v >= 0) m[k] = v;
  }
  return m;
}

/** What /healthz answers: 200 when the RPC answers now, 503 when it does not. */
export interface Health {
  status: "ok" | "rpc-failing";
  /** The chain head the probe read (decimal), when it answered. */
  head?: string;
  /** The last block scanned for claims. */
  lastBlock: string;
  openGames: number;
  /** Seconds since the last tick ended (absent before the first). */
  lastTickAgeSeconds?: number;
  /** Why the probe failed, or the error the last tick swallowed. */
  error?: string;
}

export interface WatchOptions {
  /** Start over from the deployment block, ignoring the state file. */
  rescan?: boolean;
  /** Most time one tick spends playing games before it scans for new claims again (ms). */
  playBudgetMs?: number;
  /** How the chain clock is watched while waiting on an opponent's clock (chain/clock.ts). */
  clock?: ConstructorParameters<typeof ChainClock>[2];
}

/** Re-executed claims kept in memory at once, by count and by activation bytes (see evictTraces). */
const MAX_TRACES = 4;
const MAX_TRACE_BYTES = 256 * 2 ** 20;

/** The account balance gauge is read at most this often (ms). */
const BALANCE_EVERY_MS = 5_000;
/** The /healthz probe gives the RPC this long to answer eth_blockNumber (ms). */
const HEALTH_PROBE_MS = 2_000;

/** The ClaimPosted event's arguments. */
type ClaimEvent = EventArgs<typeof disputeGameAbi, "ClaimPosted">;
type GameEvent = ContractEventName<typeof disputeGameAbi>;

type Resolved = { trace: ClaimTrace } | { verdict: Exclude<Verdict, "valid" | "invalid">; reason: string };

export class Watchtower {
  state: WatchState;
  metrics: Metrics = zeroMetrics();
  /** Gauges: the chain head at the last scan, the account's balance (wei) and when it was read. */
  private head?: bigint;
  private balance?: bigint;
  private balanceAt = 0;
  private lastTickEnd?: number;
  /** Per claim: its trace, or why there is none (computed once). */
  private traces = new Map<string, Resolved>();
  /** Per model id: the package whose whole record it matches, or why none does. */
  private modelPkgs = new Map<string, { pkg: ModelPackage } | { reason: string }>();
  private server?: Server;
  private ready = false;
  private chain?: ChainBinding;
  /** Gas this watchtower spent, per game. */
  readonly gasByGame = new Map<string, bigint>();
  /** Says what the watchtower waits for (a silent claimant's clock) and whether chain time moves. */
  private readonly clock: ChainClock;

  constructor(
    readonly c: Clients,
    readonly d: Deployment,
    /** Model packages this watchtower can re-execute, by model root (checked against each id's record). */
    readonly models: Map<string, ModelPackage>,
    readonly stateFile: string | undefined,
    readonly log: Logger = jsonLogger,
    readonly opts: WatchOptions = {},
  ) {
    this.state = this.fresh();
    this.clock = new ChainClock(c, log, opts.clock);
  }

  private fresh(): WatchState {
    return { lastBlock: (this.d.block - 1n).toString(), claims: {}, games: {} };
  }

  /**
   * Binds to the chain and loads the state file. Throws a UsageError (one line naming the file and
   * what differs) if the file was written for another chain, genesis, game, or is ahead of the head.
   */
  async init(): Promise<void> {
    if (this.ready) return;
    this.chain = await chainBinding(this.c, this.d);
    const head = await withRetry(() => this.c.publicClient.getBlockNumber({ cacheTime: 0 }), "blockNumber");
    const { state, resumed } = loadBound(
      this.stateFile,
      this.chain,
      head,
      () => this.fresh(),
      this.opts.rescan,
    );
    this.state = state;
    this.head = head;
    // Counters continue across restarts (a fresh or rescanned state starts them at zero).
    this.metrics = restoreMetrics(resumed ? state.metrics : undefined);
    this.ready = true;
    if (resumed)
      this.log("info", "resumed", {
        stateFile: this.stateFile,
        lastBlock: this.state.lastBlock,
        games: Object.keys(this.state.games).length,
      });
    else if (this.opts.rescan)
      this.log("info", "rescanning from the deployment block", { block: this.d.block });
    this.save();
  }

  private save(): void {
    if (!this.ready) return;
    saveBound(this.stateFile, { ...this.state, metrics: this.savedMetrics(), chain: this.chain });
  }

  private savedMetrics(): NonNullable<WatchState["metrics"]> {
    return { ...this.metrics, bondsWonWei: this.metrics.bondsWonWei.toString() };
  }

  /** Every metric with its type and help, in Prometheus text format 0.0.4. */
  metricsText(): string {
    const m = this.metrics;
    const open = Object.values(this.state.games).filter((g) => !g.done).length;
    const rows: [string, "counter" | "gauge", string, number | bigint | string | undefined][] = [
      ["opml_claims_checked_total", "counter", "Claims re-executed (or found uncheckable).", m.claimsChecked],
      ["opml_games_tracked", "gauge", "Games of this watchtower still open.", open],
      ["opml_games_total", "counter", "Games this watchtower opened.", m.gamesTracked],
      ["opml_moves_total", "counter", "Moves this watchtower made.", m.moves],
      ["opml_steps_proven_total", "counter", "Final VM steps proven onchain.", m.stepsProven],
      ["opml_games_won_total", "counter", "Games that ended ChallengerWon.", m.gamesWon],
      ["opml_games_lost_total", "counter", "Games that ended ClaimantWon.", m.gamesLost],
      ["opml_games_voided_total", "counter", "Games that ended Void.", m.gamesVoided],
      ["opml_bonds_won_wei", "counter", "Credit withdrawn from the game (won bonds), in wei.", m.bondsWonWei],
      [
        "opml_vm_seconds_total",
        "counter",
        "Seconds spent re-executing claims and VM traces.",
        m.vmSeconds.toFixed(3),
      ],
      ["opml_rpc_errors_total", "counter", "Ticks or moves that failed on the RPC (retried).", m.rpcErrors],
      [
        "opml_item_errors_total",
        "counter",
        "Claims or moves that failed for their own reasons.",
        m.itemErrors,
      ],
      ["opml_last_block", "gauge", "The last block scanned for claims.", this.state.lastBlock],
      ["opml_chain_head_block", "gauge", "The chain head at the last scan.", this.head],
      ["opml_balance_wei", "gauge", "The watchtower account's balance, in wei.", this.balance],
    ];
    const out: string[] = [];
    for (const [name, type, help, v] of rows) {
      if (v === undefined) continue; // not read yet: no sample rather than a wrong one
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${v}`);
    }
    return `${out.join("\n")}\n`;
  }

  /**
   * The health answer: asks the RPC for its block number directly (no retries, HEALTH_PROBE_MS to
   * answer), so a failing RPC shows at once, not after a tick's retries give up.
   */
  async health(): Promise<{ code: 200 | 503; body: Health }> {
    const body: Health = {
      status: "ok",
      lastBlock: this.state.lastBlock,
      openGames: Object.values(this.state.games).filter((g) => !g.done).length,
    };
    if (this.lastTickEnd !== undefined)
      body.lastTickAgeSeconds = Math.round((Date.now() - this.lastTickEnd) / 100) / 10;
    try {
      const url = this.c.chain.rpcUrls.default.http[0];
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] }),
        signal: AbortSignal.timeout(HEALTH_PROBE_MS),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status} from the RPC`);
      const j = (await res.json()) as { result?: unknown; error?: { message?: string } };
      if (typeof j.result !== "string")
        throw new Error(`eth_blockNumber: ${j.error?.message ?? "no result"}`);
      body.head = BigInt(j.result).toString();
      if (this.lastError) body.error = this.lastError;
      return { code: 200, body };
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code;
      body.status = "rpc-failing";
      body.error = cause ? `${oneLine(e)} (${cause})` : oneLine(e);
      return { code: 503, body };
    }
  }

  /** Serves Prometheus text metrics at /metrics and the health check at /healthz on 127.0.0.1:port. */
  serveMetrics(port: number): Promise<number> {
    this.server = createServer((req, res) => {
      const path = (req.url ?? "").split("?")[0];
      if (path === "/metrics") {
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
        res.end(this.metricsText());
        return;
      }
      if (path === "/healthz") {
        void this.health().then(({ code, body }) => {
          res.writeHead(code, { "content-type": "application/json" });
          res.end(`${JSON.stringify(body)}\n`);
        });
        return;
      }
      res.writeHead(404).end();
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

  /** The package whose whole registry record model `modelId` matches (finding 6), or why none. */
  private async packageFor(modelId: bigint): Promise<{ pkg: ModelPackage } | { reason: string }> {
    const key = modelId.toString();
    const cached = this.modelPkgs.get(key);
    if (cached) return cached;
    let out: { pkg: ModelPackage } | { reason: string } = {
      reason: `model ${modelId}: no package for it here`,
    };
    let root: string | undefined;
    try {
      const rec = await registryRecord(this.c, this.d, modelId);
      root = String(rec.model.modelRoot).toLowerCase();
    } catch (e) {
      if (isTransient(e)) throw e;
      out = { reason: `model ${modelId}: not in the registry (${oneLine(e)})` };
    }
    for (const [r, pkg] of this.models) {
      if (root === undefined || r.toLowerCase() !== root) continue;
      const chk = await checkModelRecord(this.c, this.d, modelId, pkg);
      out = chk.ok ? { pkg } : { reason: chk.reason };
      if (chk.ok) break;
    }
    if ("reason" in out)
      this.log("warn", "model record does not match our package; ignoring its claims", {
        modelId,
        reason: out.reason,
      });
    this.modelPkgs.set(key, out);
    return out;
  }

  /**
   * Candidate input lists for a claim (finding 4): those published for its graphState0 and model
   * in the game's InputsPublished events; never the posting transaction's calldata.
   */
  private inputCandidates(ev: ClaimEvent): Promise<Hex[][]> {
    return publishedInputs(this.c, this.d, ev.graphState0, ev.modelId);
  }

  /** The claim's re-execution, or why there is none. Deterministic failures are final. */
  private async resolve(ev: ClaimEvent): Promise<Resolved> {
    const key = ev.claimId.toString();
    const cached = this.cached(key);
    if (cached) return cached;
    const p = await this.packageFor(ev.modelId);
    let out: Resolved;
    if ("reason" in p) out = { verdict: "unknown-model", reason: p.reason };
    else {
      const lists = await this.inputCandidates(ev);
      out = { verdict: "unverifiable", reason: "no published inputs reproduce its graphState0" };
      for (const raw of lists) {
        try {
          const t0 = performance.now();
          const t = new ClaimTrace(p.pkg, raw.map(tensorFromBytes));
          this.metrics.vmSeconds += (performance.now() - t0) / 1000;
          if (toHex(t.graphState(0)) === ev.graphState0.toLowerCase()) {
            out = { trace: t };
            break;
          }
        } catch (e) {
          out = { verdict: "malformed", reason: `its inputs do not run on the model: ${oneLine(e)}` };
        }
      }
    }
    this.traces.set(key, out);
    this.evictTraces();
    return out;
  }

  /**
   * Keeps at most MAX_TRACES re-executions, MAX_TRACE_BYTES of activations, in memory (least
   * recently used first out; the newest always stays): each holds
   * every activation of the claim and the VM traces of its disputed nodes, so a watchtower that
   * sees many claims of a large model must not keep them all. An evicted claim is re-executed from
   * its published inputs when a game needs it again.
   */
  private evictTraces(): void {
    let bytes = 0;
    let kept = 0;
    // Newest first: the most recently used trace is always kept.
    for (const [key, r] of [...this.traces].reverse()) {
      if (!("trace" in r)) continue;
      const b = r.trace.acts.reduce((a, t) => a + (t?.byteLength ?? 0), 0);
      if (kept > 0 && (kept >= MAX_TRACES || bytes + b > MAX_TRACE_BYTES)) this.traces.delete(key);
      else {
        kept++;
        bytes += b;
      }
    }
  }

  /** A resolved claim, moved to the newest place in the LRU order (a Map iterates in insertion order). */
  private cached(key: string): Resolved | undefined {
    const r = this.traces.get(key);
    if (r) {
      this.traces.delete(key);
      this.traces.set(key, r);
    }
    return r;
  }

  private async traceOf(claimId: bigint): Promise<ClaimTrace | undefined> {
    const key = claimId.toString();
    let r = this.cached(key);
    if (!r) {
      const [ev] = await this.gameEvents("ClaimPosted", { claimId });
      if (!ev) return undefined;
      r = await this.resolve(ev.args);
    }
    return "trace" in r ? r.trace : undefined;
  }

  /** Scans new claims, challenges wrong ones. Each claim is handled on its own (finding 3). */
  async scanClaims(): Promise<void> {
    await this.init();
    const from = BigInt(this.state.lastBlock) + 1n;
    const to = await withRetry(() => this.c.publicClient.getBlockNumber({ cacheTime: 0 }), "blockNumber");
    this.head = to;
    if (to < from) return;
    const logs = await this.gameEvents("ClaimPosted", undefined, from, to);
    for (const l of logs) {
      const a = l.args;
      const key = a.claimId.toString();
      if (this.state.claims[key]) continue;
      try {
        await this.checkClaim(a);
      } catch (e) {
        // A transient RPC failure: stop here, lastBlock stays, the next tick retries this claim.
        if (isTransient(e)) throw e;
        this.metrics.itemErrors++;
        this.state.claims[key] = "malformed";
        this.log("error", "claim skipped", { claimId: a.claimId, error: oneLine(e) });
        this.save();
      }
    }
    this.state.lastBlock = to.toString();
    this.save();
  }

  private async checkClaim(a: ClaimEvent): Promise<void> {
    const key = a.claimId.toString();
    const r = await this.resolve(a);
    this.metrics.claimsChecked++;
    if (!("trace" in r)) {
      this.state.claims[key] = r.verdict;
      this.log("warn", `claim not checked: ${r.verdict}`, { claimId: a.claimId, reason: r.reason });
      this.save();
      return;
    }
    const t = r.trace;
    const differs = claimDifferences(a, t.outputRoot(), t.graphState(t.nNodes));
    const ok = differs.length === 0;
    if (ok) this.log("info", "claim checks out", { claimId: a.claimId, outputRoot: a.outputRoot });
    else
      this.log(
        "warn",
        `claim is WRONG: its ${differs.map((x) => x.name).join(" and its ")} differ${differs.length === 1 ? "s" : ""}`,
        {
          claimId: a.claimId,
          differs: differs.map((x) => x.field).join(","),
          ...Object.fromEntries(
            differs.flatMap((x) => [
              [`claimed${x.key}`, x.claimed],
              [`actual${x.key}`, x.actual],
            ]),
          ),
        },
      );
    if (!ok) {
      try {
        await this.challenge(a.claimId);
      } catch (e) {
        if (isTransient(e)) throw e;
        // e.g. WindowClosed or ClaimNotPending: nothing to win any more.
        this.log("warn", "could not challenge", { claimId: a.claimId, error: oneLine(e) });
      }
    }
    this.state.claims[key] = ok ? "valid" : "invalid";
    this.save();
  }

  private async challenge(claimId: bigint): Promise<void> {
    // A game opened before a crash (tx mined, state not saved) is found again by its event.
    const started = () => this.gameEvents("GameStarted", { claimId, challenger: this.c.account.address });
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

  private gameEvents<eventName extends GameEvent>(
    eventName: eventName,
    args?: ContractEventArgs<typeof disputeGameAbi, eventName>,
    fromBlock = this.d.block,
    toBlock?: bigint,
  ) {
    return events(this.c, this.d.game, this.d.abis.game, eventName, args, fromBlock, toBlock);
  }

  private addGas(gameId: bigint, gas: bigint) {
    this.balanceAt = 0; // a transaction of ours: read the balance again at the end of the tick
    const k = gameId.toString();
    this.gasByGame.set(k, (this.gasByGame.get(k) ?? 0n) + gas);
  }

  private finish(key: string, info: GameInfo, g: GameState): void {
    const won = g.status === GameStatus.ChallengerWon || g.status === GameStatus.Void;
    if (g.status === GameStatus.ChallengerWon) this.metrics.gamesWon++;
    if (g.status === GameStatus.ClaimantWon) this.metrics.gamesLost++;
    if (g.status === GameStatus.Void) this.metrics.gamesVoided++;
    info.done = true;
    info.result = gameStatusName(g.status);
    this.log(won ? "info" : "warn", "game over", { gameId: key, status: info.result });
    this.save();
  }

  /** A failed move: transient ones are retried next pass; others are logged once per message. */
  private gameError(key: string, info: GameInfo, e: unknown): void {
    if (isTransient(e)) {
      this.metrics.rpcErrors++;
      this.log("warn", "rpc error in game; will retry", { gameId: key, error: oneLine(e) });
      return;
    }
    const msg = oneLine(e);
    if (info.lastError === msg) return;
    this.metrics.itemErrors++;
    info.lastError = msg;
    this.log("error", "move failed; will retry", { gameId: key, error: msg });
    this.save();
  }

  /**
   * Plays every open game of ours, interleaved (finding 10): each pass makes at most one move per
   * game, most urgent clock first, so one game's long VM trace does not starve the others. Passes
   * repeat while some game moved, within the tick's play budget.
   */
  async playGames(): Promise<void> {
    await this.init();
    const budget = this.opts.playBudgetMs ?? 20_000;
    const t0 = Date.now();
    for (;;) {
      const open = Object.entries(this.state.games).filter(([, i]) => !i.done);
      if (open.length === 0) break;
      const now = await chainNow(this.c);
      const ready: { key: string; info: GameInfo; g: GameState; urgency: bigint }[] = [];
      for (const [key, info] of open) {
        try {
          const g = await readGame(this.c, this.d, BigInt(key));
          if (g.status !== GameStatus.Open) {
            this.finish(key, info, g);
            continue;
          }
          const left = moverTimeLeft(g, now);
          // Our move: the less time on our clock, the sooner. The opponent's: only if expired.
          const urgency = moverRole(g.phase) === "challenger" ? left : left < 0n ? -(1n << 62n) : 1n << 62n;
          ready.push({ key, info, g, urgency });
        } catch (e) {
          this.gameError(key, info, e);
        }
      }
      ready.sort((x, y) => (x.urgency < y.urgency ? -1 : x.urgency > y.urgency ? 1 : 0));
      // The opponent's moves we wait for: each game's timeout comes as soon as chain time allows;
      // say when that is, and warn if the chain's clock does not move towards it.
      const waiting: Deadline[] = ready.flatMap((r) => gameDeadlines(BigInt(r.key), r.g, "challenger"));
      await this.clock.observe(now, waiting);
      const rejected = new Map<string, boolean>();
      let moved = false;
      for (const { key, info, g } of ready) {
        try {
          const gameId = BigInt(key);
          let rj = rejected.get(info.claimId);
          if (rj === undefined) {
            rj = (await claimStatus(this.c, this.d, BigInt(info.claimId))) === ClaimStatus.Rejected;
            rejected.set(info.claimId, rj);
          }
          const mine = moverRole(g.phase) === "challenger";
          const t = mine && !rj ? await this.traceOf(BigInt(info.claimId)) : undefined;
          const v0 = performance.now();
          const m = await playTurn(
            this.c,
            this.d,
            gameId,
            g,
            "challenger",
            t,
            () => disputedNode(this.c, this.d, gameId),
            {
              now,
              claimRejected: rj,
            },
          );
          this.metrics.vmSeconds += (performance.now() - v0) / 1000;
          if (!m) continue;
          moved = true;
          this.metrics.moves++;
          if (m.kind === "proveStep") this.metrics.stepsProven++;
          this.addGas(gameId, m.tx.gasUsed);
          info.lastError = undefined;
          this.save(); // the counters live in the state file too
          this.log("info", m.kind, {
            gameId,
            gameLevel: m.level,
            lo: m.lo,
            hi: m.hi,
            detail: m.detail,
            gas: m.tx.gasUsed,
          });
        } catch (e) {
          this.gameError(key, info, e);
        }
      }
      if (!moved || Date.now() - t0 > budget) break;
    }
    await this.collect();
  }

  /** Withdraws any credit (won bonds). */
  async collect(): Promise<void> {
    const credit = await withdrawCredit(this.c, this.d);
    if (credit === 0n) return;
    this.balanceAt = 0; // read the balance again
    this.metrics.bondsWonWei += credit;
    this.save();
    this.log("info", "withdrew", { wei: credit });
  }

  /** The last error a tick swallowed (it retries on the next tick). */
  lastError?: string;

  /** One scan and one round of play; a failure of one does not skip the other. */
  async tick(): Promise<void> {
    await this.init();
    this.lastError = undefined;
    for (const [what, f] of [
      ["scan", () => this.scanClaims()],
      ["play", () => this.playGames()],
    ] as const) {
      try {
        await f();
      } catch (e) {
        this.metrics.rpcErrors++;
        this.lastError = oneLine(e);
        this.log("error", `${what} failed; will retry`, { error: this.lastError });
      }
    }
    await this.readBalance();
    this.lastTickEnd = Date.now();
    this.save(); // counters changed without a state change (rpc errors, VM seconds)
  }

  /**
   * Refreshes the balance gauge after a transaction of ours, else at most every BALANCE_EVERY_MS
   * (another party can pay us); a failure keeps the old value.
   */
  private async readBalance(): Promise<void> {
    if (Date.now() - this.balanceAt < BALANCE_EVERY_MS) return;
    try {
      this.balance = await this.c.publicClient.getBalance({ address: this.c.account.address });
      this.balanceAt = Date.now();
    } catch (e) {
      // A gauge: a node that refuses eth_getBalance must not end the tick (or the daemon) with a
      // stack; it is said once per refresh period and the old value kept.
      if (!isTransient(e)) {
        this.balanceAt = Date.now();
        this.log("warn", "balance not read", { error: oneLine(e) });
      }
    }
  }

  /** Runs until `stop()` returns true, polling every `intervalMs`. */
  async run(stop: () => boolean, intervalMs = 500): Promise<void> {
    await this.init();
    while (!stop()) {
      await this.tick();
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

/** One commitment of a claim that re-execution does not reproduce. */
export interface Difference {
  /** In words, for the log line: "output root", "final graph state". */
  name: string;
  /** The ClaimPosted field: "outputRoot", "finalGraphState". */
  field: "outputRoot" | "finalGraphState";
  /** The field name's capitalized form, for the log's claimedX/actualX fields. */
  key: "OutputRoot" | "FinalGraphState";
  claimed: Hex;
  actual: Hex;
}

/**
 * The commitments a watchtower compares (graphState0 already matched: it picked the inputs) that
 * differ from its own re-execution: the output root and the graph state after the last node. A
 * lie about an inner node (`--lie node:K`) keeps the output root and changes the final graph state.
 */
export function claimDifferences(
  a: { outputRoot: Hex; finalGraphState: Hex },
  outputRoot: Uint8Array,
  finalGraphState: Uint8Array,
): Difference[] {
  const out: Difference[] = [];
  const actualOut = toHex(outputRoot);
  const actualFinal = toHex(finalGraphState);
  if (actualOut !== a.outputRoot.toLowerCase())
    out.push({
      name: "output root",
      field: "outputRoot",
      key: "OutputRoot",
      claimed: a.outputRoot,
      actual: actualOut,
    });
  if (actualFinal !== a.finalGraphState.toLowerCase())
    out.push({
      name: "final graph state",
      field: "finalGraphState",
      key: "FinalGraphState",
      claimed: a.finalGraphState,
      actual: actualFinal,
    });
  return out;
}
