// Time on a local chain (issue 13, item 1), through the CLI against an anvil of the user's own (a
// block per transaction: its clock moves only with transactions): `opml warp`, `deploy
// --challenge-window/--clock-budget`, deadlines and the stuck-clock warning in `submit` and `watch`,
// a silent liar timed out as soon as chain time allows, `claims`, `finalize`, `withdraw` after an
// interrupted submit, and the embedded chain (warps itself, says that nobody is watching).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANVIL_KEYS, type Anvil, startAnvil } from "../../chain/anvil.js";
import { makeClients } from "../../chain/clients.js";
import { type CliResult, cliAsync, ROOT } from "../helpers/helpers.js";

const tmp = mkdtempSync(join(tmpdir(), "opml-time-"));
const MLP = join(ROOT, "fixtures/packages/mnist_mlp");
const DIGIT = join(ROOT, "fixtures/inputs/mnist_1.json");
const [KEY0, KEY1] = ANVIL_KEYS;
/** The environment of every child: no chain settings inherited from the shell running the tests. */
const ENV = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => k !== "OPML_RPC_URL" && k !== "OPML_PRIVATE_KEY"),
);

interface Child {
  p: ChildProcess;
  /** stdout and stderr together (the agents' log lines may go to either). */
  out: () => string;
  exited: Promise<number>;
  /** Resolves with the match once `re` matches the output; throws after `ms` or on exit. */
  waitFor: (re: RegExp, ms: number) => Promise<RegExpMatchArray>;
}

