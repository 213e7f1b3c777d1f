// The watchtower's operator surface (issue 13, item 4): Prometheus metrics with # HELP / # TYPE for
// every metric, last-block and balance gauges, counters that continue across a restart (restored
// from the state file), a /healthz that answers 200 with JSON while the RPC answers and 503 once it
// does not; and a "claim is WRONG" line that names the commitment that differs, with both values.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hex } from "viem";
import { describe, expect, it } from "vitest";
import { claimDifferences } from "../../challenger/watchtower.js";
import { defendOnce, postClaim } from "../../submitter/submitter.js";
import { chain, digit, pkg, watchtower } from "../helpers/agents-chain.js";

/** name → value of every sample, after checking each is preceded by its own HELP and TYPE lines. */
function parseMetrics(text: string): Map<string, string> {
  const lines = text.trimEnd().split("\n");
  const samples = new Map<string, string>();
  for (const [i, l] of lines.entries()) {
    if (l.startsWith("#")) continue;
    const [name, value] = l.split(" ");
    expect(lines[i - 2], `${name}: its # HELP line`).toMatch(new RegExp(`^# HELP ${name} \\S.*$`));
    expect(lines[i - 1], `${name}: its # TYPE line`).toMatch(new RegExp(`^# TYPE ${name} (counter|gauge)$`));
    if (lines[i - 1].endsWith("counter")) expect(name).toMatch(/_total$|_wei$/);
    expect(value).toMatch(/^[0-9]+(\.[0-9]+)?$/);
    samples.set(name, value);
  }
  expect(lines.filter((l) => l.startsWith("# HELP")).length).toBe(samples.size);
  return samples;
}

describe("claimDifferences: which commitment a wrong claim gets wrong", () => {
  const h = (b: number) => new Uint8Array(32).fill(b);
  const hex = (b: number) => `0x${b.toString(16).padStart(2, "0").repeat(32)}` as Hex;
  it("names the final graph state when the output root matches (the line used to print two equal roots)", () => {
    const d = claimDifferences({ outputRoot: hex(1), finalGraphState: hex(2) }, h(1), h(3));
    expect(d).toEqual([
      {
        name: "final graph state",
        field: "finalGraphState",
        key: "FinalGraphState",
        claimed: hex(2),
        actual: hex(3),
      },
    ]);
  });
  it("names the output root, or both, or none", () => {
    expect(
      claimDifferences({ outputRoot: hex(9), finalGraphState: hex(2) }, h(1), h(2)).map((x) => x.field),
    ).toEqual(["outputRoot"]);
    expect(
      claimDifferences({ outputRoot: hex(9), finalGraphState: hex(8) }, h(1), h(2)).map((x) => x.field),
    ).toEqual(["outputRoot", "finalGraphState"]);
    expect(claimDifferences({ outputRoot: hex(1), finalGraphState: hex(2) }, h(1), h(2))).toEqual([]);
  });
});

describe("watchtower metrics and /healthz", () => {
  it("HELP/TYPE for every metric, gauges, counters restored after a restart, 200 then 503", async () => {
    const ch = await chain();
    const state = join(mkdtempSync(join(tmpdir(), "opml-metrics-")), "watch.json");
    const a = watchtower(ch, ch.wtc, state);
    let b: ReturnType<typeof watchtower> | undefined;
    try {
      const claim = await postClaim(ch.sub, ch.d, ch.modelId, pkg, digit(1), { kind: "output" });
      const port = await a.wt.serveMetrics(0);
      await a.wt.tick(); // checks the claim and challenges it
      const lie = { kind: "output" } as const;
      for (let i = 0; i < 3; i++) {
        await defendOnce(ch.sub, ch.d, claim, lie); // the claimant's bisection move
        await a.wt.tick(); // the watchtower's answer
      }
      const m1 = parseMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      const head = await ch.sub.publicClient.getBlockNumber({ cacheTime: 0 });
      expect(m1.get("opml_claims_checked_total")).toBe("1");
      expect(m1.get("opml_games_total")).toBe("1");
      expect(Number(m1.get("opml_moves_total"))).toBeGreaterThan(0);
      expect(BigInt(m1.get("opml_last_block")!)).toBeGreaterThan(0n);
      expect(BigInt(m1.get("opml_last_block")!)).toBeLessThanOrEqual(head);
      expect(BigInt(m1.get("opml_chain_head_block")!)).toBeGreaterThan(0n);
      const bal = await ch.wtc.publicClient.getBalance({ address: ch.wtc.account.address });
      // Read within the last tick; it has not moved since (no transaction after the tick's read).
      expect(BigInt(m1.get("opml_balance_wei")!)).toBe(bal);

      // The wrong claim's line names what differs and prints both values of it.
      const wrong = a.lines.find((l) => l.msg.startsWith("claim is WRONG"));
      expect(wrong?.msg).toMatch(/^claim is WRONG: its output root( and its final graph state)? differs?$/);
      expect(wrong?.fields.claimId).toBe(claim.claimId);
      expect(wrong?.fields.claimedOutputRoot).not.toBe(wrong?.fields.actualOutputRoot);
      expect(String(wrong?.fields.differs)).toMatch(/^outputRoot(,finalGraphState)?$/);

      const h1 = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(h1.status).toBe(200);
      expect(h1.headers.get("content-type")).toBe("application/json");
      const j1 = await h1.json();
      expect(j1.status).toBe("ok");
      expect(BigInt(j1.head)).toBeGreaterThanOrEqual(BigInt(m1.get("opml_last_block")!));
      expect(j1.openGames).toBeGreaterThanOrEqual(0);
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);

      // The counters are in the state file and a restarted watchtower continues them.
      const saved = JSON.parse(readFileSync(state, "utf8")).metrics;
      expect(saved.claimsChecked).toBe(1);
      a.wt.close();
      b = watchtower(ch, ch.wtc, state);
      await b.wt.init();
      const port2 = await b.wt.serveMetrics(0);
      const m2 = parseMetrics(await (await fetch(`http://127.0.0.1:${port2}/metrics`)).text());
      for (const k of [
        "opml_claims_checked_total",
        "opml_games_total",
        "opml_moves_total",
        "opml_steps_proven_total",
        "opml_games_won_total",
        "opml_bonds_won_wei",
        "opml_rpc_errors_total",
      ])
        expect(m2.get(k), k).toBe(m1.get(k));
      expect(m2.get("opml_last_block")).toBe(m1.get("opml_last_block"));
      expect(b.lines.some((l) => l.msg === "resumed")).toBe(true);

      // The RPC goes away: /healthz says so within seconds, with the reason.
      await ch.anvil.stop();
      const t0 = Date.now();
      const h2 = await fetch(`http://127.0.0.1:${port2}/healthz`);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(h2.status).toBe(503);
      const j2 = await h2.json();
      expect(j2.status).toBe("rpc-failing");
      expect(j2.error).toMatch(/fetch failed|ECONNREFUSED|timeout|aborted/i);
    } finally {
      a.wt.close();
      b?.wt.close();
      await ch.anvil.stop();
    }
  }, 180_000);
});
