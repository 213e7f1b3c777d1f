// Chain time and leftover work: `warp` moves a local chain's clock; `claims` lists a deployment's
// claims and games with their status, deadlines and bonds; `finalize` and `withdraw` finish what
// an interrupted `submit` left behind (a claim past its window, a credited bond).
import { formatEther, type Hex } from "viem";
import { ANVIL_KEYS } from "../../chain/anvil.js";
import { makeClients, revertName, send, TxError, withRetry } from "../../chain/clients.js";
import { inChainTime, latestBlock, rpcUrlOf, warpChain } from "../../chain/clock.js";
import { UsageError } from "../../errors/index.js";
import { readClaim, timeoutAt } from "../../game/deadlines.js";
import type { Deployment } from "../../game/deploy.js";
import {
  type ClaimState,
  ClaimStatus,
  type GameState,
  GameStatus,
  moverRole,
  moverTimeLeft,
  Phase,
  readGame,
} from "../../game/moves.js";
import { openSession, type Session } from "../../game/session.js";

interface ChainArgs {
  rpcUrl?: string;
  privateKey?: string;
  deployment?: string;
}

/** Name of an enum value ("Pending", "ChallengerWon", "Bisect"), or the number if unknown. */
function nameOf(e: Record<string, number>, v: number): string {
  return Object.keys(e).find((k) => e[k] === v) ?? String(v);
}
export const claimStatusName = (v: number) => nameOf(ClaimStatus, v);
export const gameStatusName = (v: number) => nameOf(GameStatus, v);
export const phaseName = (v: number) => nameOf(Phase, v);

const eth = (wei: bigint) => `${formatEther(wei)} ETH`;

function rpcUrlFor(cmd: string, a: { rpcUrl?: string }, what: string): string {
  const url = a.rpcUrl ?? process.env.OPML_RPC_URL;
  if (!url) throw new UsageError(`${cmd} needs --rpc-url (or OPML_RPC_URL): ${what}`, { arg: "--rpc-url" });
  return url;
}

function needDeployment(cmd: string, a: { deployment?: string }): string {
  if (!a.deployment)
    throw new UsageError(`${cmd} needs --deployment <file.json> (from \`opml deploy\`)`, {
      arg: "--deployment",
    });
  return a.deployment;
}

/** A positive integer from the command line, or a UsageError naming the argument. */
export function positiveInt(s: string | number | undefined, arg: string, what: string): bigint {
  const t = s === undefined ? "" : String(s).trim();
  if (!/^[1-9][0-9]*$/.test(t)) throw new UsageError(`${arg} '${s ?? ""}': expected ${what}`, { arg });
  return BigInt(t);
}

/** `opml warp <seconds>`: evm_increaseTime + evm_mine on a local dev chain. */
export async function warpCommand(a: { seconds?: string; rpcUrl?: string }): Promise<void> {
  const seconds = positiveInt(a.seconds, "warp", "a positive whole number of seconds");
  const url = rpcUrlFor("warp", a, "the local chain (anvil) whose clock to move");
  // The key only makes the clients; warp signs nothing.
  const c = await makeClients(url, ANVIL_KEYS[0] as Hex);
  const w = await warpChain(c, seconds);
  const moved = w.after - w.before;
  // anvil stamps the new block with its wall clock plus every warp so far: the time since the last
  // block was mined comes on top of the warp.
  const extra = moved > seconds ? ` of which ${moved - seconds} s passed since the previous block` : "";
  console.log(`chain time ${w.before} → ${w.after} (+${moved} s${extra}), block ${w.block} on ${url}`);
}

/** A claim of the listing. */
export interface ClaimRow {
  id: number;
  status: string;
  modelId: number;
  claimant: string;
  bondWei: string;
  outputRoot: string;
  /** Chain timestamp at which the challenge window closes (finalize works from then on). */
  deadline: number;
  /** Seconds of chain time until then (≤ 0: closed). */
  closesIn: number;
  openGames: number;
  games: number[];
  rejectedBy: number | null;
  /** Whether `opml finalize --claim id` would finalize it now. */
  finalizable: boolean;
}

/** A game of the listing. */
export interface GameRow {
  id: number;
  claimId: number;
  status: string;
  level: number;
  phase: string;
  /** Who is to move ("claimant"/"challenger"), null once over. */
  mover: string | null;
  lo: number;
  hi: number;
  /** Seconds left on each clock now (the mover's is running). */
  claimantClock: number;
  challengerClock: number;
  /** Chain timestamp from which `timeout` ends it (open games). */
  timeoutAt: number | null;
  challenger: string;
  bondWei: string;
}

export interface ClaimsListing {
  game: string;
  chainId: number;
  block: number;
  chainTime: number;
  challengeWindow: number;
  clockBudget: number;
  claims: ClaimRow[];
  games: GameRow[];
}

