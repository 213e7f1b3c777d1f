// The adversarial harness in CI: every strategy once, seeded, with chaos (watchtower SIGKILLs and
// RPC outages). The full 200-game run is `npm run adversarial -- --games 200` (a benchmark).
import { describe, expect, it } from "vitest";
import { runAdversarial } from "../../tools/adversarial/run.js";
import { STRATEGIES } from "../../tools/adversarial/strategies.js";

describe("adversarial harness", () => {
  it("sees a false claim finalize when no watchtower is watching", async () => {
    const r = await runAdversarial({
      games: 1,
      seed: 3,
      strategies: ["lie-output"],
      watchtower: false,
      killRate: 0,
      outageRate: 0,
    });
    expect(r.honestWins).toBe(0);
    expect(r.violations.map((v) => v.what)).toContainEqual(
      expect.stringMatching(/^false claim \d+ finalized$/),
    );
  }, 300_000);

  it("every strategy once, with chaos: the honest side wins every game", async () => {
    const r = await runAdversarial({ games: STRATEGIES.length, seed: 7, killRate: 0.5, outageRate: 0.3 });
    expect(r.violations).toEqual([]);
    expect(r.honestWins).toBe(STRATEGIES.length);
    expect(Object.keys(r.byStrategy).sort()).toEqual(STRATEGIES.map((s) => s.name).sort());
    expect(r.watchtowerKills).toBeGreaterThan(0);
  }, 1_200_000);
});