function spawnCli(args: string[]): Child {
  const p = spawn(process.execPath, [join(ROOT, "bin/opml.js"), ...args], { cwd: ROOT, env: ENV });
  let out = "";
  let done = false;
  p.stdout?.on("data", (d) => {
    out += d;
  });
  p.stderr?.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<number>((resolve) =>
    p.on("close", (code) => {
      done = true;
      resolve(code ?? -1);
    }),
  );
  const waitFor = async (re: RegExp, ms: number) => {
    const until = Date.now() + ms;
    for (;;) {
      const m = out.match(re);
      if (m) return m;
      if (done || Date.now() > until)
        throw new Error(`no ${re} within ${ms} ms (${done ? "exited" : "running"}):\n${out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { p, out: () => out, exited, waitFor };
}

const cli = (args: string[]) => cliAsync(args, { env: ENV });

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)),
  ]);
}

/** A user error: exit 1, one stderr line `opml: …` matching `re`, no stack. */
function expectUserError(r: CliResult, re: RegExp) {
  expect(r.code, r.stderr).toBe(1);
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^opml: /);
  expect(lines[0]).toMatch(re);
  expect(r.stderr).not.toContain("    at ");
  expect(r.stderr).not.toContain("internal error");
}

interface Listing {
  chainTime: number;
  claims: {
    id: number;
    status: string;
    closesIn: number;
    deadline: number;
    finalizable: boolean;
    openGames: number;
    games: number[];
    rejectedBy: number | null;
    bondWei: string;
  }[];
  games: {
    id: number;
    claimId: number;
    status: string;
    phase: string;
    mover: string | null;
    bondWei: string;
    claimantClock: number;
    timeoutAt: number | null;
  }[];
}

let anvil: Anvil;
let url: string;
const dep = join(tmp, "deployment.json");
const chainArgs = () => ["--rpc-url", url, "--deployment", dep];
const submitArgs = (key: string, ...more: string[]) => [
  "submit",
  ...chainArgs(),
  "--private-key",
  key,
  "--model",
  MLP,
  "--input",
  DIGIT,
  ...more,
];
async function claims(): Promise<Listing> {
  const r = await cli(["claims", ...chainArgs(), "--json"]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}
async function chainTime(): Promise<bigint> {
  const c = await makeClients(url, KEY0 as Hex);
  return (await c.publicClient.getBlock()).timestamp;
}

beforeAll(async () => {
  anvil = await startAnvil();
  url = anvil.rpcUrl;
});
afterAll(async () => {
  await anvil?.stop();
});

describe("opml deploy --challenge-window --clock-budget", () => {
  it("refuses a window or clock the contract would refuse, before deploying or writing anything", async () => {
    const out = join(tmp, "bad.json");
    const base = ["deploy", "--rpc-url", url, "--private-key", KEY0, "-o", out];
    expectUserError(
      await cli([...base, "--challenge-window", "0"]),
      /--challenge-window '0': expected whole seconds/,
    );
    expectUserError(
      await cli([...base, "--clock-budget", "4294967296"]),
      /--clock-budget '4294967296': expected whole seconds, 1 … 4294967295/,
    );
    expectUserError(await cli([...base, "--clock-budget", "1h"]), /--clock-budget '1h'/);
    expect(existsSync(out)).toBe(false);
  });

  it("passes them to the DisputeGame's constructor and records them in deployment.json", async () => {
    const r = await cli([
      "deploy",
      "--rpc-url",
      url,
      "--private-key",
      KEY0,
      "-o",
      dep,
      "--challenge-window",
      "30",
      "--clock-budget",
      "20",
      "--model",
      MLP,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/challenge window 30 s, clock budget 20 s of chain time/);
    const j = JSON.parse(readFileSync(dep, "utf8"));
    expect(j.params).toMatchObject({ challengeWindow: "30", clockBudget: "20", answerWindow: "60" });
    // The contract's immutables, read back.
    const c = await makeClients(url, KEY0 as Hex);
    const abi = [
      {
        type: "function",
        name: "challengeWindow",
        inputs: [],
        outputs: [{ type: "uint256" }],
        stateMutability: "view",
      },
      {
        type: "function",
        name: "clockBudget",
        inputs: [],
        outputs: [{ type: "uint256" }],
        stateMutability: "view",
      },
    ] as const;
    const read = (functionName: "challengeWindow" | "clockBudget") =>
      c.publicClient.readContract({ address: j.game, abi, functionName });
    expect(await read("challengeWindow")).toBe(30n);
    expect(await read("clockBudget")).toBe(20n);
    const l = await claims();
    expect(l.claims).toEqual([]);
  });
});

describe("opml warp", () => {
  let server: Server;
  let gethUrl: string;
  beforeAll(async () => {
    // A JSON-RPC node that is not a dev chain: no evm_increaseTime (geth's answer).
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => {
        body += d;
      });
      req.on("end", () => {
        const q = JSON.parse(body);
        const reply = (x: object) => res.end(JSON.stringify({ jsonrpc: "2.0", id: q.id, ...x }));
        res.setHeader("content-type", "application/json");
        if (q.method === "eth_chainId") return reply({ result: "0x1" });
        if (q.method === "web3_clientVersion")
          return reply({ result: "Geth/v1.14.0-stable/linux-amd64/go1.22" });
        if (q.method === "eth_getBlockByNumber")
          return reply({
            result: {
              number: "0x10",
              hash: `0x${"11".repeat(32)}`,
              parentHash: `0x${"22".repeat(32)}`,
              timestamp: "0x65000000",
              gasLimit: "0x1c9c380",
              gasUsed: "0x0",
              transactions: [],
              uncles: [],
            },
          });
        reply({ error: { code: -32601, message: `the method ${q.method} does not exist/is not available` } });
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    gethUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
  });

  it("moves an anvil's clock and mines a block, saying by how much", async () => {
    const before = await chainTime();
    const r = await cli(["warp", "100", "--rpc-url", url]);
    expect(r.code, r.stderr).toBe(0);
    const m = r.stdout.match(/^chain time (\d+) → (\d+) \(\+(\d+) s.*\), block (\d+) on (\S+)\n$/);
    expect(m, r.stdout).not.toBeNull();
    const [, from, to, plus, , on] = m ?? [];
    expect(BigInt(from)).toBe(before);
    expect(BigInt(to) - BigInt(from)).toBe(BigInt(plus));
    expect(Number(plus)).toBeGreaterThanOrEqual(100);
    expect(on).toBe(url);
    expect(await chainTime()).toBe(BigInt(to));
  });

  it("one line naming the problem: not a number, no URL, a node without evm_increaseTime", async () => {
    expectUserError(
      await cli(["warp", "abc", "--rpc-url", url]),
      /warp 'abc': expected a positive whole number of seconds/,
    );
    expectUserError(await cli(["warp", "-5", "--rpc-url", url]), /warp|seconds/);
    expectUserError(await cli(["warp", "10"]), /warp needs --rpc-url \(or OPML_RPC_URL\)/);
    const r = await cli(["warp", "10", "--rpc-url", gethUrl]);
    expectUserError(
      r,
      new RegExp(
        `^opml: ${gethUrl.replace(/[.:/]/g, "\\$&")}: the node \\(Geth/v1\\.14\\.0[^)]*\\) does not support evm_increaseTime .*works only on a local dev chain such as anvil$`,
      ),
    );
    expect(r.ms).toBeLessThan(10_000);
  });
});

describe("opml submit against the user's own anvil", () => {
  it("says when the window closes and, within seconds, that the clock is not moving; finishes after the warp it suggests", async () => {
    const sub = spawnCli(submitArgs(KEY0));
    try {
      await sub.waitFor(/claim posted/, 90_000);
      const posted = Date.now();
      await sub.waitFor(/claim \d+'s challenge window closes in 30 s of chain time/, 5000);
      const w = await sub.waitFor(
        /chain clock is not moving: anvil\/[^ ]+ at (\S+) mines a block only for a transaction[^"\n]*claim \d+'s challenge window closes in (\d+) s of chain time: on a local anvil run `opml warp (\d+) --rpc-url (\S+)`/,
        15_000,
      );
      expect(Date.now() - posted).toBeLessThan(15_000);
      expect(w[1]).toBe(url);
      expect(w[4]).toBe(url);
      expect(w[2]).toBe(w[3]);
      const warp = await cli(["warp", w[3], "--rpc-url", url]);
      expect(warp.code, warp.stderr).toBe(0);
      expect(await withTimeout(sub.exited, 30_000, "submit after the warp")).toBe(0);
      expect(sub.out()).toMatch(/claim finalized/);
    } finally {
      sub.p.kill("SIGKILL");
    }
  });

  it("an interrupted submit: claims lists it, finalize and withdraw finish it (one line when nothing to do or not yet)", async () => {
    const sub = spawnCli(submitArgs(KEY0));
    const m = await sub.waitFor(/claim (\d+)'s challenge window closes in/, 90_000);
    sub.p.kill("SIGKILL");
    await sub.exited;
    const id = m[1];
    let l = await claims();
    const c = l.claims.find((x) => x.id === Number(id));
    expect(c).toMatchObject({ status: "Pending", finalizable: false, openGames: 0, games: [] });
    expect(c?.bondWei).toBe("1000000000000000000");
    expect(c?.closesIn).toBeGreaterThan(0);
    expect(c?.closesIn).toBeLessThanOrEqual(30);
    expect(c?.deadline).toBe(l.chainTime + (c?.closesIn ?? 0));

    const fin = (claim: string, key: string = KEY0) =>
      cli(["finalize", ...chainArgs(), "--private-key", key, "--claim", claim]);
    const withdraw = () => cli(["withdraw", ...chainArgs(), "--private-key", KEY0]);
    expectUserError(
      await fin(id),
      new RegExp(
        `^opml: claim ${id}: not yet: its challenge window closes in \\d+ s of chain time .*\`opml warp \\d+ --rpc-url `,
      ),
    );
    expectUserError(
      await fin("99"),
      /^opml: claim 99: no such claim on game 0x[0-9a-fA-F]{40} \(its claims are 1…\d+/,
    );
    expectUserError(await fin("abc"), /--claim 'abc': expected a claim id/);
    expectUserError(await cli(["finalize", "--claim", id]), /finalize needs --deployment/);
    expectUserError(await cli(["claims", "--deployment", dep]), /claims needs --rpc-url \(or OPML_RPC_URL\)/);
    expectUserError(
      await withdraw(),
      /^opml: 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266: nothing to withdraw from game 0x/i,
    );

    expect((await cli(["warp", "31", "--rpc-url", url])).code).toBe(0);
    const text = await cli(["claims", ...chainArgs()]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(
        `\\n${id} +Pending +1 +0xf39F…2266 +1 ETH +closed \\d+ s ago .*finalizable: opml finalize --claim ${id}`,
      ),
    );
    expect(text.stdout).toMatch(/\n1 +Finalized /); // the first test's claim, by name
    expect(text.stdout).not.toMatch(/\n\d+ +\d+ +\d+ +0x/); // never a bare status number

    const f = await fin(id, KEY1); // anyone may finalize; the bond is the claimant's
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout).toMatch(
      new RegExp(
        `^claim ${id} finalized: its bond of 1 ETH is credited to 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266`,
        "i",
      ),
    );
    expectUserError(await fin(id), new RegExp(`^opml: claim ${id}: already finalized; nothing to do`));
    const wd = await withdraw();
    expect(wd.code, wd.stderr).toBe(0);
    expect(wd.stdout).toMatch(
      /^withdrew 1 ETH from game 0x[0-9a-fA-F]{40} to 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266/i,
    );
    expectUserError(await withdraw(), /nothing to withdraw/);
    l = await claims();
    expect(l.claims.find((x) => x.id === Number(id))).toMatchObject({
      status: "Finalized",
      finalizable: false,
    });
  });
});

