// Request strategies: the honest side is the real `opml serve-submitter` daemon. A copier reposts
// the honest answer and tries to take the reward; a poisoner sends malformed requests first.
import { join } from "node:path";
import { encodeAbiParameters, type Hex, keccak256, parseEther } from "viem";
import { type Clients, send } from "../../chain/clients.js";
import { tensorBytes, toHex } from "../../commit/merkle.js";
import type { Rand, Strategy } from "./strategy.js";
import { attempt, CLAIM, type World } from "./world.js";

async function request(w: World, c: Clients, inputs: Uint8Array[], reward: bigint): Promise<bigint> {
  await send(c, w.d.requests, w.d.abis.requests, "request", [w.modelId, inputs.map(toHex)], reward);
  return w.requestCount();
}

function serveSubmitter(w: World, tag: string) {
  return w.spawnCli([
    "serve-submitter",
    "--rpc-url",
    w.proxy.url,
    "--private-key",
    w.honestSubmitterKey,
    "--deployment",
    w.depFile,
    "--model",
    w.pkgDir,
    "--state",
    join(w.dir, `serve-${tag}.json`),
    "--interval",
    "100",
  ]);
}

async function paidTo(w: World, requestId: bigint): Promise<Hex | undefined> {
  const logs = await w.admin.publicClient.getContractEvents({
    address: w.d.requests,
    abi: w.d.abis.requests,
    eventName: "RewardPaid",
    args: { requestId },
    fromBlock: w.d.block,
    strict: true,
  });
  return logs[0]?.args.submitter;
}

/** The game ends when the request is closed; it must have paid the honest submitter. */
function rewardedHonestly(w: World, requestId: bigint) {
  return {
    async done() {
      return (await w.request(requestId)).closed;
    },
    async check() {
      const to = await paidTo(w, requestId);
      return to && to.toLowerCase() === w.honest[0].toLowerCase()
        ? []
        : [`request ${requestId}: the reward went to ${to ?? "nobody"}, not the honest submitter`];
    },
  };
}

export const REQUEST_STRATEGIES: Strategy[] = [
  {
    name: "request-copier",
    group: "requests",
    async setup(w: World, rand: Rand) {
      const requester = w.adversaries[7];
      const copier = w.adversaries[6];
      const caseIdx = Math.floor(rand() * w.cases.length);
      const k = w.cases[caseIdx];
      const since = (await w.counts()).claims;
      const proc = serveSubmitter(w, `copier-${since}`);
      const requestId = await request(w, requester, k.inputs.map(tensorBytes), parseEther("0.5"));
      let copied = 0n;
      const salt = keccak256(toHex(Uint8Array.from({ length: 32 }, () => Math.floor(rand() * 256))));
      return {
        waitFor: [],
        accounts: [requester.account.address, copier.account.address],
        close: () => proc.kill("SIGTERM"),
        async tick() {
          if (copied === 0n) {
            const { claims } = await w.counts();
            for (let id = since + 1n; id <= claims && copied === 0n; id++) {
              const c = await w.claim(id);
              if (c.claimant.toLowerCase() !== w.honest[0].toLowerCase()) continue;
              // Repost the honest claim word for word as its own, then commit and answer at once.
              const t = k.truth;
              const n = t.nNodes;
              await attempt(() =>
                send(
                  copier,
                  w.d.game,
                  w.d.abis.game,
                  "postClaimWithInputs",
                  [
                    w.modelId,
                    k.inputs.map((x) => toHex(tensorBytes(x))),
                    toHex(t.outputRoot()),
                    toHex(t.graphState(n)),
                    toHex(t.tableRoot(n)),
                    t.outputPath().map(toHex),
                  ],
                  w.d.params.minBond,
                ),
              );
              copied = (await w.counts()).claims;
              const h = keccak256(
                encodeAbiParameters(
                  [{ type: "uint256" }, { type: "address" }, { type: "bytes32" }, { type: "bytes32" }],
                  [requestId, copier.account.address, c.finalGraphState, salt],
                ),
              );
              await attempt(() => send(copier, w.d.requests, w.d.abis.requests, "commit", [requestId, h]));
              await attempt(() =>
                send(copier, w.d.requests, w.d.abis.requests, "answer", [requestId, copied, salt]),
              );
            }
          } else {
            const c = await w.claim(copied);
            if (c.status === CLAIM.Pending && (await w.now()) >= c.deadline)
              await attempt(() => send(copier, w.d.game, w.d.abis.game, "finalize", [copied]));
            await attempt(() => send(copier, w.d.requests, w.d.abis.requests, "collect", [requestId]));
            await attempt(() => send(copier, w.d.game, w.d.abis.game, "withdraw", []));
          }
        },
        ...rewardedHonestly(w, requestId),
      };
    },
  },
  {
    name: "request-poisoned",
    group: "requests",
    async setup(w: World, rand: Rand) {
      const requester = w.adversaries[7];
      const caseIdx = Math.floor(rand() * w.cases.length);
      const k = w.cases[caseIdx];
      const since = (await w.counts()).claims;
      // Malformed requests first (3 bytes, one word short, no input at all), then a good one.
      const good = tensorBytes(k.inputs[0]);
      for (const bad of [[new Uint8Array(3)], [good.subarray(0, good.length - 4)], []])
        await attempt(() => request(w, requester, bad, parseEther("0.1")));
      const proc = serveSubmitter(w, `poison-${since}`);
      const requestId = await request(w, requester, [good], parseEther("0.5"));
      return {
        waitFor: [],
        accounts: [requester.account.address],
        close: () => proc.kill("SIGTERM"),
        async tick() {},
        ...rewardedHonestly(w, requestId),
      };
    },
  },
];
