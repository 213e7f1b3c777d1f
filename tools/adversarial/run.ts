// The adversarial harness runner: plays N randomized games on the embedded anvil between the real
// honest agents and the scripted adversaries, with chaos (the watchtower SIGKILLed and restarted,
// the RPC node taken away and brought back), and checks the invariants after every game:
// no false claim finalizes, no true claim is rejected, no honest party loses a bond, ETH is conserved.
import type { Address } from "viem";
import { type Ledger, type Play, STRATEGIES, type Strategy } from "./strategies.js";
import { CLAIM, GAME, sleep, World } from "./world.js";

export interface RunOptions {
  games: number;
  seed: number;
  model?: string;
  strategies?: string[];
  /** Chance per game that the watchtower is SIGKILLed (and restarted) at a random moment. */
  killRate?: number;
  /** Chance per game that the RPC node goes away for a while. */
  outageRate?: number;
  /** Real seconds a game may take before it counts as stuck. */
  gameTimeoutS?: number;
  /** false: play without the watchtower (the harness must then report violations). */
  watchtower?: boolean;
  log?: (line: string) => void;
}

export interface Violation {
  game: number;
  strategy: string;
  what: string;
}

export interface RunResult {
  games: number;
  honestWins: number;
  violations: Violation[];
  byStrategy: Record<string, { games: number; honestWins: number }>;
  watchtowerKills: number;
  rpcOutages: number;
  seconds: number;
}

/** xorshift32 in [0, 1): the whole run follows from --seed. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

export async function runAdversarial(o: RunOptions): Promise<RunResult> {
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  const chosen: Strategy[] = o.strategies?.length
    ? o.strategies.map((n) => {
        const s = STRATEGIES.find((x) => x.name === n);
        if (!s)
          throw new Error(`--strategy ${n}: no such strategy (${STRATEGIES.map((x) => x.name).join(", ")})`);
        return s;
      })
    : STRATEGIES;
  const rand = rng(o.seed);
  const w = new World({ model: o.model, seed: o.seed, log, watchtower: o.watchtower });
  const result: RunResult = {
    games: 0,
    honestWins: 0,
    violations: [],
    byStrategy: {},
    watchtowerKills: 0,
    rpcOutages: 0,
    seconds: 0,
  };
  try {
    await w.start();
    log(`logs of the agents: ${w.dir}`);
    const known = (): Address[] => [
      w.admin.account.address,
      ...w.honest,
      ...w.adversaries.map((a) => a.account.address),
    ];
    const unresolvedClaims = new Set<bigint>();
    const unresolvedGames = new Set<bigint>();
    // Every strategy equally often, in a seeded order.
    const order = chosen.slice();
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    // Each game's ledger starts at the block where the previous one's was read, so a claim or game
    // an agent creates in between falls in exactly one game's range.
    let prev: GameEnd | undefined;
    for (let i = 0; i < o.games; i++) {
      const s = order[i % order.length];
      const { violations, summary, end } = await playOne(
        w,
        s,
        i,
        rand,
        o,
        known,
        unresolvedClaims,
        unresolvedGames,
        prev,
      );
      prev = end;
      result.games++;
      const b = (result.byStrategy[s.name] ??= { games: 0, honestWins: 0 });
      b.games++;
      if (violations.length === 0) {
        result.honestWins++;
        b.honestWins++;
      }
      for (const what of violations) result.violations.push({ game: i, strategy: s.name, what });
      log(
        `game ${i} ${s.name} (${summary}): ${violations.length === 0 ? "honest side won" : violations.join("; ")}`,
      );
    }
  } finally {
    result.watchtowerKills = w.watchtowerKills;
    result.rpcOutages = w.proxy?.outages ?? 0;
    await w.stop();
    result.seconds = Math.round((performance.now() - t0) / 100) / 10;
  }
  return result;
}

/**
 * The bonds the game holds at `block` for the open games and pending claims among these ids, by
 * account (an open game on a rejected claim with the reward share it is owed), and the ids that
 * are no longer open or pending there.
 */
async function inFlight(
  w: World,
  block: bigint,
  claimIds: Iterable<bigint>,
  gameIds: Iterable<bigint>,
): Promise<{ inflight: Map<string, bigint>; resolvedClaims: bigint[]; resolvedGames: bigint[] }> {
  const inflight = new Map<string, bigint>();
  const hold = (a: Address, v: bigint) =>
    inflight.set(a.toLowerCase(), (inflight.get(a.toLowerCase()) ?? 0n) + v);
  const resolvedClaims: bigint[] = [];
  const resolvedGames: bigint[] = [];
  w.atBlock = block;
  try {
    for (const id of claimIds) {
      const c = await w.claim(id);
      if (c.status === CLAIM.Pending) hold(c.claimant, c.bond);
      else resolvedClaims.push(id);
    }
    for (const id of gameIds) {
      const g = await w.game(id);
      if (g.status === GAME.Open) {
        const c = await w.claim(g.claimId);
        hold(g.challenger, g.bond + (c.status === CLAIM.Rejected ? c.rewardShare : 0n));
      } else resolvedGames.push(id);
    }
  } finally {
    w.atBlock = undefined;
  }
  return { inflight, resolvedClaims, resolvedGames };
}