async function readCount(s: Session, fn: "claimCount" | "gameCount"): Promise<bigint> {
  const d = s.deployment;
  return withRetry(
    () => s.clients.publicClient.readContract({ address: d.game, abi: d.abis.game, functionName: fn }),
    fn,
  );
}

function gameRow(id: bigint, g: GameState, now: bigint): GameRow {
  const open = g.status === GameStatus.Open;
  const mover = open ? moverRole(g.phase) : null;
  const left = open ? moverTimeLeft(g, now) : 0n;
  const clamp = (x: bigint) => Number(x < 0n ? 0n : x);
  return {
    id: Number(id),
    claimId: Number(g.claimId),
    status: gameStatusName(g.status),
    level: g.level,
    phase: phaseName(g.phase),
    mover,
    lo: Number(g.lo),
    hi: Number(g.hi),
    claimantClock: mover === "claimant" ? clamp(left) : Number(g.claimantClock),
    challengerClock: mover === "challenger" ? clamp(left) : Number(g.challengerClock),
    timeoutAt: open ? Number(timeoutAt(g)) : null,
    challenger: g.challenger,
    bondWei: g.bond.toString(),
  };
}

function claimRow(id: bigint, c: ClaimState, games: GameRow[], now: bigint): ClaimRow {
  const closesIn = c.deadline - now;
  return {
    id: Number(id),
    status: claimStatusName(c.status),
    modelId: Number(c.modelId),
    claimant: c.claimant,
    bondWei: c.bond.toString(),
    outputRoot: c.outputRoot,
    deadline: Number(c.deadline),
    closesIn: Number(closesIn),
    openGames: c.openGames,
    games: games.filter((g) => g.claimId === Number(id)).map((g) => g.id),
    rejectedBy: c.rejectedBy === 0n ? null : Number(c.rejectedBy),
    finalizable: c.status === ClaimStatus.Pending && closesIn <= 0n && c.openGames === 0,
  };
}

/** Every claim and game of a deployment as seen at the latest block. */
export async function listClaims(s: Session): Promise<ClaimsListing> {
  const d: Deployment = s.deployment;
  const b = await latestBlock(s.clients);
  const [nClaims, nGames] = [await readCount(s, "claimCount"), await readCount(s, "gameCount")];
  const games: GameRow[] = [];
  for (let i = 1n; i <= nGames; i++) games.push(gameRow(i, await readGame(s.clients, d, i), b.timestamp));
  const claims: ClaimRow[] = [];
  for (let i = 1n; i <= nClaims; i++)
    claims.push(claimRow(i, await readClaim(s.clients, d, i), games, b.timestamp));
  return {
    game: d.game,
    chainId: d.chainId,
    block: Number(b.number),
    chainTime: Number(b.timestamp),
    challengeWindow: Number(d.params.challengeWindow),
    clockBudget: Number(d.params.clockBudget),
    claims,
    games,
  };
}

