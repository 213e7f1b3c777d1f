// serve-submitter: follows InferenceRequested events and answers each request for a model it
// serves with a claim, defends every game on it, finalizes it after the window and collects the
// reward. Issue 8, findings 2, 3, 5 and 12:
// - never two claims for one request: the intent (request, salt) is saved before anything is
//   sent, then commit → postClaim → answer, each step saved; a restart finds a claim it posted but
//   did not record by its ClaimPosted event;
// - a request already held by a claim that is not rejected is left alone (and re-answered if that
//   claim is rejected before the deadline);
// - if `answer` reverts (outranked, too late), the claim is still tracked and defended to
//   finalization so its bond comes back;
// - every request is handled on its own: one bad request is marked and logged once;
// - games on a claim rejected elsewhere are voided; a silent challenger is timed out;
// - the state file is bound to its chain (see game/state-file.ts).
import { randomBytes } from "node:crypto";
import { encodeAbiParameters, type Hex, keccak256 } from "viem";
import { type Clients, events, isTransient, oneLine, send, withRetry } from "../chain/clients.js";
import type { Logger } from "../chain/log.js";
import { toHex } from "../commit/merkle.js";
import type { ModelPackage } from "../dnn/src/package.js";
import { ClaimTrace } from "../game/claim-trace.js";
import type { Deployment } from "../game/deploy.js";
import { tensorFromBytes } from "../game/inputs.js";
import { ClaimStatus, chainNow, claimStatus, GameStatus, readGame, withdrawCredit } from "../game/moves.js";
import { type ChainBinding, chainBinding, loadBound, saveBound } from "../game/state-file.js";
import type { Lie } from "./lies.js";
import { defendOnce, gamesOf, type PostedClaim, postClaim, viewFor } from "./submitter.js";

export type ServedStatus =
  /** Intent recorded (salt chosen); nothing or only the commit sent yet. */
  | "intent"
  /** Our claim is posted; `answer` not yet sent. */
  | "posted"
  /** Our claim holds the request. */
  | "answered"
  /** Our claim was posted but could not hold the request: defended for its bond only. */
  | "outranked"
  /** Held by someone else's claim that is not rejected: watched until the deadline. */
  | "held"
  /** Not ours to answer (model not served here, or the deadline passed). */
  | "skipped"
  /** Its data makes the model fail (e.g. an input of the wrong size). */
  | "malformed";

export interface Served {
  status: ServedStatus;
  modelId: string;
  inputs: Hex[];
  deadline?: string;
  salt?: Hex;
  /** Block at which the intent was recorded (a lost claim is searched from here). */
  fromBlock?: string;
  committed?: boolean;
  claimId?: string;
  done: boolean;
  /** How it ended: "rewarded", "bond back", "rejected", … */
  result?: string;
  reason?: string;
  lastError?: string;
}

interface ServeState {
  lastBlock: string;
  served: Record<string, Served>;
}

export interface ServeOptions {
  rescan?: boolean;
}

export class SubmitterService {
  private st: ServeState;
  private claims = new Map<string, PostedClaim>();
  private chain?: ChainBinding;
  private ready = false;

  constructor(
    readonly c: Clients,
    readonly d: Deployment,
    /** Served models by model id (as registered and checked, see game/model-check.ts). */
    readonly models: Map<bigint, ModelPackage>,
    readonly log: Logger,
    readonly stateFile?: string,
    readonly lie: Lie = { kind: "none" },
    readonly opts: ServeOptions = {},
  ) {
    this.st = this.fresh();
  }

  get served(): Record<string, Served> {
    return this.st.served;
  }
  get lastBlock(): bigint {
    return BigInt(this.st.lastBlock);
  }

  private fresh(): ServeState {
    return { lastBlock: (this.d.block - 1n).toString(), served: {} };
  }

  /** Binds to the chain and loads the state file (UsageError on another chain; see state-file.ts). */
  async init(): Promise<void> {
    if (this.ready) return;
    this.chain = await chainBinding(this.c, this.d);
    const head = await withRetry(() => this.c.publicClient.getBlockNumber({ cacheTime: 0 }), "blockNumber");
    this.st = loadBound(this.stateFile, this.chain, head, () => this.fresh(), this.opts.rescan).state;
    this.ready = true;
    this.save();
  }

  private save(): void {
    if (this.ready) saveBound(this.stateFile, { ...this.st, chain: this.chain });
  }

