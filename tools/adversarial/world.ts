// The harness's world: an embedded anvil behind an RPC proxy, one deployment, one registered model,
// the honest agents as real processes (the `opml watch` daemon for the whole run, an `opml submit`
// per honest claim), funded adversary accounts, and the clock pump that moves chain time only when
// no honest party has a move to make.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Address, encodePacked, type Hex, keccak256, parseEther } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ANVIL_KEYS, type Anvil, startAnvil } from "../../chain/anvil.js";
import { type Clients, makeClients, warp } from "../../chain/clients.js";
import { FIXTURES, REPO_ROOT } from "../../chain/paths.js";
import { toHex } from "../../commit/merkle.js";
import { loadPackage, type ModelPackage, prepareInputs } from "../../dnn/src/package.js";
import { ClaimTrace } from "../../game/claim-trace.js";
import {
  DEFAULT_PARAMS,
  type Deployment,
  deployAll,
  type GameParams,
  registerModel,
} from "../../game/deploy.js";
import { type ClaimState, ClaimStatus, type GameState, GameStatus, Phase } from "../../game/moves.js";
import { saveDeployment } from "../../game/session.js";
import { RpcProxy } from "./proxy.js";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs an adversary's transaction, swallowing its failure: adversaries try things that revert. */
export async function attempt(f: () => Promise<unknown>): Promise<boolean> {
  try {
    await f();
    return true;
  } catch {
    return false;
  }
}

/** One input the harness claims about, with its true result computed here, independently. */
export interface Case {
  file: string;
  inputs: Int32Array[];
  truth: ClaimTrace;
  graphState0: Hex;
  finalGraphState: Hex;
}

/** A claim as the game stores it (claimOf). */
export type ClaimInfo = ClaimState;
/** A game as the game stores it (gameOf). */
export type GameInfo = GameState;

export const CLAIM = ClaimStatus;
export const GAME = GameStatus;

export interface WorldOptions {
  model?: string;
  seed: number;
  params?: GameParams;
  log?: (line: string) => void;
  /** false: no watchtower at all (to check that the harness sees what then goes wrong). */
  watchtower?: boolean;
}

export class World {
  anvil!: Anvil;
  proxy!: RpcProxy;
  d!: Deployment;
  depFile!: string;
  dir: string;
  pkgDir: string;
  pkg: ModelPackage;
  modelId = 0n;
  cases: Case[] = [];
  admin!: Clients;
  /** Honest parties: the submitter (`opml submit`) and the watchtower (`opml watch`). */
  readonly honestSubmitterKey: Hex;
  readonly watchtowerKey: Hex;
  honest!: Address[];
  adversaries: Clients[] = [];
  watchtower?: ChildProcess;
  watchtowerKills = 0;
  private watchtowerRestarting = false;
  private children = new Set<ChildProcess>();
  readonly log: (line: string) => void;

  constructor(readonly opts: WorldOptions) {
    this.dir = mkdtempSync(join(tmpdir(), "opml-adversarial-"));
    this.pkgDir = opts.model ?? join(FIXTURES, "packages", "mnist_mlp");
    this.pkg = loadPackage(this.pkgDir);
    this.log = opts.log ?? (() => {});
    this.honestSubmitterKey = ANVIL_KEYS[1] as Hex;
    this.watchtowerKey = ANVIL_KEYS[2] as Hex;
  }

  get watchStateFile(): string {
    return join(this.dir, "watch.json");
  }

  async start(nAdversaries = 8): Promise<void> {
    this.anvil = await startAnvil();
    this.proxy = new RpcProxy("127.0.0.1", this.anvil.port);
    await this.proxy.start();
    // The harness itself talks to anvil directly; the honest agents go through the proxy.
    this.admin = await makeClients(this.anvil.rpcUrl, ANVIL_KEYS[0] as Hex);
    this.d = await deployAll(this.admin, this.opts.params ?? DEFAULT_PARAMS);
    this.depFile = join(this.dir, "deployment.json");
    saveDeployment(this.depFile, this.d);
    this.modelId = await registerModel(this.admin, this.d, this.pkg, `file://${this.pkgDir}`);
    this.honest = [this.honestSubmitterKey, this.watchtowerKey].map((k) => privateKeyToAccount(k).address);
    // Adversary accounts: fresh keys derived from the seed, funded by the deployer.
    for (let i = 0; i < nAdversaries; i++) {
      const key = keccak256(
        encodePacked(["string", "uint256", "uint256"], ["opml-adversary", BigInt(this.opts.seed), BigInt(i)]),
      );
      const c = await makeClients(this.anvil.rpcUrl, key);
      const hash = await this.admin.wallet.sendTransaction({
        account: this.admin.account,
        chain: this.admin.chain,
        to: c.account.address,
        value: parseEther("1000"),
      });
      await this.admin.publicClient.waitForTransactionReceipt({ hash });
      this.adversaries.push(c);
    }
    const inputDir = join(FIXTURES, "inputs");
    const files = readdirSync(inputDir).filter((f) => f.startsWith("mnist_"));
    for (const f of this.pkg.manifest.inputs.length === 1 && this.pkgDir.includes("mnist") ? files : []) {
      const file = join(inputDir, f);
      const inputs = prepareInputs(this.pkg.manifest, JSON.parse(readFileSync(file, "utf8")), f);
      const truth = new ClaimTrace(this.pkg, inputs);
      this.cases.push({
        file,
        inputs,
        truth,
        graphState0: toHex(truth.graphState(0)),
        finalGraphState: toHex(truth.graphState(truth.nNodes)),
      });
    }
    if (this.cases.length === 0) throw new Error(`${this.pkgDir}: the harness needs an MNIST model package`);
    if (this.opts.watchtower !== false) await this.startWatchtower();
  }

