// The scripted adversaries. Each strategy sets up one "game" of the harness (one or more claims and
// the games on them) and returns an adversary that makes its moves when the runner asks. The honest
// side is never scripted here: it is the real `opml watch` daemon and `opml submit` processes.
import type { ChildProcess } from "node:child_process";
import { type Clients, send } from "../../chain/clients.js";
import { leavesProof, tensorBytes, toHex } from "../../commit/merkle.js";
import type { ClaimView } from "../../game/claim-trace.js";
import { disputedNode, Phase } from "../../game/moves.js";
import { type Lie, LyingView } from "../../submitter/lies.js";
import { defendOnce, type PostedClaim, postClaim } from "../../submitter/submitter.js";
import { REQUEST_STRATEGIES } from "./requests.js";
import type { Ledger, Play, Rand, Strategy } from "./strategy.js";
import { PastHaltView } from "./views.js";
import { attempt, CLAIM, GAME, type World } from "./world.js";

export type { Ledger, Play, Rand, Strategy };

const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];

/** The mover-side clock of a game has run out (anyone may call timeout). */
async function expired(w: World, gameId: bigint): Promise<boolean> {
  const g = await w.game(gameId);
  if (g.status !== GAME.Open) return false;
  const claimantMoves = g.phase === Phase.Bisect || g.phase === Phase.Descend;
  const left = claimantMoves ? g.claimantClock : g.challengerClock;
  return (await w.now()) > g.lastMoveAt + left;
}

async function gamesOn(w: World, claimId: bigint): Promise<bigint[]> {
  const { games } = await w.counts();
  const out: bigint[] = [];
  for (let id = 1n; id <= games; id++) if ((await w.game(id)).claimId === claimId) out.push(id);
  return out;
}

/**
 * A lying claimant played by the real submitter code with a lying view: it defends every game on
 * its claim with the lie, optionally goes silent after `movesBeforeSilence` moves, takes timeouts
 * against a challenger that ran out, and finalizes its claim if it ever can (that is a violation).
 */
class LyingClaimant {
  moves = 0;
  constructor(
    readonly w: World,
    readonly c: Clients,
    readonly claim: PostedClaim,
    readonly lie: Lie,
    readonly movesBeforeSilence = Number.POSITIVE_INFINITY,
  ) {}

  async tick(): Promise<void> {
    const { w, c, claim } = this;
    for (const gameId of await gamesOn(w, claim.claimId)) {
      if (await expired(w, gameId))
        await attempt(() => send(c, w.d.game, w.d.abis.game, "timeout", [gameId]));
    }
    if (this.lie.kind !== "silent" && this.moves < this.movesBeforeSilence) {
      await attempt(async () => {
        const ms = await defendOnce(c, w.d, claim, this.lie);
        this.moves += ms.length;
      });
    }
    const st = await w.claim(claim.claimId);
    if (st.status === CLAIM.Pending && (await w.now()) >= st.deadline)
      await attempt(() => send(c, w.d.game, w.d.abis.game, "finalize", [claim.claimId]));
    await attempt(() => send(c, w.d.game, w.d.abis.game, "withdraw", []));
  }
}

async function lyingClaim(
  w: World,
  c: Clients,
  caseIdx: number,
  lie: Lie,
  view?: ClaimView,
): Promise<PostedClaim> {
  const k = w.cases[caseIdx];
  const posted = await postClaim(
    c,
    w.d,
    w.modelId,
    w.pkg,
    k.inputs,
    lie.kind === "none" ? { kind: "output" } : lie,
    k.truth,
  );
  return view ? { ...posted, view } : posted;
}

type ChallengerMode = "agree" | "disagree" | "random" | "silent" | "bad-proof" | "truthful";

/** A challenger against an honest claim, scripted by mode. */
class ScriptedChallenger {
  gameId = 0n;
  gaveUp = false;
  constructor(
    readonly w: World,
    readonly c: Clients,
    readonly claimId: bigint,
    readonly caseIdx: number,
    readonly mode: ChallengerMode,
    readonly rand: Rand,
  ) {}