/** Where one game's ledger ended: its block and the bonds in flight there, by account. */
interface GameEnd {
  block: bigint;
  inflight: Map<string, bigint>;
}

async function playOne(
  w: World,
  s: Strategy,
  _index: number,
  rand: () => number,
  o: RunOptions,
  known: () => Address[],
  unresolvedClaims: Set<bigint>,
  unresolvedGames: Set<bigint>,
  prev: GameEnd | undefined,
): Promise<{ violations: string[]; summary: string; end: GameEnd }> {
  const out: string[] = [];
  w.atBlock = prev?.block ?? (await w.blockNumber());
  const startBlock = w.atBlock + 1n;
  const start = await w.counts();
  const accounts = known();
  const credit0 = new Map<Address, bigint>();
  for (const a of accounts) credit0.set(a, await w.credit(a));
  w.atBlock = undefined;

  let play: Play | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    play = await s.setup(w, rand);
  } catch (e) {
    out.push(`setup failed: ${(e as Error).message.split("\n")[0]}`);
  }
  // Chaos at random moments of the game.
  if (rand() < (o.killRate ?? 0.3)) {
    const at = 200 + rand() * 3000;
    const down = 200 + rand() * 1300;
    timers.push(setTimeout(() => void w.killWatchtower(down), at));
  }
  if (rand() < (o.outageRate ?? 0.15)) {
    const at = 200 + rand() * 3000;
    const down = 500 + rand() * 2500;
    timers.push(setTimeout(() => w.proxy.outage(down), at));
  }

  const deadline = performance.now() + (o.gameTimeoutS ?? 120) * 1000;
  let finished = false;
  while (play && performance.now() < deadline) {
    try {
      await play.tick();
    } catch (e) {
      w.log(`adversary tick: ${(e as Error).message.split("\n")[0]}`);
    }
    if (!w.watchtowerDown && w.watchtower && w.watchtower.exitCode !== null) {
      out.push(`the watchtower exited on its own (${w.watchtower.exitCode})`);
      await w.startWatchtower();
    }
    const now = await w.counts();
    const claims: bigint[] = [];
    for (let id = start.claims + 1n; id <= now.claims; id++) claims.push(id);
    let over = play.waitFor.every((p) => p.exitCode !== null || p.signalCode !== null);
    for (const id of claims) if ((await w.claim(id)).status === CLAIM.Pending) over = false;
    for (let id = start.games + 1n; id <= now.games; id++)
      if ((await w.game(id)).status === GAME.Open) over = false;
    if (over && play.done) over = await play.done();
    if (over) {
      finished = true;
      break;
    }
    if (!(await w.pump(claims))) await sleep(40);
  }
  for (const t of timers) clearTimeout(t);
  play?.close?.();
  for (const p of play?.waitFor ?? []) if (p.exitCode === null) p.kill("SIGKILL");
  if (!finished && play) out.push(`did not end within ${o.gameTimeoutS ?? 120} s`);
  // Let a restarting watchtower come back before the next game.
  for (let i = 0; i < 100 && w.watchtowerDown; i++) await sleep(50);

  // ---- the invariants ----
  // Counts, credits and the balance are all read at one block: the agents may still be acting.
  const endBlock = await w.blockNumber();
  w.atBlock = endBlock;
  const end = await w.counts();
  w.atBlock = undefined;
  const truth = new Map(w.cases.map((k) => [k.graphState0, k.finalGraphState] as const));
  for (let id = start.claims + 1n; id <= end.claims; id++) {
    const c = await w.claim(id);
    if (c.modelId !== w.modelId) continue; // claims on other registrations are not ours to judge
    const trueFinal = truth.get(c.graphState0);
    const isTrue = trueFinal !== undefined && trueFinal === c.finalGraphState;
    if (isTrue && c.status === CLAIM.Rejected) out.push(`true claim ${id} was rejected`);
    if (!isTrue && c.status === CLAIM.Finalized) out.push(`false claim ${id} finalized`);
    if (c.status === CLAIM.Pending) out.push(`claim ${id} is still pending`);
  }
  // What the game holds for open games and pending claims at the end block, by account: the
  // bonds still in flight. The next game starts from this block, so its ledger starts from this map.
  for (let id = start.claims + 1n; id <= end.claims; id++) unresolvedClaims.add(id);
  for (let id = start.games + 1n; id <= end.games; id++) unresolvedGames.add(id);
  const { inflight, resolvedClaims, resolvedGames } = await inFlight(
    w,
    endBlock,
    unresolvedClaims,
    unresolvedGames,
  );
  for (const id of resolvedClaims) unresolvedClaims.delete(id);
  for (const id of resolvedGames) unresolvedGames.delete(id);
  const inflightOf = (m: Map<string, bigint> | undefined, a: Address) => m?.get(a.toLowerCase()) ?? 0n;
  const events = <const name extends "ClaimPosted" | "GameStarted" | "Withdrawn">(eventName: name) =>
    w.admin.publicClient.getContractEvents({
      address: w.d.game,
      abi: w.d.abis.game,
      eventName,
      fromBlock: startBlock,
      toBlock: endBlock,
      strict: true,
    });
  const posted = await events("ClaimPosted");
  const started = await events("GameStarted");
  const withdrawn = await events("Withdrawn");
  const same = (a: unknown, b: Address) => String(a).toLowerCase() === b.toLowerCase();
  const credit1 = new Map<Address, bigint>();
  w.atBlock = endBlock; // the same block as the events' last
  for (const a of accounts) credit1.set(a, await w.credit(a));
  w.atBlock = undefined;
  const ledger: Ledger = {
    net(a) {
      let n = (credit1.get(a) ?? 0n) - (credit0.get(a) ?? 0n);
      n += inflightOf(inflight, a) - inflightOf(prev?.inflight, a);
      for (const e of withdrawn) if (same(e.args.account, a)) n += e.args.amount;
      for (const e of posted) if (same(e.args.claimant, a)) n -= e.args.bond;
      for (const e of started) if (same(e.args.challenger, a)) n -= e.args.bond;
      return n;
    },
    rewards: () => 0n,
  };
  for (const h of w.honest) {
    const n = ledger.net(h);
    if (n < 0n) out.push(`honest ${h === w.honest[0] ? "submitter" : "watchtower"} lost ${-n} wei`);
  }
  if (play?.check) out.push(...(await play.check(ledger)));

  // ETH conservation: the game holds exactly what it owes, all read at one block (the agents
  // may still be withdrawing). A mismatch is read again at later blocks and counts only if it
  // stays: a real shortfall never heals, while a read that straddles an agent's withdrawal (seen
  // about once in 40 games, cause not pinned down) does.
  const owedAt = async (block: bigint): Promise<{ owed: bigint; balance: bigint }> => {
    w.atBlock = block;
    try {
      // Ids created after the end block count too when the reading is later.
      const now = await w.counts();
      const claimIds = new Set(unresolvedClaims);
      const gameIds = new Set(unresolvedGames);
      for (let id = end.claims + 1n; id <= now.claims; id++) claimIds.add(id);
      for (let id = end.games + 1n; id <= now.games; id++) gameIds.add(id);
      const held = block === endBlock ? inflight : (await inFlight(w, block, claimIds, gameIds)).inflight;
      let owed = 0n;
      for (const v of held.values()) owed += v;
      w.atBlock = block;
      for (const a of known()) owed += await w.credit(a);
      try {
        owed += await w.totalBurned();
      } catch {
        // a game without burning
      }
      const balance = await w.admin.publicClient.getBalance({ address: w.d.game, blockNumber: block });
      return { owed, balance };
    } finally {
      w.atBlock = undefined;
    }
  };
  const reads: string[] = [];
  for (let attempt = 0; attempt < 4; attempt++) {
    const block = attempt === 0 ? endBlock : await w.blockNumber();
    const { owed, balance } = await owedAt(block);
    if (balance === owed) {
      if (reads.length > 0) o.log?.(`ETH conservation healed on a later read: ${reads.join("; ")}`);
      reads.length = 0;
      break;
    }
    reads.push(`at block ${block} the game holds ${balance} wei but owes ${owed}`);
    await sleep(500);
  }
  if (reads.length > 0) out.push(`ETH not conserved: ${reads.join("; ")}`);
  const claimNames = ["none", "pending", "rejected", "finalized"];
  const gameNames = ["none", "open", "claimant won", "challenger won", "void"];
  const parts: string[] = [];
  for (let id = start.claims + 1n; id <= end.claims; id++)
    parts.push(`claim ${id} ${claimNames[(await w.claim(id)).status]}`);
  for (let id = start.games + 1n; id <= end.games; id++) {
    const g = await w.game(id);
    parts.push(`game ${id} ${gameNames[g.status]} at level ${g.level}`);
  }
  return { violations: out, summary: parts.join(", "), end: { block: endBlock, inflight } };
}
