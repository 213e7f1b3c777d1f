// One move of the dispute game for either side, decided from the game's onchain state and the
// party's ClaimView. Stateless on purpose: a restarted party reads the game and continues.
import type { ContractFunctionArgs, ContractFunctionReturnType, Hex } from "viem";
import { type Clients, events, revertName, send, type TxResult, withRetry } from "../chain/clients.js";
import { type Hash, toHex } from "../commit/merkle.js";
import { encodeFields } from "../vm/state.js";
import { ClaimStatus, type disputeGameAbi, GameStatus, Phase } from "./abi.js";
import type { ClaimView, LinkInfo } from "./claim-trace.js";
import type { Deployment } from "./deploy.js";

export { ClaimStatus, GameStatus, Phase } from "./abi.js";

/** A game as gameOf returns it (the Game struct of IDisputeGame). */
export type GameState = ContractFunctionReturnType<typeof disputeGameAbi, "view", "gameOf">;
/** A claim as claimOf returns it (the Claim struct of IDisputeGame). */
export type ClaimState = ContractFunctionReturnType<typeof disputeGameAbi, "view", "claimOf">;

export async function readGame(c: Clients, d: Deployment, gameId: bigint): Promise<GameState> {
  return withRetry(
    () =>
      c.publicClient.readContract({
        address: d.game,
        abi: d.abis.game,
        functionName: "gameOf",
        args: [gameId],
      }),
    "gameOf",
  );
}

/** The graph node whose VM run a level-1 game disputes: the `parentIndex` of its PhaseEntered. */
export async function disputedNode(c: Clients, d: Deployment, gameId: bigint): Promise<number> {
  const logs = await events(c, d.game, d.abis.game, "PhaseEntered", { gameId }, d.block);
  const last = logs[logs.length - 1];
  if (!last) throw new Error(`game ${gameId}: no PhaseEntered event`);
  return Number(last.args.parentIndex);
}

/** The LinkData struct of INodeVmLink, as enterVm takes it. */
export type LinkData = ContractFunctionArgs<typeof disputeGameAbi, "nonpayable", "enterVm">[1];

/** The 12 words of the VM's final field block (LinkData.finalState, bytes32[12]). */
function words(fieldsBytes: Uint8Array): LinkData["finalState"] {
  const w = (i: number): Hex => toHex(fieldsBytes.subarray(32 * i, 32 * i + 32));
  return [w(0), w(1), w(2), w(3), w(4), w(5), w(6), w(7), w(8), w(9), w(10), w(11)];
}

/** The LinkData struct of INodeVmLink for viem. */
export function linkArgs(l: LinkInfo): LinkData {
  const big = (xs: number[]) => xs.map((x) => BigInt(x));
  const hx = (hs: Hash[]) => hs.map(toHex);
  return {
    node: {
      op: BigInt(l.desc.op),
      inKinds: big(l.desc.inKinds),
      inIndex: big(l.desc.inIndex),
      inHeights: big(l.desc.inHeights),
      outSlots: big(l.desc.outSlots),
      outHeights: big(l.desc.outHeights),
      params: big(l.desc.params),
    },
    nodePath: hx(l.nodePath),
    preTableRoot: toHex(l.tableRootBefore),
    inputRoots: l.inputs.map((i) => toHex(i.root)),
    inputPaths: l.inputs.map((i) => hx(i.path)),
    finalState: words(encodeFields(l.outputs[0].proof.fields)),
    steps: BigInt(l.steps),
    outputRoots: l.outputs.map((o) => toHex(o.root)),
    outputPaths: l.outputs.map((o) => hx(o.proof.path)),
    tablePaths: l.outputs.map((o) => hx(o.tablePath)),
  };
}

export type Role = "claimant" | "challenger";

export interface Move {
  kind: "bisect" | "respond" | "enterVm" | "proveStep" | "timeout" | "voidGame";
  level: number;
  lo: bigint;
  hi: bigint;
  tx: TxResult;
  detail?: string;
}

/** Whose turn: the claimant bisects and descends; the challenger responds and proves the last step. */
export function moverRole(phase: number): Role {
  return phase === Phase.Bisect || phase === Phase.Descend ? "claimant" : "challenger";
}

/** Seconds the mover has left (negative: expired). */
export function moverTimeLeft(g: GameState, now: bigint): bigint {
  const left = moverRole(g.phase) === "claimant" ? g.claimantClock : g.challengerClock;
  return left - (now - g.lastMoveAt);
}

/**
 * Plays one move for `role` if it is its turn; returns undefined if not. `node` is the disputed
 * graph node for level-1 games (see disputedNode).
 */
