// Crash safety: the watchtower is killed with SIGKILL at several points of a dispute and restarted
// from its state file; it still wins within the clocks and loses no bond.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hex } from "viem";
import { describe, expect, it } from "vitest";
import { ANVIL_KEYS, startAnvil } from "../../chain/anvil.js";
import { makeClients } from "../../chain/clients.js";
import { loadPackage, prepareInputs } from "../../dnn/src/package.js";
import { DEFAULT_PARAMS, deployAll, registerModel } from "../../game/deploy.js";
import { GameStatus, readGame } from "../../game/moves.js";
import { saveDeployment } from "../../game/session.js";
import { defendOnce, gamesOf, postClaim } from "../../submitter/submitter.js";
import { FIXTURES } from "../../tools/fixtures.js";
import { ROOT, rng } from "../helpers/helpers.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("watchtower crash safety", () => {
  it("killed with SIGKILL at several points and restarted, it still wins and keeps its bond", async () => {
    const anvil = await startAnvil();
    const dir = mkdtempSync(join(tmpdir(), "opml-crash-"));
    let child: ChildProcess | undefined;
    try {
      const sub = await makeClients(anvil.rpcUrl, ANVIL_KEYS[0] as Hex);
      const wtc = await makeClients(anvil.rpcUrl, ANVIL_KEYS[1] as Hex);
      const d = await deployAll(sub, DEFAULT_PARAMS);
      const depFile = join(dir, "deployment.json");
      saveDeployment(depFile, d);
      const pkgDir = join(FIXTURES, "packages", "mnist_cnn");
      const pkg = loadPackage(pkgDir);
      const modelId = await registerModel(sub, d, pkg);
      const json = JSON.parse(readFileSync(join(FIXTURES, "inputs", "mnist_2.json"), "utf8"));
      const inputs = prepareInputs(pkg.manifest, json, "mnist_2.json");
      const before = await wtc.publicClient.getBalance({ address: wtc.account.address });
      const lie = { kind: "step", step: 1_500_000, node: 3 } as const;
      const claim = await postClaim(sub, d, modelId, pkg, inputs, lie);

      const startWatchtower = () =>
        spawn(
          process.execPath,
          [
            join(ROOT, "bin/opml.js"),
            "watch",
            "--rpc-url",
            anvil.rpcUrl,
            "--private-key",
            ANVIL_KEYS[1],
            "--deployment",
            depFile,
            "--model",
            pkgDir,
            "--state",
            join(dir, "watch.json"),
            "--interval",
            "50",
          ],
          { stdio: "ignore" },
        );
      const r = rng(7);
      let kills = 0;
      let status: number = GameStatus.None;
      const deadline = Date.now() + 240_000;
      while (Date.now() < deadline) {
        child = startWatchtower();
        const runFor = kills < 5 ? 600 + Math.floor(r() * 2500) : 60_000;
        const until = Date.now() + runFor;
        while (Date.now() < until) {
          await defendOnce(sub, d, claim, lie);
          const games = await gamesOf(sub, d, claim.claimId);
          if (games.length > 0) status = (await readGame(sub, d, games[0])).status;
          if (status !== GameStatus.None && status !== GameStatus.Open) break;
          await sleep(50);
        }
        if (status !== GameStatus.None && status !== GameStatus.Open) {
          await sleep(1500); // let it withdraw
          child.kill("SIGKILL");
          break;
        }
        child.kill("SIGKILL");
        kills++;
      }
      expect(kills).toBeGreaterThanOrEqual(3);
      expect(status).toBe(GameStatus.ChallengerWon);
      // Its own bond back plus its share of the claimant's (half is burned, the rest split over the
      // games open at the rejection: here only this one), minus gas: it gained about half a bond.
      const credit = (await wtc.publicClient.readContract({
        address: d.game,
        abi: d.abis.game,
        functionName: "credit",
        args: [wtc.account.address],
      })) as bigint;
      const after = (await wtc.publicClient.getBalance({ address: wtc.account.address })) + credit;
      expect(after - before).toBeGreaterThan((DEFAULT_PARAMS.minBond * 45n) / 100n);
    } finally {
      child?.kill("SIGKILL");
      await anvil.stop();
    }
  }, 300_000);
});
