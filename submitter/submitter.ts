// The submitter: posts an inference claim with its bond and defends every game on it until each
// resolves. With a lie it asserts the lie consistently (see lies.ts); `silent` never moves.
import { type Clients, events, firstEvent, send, type TxResult, withRetry } from "../chain/clients.js";
import { type Hash, tensorBytes, toHex } from "../commit/merkle.js";
import type { ModelPackage } from "../dnn/src/package.js";
import { ClaimTrace, type ClaimView } from "../game/claim-trace.js";
import type { Deployment } from "../game/deploy.js";
import { disputedNode, GameStatus, type Move, playTurn, readGame } from "../game/moves.js";
import { type Lie, LyingView } from "./lies.js";

export interface PostedClaim {
  claimId: bigint;
  view: ClaimView;
  truth: ClaimTrace;
  tx: TxResult;
  outputRoot: Hash;
}

export function viewFor(truth: ClaimTrace, lie: Lie): ClaimView {
  return lie.kind === "none" ? truth : new LyingView(truth, lie.kind === "silent" ? { kind: "output" } : lie);
}

/** Posts a claim (inputs in calldata, roots computed onchain) with the minimum bond. */
export async function postClaim(
  c: Clients,
  d: Deployment,
  modelId: bigint,
  pkg: ModelPackage,
  inputs: Int32Array[],
  lie: Lie = { kind: "none" },
  truth = new ClaimTrace(pkg, inputs),
): Promise<PostedClaim> {
  const view = viewFor(truth, lie);
  const n = view.nNodes;
  const args = [
    modelId,
    inputs.map((t) => toHex(tensorBytes(t))),
    toHex(view.outputRoot()),
    toHex(view.graphState(n)),
    toHex(view.tableRoot(n)),
    view.outputPath().map(toHex),
  ] as const;
  const tx = await send(c, d.game, d.abis.game, "postClaimWithInputs", args, d.params.minBond);
  const receipt = await withRetry(
    () => c.publicClient.getTransactionReceipt({ hash: tx.hash }),
    "claim receipt",
  );
  const claimId = firstEvent(d.abis.game, receipt.logs, "ClaimPosted")?.args.claimId;
  if (claimId === undefined) throw new Error("postClaimWithInputs: no ClaimPosted event");
  return { claimId, view, truth, tx, outputRoot: view.outputRoot() };
}

/** Games opened against a claim. */
export async function gamesOf(c: Clients, d: Deployment, claimId: bigint): Promise<bigint[]> {
  const logs = await events(c, d.game, d.abis.game, "GameStarted", { claimId }, d.block);
  return logs.map((l) => l.args.gameId);
}

/**
 * Makes every move that is the claimant's to make right now, ends games whose challenger's clock
 * ran out (`timeout`, finding 9) and voids games on a claim rejected elsewhere (finding 5); returns
 * the moves made. Each game is handled on its own: one failing game does not stop the others; the
 * first error is rethrown after all games were tried.
 */
export async function defendOnce(c: Clients, d: Deployment, claim: PostedClaim, lie: Lie): Promise<Move[]> {
  if (lie.kind === "silent") return [];
  const moves: Move[] = [];
  let failure: unknown;
  for (const gameId of await gamesOf(c, d, claim.claimId)) {
    try {
      for (;;) {
        const g = await readGame(c, d, gameId);
        if (g.status !== GameStatus.Open) break;
        const m = await playTurn(c, d, gameId, g, "claimant", claim.view, () => disputedNode(c, d, gameId));
        if (!m) break;
        moves.push(m);
      }
    } catch (e) {
      failure ??= e;
    }
  }
  if (failure !== undefined) throw failure;
  return moves;
}
