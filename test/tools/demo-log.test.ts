import { describe, expect, it } from "vitest";
import { cliAsync } from "../helpers/helpers.js";

const run = (args: string[]) => cliAsync(args);

describe("demo: stdout for people, the log on stderr", () => {
  it("JSON log lines only on stderr, with gameLevel, status names and the differing commitment", async () => {
    const r = await run(["demo", "--lie", "output"]);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const out = r.stdout.trimEnd().split("\n");
    expect(out[0]).toMatch(/^== chain: anvil on http:\/\/127\.0\.0\.1:\d+ \(embedded\)$/);
    for (const l of out) expect(l, "a log line on stdout").not.toMatch(/^\s*\{/);
    expect(r.stdout).toMatch(/watchtower won: \d+ graph rounds/);
    const lines = r.stderr
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines) {
      expect(["info", "warn", "error"]).toContain(l.level);
      expect(typeof l.msg).toBe("string");
    }
    const moves = lines.filter((l) => l.gameLevel !== undefined);
    expect(moves.length).toBeGreaterThan(0);
    for (const m of moves) expect([0, 1]).toContain(m.gameLevel);
    const over = lines.find((l) => l.msg === "game over");
    expect(over?.status).toBe("ChallengerWon");
    const wrong = lines.find((l) => String(l.msg).startsWith("claim is WRONG"));
    expect(wrong?.msg).toMatch(/^claim is WRONG: its output root/);
    expect(wrong?.claimedOutputRoot).toMatch(/^0x[0-9a-f]{64}$/);
    expect(wrong?.actualOutputRoot).toMatch(/^0x[0-9a-f]{64}$/);
    expect(wrong?.claimedOutputRoot).not.toBe(wrong?.actualOutputRoot);
  }, 240_000);

  it("--log-format pretty: one human line per event; an unknown format is one error line", async () => {
    const r = await run(["demo", "--lie", "silent", "--log-format", "pretty"]);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines) expect(l).toMatch(/^\d\d:\d\d:\d\d (INFO |WARN |ERROR) \S/);
    expect(r.stderr).toMatch(/ game over {2}.*status=ChallengerWon/);
    const bad = await run(["demo", "--log-format", "xml"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trimEnd().split("\n")).toEqual(["opml: --log-format 'xml': expected json or pretty"]);
  }, 240_000);
});
