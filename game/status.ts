// The contracts' enums by name, in one place: logs, tables and JSON print `ChallengerWon`, never `3`.
// The enums themselves are generated into abi.ts from contracts/src (tools/ci/abi.ts).
import { ClaimStatus, GameStatus, Phase } from "./abi.js";

function namer(e: Readonly<Record<string, number>>, what: string): (v: number | bigint) => string {
  const names = new Map(Object.entries(e).map(([k, v]) => [v, k]));
  return (v) => names.get(Number(v)) ?? `${what}(${v})`;
}

/** GameStatus's name: None, Open, ClaimantWon, ChallengerWon, Void (`GameStatus(9)` for an unknown value). */
export const gameStatusName = namer(GameStatus, "GameStatus");
/** ClaimStatus's name: None, Pending, Rejected, Finalized. */
export const claimStatusName = namer(ClaimStatus, "ClaimStatus");
/** Phase's name: Bisect, Respond, Descend, Step. */
export const phaseName = namer(Phase, "Phase");
