// Chain time. A dispute game runs on block timestamps: a claim's challenge window closes and a
// silent party's chess clock runs out only as far as the chain's latest block says. On a public
// chain blocks come every few seconds; on a local anvil started without --block-time a block (and
// so a new timestamp) comes only with a transaction, so a deadline may never arrive by itself.
// `warpChain` moves a dev chain's clock (what `opml warp` does); `ChainClock` follows the latest
// block's timestamp while an agent waits on a deadline, says what it waits for and when, and
// warns when the chain's clock is not moving.
import { UsageError } from "../errors/index.js";
import { type Clients, isTransient, oneLine, withRetry } from "./clients.js";
import type { Logger } from "./log.js";

/** The RPC URL the clients talk to (for messages). */
export function rpcUrlOf(c: Clients): string {
  return c.chain.rpcUrls.default.http[0] ?? "?";
}

/** A raw JSON-RPC call outside viem's schema (anvil's and hardhat's dev methods). */
function rawRequest(c: Clients, method: string, params: unknown[] = []): Promise<unknown> {
  return c.publicClient.request<{ Parameters: unknown[]; ReturnType: unknown }>({ method, params });
}

/** The latest block's number and timestamp. */
export async function latestBlock(c: Clients): Promise<{ number: bigint; timestamp: bigint }> {
  const b = await withRetry(() => c.publicClient.getBlock({ blockTag: "latest" }), "latest block");
  return { number: b.number ?? 0n, timestamp: b.timestamp };
}

export interface Warped {
  before: bigint;
  after: bigint;
  block: bigint;
}

/**
 * Advances a dev chain's clock by `seconds` and mines a block (evm_increaseTime + evm_mine, which
 * anvil and hardhat serve). A node that does not serve them (a public chain, geth) is one
 * UsageError naming the URL, the node and the method.
 */
export async function warpChain(c: Clients, seconds: bigint): Promise<Warped> {
  const url = rpcUrlOf(c);
  const before = await latestBlock(c);
  for (const [method, params] of [
    ["evm_increaseTime", [Number(seconds)]],
    ["evm_mine", []],
  ] as const) {
    try {
      await withRetry(() => rawRequest(c, method, [...params]), method);
    } catch (e) {
      if (isTransient(e)) throw e;
      let node = "";
      try {
        node = ` (${String(await rawRequest(c, "web3_clientVersion"))})`;
      } catch {
        // the version is only for the message
      }
      throw new UsageError(
        `${url}: the node${node} does not support ${method} (${oneLine(e)}); \`opml warp\` works only on a local dev chain such as anvil`,
        { url, op: method },
      );
    }
  }
  const after = await latestBlock(c);
  return { before: before.timestamp, after: after.timestamp, block: after.number };
}

/** How a node makes blocks, when it says (anvil): automine (a block per transaction), interval. */
export interface MiningMode {
  client: string;
  automine?: boolean;
  /** Seconds between blocks when interval mining (anvil --block-time). */
  blockTime?: number;
}