export async function playMove(
  c: Clients,
  d: Deployment,
  gameId: bigint,
  g: GameState,
  role: Role,
  view: ClaimView,
  node: () => Promise<number>,
): Promise<Move | undefined> {
  if (g.status !== GameStatus.Open || moverRole(g.phase) !== role) return undefined;
  const abi = d.abis.game;
  const mid = (g.lo + g.hi) / 2n;
  const base = { level: g.level, lo: g.lo, hi: g.hi };
  const truthAt = async (i: bigint): Promise<Hex> =>
    toHex(g.level === 0 ? view.graphState(Number(i)) : view.vmRoot(await node(), Number(i)));
  switch (g.phase) {
    case Phase.Bisect: {
      const root = await truthAt(mid);
      return { kind: "bisect", ...base, tx: await send(c, d.game, abi, "bisect", [gameId, root]) };
    }
    case Phase.Respond: {
      const agree = (await truthAt(mid)) === g.midRoot;
      return {
        kind: "respond",
        ...base,
        detail: agree ? "agree" : "disagree",
        tx: await send(c, d.game, abi, "respond", [gameId, agree]),
      };
    }
    case Phase.Descend: {
      const k = Number(g.lo);
      const tx = await send(c, d.game, abi, "enterVm", [gameId, linkArgs(view.link(k))]);
      return { kind: "enterVm", ...base, detail: `node ${k}, ${view.vmSteps(k)} steps`, tx };
    }
    case Phase.Step: {
      const proof = view.stepProof(await node(), Number(g.lo));
      return {
        kind: "proveStep",
        ...base,
        detail: `step ${g.lo}`,
        tx: await send(c, d.game, abi, "proveStep", [gameId, toHex(proof)]),
      };
    }
    default:
      return undefined;
  }
}

/** A claim as claimOf returns it (status None: no such claim). */
export function readClaim(c: Clients, d: Deployment, claimId: bigint): Promise<ClaimState> {
  return withRetry(
    () =>
      c.publicClient.readContract({
        address: d.game,
        abi: d.abis.game,
        functionName: "claimOf",
        args: [claimId],
      }),
    "claimOf",
  );
}

/** The claim's status (ClaimStatus) as the game sees it now. */
export async function claimStatus(c: Clients, d: Deployment, claimId: bigint): Promise<number> {
  return (await readClaim(c, d, claimId)).status;
}

/** Latest block timestamp (the next block's is at least this). */
export async function chainNow(c: Clients): Promise<bigint> {
  const b = await withRetry(() => c.publicClient.getBlock({ blockTag: "latest" }), "latest block");
  return b.timestamp;
}

/**
 * Voids an open game whose claim another game rejected (pays its challenger bond + share).
 * Undefined if the game ended meanwhile (it may be the very game that rejected the claim).
 */
export async function voidGame(
  c: Clients,
  d: Deployment,
  gameId: bigint,
  g: GameState,
): Promise<Move | undefined> {
  try {
    const tx = await send(c, d.game, d.abis.game, "voidGame", [gameId]);
    return {
      kind: "voidGame",
      level: g.level,
      lo: g.lo,
      hi: g.hi,
      tx,
      detail: "claim rejected by another game",
    };
  } catch (e) {
    if (revertName(e) === "AlreadyResolved") return undefined;
    throw e;
  }
}

/**
 * One turn of an open game for either side (issue 8, findings 5 and 9): if the claim was rejected
 * elsewhere the game is voided; if the opponent's clock ran out, `timeout` ends it in our favour;
 * if it is our turn, our move. Undefined when there is nothing to do now (the opponent's turn).
 * `claimRejected` lets the caller pass a status it already read.
 */
export async function playTurn(
  c: Clients,
  d: Deployment,
  gameId: bigint,
  g: GameState,
  role: Role,
  view: ClaimView | undefined,
  node: () => Promise<number>,
  opts: { now?: bigint; claimRejected?: boolean } = {},
): Promise<Move | undefined> {
  if (g.status !== GameStatus.Open) return undefined;
  const rejected = opts.claimRejected ?? (await claimStatus(c, d, g.claimId)) === ClaimStatus.Rejected;
  if (rejected) return voidGame(c, d, gameId, g);
  try {
    if (moverRole(g.phase) !== role) {
      const now = opts.now ?? (await chainNow(c));
      if (moverTimeLeft(g, now) >= 0n) return undefined;
      const tx = await send(c, d.game, d.abis.game, "timeout", [gameId]);
      return { kind: "timeout", level: g.level, lo: g.lo, hi: g.hi, tx, detail: "opponent's clock ran out" };
    }
    if (!view) return undefined;
    return await playMove(c, d, gameId, g, role, view, node);
  } catch (e) {
    // Rejected by another game between our read and our move: void this one and go on.
    const name = revertName(e);
    if (name === "ClaimAlreadyRejected") return voidGame(c, d, gameId, g);
    // Someone else ended the game first (its timeout or proof landed before ours): nothing to do.
    if (name === "AlreadyResolved") return undefined;
    throw e;
  }
}

/** Withdraws this account's credit from the game, if any; returns the amount withdrawn. */
export async function withdrawCredit(c: Clients, d: Deployment): Promise<bigint> {
  const credit = await withRetry(
    () =>
      c.publicClient.readContract({
        address: d.game,
        abi: d.abis.game,
        functionName: "credit",
        args: [c.account.address],
      }),
    "credit",
  );
  if (credit > 0n) await send(c, d.game, d.abis.game, "withdraw", []);
  return credit;
}