describe("opml watch against a silent liar on the user's own anvil", () => {
  it("says what it waits for, warns that the clock stands still, and times the liar out as soon as chain time allows", async () => {
    const watch = spawnCli([
      "watch",
      ...chainArgs(),
      "--private-key",
      KEY1,
      "--model",
      MLP,
      "--state",
      join(tmp, "watch.json"),
      "--interval",
      "200",
    ]);
    const liar = spawnCli(submitArgs(KEY0, "--lie", "silent"));
    try {
      await watch.waitFor(/watching/, 90_000);
      const ch = await watch.waitFor(/challenged/, 90_000);
      const challenged = Date.now();
      expect(ch).toBeTruthy();
      const wait = await watch.waitFor(
        /waiting: the claimant's clock in game (\d+) runs out \(then `timeout` ends it for the challenger\) in (\d+) s of chain time/,
        15_000,
      );
      const stuck = await watch.waitFor(
        /chain clock is not moving[^"\n]*the claimant's clock in game \d+ runs out[^"\n]* in (\d+) s of chain time: on a local anvil run `opml warp (\d+) --rpc-url/,
        15_000,
      );
      expect(Date.now() - challenged).toBeLessThan(15_000);
      const gameId = Number(wait[1]);
      let l = await claims();
      const g = l.games.find((x) => x.id === gameId);
      expect(g).toMatchObject({
        status: "Open",
        phase: "Bisect",
        mover: "claimant",
        bondWei: "1000000000000000000",
      });
      expect(g?.timeoutAt).toBe(l.chainTime + Number(stuck[1]));
      const claim = l.claims.find((x) => x.id === g?.claimId);
      expect(claim).toMatchObject({ status: "Pending", openGames: 1, games: [gameId] });
      const text = await cli(["claims", ...chainArgs()]);
      expect(text.stdout).toMatch(new RegExp(`\\n${gameId} +${g?.claimId} +Open +0 +Bisect +claimant `));
      const fin = () =>
        cli(["finalize", ...chainArgs(), "--private-key", KEY1, "--claim", String(g?.claimId)]);
      expectUserError(
        await fin(),
        new RegExp(`^opml: claim ${g?.claimId}: not yet: 1 game\\(s\\) still open on it`),
      );

      // One warp of exactly what it said, and the timeout follows within seconds.
      expect((await cli(["warp", stuck[2], "--rpc-url", url])).code).toBe(0);
      const warped = Date.now();
      await watch.waitFor(/"timeout"|timeout.*opponent's clock ran out/, 20_000);
      await watch.waitFor(/game over[^\n]*ChallengerWon/, 10_000);
      expect(Date.now() - warped).toBeLessThan(25_000);
      expect(await withTimeout(liar.exited, 30_000, "the liar's submit")).toBe(0);
      expect(liar.out()).toMatch(/claim rejected/);
      l = await claims();
      expect(l.games.find((x) => x.id === gameId)?.status).toBe("ChallengerWon");
      expect(l.claims.find((x) => x.id === g?.claimId)).toMatchObject({
        status: "Rejected",
        rejectedBy: gameId,
      });
      expectUserError(
        await fin(),
        new RegExp(`^opml: claim ${g?.claimId}: rejected by game ${gameId}; nothing to finalize`),
      );
    } finally {
      watch.p.kill("SIGTERM");
      liar.p.kill("SIGKILL");
      await withTimeout(watch.exited, 15_000, "watch exit").catch(() => watch.p.kill("SIGKILL"));
    }
  });
});

describe("a chain whose clock moves by itself (anvil --block-time 1)", () => {
  it("an honest submit finishes on its own, with no warning", async () => {
    const timed = await startAnvil({ blockTime: 1 });
    try {
      const d = join(tmp, "timed.json");
      const r = await cli([
        "deploy",
        "--rpc-url",
        timed.rpcUrl,
        "--private-key",
        KEY0,
        "-o",
        d,
        "--challenge-window",
        "4",
        "--clock-budget",
        "4",
      ]);
      expect(r.code, r.stderr).toBe(0);
      const sub = spawnCli([
        "submit",
        "--rpc-url",
        timed.rpcUrl,
        "--deployment",
        d,
        "--private-key",
        KEY0,
        "--model",
        MLP,
        "--input",
        DIGIT,
      ]);
      expect(await withTimeout(sub.exited, 90_000, "submit on a moving clock")).toBe(0);
      expect(sub.out()).toMatch(/challenge window closes in [1-4] s of chain time/);
      expect(sub.out()).toMatch(/claim finalized/);
      expect(sub.out()).not.toMatch(/not moving/);
    } finally {
      await timed.stop();
    }
  });
});

describe("opml submit on the embedded chain", () => {
  it("warps by itself and says plainly that nobody is watching, so a lie finalizes", async () => {
    const t0 = Date.now();
    const r = await cli(["submit", "--model", MLP, "--input", DIGIT, "--lie", "output"]);
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(0);
    expect(out).toMatch(
      /nobody is watching claim 1: this embedded chain has no watchtower, so the claim finalizes unchallenged [^"\n]*\(the lie --lie output finalizes too\)/,
    );
    expect(out).toMatch(/warped the embedded chain \d+ s forward, past claim 1's challenge window/);
    expect(out).toMatch(/claim finalized/);
    expect(out).not.toMatch(/not moving/);
    expect(Date.now() - t0).toBeLessThan(60_000);
  });
});
