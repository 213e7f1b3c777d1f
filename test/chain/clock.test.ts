// ChainClock: announces what an agent waits for in chain time and warns when the chain's clock
// does not move (issue 13, "Time on a local chain"), on a fake wall clock, without a node.
import { describe, expect, it } from "vitest";
import type { Clients } from "../../chain/clients.js";
import { ChainClock, type Deadline } from "../../chain/clock.js";
import type { Logger } from "../../chain/log.js";

const fakeClients = {
  chain: { rpcUrls: { default: { http: ["http://127.0.0.1:8545"] } } },
} as unknown as Clients;

function clock(opts: { stallMs?: number } = {}) {
  let wall = 0;
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const log: Logger = (level, msg, fields = {}) => {
    lines.push({ level, msg, fields });
  };
  const c = new ChainClock(fakeClients, log, {
    probe: false,
    stallMs: opts.stallMs ?? 10_000,
    wallMs: () => wall,
  });
  return {
    c,
    lines,
    advance: (ms: number) => {
      wall += ms;
    },
  };
}

const window: Deadline = { key: "window:1", what: "claim 1's challenge window closes", at: 1000n };

describe("ChainClock", () => {
  it("announces a deadline it waited on, and warns once the timestamp stands still for stallMs", async () => {
    const { c, lines, advance } = clock();
    await c.observe(900n, [window]);
    expect(lines).toEqual([]); // not announced at once: the opponent may be about to move
    advance(2500);
    await c.observe(900n, [window]);
    expect(lines.map((l) => l.msg)).toEqual([
      "waiting: claim 1's challenge window closes in 100 s of chain time",
    ]);
    expect(lines[0].fields).toMatchObject({ deadline: 1000n, chainTime: 900n, inSeconds: 100n });
    for (let i = 0; i < 7; i++) {
      advance(1000);
      await c.observe(900n, [window]);
    }
    expect(lines.filter((l) => l.level === "warn")).toHaveLength(0); // 9.5 s: not yet
    advance(1000);
    await c.observe(900n, [window]);
    const warns = lines.filter((l) => l.level === "warn");
    expect(warns).toHaveLength(1);
    expect(warns[0].msg).toMatch(
      /^chain clock is not moving: the latest block's timestamp 900 has not changed for 11 s; claim 1's challenge window closes in 100 s of chain time: on a local anvil run `opml warp 100 --rpc-url http:\/\/127\.0\.0\.1:8545` \(or start anvil with --block-time 1\)$/,
    );
    advance(5000);
    await c.observe(900n, [window]);
    expect(lines.filter((l) => l.level === "warn")).toHaveLength(1); // not repeated every poll
  });

  it("does not warn while the timestamp moves, nor for a deadline already reached", async () => {
    const { c, lines, advance } = clock({ stallMs: 3000 });
    for (let t = 900n; t < 1000n; t += 12n) {
      advance(2000);
      await c.observe(t, [window]);
    }
    expect(lines.filter((l) => l.level === "warn")).toEqual([]);
    expect(lines.some((l) => l.msg.startsWith("waiting: claim 1's challenge window closes in"))).toBe(true);
    const before = lines.length;
    for (let i = 0; i < 10; i++) {
      advance(2000);
      await c.observe(1000n, [window]); // reached: nothing to wait for
    }
    expect(lines.length).toBe(before);
  });

  it("waits on the nearest deadline and names it", async () => {
    const { c, lines, advance } = clock({ stallMs: 3000 });
    const game: Deadline = {
      key: "game:1",
      what: "the claimant's clock in game 1 runs out (then `timeout` ends it for the challenger)",
      at: 950n,
    };
    await c.observe(900n, [window, game]);
    advance(4000);
    await c.observe(900n, [window, game]);
    const warn = lines.find((l) => l.level === "warn");
    expect(warn?.msg).toContain("the claimant's clock in game 1 runs out");
    expect(warn?.msg).toContain("`opml warp 50 ");
  });
});