  /** Spawns `opml watch` (the real daemon) on the proxy, with a persistent state file. */
  async startWatchtower(): Promise<void> {
    const child = this.spawnCli([
      "watch",
      "--rpc-url",
      this.proxy.url,
      "--private-key",
      this.watchtowerKey,
      "--deployment",
      this.depFile,
      "--model",
      this.pkgDir,
      "--state",
      this.watchStateFile,
      "--interval",
      "50",
    ]);
    this.watchtower = child;
  }

  /** SIGKILLs the watchtower and restarts it after `downMs`. */
  async killWatchtower(downMs: number): Promise<void> {
    if (!this.watchtower || this.watchtowerRestarting) return;
    this.watchtowerRestarting = true;
    this.watchtower.kill("SIGKILL");
    this.watchtowerKills++;
    await sleep(downMs);
    await this.startWatchtower();
    this.watchtowerRestarting = false;
  }

  get watchtowerDown(): boolean {
    if (this.opts.watchtower === false) return false;
    return this.watchtowerRestarting || !this.watchtower || this.watchtower.exitCode !== null;
  }

  private spawned = 0;

  /** Runs an `opml` command; its output goes to a numbered log file in the run's folder. */
  spawnCli(args: string[]): ChildProcess {
    const file = join(this.dir, `${String(++this.spawned).padStart(4, "0")}-${args[0]}.log`);
    const fd = openSync(file, "a");
    const child = spawn(process.execPath, [join(REPO_ROOT, "bin/opml.js"), ...args], {
      stdio: ["ignore", fd, fd],
    });
    closeSync(fd);
    child.on("exit", (code) => {
      this.children.delete(child);
      if (code && code !== 0) {
        const tail = readFileSync(file, "utf8").trim().split("\n").slice(-2).join(" | ");
        this.log(`${args[0]} exited ${code} (${file}): ${tail}`);
      }
    });
    this.children.add(child);
    return child;
  }

  /** An honest `opml submit` of case `i`, through the proxy. */
  honestSubmit(i: number): ChildProcess {
    return this.spawnCli([
      "submit",
      "--rpc-url",
      this.proxy.url,
      "--private-key",
      this.honestSubmitterKey,
      "--deployment",
      this.depFile,
      "--model",
      this.pkgDir,
      "--input",
      this.cases[i].file,
    ]);
  }

  async stop(): Promise<void> {
    for (const c of this.children) c.kill("SIGKILL");
    await this.proxy?.stop();
    await this.anvil?.stop();
  }

  // ---- chain reads (straight to anvil) ----

  /** When set, every read is of this block (for checks that must see one consistent state). */
  atBlock?: bigint;

  // Every read is at atBlock when set.

  async claim(id: bigint): Promise<ClaimInfo> {
    return this.admin.publicClient.readContract({
      address: this.d.game,
      abi: this.d.abis.game,
      functionName: "claimOf",
      args: [id],
      blockNumber: this.atBlock,
    });
  }

  async game(id: bigint): Promise<GameInfo> {
    return this.admin.publicClient.readContract({
      address: this.d.game,
      abi: this.d.abis.game,
      functionName: "gameOf",
      args: [id],
      blockNumber: this.atBlock,
    });
  }

  async counts(): Promise<{ claims: bigint; games: bigint }> {
    const read = (functionName: "claimCount" | "gameCount") =>
      this.admin.publicClient.readContract({
        address: this.d.game,
        abi: this.d.abis.game,
        functionName,
        blockNumber: this.atBlock,
      });
    return { claims: await read("claimCount"), games: await read("gameCount") };
  }

