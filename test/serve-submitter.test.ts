// serve-submitter on anvil: a user requests an inference with a reward; the service answers with a
// claim, the watchtower finds it correct, and after the window the claim finalizes and the reward
// reaches the submitter.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Hex, parseEther } from "viem";
import { describe, expect, it } from "vitest";
import { Watchtower } from "../challenger/watchtower.js";
import { tensorBytes, toHex } from "../dnn/src/commit.js";
import { loadPackage, prepareInputs } from "../dnn/src/package.js";
import { SubmitterService } from "../submitter/serve.js";
import { ANVIL_KEYS, startAnvil } from "../tools/chain/anvil.js";
import { makeClients, send, warp } from "../tools/chain/clients.js";
import { DEFAULT_PARAMS, deployAll, registerModel } from "../tools/chain/deploy.js";
import { FIXTURES } from "../tools/fixtures.js";

describe("serve-submitter", () => {
  it("answers an onchain request, survives the window unchallenged, and collects the reward", async () => {
    const anvil = await startAnvil();
    try {
      const sub = await makeClients(anvil.rpcUrl, ANVIL_KEYS[0] as Hex);
      const wtc = await makeClients(anvil.rpcUrl, ANVIL_KEYS[1] as Hex);
      const user = await makeClients(anvil.rpcUrl, ANVIL_KEYS[2] as Hex);
      const d = await deployAll(sub, DEFAULT_PARAMS);
      const pkg = loadPackage(join(FIXTURES, "packages", "mnist_mlp"));
      const modelId = await registerModel(sub, d, pkg);
      const json = JSON.parse(readFileSync(join(FIXTURES, "inputs", "mnist_1.json"), "utf8"));
      const inputs = prepareInputs(pkg.manifest, json, "mnist_1.json");
      await send(
        user,
        d.requests,
        d.abis.requests,
        "request",
        [modelId, inputs.map((t) => toHex(tensorBytes(t)))],
        parseEther("0.5"),
      );
      const quiet = () => {};
      const service = new SubmitterService(sub, d, new Map([[modelId, pkg]]), quiet);
      const wt = new Watchtower(wtc, d, new Map([[pkg.manifest.modelRoot, pkg]]), undefined, quiet);
      await service.tick();
      expect(Object.keys(service.served)).toEqual(["1"]);
      await wt.tick();
      expect(wt.state.claims["1"]).toBe("valid");
      const before = await sub.publicClient.getBalance({ address: sub.account.address });
      await warp(sub, d.params.challengeWindow + 1n);
      await service.tick();
      expect(service.served["1"].done).toBe(true);
      const after = await sub.publicClient.getBalance({ address: sub.account.address });
      // Bond back (1 ETH) plus the 0.5 ETH reward, minus a little gas.
      expect(after - before).toBeGreaterThan(parseEther("1.45"));
      const r = (await sub.publicClient.readContract({
        address: d.requests,
        abi: d.abis.requests,
        functionName: "requestOf",
        args: [1n],
      })) as { paid: boolean };
      expect(r.paid).toBe(true);
    } finally {
      await anvil.stop();
    }
  }, 120_000);
});