  async tick(): Promise<void> {
    await this.init();
    const to = await withRetry(() => this.c.publicClient.getBlockNumber({ cacheTime: 0 }), "blockNumber");
    if (to > this.lastBlock) {
      const logs = await events(
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
        if (this.served[key]) continue;
        const served = this.models.has(l.args.modelId);
        this.served[key] = {
          status: served ? "intent" : "skipped",
          modelId: l.args.modelId.toString(),
          inputs: [...l.args.inputs],
          deadline: l.args.deadline.toString(),
          done: !served,
          reason: served ? undefined : `model ${l.args.modelId} is not served here`,
        };
        if (served) {
          this.served[key].salt = toHex(randomBytes(32)) as Hex;
          this.served[key].fromBlock = to.toString();
        }
      }
      this.st.lastBlock = to.toString();
      this.save();
    }
    let failure: unknown;
    for (const [key, s] of Object.entries(this.served)) {
      if (s.done) continue;
      try {
        await this.step(BigInt(key), s);
        if (s.lastError) s.lastError = undefined;
      } catch (e) {
        if (isTransient(e)) {
          failure ??= e;
          continue;
        }
        const msg = oneLine(e);
        if (s.lastError !== msg) {
          s.lastError = msg;
          this.log("error", "request failed; will retry", { requestId: key, error: msg });
        }
      }
      this.save();
    }
    if (failure !== undefined) throw failure;
  }

  /** The truth (and our view) for a request; throws on inputs the model cannot run. */
  private claimFor(key: string, s: Served): PostedClaim | undefined {
    const cached = this.claims.get(key);
    if (cached) return cached;
    if (!s.claimId) return undefined;
    const pkg = this.models.get(BigInt(s.modelId));
    if (!pkg) return undefined;
    const truth = new ClaimTrace(pkg, s.inputs.map(tensorFromBytes));
    const view = viewFor(truth, this.lie);
    const claim: PostedClaim = {
      claimId: BigInt(s.claimId),
      view,
      truth,
      tx: { hash: "0x", gasUsed: 0n },
      outputRoot: view.outputRoot(),
    };
    this.claims.set(key, claim);
    return claim;
  }

  private async request(requestId: bigint) {
    return withRetry(
      () =>
        this.c.publicClient.readContract({
          address: this.d.requests,
          abi: this.d.abis.requests,
          functionName: "requestOf",
          args: [requestId],
        }),
      "requestOf",
    );
  }

  /** Whether someone else's claim holds the request and is not rejected. */
  private async heldByOther(requestId: bigint, s: Served): Promise<boolean> {
    const r = await this.request(requestId);
    if (r.claimId === 0n || r.claimId.toString() === s.claimId) return false;
    return (await claimStatus(this.c, this.d, r.claimId)) !== ClaimStatus.Rejected;
  }

  private async pastDeadline(s: Served): Promise<boolean> {
    return s.deadline !== undefined && (await chainNow(this.c)) >= BigInt(s.deadline);
  }

  /** Advances one request by as much as it can now. */
  private async step(requestId: bigint, s: Served): Promise<void> {
    const key = requestId.toString();
    if (s.status === "held") {
      if (await this.pastDeadline(s))
        return this.end(s, "skipped", "held by another claim until the deadline");
      if (await this.heldByOther(requestId, s)) return;
      s.status = "intent"; // the holder was rejected: answer it ourselves
      s.salt = toHex(randomBytes(32)) as Hex;
      s.committed = false;
      s.fromBlock = (
        await withRetry(() => this.c.publicClient.getBlockNumber({ cacheTime: 0 }), "blockNumber")
      ).toString();
      this.log("info", "holder's claim was rejected; answering", { requestId });
      this.save();
    }
    if (s.status === "intent") await this.answerIt(requestId, s);
    if (s.status === "posted") await this.sendAnswer(requestId, s);
    if (s.status === "answered" || s.status === "outranked") {
      const claim = this.claimFor(key, s);
      if (claim) await defendOnce(this.c, this.d, claim, this.lie);
      await this.settle(requestId, s);
    }
  }

  private end(s: Served, status: ServedStatus, reason: string): void {
    s.status = status;
    s.done = true;
    s.reason = reason;
    this.save();
  }

  /** Intent → (commit) → posted. Never posts a second claim for the same request. */
  private async answerIt(requestId: bigint, s: Served): Promise<void> {
    const key = requestId.toString();
    const pkg = this.models.get(BigInt(s.modelId))!;
    let truth: ClaimTrace;
    try {
      truth = new ClaimTrace(pkg, s.inputs.map(tensorFromBytes));
    } catch (e) {
      this.log("warn", "request skipped: its inputs do not run on the model", {
        requestId,
        error: oneLine(e),
      });
      return this.end(s, "malformed", oneLine(e));
    }
    const view = viewFor(truth, this.lie);
    const finalGraphState = toHex(view.graphState(view.nNodes)) as Hex;
    // A claim of ours for this request posted before a crash is found again, never posted twice.
    const lost = await this.findOurClaim(requestId, s, finalGraphState);
    if (lost === undefined) {
      if (await this.pastDeadline(s)) return this.end(s, "skipped", "deadline passed before we answered");
      if (await this.heldByOther(requestId, s)) {
        s.status = "held";
        this.log("info", "request held by another claim; watching it", { requestId });
        this.save();
        return;
      }
      if (!s.committed) {
        await send(this.c, this.d.requests, this.d.abis.requests, "commit", [
          requestId,
          this.commitment(requestId, finalGraphState, s.salt!),
        ]);
        s.committed = true;
        this.save();
      }
      const claim = await postClaim(
        this.c,
        this.d,
        BigInt(s.modelId),
        pkg,
        s.inputs.map(tensorFromBytes),
        this.lie,
        truth,
      );
      s.claimId = claim.claimId.toString();
      this.claims.set(key, claim);
    } else s.claimId = lost.toString();
    s.status = "posted";
    this.log("info", "claim posted for request", { requestId, claimId: s.claimId });
    this.save();
  }

