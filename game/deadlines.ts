// The game's deadlines in chain time: a claim's challenge window, and the chess clock of the party
// to move in a game (when it runs out, anyone may call `timeout` and the other side wins). What an
// agent waits for, for its ChainClock (chain/clock.ts) to announce and watch.

import { type Clients, withRetry } from "../chain/clients.js";
import type { Deadline } from "../chain/clock.js";
import type { Deployment } from "./deploy.js";
import { type ClaimState, type GameState, GameStatus, moverRole, type Role } from "./moves.js";

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

/** The close of a claim's challenge window: `finalize` works from this timestamp on. */
export function windowDeadline(claimId: bigint, deadline: bigint): Deadline {
  return {
    key: `window:${claimId}`,
    what: `claim ${claimId}'s challenge window closes`,
    at: deadline,
    fields: { claimId },
  };
}

/** The first block timestamp at which `timeout` ends an open game (the mover's clock is spent). */
export function timeoutAt(g: GameState): bigint {
  const left = moverRole(g.phase) === "claimant" ? g.claimantClock : g.challengerClock;
  return g.lastMoveAt + left + 1n;
}

/**
 * What `role` waits for in game `gameId`: when the opponent is to move, its clock running out
 * (then `timeout` wins the game for `role`). Nothing when the game is over or it is role's move.
 */
export function gameDeadlines(gameId: bigint, g: GameState, role: Role): Deadline[] {
  if (g.status !== GameStatus.Open) return [];
  const mover = moverRole(g.phase);
  if (mover === role) return [];
  return [
    {
      key: `game:${gameId}:${g.lastMoveAt}:${g.phase}`,
      what: `the ${mover}'s clock in game ${gameId} runs out (then \`timeout\` ends it for the ${role})`,
      at: timeoutAt(g),
      fields: { gameId, claimId: g.claimId },
    },
  ];
}
