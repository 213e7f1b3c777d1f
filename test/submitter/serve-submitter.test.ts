// serve-submitter on anvil: a user requests an inference with a reward; the service answers with a
// claim, the watchtower finds it correct, and after the window the claim finalizes and the reward
// reaches the submitter.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Hex, parseEther } from "viem";
import { describe, expect, it } from "vitest";
import { ANVIL_KEYS, startAnvil } from "../../chain/anvil.js";
import { type Clients, makeClients, send, warp } from "../../chain/clients.js";
import { Watchtower } from "../../challenger/watchtower.js";
import { tensorBytes, toHex } from "../../commit/merkle.js";
import { loadPackage, prepareInputs } from "../../dnn/src/package.js";
import { DEFAULT_PARAMS, type Deployment, deployAll, registerModel } from "../../game/deploy.js";
import { SubmitterService } from "../../submitter/serve.js";
import { FIXTURES } from "../../tools/fixtures.js";

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
      })) as { paid?: boolean; closed?: boolean };
      expect(r.closed ?? r.paid).toBe(true);
    } finally {
      await anvil.stop();
    }
  }, 120_000);
});

describe("serve-submitter never loses a bond to a request someone else answers (finding 2)", () => {
  const quiet = () => {};
  const claimsBy = async (c: Clients, d: Deployment, who: Clients) =>
    (
      await c.publicClient.getContractEvents({
        address: d.game,
        abi: d.abis.game,
        eventName: "ClaimPosted",
        args: { claimant: who.account.address },
        fromBlock: d.block,
      })
    ).length;

  async function setup() {
    const anvil = await startAnvil();
    const [a, b, user, wtc] = await Promise.all(ANVIL_KEYS.map((k) => makeClients(anvil.rpcUrl, k as Hex)));
    const d = await deployAll(a, DEFAULT_PARAMS);
    const pkg = loadPackage(join(FIXTURES, "packages", "mnist_mlp"));
    const modelId = await registerModel(a, d, pkg);
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
    const models = new Map([[modelId, pkg]]);
    return { anvil, a, b, user, wtc, d, pkg, modelId, models };
  }

  it("a request held by another valid claim is left alone: no claim, no bond at risk", async () => {
    const s = await setup();
    try {
      await new SubmitterService(s.a, s.d, s.models, quiet).tick();
      const sb = new SubmitterService(s.b, s.d, s.models, quiet);
      for (let i = 0; i < 3; i++) await sb.tick().catch(() => {});
      expect(await claimsBy(s.a, s.d, s.b)).toBe(0);
      expect(sb.served["1"].status).toBe("held");
    } finally {
      await s.anvil.stop();
    }
  }, 120_000);

  it("a holder whose claim is rejected before the deadline is replaced, and the reward reaches the honest service", async () => {
    const s = await setup();
    try {
      const lie = { kind: "node", node: 2 } as const;
      const liar = new SubmitterService(s.a, s.d, s.models, quiet, undefined, lie);
      await liar.tick();
      const sb = new SubmitterService(s.b, s.d, s.models, quiet);
      await sb.tick();
      expect(sb.served["1"].status).toBe("held");
      const wt = new Watchtower(s.wtc, s.d, new Map([[s.pkg.manifest.modelRoot, s.pkg]]), undefined, quiet);
      for (let i = 0; i < 80 && !liar.served["1"].done; i++) {
        await wt.tick();
        await liar.tick().catch(() => {});
      }
      expect(liar.served["1"].reason).toBe("claim rejected");
      await sb.tick(); // the holder was rejected: B answers now
      expect(sb.served["1"].status).toBe("answered");
      await wt.tick();
      await warp(s.b, s.d.params.challengeWindow + 1n);
      const before = await s.b.publicClient.getBalance({ address: s.b.account.address });
      await sb.tick();
      expect(sb.served["1"]).toMatchObject({ done: true, result: "rewarded" });
      const after = await s.b.publicClient.getBalance({ address: s.b.account.address });
      expect(after - before).toBeGreaterThan(parseEther("1.45"));
      expect(await claimsBy(s.a, s.d, s.b)).toBe(1);
    } finally {
      await s.anvil.stop();
    }
  }, 180_000);

  it("an answer that reverts (another answer got in first) keeps the claim tracked and defended; its bond comes back", async () => {
    const s = await setup();
    try {
      const sa = new SubmitterService(s.a, s.d, s.models, quiet);
      const sb = new SubmitterService(s.b, s.d, s.models, quiet);
      // Race: A answers between B's postClaim and B's answer.
      const proto = sb as unknown as { sendAnswer: (...x: unknown[]) => Promise<void> };
      const orig = proto.sendAnswer.bind(sb);
      let raced = false;
      proto.sendAnswer = async (...x: unknown[]) => {
        if (!raced) {
          raced = true;
          await sa.tick();
        }
        return orig(...x);
      };
      for (let i = 0; i < 3; i++) await sb.tick().catch(() => {});
      expect(await claimsBy(s.a, s.d, s.b)).toBe(1);
      expect(await claimsBy(s.a, s.d, s.a)).toBe(1);
      await warp(s.b, s.d.params.challengeWindow + 1n);
      await sa.tick();
      await sb.tick();
      expect(sa.served["1"].done && sb.served["1"].done).toBe(true);
      const results = [sa.served["1"].result, sb.served["1"].result];
      expect(results.filter((r) => r === "rewarded")).toHaveLength(1);
      for (const c of [1n, 2n]) {
        const valid = await s.a.publicClient.readContract({
          address: s.d.game,
          abi: s.d.abis.game,
          functionName: "isValid",
          args: [c],
        });
        expect(valid).toBe(true);
      }
    } finally {
      await s.anvil.stop();
    }
  }, 180_000);
});