  private commitment(requestId: bigint, finalGraphState: Hex, salt: Hex): Hex {
    return keccak256(
      encodeAbiParameters(
        [{ type: "uint256" }, { type: "address" }, { type: "bytes32" }, { type: "bytes32" }],
        [requestId, this.c.account.address, finalGraphState, salt],
      ),
    );
  }

  /** A claim of ours on this request's inputs, posted since the intent and not used by another request. */
  private async findOurClaim(
    requestId: bigint,
    s: Served,
    finalGraphState: Hex,
  ): Promise<bigint | undefined> {
    if (!s.fromBlock) return undefined;
    const r = await this.request(requestId);
    const graphState0 = (r as { graphState0?: Hex }).graphState0?.toLowerCase();
    const mine = await events(
      this.c,
      this.d.game,
      this.d.abis.game,
      "ClaimPosted",
      { claimant: this.c.account.address, modelId: BigInt(s.modelId) },
      BigInt(s.fromBlock),
    );
    const used = new Set(Object.values(this.served).map((x) => x.claimId));
    for (const l of mine) {
      if (used.has(l.args.claimId.toString())) continue;
      if (graphState0 && l.args.graphState0.toLowerCase() !== graphState0) continue;
      if (l.args.finalGraphState.toLowerCase() !== finalGraphState.toLowerCase()) continue;
      return l.args.claimId;
    }
    return undefined;
  }

  /** posted → answered, or outranked (the claim is still defended for its bond). */
  private async sendAnswer(requestId: bigint, s: Served): Promise<void> {
    if ((await this.request(requestId)).claimId.toString() === s.claimId) {
      s.status = "answered"; // answered before a crash
      this.save();
      return;
    }
    try {
      await send(this.c, this.d.requests, this.d.abis.requests, "answer", [
        requestId,
        BigInt(s.claimId!),
        s.salt!,
      ]);
      s.status = "answered";
      this.log("info", "answered request", { requestId, claimId: s.claimId });
    } catch (e) {
      if (isTransient(e)) throw e;
      s.status = "outranked";
      s.reason = oneLine(e);
      this.log("warn", "answer refused; defending the claim for its bond", {
        requestId,
        claimId: s.claimId,
        error: s.reason,
      });
    }
    this.save();
  }

  /** Finalizes the claim after its window (when no game is open), collects the reward, withdraws. */
  private async settle(requestId: bigint, s: Served): Promise<void> {
    const claimId = BigInt(s.claimId!);
    const c = await withRetry(
      () =>
        this.c.publicClient.readContract({
          address: this.d.game,
          abi: this.d.abis.game,
          functionName: "claimOf",
          args: [claimId],
        }),
      "claimOf",
    );
    const status = c.status;
    if (status === ClaimStatus.Rejected) {
      this.log("warn", "claim rejected", { requestId, claimId });
      return this.end(s, s.status, "claim rejected");
    }
    if (status === ClaimStatus.Pending) {
      for (const g of await gamesOf(this.c, this.d, claimId))
        if ((await readGame(this.c, this.d, g)).status === GameStatus.Open) return;
      if ((await chainNow(this.c)) < c.deadline) return;
      await send(this.c, this.d.game, this.d.abis.game, "finalize", [claimId]);
    }
    let result = "bond back";
    if (s.status === "answered") {
      const r = await this.request(requestId);
      const closed = r.closed;
      if (!closed && r.claimId === claimId) {
        await send(this.c, this.d.requests, this.d.abis.requests, "collect", [requestId]);
        result = "rewarded";
      } else if (r.claimId !== claimId) result = "bond back (another answer holds the request)";
      else result = "already paid or refunded";
    }
    await withdrawCredit(this.c, this.d);
    s.result = result;
    this.log("info", result === "rewarded" ? "reward collected" : "claim settled", {
      requestId,
      claimId,
      result,
    });
    this.end(s, s.status, result);
  }
}