function table(rows: string[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) =>
      r
        .map((x, i) => x.padEnd(w[i]))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

const short = (a: string) => `${a.slice(0, 6)}…${a.slice(-4)}`;
const ago = (s: number) => (s > 0 ? `closes in ${s} s` : `closed ${-s} s ago`);

/** The listing as text: a header, a claims table, a games table and what can be done now. */
export function formatListing(l: ClaimsListing): string {
  const out = [
    `game ${l.game} on chain ${l.chainId}: block ${l.block}, chain time ${l.chainTime}; challenge window ${l.challengeWindow} s, clock budget ${l.clockBudget} s`,
  ];
  if (l.claims.length === 0) out.push("no claims");
  else
    out.push(
      table([
        ["claim", "status", "model", "claimant", "bond", "window", "games", "note"],
        ...l.claims.map((c) => [
          String(c.id),
          c.status,
          String(c.modelId),
          short(c.claimant),
          eth(BigInt(c.bondWei)),
          c.status === "Pending" ? ago(c.closesIn) : `closed at ${c.deadline}`,
          c.games.length === 0 ? "-" : `${c.games.join(",")} (${c.openGames} open)`,
          c.finalizable
            ? `finalizable: opml finalize --claim ${c.id}`
            : c.rejectedBy !== null
              ? `rejected by game ${c.rejectedBy}`
              : "",
        ]),
      ]),
    );
  if (l.games.length > 0)
    out.push(
      table([
        [
          "game",
          "claim",
          "status",
          "level",
          "phase",
          "mover",
          "interval",
          "claimant clock",
          "challenger clock",
          "bond",
        ],
        ...l.games.map((g) => [
          String(g.id),
          String(g.claimId),
          g.status,
          String(g.level),
          g.status === "Open" ? g.phase : "-",
          g.mover ?? "-",
          `[${g.lo}, ${g.hi}]`,
          `${g.claimantClock} s`,
          `${g.challengerClock} s${g.timeoutAt !== null && g.timeoutAt <= l.chainTime ? " (timeout due)" : ""}`,
          eth(BigInt(g.bondWei)),
        ]),
      ]),
    );
  return out.join("\n");
}

/** `opml claims`: the deployment's claims and games (read only). */
export async function claimsCommand(a: ChainArgs & { json?: boolean }): Promise<void> {
  const deployment = needDeployment("claims", a);
  const rpcUrl = rpcUrlFor("claims", a, "the chain the deployment lives on");
  const s = await openSession({ rpcUrl, deployment, readOnly: true });
  try {
    const l = await listClaims(s);
    console.log(a.json ? JSON.stringify(l) : formatListing(l));
  } finally {
    await s.close();
  }
}

async function chainSession(cmd: string, a: ChainArgs): Promise<Session> {
  const deployment = needDeployment(cmd, a);
  const rpcUrl = rpcUrlFor(cmd, a, "the chain the deployment lives on");
  return openSession({ ...a, rpcUrl, deployment });
}

/**
 * `opml finalize --claim N`: finalizes a claim whose window has closed with no game open. One line
 * and exit 1 when there is nothing to do (no such claim, already final) or not yet.
 */
export async function finalizeCommand(a: ChainArgs & { claim?: string | number }): Promise<void> {
  const id = positiveInt(a.claim, "--claim", "a claim id (a positive integer; `opml claims` lists them)");
  const s = await chainSession("finalize", a);
  try {
    const d = s.deployment;
    const c = await readClaim(s.clients, d, id);
    const culprit = { arg: "--claim", address: d.game };
    if (c.status === ClaimStatus.None) {
      const n = await readCount(s, "claimCount");
      throw new UsageError(
        `claim ${id}: no such claim on game ${d.game} (${n === 0n ? "it has no claims" : `its claims are 1…${n}`}; \`opml claims\` lists them)`,
        culprit,
      );
    }
    if (c.status === ClaimStatus.Finalized)
      throw new UsageError(
        `claim ${id}: already finalized; nothing to do (its bond went to ${c.claimant}'s credit: \`opml withdraw\` with that key collects it)`,
        culprit,
      );
    if (c.status === ClaimStatus.Rejected)
      throw new UsageError(
        `claim ${id}: rejected by game ${c.rejectedBy}; nothing to finalize (its bond went to the challengers)`,
        culprit,
      );
    const b = await latestBlock(s.clients);
    const url = rpcUrlOf(s.clients);
    if (c.openGames > 0)
      throw new UsageError(
        `claim ${id}: not yet: ${c.openGames} game(s) still open on it; it finalizes only once every game on it ended for the claimant (\`opml claims\` shows them)`,
        culprit,
      );
    if (b.timestamp < c.deadline) {
      const left = c.deadline - b.timestamp;
      throw new UsageError(
        `claim ${id}: not yet: its challenge window closes ${inChainTime(left)} (at ${c.deadline}, chain time now ${b.timestamp}); on a local anvil \`opml warp ${left} --rpc-url ${url}\``,
        culprit,
      );
    }
    try {
      await send(s.clients, d.game, d.abis.game, "finalize", [id]);
    } catch (e) {
      // Another party finalized it between our read and our transaction.
      if (e instanceof TxError && revertName(e) === "AlreadyResolved")
        throw new UsageError(`claim ${id}: already finalized; nothing to do`, culprit);
      throw e;
    }
    console.log(
      `claim ${id} finalized: its bond of ${eth(c.bond)} is credited to ${c.claimant} (\`opml withdraw\` with that key collects it)`,
    );
  } finally {
    await s.close();
  }
}

/** `opml withdraw`: sends this key's credit on the game (won or returned bonds) to it. */
export async function withdrawCommand(a: ChainArgs): Promise<void> {
  const s = await chainSession("withdraw", a);
  try {
    const d = s.deployment;
    const who = s.clients.account.address;
    const credit = await withRetry(
      () =>
        s.clients.publicClient.readContract({
          address: d.game,
          abi: d.abis.game,
          functionName: "credit",
          args: [who],
        }),
      "credit",
    );
    if (credit === 0n)
      throw new UsageError(
        `${who}: nothing to withdraw from game ${d.game} (credit 0; a claim's bond is credited when it is finalized: \`opml claims\`)`,
        { address: who },
      );
    await send(s.clients, d.game, d.abis.game, "withdraw", []);
    console.log(`withdrew ${eth(credit)} from game ${d.game} to ${who}`);
  } finally {
    await s.close();
  }
}
