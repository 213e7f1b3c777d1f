// Issue 8, finding 4: a claim's inputs come from the game's InputsPublished events (by its
// graphState0), never from the posting transaction. A roots-only claim whose inputs a request
// published is checked, and a wrong one is challenged and defeated.
import { parseEther } from "viem";
import { describe, expect, it } from "vitest";
import { send } from "../../chain/clients.js";
import { tensorBytes, toHex } from "../../commit/merkle.js";
import { ClaimTrace } from "../../game/claim-trace.js";
import { GameStatus, readGame } from "../../game/moves.js";
import { LyingView } from "../../submitter/lies.js";
import { defendOnce, gamesOf, type PostedClaim } from "../../submitter/submitter.js";
import { chain, digit, pkg, watchtower } from "../helpers/agents-chain.js";

describe("inputs from InputsPublished", () => {
  it("a roots-only lying claim on a request's inputs is challenged and defeated", async () => {
    const ch = await chain();
    try {
      const inputs = digit(2);
      await send(
        ch.user,
        ch.d.requests,
        ch.d.abis.requests,
        "request",
        [ch.modelId, inputs.map((t) => toHex(tensorBytes(t)))],
        parseEther("0.1"),
      );
      const truth = new ClaimTrace(pkg, inputs);
      const lie = { kind: "output" } as const;
      const view = new LyingView(truth, lie);
      const n = view.nNodes;
      const tx = await send(
        ch.sub,
        ch.d.game,
        ch.d.abis.game,
        "postClaim",
        [
          ch.modelId,
          view.inputRoots().map(toHex),
          toHex(view.outputRoot()),
          toHex(view.graphState(n)),
          toHex(view.tableRoot(n)),
          view.outputPath().map(toHex),
        ],
        ch.d.params.minBond,
      );
      const claim: PostedClaim = { claimId: 1n, view, truth, tx, outputRoot: view.outputRoot() };
      const { wt } = watchtower(ch);
      await wt.tick();
      expect(wt.state.claims["1"]).toBe("invalid");
      for (let i = 0; i < 80; i++) {
        const [g] = await gamesOf(ch.sub, ch.d, 1n);
        if ((await readGame(ch.sub, ch.d, g)).status !== GameStatus.Open) break;
        await defendOnce(ch.sub, ch.d, claim, lie).catch(() => {});
        await wt.tick();
      }
      const [g] = await gamesOf(ch.sub, ch.d, 1n);
      expect((await readGame(ch.sub, ch.d, g)).status).toBe(GameStatus.ChallengerWon);
    } finally {
      await ch.anvil.stop();
    }
  }, 180_000);
});