describe("one bad request never blocks the rest (finding 3)", () => {
  it("a request with a 3-byte input is marked malformed; a good request in the same tick is answered", async () => {
    const anvil = await startAnvil();
    try {
      const [sub, user] = await Promise.all(
        [ANVIL_KEYS[0], ANVIL_KEYS[2]].map((k) => makeClients(anvil.rpcUrl, k as Hex)),
      );
      const d = await deployAll(sub, DEFAULT_PARAMS);
      const pkg = loadPackage(join(FIXTURES, "packages", "mnist_mlp"));
      const modelId = await registerModel(sub, d, pkg);
      const json = JSON.parse(readFileSync(join(FIXTURES, "inputs", "mnist_1.json"), "utf8"));
      const good = prepareInputs(pkg.manifest, json, "mnist_1.json").map((t) => toHex(tensorBytes(t)));
      let badPosted = true;
      await send(user, d.requests, d.abis.requests, "request", [modelId, ["0x010203"]], 1n).catch(() => {
        badPosted = false; // the contract checks input sizes itself: such a request cannot exist
      });
      await send(user, d.requests, d.abis.requests, "request", [modelId, good], parseEther("0.5"));
      const lines: string[] = [];
      const service = new SubmitterService(sub, d, new Map([[modelId, pkg]]), (level, msg) => {
        if (level !== "info") lines.push(msg);
      });
      await service.tick().catch(() => {});
      await service.tick().catch(() => {});
      const goodId = badPosted ? "2" : "1";
      expect(service.served[goodId].status).toBe("answered");
      if (badPosted) {
        expect(service.served["1"]).toMatchObject({ status: "malformed", done: true });
        expect(lines).toHaveLength(1); // logged once
      }
    } finally {
      await anvil.stop();
    }
  }, 120_000);
});

describe("serve-submitter restarted after a crash between postClaim and saving it", () => {
  it("finds its posted claim by its event and never posts a second one", async () => {
    const anvil = await startAnvil();
    try {
      const [sub, user] = await Promise.all(
        [ANVIL_KEYS[0], ANVIL_KEYS[2]].map((k) => makeClients(anvil.rpcUrl, k as Hex)),
      );
      const d = await deployAll(sub, DEFAULT_PARAMS);
      const pkg = loadPackage(join(FIXTURES, "packages", "mnist_mlp"));
      const modelId = await registerModel(sub, d, pkg);
      const json = JSON.parse(readFileSync(join(FIXTURES, "inputs", "mnist_1.json"), "utf8"));
      const good = prepareInputs(pkg.manifest, json, "mnist_1.json").map((t) => toHex(tensorBytes(t)));
      await send(user, d.requests, d.abis.requests, "request", [modelId, good], parseEther("0.5"));
      const file = join(mkdtempSync(join(tmpdir(), "opml-serve-")), "serve.json");
      const quiet = () => {};
      const models = new Map([[modelId, pkg]]);
      await new SubmitterService(sub, d, models, quiet, file).tick();
      // What the file held had the process died right after postClaim: the intent, no claim id.
      const j = JSON.parse(readFileSync(file, "utf8"));
      j.served["1"] = { ...j.served["1"], status: "intent", claimId: undefined, done: false };
      writeFileSync(file, JSON.stringify(j));
      const again = new SubmitterService(sub, d, models, quiet, file);
      await again.tick();
      await again.tick();
      expect(again.served["1"]).toMatchObject({ status: "answered", claimId: "1" });
      const posted = await sub.publicClient.getContractEvents({
        address: d.game,
        abi: d.abis.game,
        eventName: "ClaimPosted",
        fromBlock: d.block,
      });
      expect(posted).toHaveLength(1);
    } finally {
      await anvil.stop();
    }
  }, 120_000);
});
