// Issue 8, finding 10 (agents): one watchtower plays many games at once. Eight lying claims are
// challenged together while the liar answers every move as fast as it can; the watchtower
// interleaves (one move per game per pass, most urgent clock first), so no game waits for another
// to finish, and it wins all eight.
import { describe, expect, it } from "vitest";
import { warp } from "../../chain/clients.js";
import { GameStatus, readGame } from "../../game/moves.js";
import type { Lie } from "../../submitter/lies.js";
import { defendOnce, gamesOf, type PostedClaim, postClaim } from "../../submitter/submitter.js";
import { chain, digit, pkg, watchtower } from "../helpers/agents-chain.js";

describe("many games at once", () => {
  it("eight parallel games: interleaved moves, most urgent first, all won", async () => {
    const ch = await chain();
    try {
      const lies: Lie[] = [
        { kind: "output" },
        { kind: "node", node: 2 },
        { kind: "node", node: 3 },
        { kind: "afterHalt", node: 2 },
        { kind: "afterHalt", node: 3 },
        { kind: "step", step: 700, node: 2 },
        { kind: "step", step: 5000, node: 3 },
        { kind: "node", node: 0 },
      ];
      const claims: [PostedClaim, Lie][] = [];
      for (const [i, lie] of lies.entries())
        claims.push([await postClaim(ch.sub, ch.d, ch.modelId, pkg, digit(i % 3), lie), lie]);
      const { wt, lines } = watchtower(ch);
      await wt.scanClaims();
      expect(Object.keys(wt.state.games)).toHaveLength(8);
      // The liar bisects every game, the last one first: that game's challenger clock runs longest.
      for (const [cl, lie] of [...claims].reverse()) {
        await defendOnce(ch.sub, ch.d, cl, lie);
        await warp(ch.sub, 10n);
      }
      const gameIds: bigint[] = [];
      for (const [cl] of claims) gameIds.push(...(await gamesOf(ch.sub, ch.d, cl.claimId)));
      // From now on the liar answers in the background as fast as it can.
      let stop = false;
      const liar = (async () => {
        while (!stop) {
          for (const [cl, lie] of claims) await defendOnce(ch.sub, ch.d, cl, lie).catch(() => {});
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      const allOver = async () => {
        for (const g of gameIds)
          if ((await readGame(ch.sub, ch.d, g)).status === GameStatus.Open) return false;
        return true;
      };
      for (let i = 0; i < 200 && !(await allOver()); i++) await wt.playGames();
      stop = true;
      await liar;
      for (const g of gameIds)
        expect((await readGame(ch.sub, ch.d, g)).status, `game ${g}`).toBe(GameStatus.ChallengerWon);
      const moves = lines
        .filter((l) => ["respond", "proveStep"].includes(l.msg))
        .map((l) => String(l.fields.gameId));
      // Interleaved: the first eight moves are one per game, the most urgent (game 8) first.
      expect(new Set(moves.slice(0, 8)).size).toBe(8);
      expect(moves[0]).toBe(String(gameIds[7]));
    } finally {
      await ch.anvil.stop();
    }
  }, 300_000);
});