  async open(): Promise<boolean> {
    const { w, c } = this;
    const before = (await w.counts()).games;
    const ok = await attempt(() =>
      send(c, w.d.game, w.d.abis.game, "challenge", [this.claimId], w.d.params.challengerBond),
    );
    if (!ok) return false;
    const after = (await w.counts()).games;
    for (let id = before + 1n; id <= after; id++) {
      const g = await w.game(id);
      if (g.challenger.toLowerCase() === c.account.address.toLowerCase() && g.claimId === this.claimId)
        this.gameId = id;
    }
    return this.gameId !== 0n;
  }

  async tick(): Promise<void> {
    const { w, c } = this;
    if (this.gameId === 0n) return;
    const g = await w.game(this.gameId);
    await attempt(() => send(c, w.d.game, w.d.abis.game, "withdraw", []));
    if (g.status !== GAME.Open) return;
    // Another game rejected the claim: collect this game's bond and share, as anyone would.
    if ((await w.claim(this.claimId)).status === CLAIM.Rejected) {
      await attempt(() => send(c, w.d.game, w.d.abis.game, "voidGame", [this.gameId]));
      return;
    }
    // An honest claimant that ran out of time would be a violation: take it if it happens.
    if (await expired(w, this.gameId)) {
      await attempt(() => send(c, w.d.game, w.d.abis.game, "timeout", [this.gameId]));
      return;
    }
    const mine = g.phase === Phase.Respond || g.phase === Phase.Step;
    if (!mine || this.mode === "silent" || this.gaveUp) return;
    const truth = w.cases[this.caseIdx].truth;
    if (g.phase === Phase.Respond) {
      let agree: boolean;
      if (this.mode === "agree") agree = true;
      else if (this.mode === "disagree") agree = false;
      else if (this.mode === "random" || this.mode === "bad-proof") agree = this.rand() < 0.5;
      else {
        const mid = (g.lo + g.hi) / 2n;
        const midRoot = (await w.game(this.gameId)).midRoot;
        const t =
          g.level === 0
            ? truth.graphState(Number(mid))
            : truth.vmRoot(await disputedNode(c, w.d, this.gameId), Number(mid));
        agree = toHex(t) === midRoot;
      }
      await attempt(() => send(c, w.d.game, w.d.abis.game, "respond", [this.gameId, agree]));
      return;
    }
    // Step: the challenger's move against a true transition.
    if (this.mode === "truthful") {
      const node = await disputedNode(c, w.d, this.gameId);
      await attempt(() =>
        send(c, w.d.game, w.d.abis.game, "proveStep", [
          this.gameId,
          toHex(truth.stepProof(node, Number(g.lo))),
        ]),
      );
      return;
    }
    // Wrong or truncated proofs: each must revert; then it gives up and its clock runs out.
    const node = await disputedNode(c, w.d, this.gameId);
    const real = truth.stepProof(node, Number(g.lo));
    const truncated = real.subarray(0, Math.max(1, real.length - 1 - Math.floor(this.rand() * 64)));
    const flipped = real.slice();
    flipped[Math.floor(this.rand() * flipped.length)] ^= 1 << Math.floor(this.rand() * 8);
    const junk = Uint8Array.from({ length: 384 + Math.floor(this.rand() * 200) }, () =>
      Math.floor(this.rand() * 256),
    );
    for (const p of [truncated, flipped, junk])
      await attempt(() => send(c, w.d.game, w.d.abis.game, "proveStep", [this.gameId, toHex(p)]));
    this.gaveUp = true;
  }
}

/** Starts an honest `opml submit` of a random case and waits for its claim. */
async function honestClaim(w: World, rand: Rand) {
  const since = (await w.counts()).claims;
  const caseIdx = Math.floor(rand() * w.cases.length);
  const proc = w.honestSubmit(caseIdx);
  return { caseIdx, proc, claimId: await honestClaimId(w, since, proc) };
}