  /** What `account` may withdraw from the game. */
  async credit(account: Address): Promise<bigint> {
    return this.admin.publicClient.readContract({
      address: this.d.game,
      abi: this.d.abis.game,
      functionName: "credit",
      args: [account],
      blockNumber: this.atBlock,
    });
  }

  /** Wei the game has burned (the honest ETH ledger's sink). */
  async totalBurned(): Promise<bigint> {
    return this.admin.publicClient.readContract({
      address: this.d.game,
      abi: this.d.abis.game,
      functionName: "totalBurned",
      blockNumber: this.atBlock,
    });
  }

  /** InferenceRequests' request count (the last request's id). */
  async requestCount(): Promise<bigint> {
    return this.admin.publicClient.readContract({
      address: this.d.requests,
      abi: this.d.abis.requests,
      functionName: "requestCount",
      blockNumber: this.atBlock,
    });
  }

  /** One request as InferenceRequests stores it. */
  async request(id: bigint) {
    return this.admin.publicClient.readContract({
      address: this.d.requests,
      abi: this.d.abis.requests,
      functionName: "requestOf",
      args: [id],
      blockNumber: this.atBlock,
    });
  }

  async now(): Promise<bigint> {
    return (await this.admin.publicClient.getBlock({ blockTag: "latest" })).timestamp;
  }

  async blockNumber(): Promise<bigint> {
    return this.admin.publicClient.getBlockNumber({ cacheTime: 0 });
  }

  async warpTo(t: bigint): Promise<void> {
    const now = await this.now();
    if (t <= now) return;
    await warp(this.admin, t - now);
  }

  /** The watchtower's progress file says it has looked at claim `id` (valid, invalid, skipped …). */
  watchtowerSaw(id: bigint): boolean {
    if (this.opts.watchtower === false) return true;
    try {
      if (!existsSync(this.watchStateFile)) return false;
      const s = JSON.parse(readFileSync(this.watchStateFile, "utf8")) as { claims?: Record<string, unknown> };
      return s.claims?.[id.toString()] !== undefined;
    } catch {
      return false; // mid-rename: next time
    }
  }

  isHonest(a: Address): boolean {
    return this.honest.some((h) => h.toLowerCase() === a.toLowerCase());
  }

  /**
   * One turn of the clock pump. Chain time jumps only when no honest party can be expected to act:
   * no open game has an honest mover, no pending claim inside its window is unseen by the
   * watchtower, the watchtower and the RPC node are up. It then jumps straight to the next moment
   * something can change (an adversary's clock running out, a window closing). Returns whether it
   * warped.
   */
  async pump(claims: bigint[], extraHold = false): Promise<boolean> {
    if (extraHold || this.proxy.down || this.watchtowerDown) return false;
    const now = await this.now();
    let next: bigint | undefined;
    const consider = (t: bigint) => {
      if (t > now && (next === undefined || t < next)) next = t;
    };
    // An adversary in a child process may move between these reads and the warp, making an honest
    // party the mover: a warp past that party's remaining clock would then time it out, a loss the
    // harness made, not the protocol. So a warp never takes more than half of the smallest clock an
    // honest party has left in any open game.
    let cap: bigint | undefined;
    const { games } = await this.counts();
    for (let id = 1n; id <= games; id++) {
      const g = await this.game(id);
      if (g.status !== GAME.Open) continue;
      if (!claims.includes(g.claimId)) continue;
      const claimantMoves = g.phase === Phase.Bisect || g.phase === Phase.Descend;
      for (const [who, clock] of [
        [g.claimant, g.claimantClock],
        [g.challenger, g.challengerClock],
      ] as const) {
        if (this.isHonest(who) && (cap === undefined || clock / 2n < cap)) cap = clock / 2n;
      }
      const mover = claimantMoves ? g.claimant : g.challenger;
      const c = await this.claim(g.claimId);
      if (c.status === CLAIM.Rejected) return false; // someone should void it: an agent's move
      if (this.isHonest(mover)) return false;
      const left = claimantMoves ? g.claimantClock : g.challengerClock;
      const expiry = g.lastMoveAt + left + 1n;
      if (expiry <= now) {
        // The adversary's clock has run out: ending the game is an honest move (timeout).
        const other = claimantMoves ? g.challenger : g.claimant;
        if (this.isHonest(other)) return false;
      }
      consider(expiry);
    }
    for (const id of claims) {
      const c = await this.claim(id);
      if (c.status !== CLAIM.Pending) continue;
      if (!this.watchtowerSaw(id)) return false;
      consider(c.deadline);
    }
    if (next === undefined) return false;
    if (cap !== undefined && next > now + cap) {
      if (cap < 1n) return false;
      next = now + cap;
    }
    await this.warpTo(next);
    return true;
  }
}
