// End to end on anvil: an honest claim finalizes, and the watchtower defeats every kind of lie
// (wrong output, wrong middle node, one wrong VM step, silence) with the real one-step verifier.
import { describe, expect, it } from "vitest";
import { runDemo } from "../../tools/commands/demo.js";

describe("dispute simulation on anvil (MNIST CNN)", () => {
  it("the honest claim finalizes and the watchtower wins every lie", async () => {
    const r = await runDemo({ quiet: true });
    expect(r.honestClaim).toBe("finalized");
    expect(r.disputes.map((d) => d.lie.split(":")[0])).toEqual(["output", "node", "step", "silent"]);
    for (const d of r.disputes) {
      expect(d.winner, `${d.lie}`).toBe("challenger");
      expect(BigInt(d.gas.challenger)).toBeGreaterThan(0n);
    }
    const [output, node, step, silent] = r.disputes;
    // Lies inside the computation are narrowed down to the node they corrupted and then to one step.
    expect(output.disputedNode).toBe(9);
    expect(node.disputedNode).toBe(Number(node.lie.split(":")[1]));
    expect(step.disputedNode).toBe(Number(step.lie.split("@")[1]));
    for (const d of [output, node, step]) {
      expect(d.rounds.vm).toBeGreaterThan(5);
      expect(d.moves.length).toBeGreaterThan(0);
    }
    // Silence loses on the clock, without a single bisection round.
    expect(silent.rounds).toEqual({ graph: 0, vm: 0 });
  });
});