/** Waits (up to ~20 s) for the honest submitter's claim on `caseIdx` to appear; its id. */
async function honestClaimId(w: World, since: bigint, proc: ChildProcess): Promise<bigint | undefined> {
  for (let i = 0; i < 400; i++) {
    const { claims } = await w.counts();
    for (let id = since + 1n; id <= claims; id++) {
      const c = await w.claim(id);
      if (c.claimant.toLowerCase() === w.honest[0].toLowerCase()) return id;
    }
    if (proc.exitCode !== null) return undefined;
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Lying claimants (the watchtower must reject every claim)
// ---------------------------------------------------------------------------------------------

function lieStrategy(
  name: string,
  make: (w: World, rand: Rand, caseIdx: number) => Lie,
  quit = false,
): Strategy {
  return {
    name,
    group: "lying-claimant",
    async setup(w, rand) {
      const c = pick(rand, w.adversaries);
      const caseIdx = Math.floor(rand() * w.cases.length);
      const lie = make(w, rand, caseIdx);
      const claim = await lyingClaim(w, c, caseIdx, lie);
      const liar = new LyingClaimant(w, c, claim, lie, quit ? 1 + Math.floor(rand() * 12) : undefined);
      return { tick: () => liar.tick(), waitFor: [], accounts: [c.account.address] };
    },
  };
}

function randomNode(w: World, rand: Rand): number {
  return Math.floor(rand() * w.pkg.manifest.nodes.length);
}

export const STRATEGIES: Strategy[] = [
  lieStrategy("lie-output", () => ({ kind: "output" })),
  lieStrategy("lie-node", (w, rand) => ({ kind: "node", node: randomNode(w, rand) })),
  lieStrategy("lie-step", (w, rand, i) => {
    const node = randomNode(w, rand);
    const T = w.cases[i].truth.vmSteps(node);
    // Early, middle and late steps alike.
    const step = pick(rand, [1, Math.floor(T * rand()), Math.max(1, T - 50)]);
    return { kind: "step", step, node };
  }),
  lieStrategy("lie-silent", () => ({ kind: "silent" })),
  lieStrategy(
    "lie-quits-midway",
    (w, rand) => pick(rand, [{ kind: "output" }, { kind: "node", node: randomNode(w, rand) }] as Lie[]),
    true,
  ),
  {
    name: "lie-past-halt",
    group: "lying-claimant",
    async setup(w, rand) {
      // T = T_honest + 1 (or much more: up to 2^40 steps), true up to the halt, false after it.
      const c = pick(rand, w.adversaries);
      const caseIdx = Math.floor(rand() * w.cases.length);
      const extra =
        rand() < 0.6 ? 1 : 2 ** 40 - w.cases[caseIdx].truth.vmSteps(w.pkg.manifest.nodes.length - 1);
      const view = new PastHaltView(w.cases[caseIdx].truth, extra);
      const claim = await lyingClaim(w, c, caseIdx, { kind: "output" }, view);
      const liar = new LyingClaimant(w, c, claim, { kind: "output" });
      return { tick: () => liar.tick(), waitFor: [], accounts: [c.account.address] };
    },
  },
  {
    name: "lie-self-challenge",
    group: "lying-claimant",
    async setup(w, rand) {
      // The liar challenges its own false claim first from a second account and stays silent as
      // claimant, hoping to "win" as challenger and get both bonds back.
      const [c, sybil] = [w.adversaries[0], w.adversaries[1]];
      const caseIdx = Math.floor(rand() * w.cases.length);
      const claim = await lyingClaim(w, c, caseIdx, { kind: "silent" });
      const ch = new ScriptedChallenger(w, sybil, claim.claimId, caseIdx, "silent", rand);
      await ch.open();
      const liar = new LyingClaimant(w, c, claim, { kind: "silent" });
      const bond = (await w.claim(claim.claimId)).bond;
      return {
        tick: async () => {
          await liar.tick();
          await ch.tick();
        },
        waitFor: [],
        accounts: [c.account.address, sybil.account.address],
        async check(l) {
          const out: string[] = [];
          const liarNet = l.net(c.account.address) + l.net(sybil.account.address);
          if (liarNet > -bond / 2n)
            out.push(`self-challenge: the liar got back ${liarNet + bond} of its ${bond} wei bond`);
          if (l.net(w.honest[1]) <= 0n)
            out.push(`self-challenge: the honest challenger was not paid (net ${l.net(w.honest[1])} wei)`);
          return out;
        },
      };
    },
  },
  {
    name: "lie-parallel",
    group: "lying-claimant",
    async setup(w, rand) {
      // Several liars at once: the watchtower must play all games within the clocks.
      const n = 3 + Math.floor(rand() * 3);
      const liars: LyingClaimant[] = [];
      for (let i = 0; i < n; i++) {
        const c = w.adversaries[i];
        const caseIdx = Math.floor(rand() * w.cases.length);
        const lie = pick(rand, [
          { kind: "output" },
          { kind: "node", node: randomNode(w, rand) },
          { kind: "step", step: -1 },
          { kind: "silent" },
        ] as Lie[]);
        liars.push(new LyingClaimant(w, c, await lyingClaim(w, c, caseIdx, lie), lie));
      }
      return {
        tick: async () => {
          for (const l of liars) await l.tick();
        },
        waitFor: [],
        accounts: liars.map((l) => l.c.account.address),
      };
    },
  },

  // -------------------------------------------------------------------------------------------
  // Lying challengers against honest claims (the honest claim must finalize)
  // -------------------------------------------------------------------------------------------
  ...(["agree", "disagree", "random", "silent", "bad-proof", "truthful"] as const).map(
    (mode): Strategy => ({
      name: `challenge-${mode}`,
      group: "lying-challenger",
      async setup(w, rand) {
        const { caseIdx, proc, claimId } = await honestClaim(w, rand);
        const c = pick(rand, w.adversaries);
        const ch =
          claimId === undefined ? undefined : new ScriptedChallenger(w, c, claimId, caseIdx, mode, rand);
        if (ch) await ch.open();
        return { tick: async () => ch?.tick(), waitFor: [proc], accounts: [c.account.address] };
      },
    }),
  ),
  {
    name: "challenge-many",
    group: "lying-challenger",
    async setup(w, rand) {
      // Many challengers on one honest claim, each with its own script.
      const { caseIdx, proc, claimId } = await honestClaim(w, rand);
      const n = 3 + Math.floor(rand() * 4);
      const chs: ScriptedChallenger[] = [];
      if (claimId !== undefined)
        for (let i = 0; i < n; i++) {
          const mode = pick(rand, [
            "agree",
            "disagree",
            "random",
            "silent",
            "bad-proof",
            "truthful",
          ] as const);
          const ch = new ScriptedChallenger(w, w.adversaries[i], claimId, caseIdx, mode, rand);
          await ch.open();
          chs.push(ch);
        }
      return {
        tick: async () => {
          for (const ch of chs) await ch.tick();
        },
        waitFor: [proc],
        accounts: chs.map((ch) => ch.c.account.address),
      };
    },
  },

  // -------------------------------------------------------------------------------------------
  // Poisoned inputs: one bad item must never stop the honest agents from handling the next
  // -------------------------------------------------------------------------------------------
  {
    name: "poison-malformed-claim",
    group: "poison",
    async setup(w, rand) {
      const c = pick(rand, w.adversaries);
      const caseIdx = Math.floor(rand() * w.cases.length);
      const k = w.cases[caseIdx];
      // A claim whose input has the wrong element count (cut or padded), then a plain lie.
      const bytes = tensorBytes(k.inputs[0]);
      const bad =
        rand() < 0.5
          ? bytes.subarray(0, bytes.length - 4 * (1 + Math.floor(rand() * 8)))
          : new Uint8Array(bytes.length + 4);
      const n = w.pkg.manifest.nodes.length;
      const t = k.truth;
      await attempt(() =>
        send(
          c,
          w.d.game,
          w.d.abis.game,
          "postClaimWithInputs",
          [
            w.modelId,
            [toHex(bad)],
            toHex(t.outputRoot()),
            toHex(t.graphState(n)),
            toHex(t.tableRoot(n)),
            t.outputPath().map(toHex),
          ],
          w.d.params.minBond,
        ),
      );
      const lie: Lie = { kind: "output" };
      const liar = new LyingClaimant(w, c, await lyingClaim(w, c, caseIdx, lie), lie);
      return { tick: () => liar.tick(), waitFor: [], accounts: [c.account.address] };
    },
  },
  {
    name: "poison-roots-only",
    group: "poison",
    async setup(w, rand) {
      // A false claim posted with roots only, its inputs published separately: still checkable.
      const c = pick(rand, w.adversaries);
      const caseIdx = Math.floor(rand() * w.cases.length);
      const k = w.cases[caseIdx];
      await attempt(() =>
        send(c, w.d.game, w.d.abis.game, "publishInputs", [
          w.modelId,
          k.inputs.map((x) => toHex(tensorBytes(x))),
        ]),
      );
      const view = new LyingView(k.truth, { kind: "output" });
      const n = view.nNodes;
      const before = (await w.counts()).claims;
      await send(
        c,
        w.d.game,
        w.d.abis.game,
        "postClaim",
        [
          w.modelId,
          view.inputRoots().map(toHex),
          toHex(view.outputRoot()),
          toHex(view.graphState(n)),
          toHex(view.tableRoot(n)),
          view.outputPath().map(toHex),
        ],
        w.d.params.minBond,
      );
      const claimId = (await w.counts()).claims;
      if (claimId === before) throw new Error("postClaim made no claim");
      const claim: PostedClaim = {
        claimId,
        view,
        truth: k.truth,
        tx: { hash: "0x", gasUsed: 0n },
        outputRoot: view.outputRoot(),
      };
      const liar = new LyingClaimant(w, c, claim, { kind: "output" });
      return { tick: () => liar.tick(), waitFor: [], accounts: [c.account.address] };
    },
  },
  {
    name: "poison-duplicate-model",
    group: "poison",
    async setup(w, rand) {
      // The same weights registered again with another output slot; a claim that is true for
      // that record (but not for the original) must not lure the watchtower into a losing game.
      const c = pick(rand, w.adversaries);
      const m = w.pkg.manifest;
      const otherSlot = m.nodes[m.nodes.length - 2].outputs[0];
      const dupId = await registerVariant(w, c, otherSlot);
      const caseIdx = Math.floor(rand() * w.cases.length);
      const t = w.cases[caseIdx].truth;
      const n = t.nNodes;
      const table = t.table(n);
      const before = (await w.counts()).claims;
      await send(
        c,
        w.d.game,
        w.d.abis.game,
        "postClaimWithInputs",
        [
          dupId,
          w.cases[caseIdx].inputs.map((x) => toHex(tensorBytes(x))),
          toHex(table[otherSlot]),
          toHex(t.graphState(n)),
          toHex(t.tableRoot(n)),
          leavesProof(table, otherSlot).map(toHex),
        ],
        w.d.params.minBond,
      );
      const claimId = (await w.counts()).claims;
      if (claimId === before) throw new Error("postClaimWithInputs made no claim");
      // It defends with the truth: every graph state it asserts is the real one.
      const claim: PostedClaim = {
        claimId,
        view: t,
        truth: t,
        tx: { hash: "0x", gasUsed: 0n },
        outputRoot: table[otherSlot],
      };
      const owner = new LyingClaimant(w, c, claim, { kind: "none" });
      return { tick: () => owner.tick(), waitFor: [], accounts: [c.account.address] };
    },
  },
  ...REQUEST_STRATEGIES,
];

/** Registers the harness's model again with another output slot; returns the new id. */
async function registerVariant(w: World, c: Clients, outputSlot: number): Promise<bigint> {
  const { registerModelAs } = await import("./register.js");
  return registerModelAs(c, w.d, w.pkg, { outputSlot });
}

export function strategyNamed(name: string): Strategy {
  const s = STRATEGIES.find((x) => x.name === name);
  if (!s) throw new Error(`no strategy '${name}' (have: ${STRATEGIES.map((x) => x.name).join(", ")})`);
  return s;
}
