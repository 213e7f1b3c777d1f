// Issue 8, finding 12: a watchtower's state file is bound to its chain (chain id, genesis hash,
// game address). After an anvil restart and redeploy (same addresses, new genesis) the old file is
// refused with one line naming the file and what differs; --rescan starts over and the new lying
// claim is challenged.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hex } from "viem";
import { describe, expect, it } from "vitest";
import { ANVIL_KEYS, startAnvil } from "../../chain/anvil.js";
import { makeClients, warp } from "../../chain/clients.js";
import { DEFAULT_PARAMS, deployAll, registerModel } from "../../game/deploy.js";
import { saveDeployment, UsageError } from "../../game/session.js";
import { loadBound } from "../../game/state-file.js";
import { postClaim } from "../../submitter/submitter.js";
import { digit, MLP, pkg } from "../helpers/agents-chain.js";
import { cli } from "../helpers/helpers.js";

const binding = {
  chainId: 31337,
  genesisHash: `0x${"ab".repeat(32)}` as Hex,
  game: `0x${"11".repeat(20)}` as Hex,
};
const fresh = () => ({ lastBlock: "0" });

describe("state files bound to their chain", () => {
  it("loadBound refuses another chain id, genesis, game, or a lastBlock beyond the head", () => {
    const dir = mkdtempSync(join(tmpdir(), "opml-state-"));
    const f = join(dir, "s.json");
    writeFileSync(f, JSON.stringify({ lastBlock: "5", chain: binding }));
    expect(loadBound(f, binding, 10n, fresh).resumed).toBe(true);
    expect(() => loadBound(f, { ...binding, chainId: 1 }, 10n, fresh)).toThrow(
      /s\.json: written for chain id 31337.* 1; pass --rescan/,
    );
    expect(() => loadBound(f, { ...binding, genesisHash: `0x${"cd".repeat(32)}` }, 10n, fresh)).toThrow(
      /genesis/,
    );
    expect(() => loadBound(f, { ...binding, game: `0x${"22".repeat(20)}` }, 10n, fresh)).toThrow(/game/);
    expect(() => loadBound(f, binding, 4n, fresh)).toThrow(/lastBlock 5 is beyond the chain head 4/);
    expect(() => loadBound(f, binding, 4n, fresh)).toThrow(UsageError);
    expect(loadBound(f, binding, 4n, fresh, true).resumed).toBe(false);
    writeFileSync(f, JSON.stringify({ lastBlock: "5", claims: {} })); // an older, unbound file
    expect(() => loadBound(f, binding, 10n, fresh)).toThrow(/without a chain binding/);
  });

  it("after an anvil restart and redeploy, `opml watch` refuses the old file (exit 1) and --rescan challenges the new lie", async () => {
    const dir = mkdtempSync(join(tmpdir(), "opml-state-"));
    const dep = join(dir, "deployment.json");
    const state = join(dir, "watch.json");
    const watch = (url: string, ...extra: string[]) =>
      cli([
        "watch",
        "--rpc-url",
        url,
        "--private-key",
        ANVIL_KEYS[1],
        "--deployment",
        dep,
        "--model",
        MLP,
        "--state",
        state,
        "--once",
        ...extra,
      ]);
    let anvil = await startAnvil();
    try {
      const sub = await makeClients(anvil.rpcUrl, ANVIL_KEYS[0] as Hex);
      const d = await deployAll(sub, DEFAULT_PARAMS);
      saveDeployment(dep, d);
      const modelId = await registerModel(sub, d, pkg);
      await postClaim(sub, d, modelId, pkg, digit(1));
      for (let i = 0; i < 20; i++) await warp(sub, 1n); // the old chain runs ahead
      const r1 = watch(anvil.rpcUrl);
      expect(r1.code, r1.stderr).toBe(0);
      expect(JSON.parse(readFileSync(state, "utf8")).claims["1"]).toBe("valid");
    } finally {
      await anvil.stop();
    }
    anvil = await startAnvil();
    try {
      const sub = await makeClients(anvil.rpcUrl, ANVIL_KEYS[0] as Hex);
      const d = await deployAll(sub, DEFAULT_PARAMS);
      saveDeployment(dep, d); // same addresses: only the genesis (and the head) tell the chains apart
      const modelId = await registerModel(sub, d, pkg);
      const lie = await postClaim(sub, d, modelId, pkg, digit(1), { kind: "output" });
      const r2 = watch(anvil.rpcUrl);
      expect(r2.code).toBe(1);
      const lines = r2.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /watch\.json: written for genesis 0x[0-9a-f]{64}, the chain's genesis is 0x[0-9a-f]{64}.*--rescan/,
      );
      const r3 = watch(anvil.rpcUrl, "--rescan");
      expect(r3.code, r3.stderr).toBe(0);
      const s = JSON.parse(readFileSync(state, "utf8"));
      expect(s.claims[lie.claimId.toString()]).toBe("invalid");
      expect(Object.keys(s.games)).toHaveLength(1);
      expect(existsSync(state)).toBe(true);
    } finally {
      await anvil.stop();
    }
  }, 180_000);
});