/** The node's mining mode, best effort: undefined when it does not say. */
export async function miningMode(c: Clients): Promise<MiningMode | undefined> {
  try {
    const client = String(await rawRequest(c, "web3_clientVersion"));
    if (!/^anvil\//i.test(client)) return { client };
    const automine = (await rawRequest(c, "anvil_getAutomine")) === true;
    let blockTime: number | undefined;
    try {
      const v = await rawRequest(c, "anvil_getIntervalMining");
      if (typeof v === "number" && v > 0) blockTime = v;
    } catch {
      // older anvils do not have it
    }
    return { client, automine, blockTime };
  } catch {
    return undefined;
  }
}

/** Something an agent waits for that happens at a chain time. */
export interface Deadline {
  /** Stable key: the same deadline waited on again is not announced again. */
  key: string;
  /** What happens then, e.g. "the challenge window of claim 3 closes". */
  what: string;
  /** The first block timestamp at which it has happened. */
  at: bigint;
  /** Fields for the log line (claimId, gameId, …). */
  fields?: Record<string, unknown>;
}

export interface ChainClockOptions {
  /**
   * Wall-clock ms without a new block timestamp, while waiting on a deadline, before the clock is
   * called stuck (default: OPML_CLOCK_STALL_S seconds, else 30 s: public chains make a block every
   * few seconds, 12 s on Ethereum).
   */
  stallMs?: number;
  /** Wall-clock ms a deadline is waited on before it is announced (default 2 s). */
  announceMs?: number;
  /** Wall-clock ms between repeated announcements of a deadline still waited on (default 60 s). */
  reportMs?: number;
  /** Probe the node's mining mode (anvil automine: the clock moves only with transactions). */
  probe?: boolean;
  /** Wall clock in ms (tests). */
  wallMs?: () => number;
}

function stallFromEnv(): number {
  const s = Number(process.env.OPML_CLOCK_STALL_S);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 30_000;
}

/** "in 42 s of chain time" or "now". */
export function inChainTime(seconds: bigint): string {
  return seconds > 0n ? `in ${seconds} s of chain time` : "now";
}

/**
 * Follows the latest block timestamp while an agent waits on deadlines: announces a deadline it
 * has waited on for a moment ("the challenge window of claim 3 closes in 3540 s of chain time"),
 * repeats that now and then, and warns when the chain's clock is not moving (no new timestamp for
 * stallMs, or at once on an anvil that mines only on transactions), naming the fix.
 */
export class ChainClock {
  private lastTs?: bigint;
  private tsSince = 0;
  private stallWarnedAt?: number;
  private mode?: Promise<MiningMode | undefined>;
  private modeWarned = false;
  private waited = new Map<string, { since: number; announcedAt?: number }>();
  private readonly stallMs: number;
  private readonly announceMs: number;
  private readonly reportMs: number;
  private readonly wall: () => number;

  constructor(
    readonly c: Clients,
    readonly log: Logger,
    readonly opts: ChainClockOptions = {},
  ) {
    this.stallMs = opts.stallMs ?? stallFromEnv();
    this.announceMs = opts.announceMs ?? 2000;
    this.reportMs = opts.reportMs ?? 60_000;
    this.wall = opts.wallMs ?? Date.now;
  }

  /** Reads the latest block and observes it (see observe). */
  async poll(deadlines: Deadline[]): Promise<bigint> {
    const b = await latestBlock(this.c);
    await this.observe(b.timestamp, deadlines);
    return b.timestamp;
  }

  /**
   * One observation of the chain's time `now` (the latest block's timestamp) while waiting on
   * `deadlines` (those already reached are ignored). Logs what is due and whether time moves.
   */
  async observe(now: bigint, deadlines: Deadline[]): Promise<void> {
    const t = this.wall();
    if (this.lastTs === undefined || now !== this.lastTs) {
      this.lastTs = now;
      this.tsSince = t;
      this.stallWarnedAt = undefined;
    }
    const pending = deadlines.filter((d) => d.at > now).sort((a, b) => (a.at < b.at ? -1 : 1));
    const keys = new Set(pending.map((d) => d.key));
    for (const k of this.waited.keys()) if (!keys.has(k)) this.waited.delete(k);
    for (const d of pending) {
      let w = this.waited.get(d.key);
      if (!w) {
        w = { since: t };
        this.waited.set(d.key, w);
      }
      const due =
        w.announcedAt === undefined ? t - w.since >= this.announceMs : t - w.announcedAt >= this.reportMs;
      if (due) {
        w.announcedAt = t;
        this.log("info", `waiting: ${d.what} ${inChainTime(d.at - now)}`, {
          ...d.fields,
          deadline: d.at,
          chainTime: now,
          inSeconds: d.at - now,
        });
      }
    }
    // Only a deadline waited on for a while (announced) makes a stuck clock worth a warning: an
    // opponent about to move is no reason to.
    const next = pending.find((d) => this.waited.get(d.key)?.announcedAt !== undefined);
    if (!next) return;
    if (this.opts.probe !== false && !this.modeWarned) {
      this.mode ??= miningMode(this.c);
      const m = await this.mode;
      if (m?.automine && m.blockTime === undefined) {
        this.modeWarned = true;
        this.stallWarnedAt = t;
        this.warnStuck(
          next,
          now,
          `chain clock is not moving: ${m.client} at ${rpcUrlOf(this.c)} mines a block only for a transaction (automine, no --block-time), so its time stands at ${now}`,
        );
        return;
      }
    }
    const still = t - this.tsSince;
    const again =
      this.stallWarnedAt === undefined ? still >= this.stallMs : t - this.stallWarnedAt >= 10 * this.stallMs;
    if (again) {
      this.stallWarnedAt = t;
      this.warnStuck(
        next,
        now,
        `chain clock is not moving: the latest block's timestamp ${now} has not changed for ${Math.round(still / 1000)} s`,
      );
    }
  }

  private warnStuck(d: Deadline, now: bigint, why: string): void {
    const left = d.at - now;
    this.log(
      "warn",
      `${why}; ${d.what} ${inChainTime(left)}: on a local anvil run \`opml warp ${left} --rpc-url ${rpcUrlOf(this.c)}\` (or start anvil with --block-time 1)`,
      { ...d.fields, deadline: d.at, chainTime: now, inSeconds: left },
    );
  }
}
