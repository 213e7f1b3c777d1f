// End to end on anvil: an honest claim finalizes, and the watchtower defeats every kind of lie
// (wrong output, wrong middle node, one wrong VM step, silence) with the real one-step verifier.
// The run's record (what `demo --json` prints and `--report` draws) names who made every move.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runDemo } from "../../tools/commands/demo.js";

const tmp = mkdtempSync(join(tmpdir(), "opml-e2e-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("dispute simulation on anvil (MNIST CNN)", () => {
  it("the honest claim finalizes and the watchtower wins every lie", async () => {
    const report = join(tmp, "demo.html");
    const r = await runDemo({ quiet: true, report });
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
      // The disputed node by name and op, and the one instruction the game ended on, decoded: the
      // agreed pre-state and the verifier's post-state are the honest trace's; the liar's is not.
      expect(d.node?.index).toBe(d.disputedNode);
      expect(d.node?.name).toMatch(/\S/);
      const f = d.finalStep!;
      expect(f.node).toBe(d.disputedNode);
      expect(f.opcode).toMatch(/^[a-z0-9_.]+$/);
      expect(f.pc).toBeGreaterThanOrEqual(0);
      expect(f.preRoot).toBe(f.honestPreRoot);
      expect(f.postRoot).toBe(f.honestPostRoot);
      expect(f.claimedPostRoot).not.toBe(f.postRoot);
      expect(f.claimantWon).toBe(false);
      expect(BigInt(f.step)).toBe(BigInt(d.moves.find((m) => m.kind === "proveStep")!.lo));
    }
    // `--lie step:N@K` corrupts the machine during step N: that very step (N → N + 1) is proven.
    expect(Number(step.finalStep!.step)).toBe(Number(step.lie.slice(5).split("@")[0]));
    // Silence loses on the clock, without a single bisection round.
    expect(silent.rounds).toEqual({ graph: 0, vm: 0 });
    expect(silent.finalStep).toBeUndefined();

    // Who made each move (issue 13: every move used to say "by":"claimant"): both parties, each
    // move kind by its side, and each party's gas is the sum of its own transactions.
    for (const d of r.disputes) {
      const by = (kind: string) => [...new Set(d.moves.filter((m) => m.kind === kind).map((m) => m.by))];
      expect(by("claim"), d.lie).toEqual(["claimant"]);
      expect(by("challenge"), d.lie).toEqual(["challenger"]);
      if (d !== silent) {
        expect(by("bisect"), d.lie).toEqual(["claimant"]);
        expect(by("enterVm"), d.lie).toEqual(["claimant"]);
        expect(by("respond"), d.lie).toEqual(["challenger"]);
        expect(by("proveStep"), d.lie).toEqual(["challenger"]);
        expect(d.moves.filter((m) => m.kind === "respond")).toHaveLength(d.rounds.graph + d.rounds.vm);
      } else expect(by("timeout")).toEqual(["challenger"]);
      for (const p of ["claimant", "challenger"] as const)
        expect(d.moves.filter((m) => m.by === p).reduce((s, m) => s + BigInt(m.gas), 0n)).toBe(
          BigInt(d.gas[p]),
        );
      // Chain time never goes back.
      expect(d.moves.every((m, i) => i === 0 || m.chainTime >= d.moves[i - 1].chainTime)).toBe(true);
    }
    // The honest claim's timeline: finalized after its window closed, in chain time.
    const h = r.honest!;
    expect(h.window.seconds).toBeGreaterThan(0);
    expect(h.finalized.chainTime).toBeGreaterThan(h.window.deadline);
    expect(h.finalized.wall).toBeGreaterThanOrEqual(h.posted.wall);
    // What `demo --json` prints: the same, as plain JSON (no bigint anywhere).
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    // The report: its summary table has one row per dispute.
    const page = readFileSync(report, "utf8");
    expect(page.match(/<tr class="dispute"/g)).toHaveLength(4);
    expect(page).toContain(`${step.finalStep!.opcode}</code> at pc ${step.finalStep!.pc}`);
  });
});
