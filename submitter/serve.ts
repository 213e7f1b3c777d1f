// serve-submitter: follows InferenceRequested events, answers each request for a model it serves
// with a claim (bond posted), links the claim to the request, defends every game on it, finalizes
// it after the window and collects the reward.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { Hex } from "viem";
import type { Logger } from "../challenger/watchtower.js";
import type { ModelPackage } from "../dnn/src/package.js";
import { type Clients, events, send, withRetry } from "../tools/chain/clients.js";
import type { Deployment } from "../tools/chain/deploy.js";
import { GameStatus, readGame } from "../tools/chain/player.js";
import type { Lie } from "./lies.js";
import { defendOnce, gamesOf, type PostedClaim, postClaim } from "./submitter.js";

interface Served {
  claimId: string;
  done: boolean;
}

export class SubmitterService {
  lastBlock: bigint;
  served: Record<string, Served> = {};
  private claims = new Map<string, PostedClaim>();

  constructor(
    readonly c: Clients,
    readonly d: Deployment,
    /** Served models by model id (as registered). */
    readonly models: Map<bigint, ModelPackage>,
    readonly log: Logger,
    readonly stateFile?: string,
    readonly lie: Lie = { kind: "none" },
  ) {
    this.lastBlock = d.block - 1n;
    if (stateFile && existsSync(stateFile)) {
      const j = JSON.parse(readFileSync(stateFile, "utf8"));
      this.lastBlock = BigInt(j.lastBlock);
      this.served = j.served;
    }
  }

  private save(): void {
    if (!this.stateFile) return;
    writeFileSync(
      `${this.stateFile}.tmp`,
      JSON.stringify({ lastBlock: this.lastBlock.toString(), served: this.served }),
    );
    renameSync(`${this.stateFile}.tmp`, this.stateFile);
  }

  async tick(): Promise<void> {
    const to = await withRetry(() => this.c.publicClient.getBlockNumber({ cacheTime: 0 }), "blockNumber");
    if (to > this.lastBlock) {
      const logs = await events<{ requestId: bigint; modelId: bigint; inputs: Hex[] }>(
        this.c,
        this.d.requests,
        this.d.abis.requests,
        "InferenceRequested",
        undefined,
        this.lastBlock + 1n,
        to,
      );
      for (const l of logs) {
        const key = l.args.requestId.toString();
        const pkg = this.models.get(l.args.modelId);
        if (this.served[key] || !pkg) continue;
        const inputs = l.args.inputs.map((h) => {
          const b = Buffer.from(h.slice(2), "hex");
          return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
        });
        const claim = await postClaim(this.c, this.d, l.args.modelId, pkg, inputs, this.lie);
        await send(this.c, this.d.requests, this.d.abis.requests, "answer", [
          l.args.requestId,
          claim.claimId,
        ]);
        this.claims.set(key, claim);
        this.served[key] = { claimId: claim.claimId.toString(), done: false };
        this.log("info", "answered request", { requestId: l.args.requestId, claimId: claim.claimId });
        this.save();
      }
      this.lastBlock = to;
      this.save();
    }
    for (const [key, s] of Object.entries(this.served)) {
      if (s.done) continue;
      const claim = this.claims.get(key);
      if (claim) await defendOnce(this.c, this.d, claim, this.lie);
      await this.settle(BigInt(key), BigInt(s.claimId), s);
    }
  }

  /** Finalizes the claim after its window (when no game is open) and collects the reward. */
  private async settle(requestId: bigint, claimId: bigint, s: Served): Promise<void> {
    const c = (await this.c.publicClient.readContract({
      address: this.d.game,
      abi: this.d.abis.game,
      functionName: "claimOf",
      args: [claimId],
    })) as { status: number; deadline: bigint };
    const status = Number(c.status);
    if (status === 2) {
      s.done = true;
      this.log("warn", "claim rejected", { requestId, claimId });
      this.save();
      return;
    }
    if (status === 1) {
      const now = (await this.c.publicClient.getBlock()).timestamp;
      for (const g of await gamesOf(this.c, this.d, claimId))
        if ((await readGame(this.c, this.d, g)).status === GameStatus.Open) return;
      if (now < c.deadline) return;
      await send(this.c, this.d.game, this.d.abis.game, "finalize", [claimId]);
    }
    await send(this.c, this.d.requests, this.d.abis.requests, "collect", [requestId]);
    const credit = (await this.c.publicClient.readContract({
      address: this.d.game,
      abi: this.d.abis.game,
      functionName: "credit",
      args: [this.c.account.address],
    })) as bigint;
    if (credit > 0n) await send(this.c, this.d.game, this.d.abis.game, "withdraw", []);
    s.done = true;
    this.log("info", "reward collected", { requestId, claimId });
    this.save();
  }
}
