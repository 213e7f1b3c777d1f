// What the demo's report and `demo --json` say about each dispute, read back from the chain: every
// transaction of a claim's game (the claim, the challenge, each bisect/respond, the descent, the
// final proof or timeout) with who sent it, its gas and its block time; the honest claim's timeline;
// and the one VM instruction the game ended on, decoded from the honest trace.
import type { Address, Hex } from "viem";
import { type Clients, events, withRetry } from "../../chain/clients.js";
import { toHex } from "../../commit/merkle.js";
import { OP_NAMES } from "../../dnn/src/opcodes.js";
import type { ModelPackage } from "../../dnn/src/package.js";
import type { ClaimTrace } from "../../game/claim-trace.js";
import type { Deployment } from "../../game/deploy.js";
import { Ctl, unpackBr, unpackCall, Wasm } from "../../vm/isa.js";
import { Status } from "../../vm/state.js";
import { pops } from "../../vm/verify/one-step-prover.js";
import { opcodeHex, opcodeName } from "../../vm/wasm/opcodes.js";

export type MoveKind =
  | "claim"
  | "challenge"
  | "bisect"
  | "respond"
  | "enterVm"
  | "proveStep"
  | "timeout"
  | "voidGame";

/** One transaction of a dispute, as the chain recorded it. */
export interface MoveRecord {
  /** Who sent it: the claim's claimant, the game's challenger, or (anyone may prove or time out) an address. */
  by: "claimant" | "challenger" | Address;
  from: Address;
  kind: MoveKind;
  /** Game level (0: graph nodes, 1: VM steps) and the disputed interval [lo, hi] when the move was made. */
  level: number;
  lo: string;
  hi: string;
  /** The interval after the move (a respond halves it; enterVm opens the VM level's [0, steps]). */
  after: { level: number; lo: string; hi: string };
  /** agree/disagree, the bisected midpoint, the VM steps entered, the proof's verdict. */
  detail?: string;
  gas: string;
  block: string;
  /** Block timestamp: chain time, seconds. */
  chainTime: number;
  tx: Hex;
}

/** Receipts and block times, fetched once per transaction and per block. */
class TxInfo {
  private receipts = new Map<Hex, Promise<{ from: Address; gasUsed: bigint; blockNumber: bigint }>>();
  private blocks = new Map<bigint, Promise<number>>();
  constructor(private readonly c: Clients) {}

  receipt(hash: Hex) {
    let r = this.receipts.get(hash);
    if (!r) {
      r = withRetry(() => this.c.publicClient.getTransactionReceipt({ hash }), "receipt");
      this.receipts.set(hash, r);
    }
    return r;
  }

  time(blockNumber: bigint): Promise<number> {
    let t = this.blocks.get(blockNumber);
    if (!t) {
      t = withRetry(() => this.c.publicClient.getBlock({ blockNumber }), "block").then((b) =>
        Number(b.timestamp),
      );
      this.blocks.set(blockNumber, t);
    }
    return t;
  }
}

/** A decoded game event, reduced to what the record needs (its interval after, its words). */
interface Step {
  block: bigint;
  index: number;
  tx: Hex;
  kind: Exclude<MoveKind, "claim">;
  /** The interval after the move; undefined: unchanged. */
  after?: { level?: number; lo: bigint; hi: bigint };
  detail?: string;
  challenger?: Address;
}

/**
 * Every transaction of game `gameId` on claim `claimId`, in chain order, starting with the claim
 * itself (the claimant's bond and posting gas belong to the dispute).
 */
export async function readGameRecord(
  c: Clients,
  d: Deployment,
  claimId: bigint,
  gameId: bigint,
): Promise<MoveRecord[]> {
  const info = new TxInfo(c);
  const from = d.block;
  const g = { gameId };
  const [posted] = await events(c, d.game, d.abis.game, "ClaimPosted", { claimId }, from);
  if (!posted) throw new Error(`claim ${claimId}: no ClaimPosted event`);
  const claimant = posted.args.claimant.toLowerCase();
  const at = (l: { blockNumber: bigint; logIndex: number; transactionHash: Hex }) => ({
    block: l.blockNumber,
    index: l.logIndex,
    tx: l.transactionHash,
  });
  const steps: Step[] = [
    ...(await events(c, d.game, d.abis.game, "GameStarted", g, from)).map(
      (l): Step => ({
        ...at(l),
        kind: "challenge",
        after: { level: 0, lo: 0n, hi: l.args.hi },
        challenger: l.args.challenger,
      }),
    ),
    ...(await events(c, d.game, d.abis.game, "Bisected", g, from)).map(
      (l): Step => ({ ...at(l), kind: "bisect", detail: `mid ${l.args.mid}` }),
    ),
    ...(await events(c, d.game, d.abis.game, "Responded", g, from)).map(
      (l): Step => ({
        ...at(l),
        kind: "respond",
        after: { lo: l.args.lo, hi: l.args.hi },
        detail: l.args.agree ? "agree" : "disagree",
      }),
    ),
    ...(await events(c, d.game, d.abis.game, "PhaseEntered", g, from)).map(
      (l): Step => ({
        ...at(l),
        kind: "enterVm",
        after: { level: Number(l.args.level), lo: 0n, hi: l.args.steps },
        detail: `node ${l.args.parentIndex}, ${l.args.steps} steps`,
      }),
    ),
    ...(await events(c, d.game, d.abis.game, "StepProven", g, from)).map(
      (l): Step => ({
        ...at(l),
        kind: "proveStep",
        detail: `step ${l.args.index}: ${l.args.claimantWon ? "gave" : "did not give"} the claimant's post root`,
      }),
    ),
    ...(await events(c, d.game, d.abis.game, "Timeout", g, from)).map(
      (l): Step => ({
        ...at(l),
        kind: "timeout",
        detail: `${l.args.loser.toLowerCase() === claimant ? "claimant" : "challenger"}'s clock ran out`,
      }),
    ),
    ...(await events(c, d.game, d.abis.game, "GameVoided", g, from)).map(
      (l): Step => ({ ...at(l), kind: "voidGame", detail: "claim rejected by another game" }),
    ),
  ].sort((x, y) => (x.block !== y.block ? (x.block < y.block ? -1 : 1) : x.index - y.index));

  let challenger: string | undefined;
  let level = 0;
  let lo = 0n;
  let hi = 0n;
  const moves: MoveRecord[] = [];
  const push = async (
    tx: Hex,
    kind: MoveKind,
    after: { level?: number; lo: bigint; hi: bigint } | undefined,
    detail?: string,
  ) => {
    const r = await info.receipt(tx);
    const sender = r.from;
    const s = sender.toLowerCase();
    const next = { level: after?.level ?? level, lo: after?.lo ?? lo, hi: after?.hi ?? hi };
    moves.push({
      by: s === claimant ? "claimant" : s === challenger ? "challenger" : sender,
      from: sender,
      kind,
      level,
      lo: lo.toString(),
      hi: hi.toString(),
      after: { level: next.level, lo: next.lo.toString(), hi: next.hi.toString() },
      detail,
      gas: r.gasUsed.toString(),
      block: r.blockNumber.toString(),
      chainTime: await info.time(r.blockNumber),
      tx,
    });
    ({ level, lo, hi } = next);
  };
  await push(posted.transactionHash, "claim", { level: 0, lo: 0n, hi: 0n });
  for (const st of steps) {
    if (st.challenger) challenger = st.challenger.toLowerCase();
    await push(st.tx, st.kind, st.after, st.detail);
  }
  return moves;
}

/** Total gas of the moves sent by `by`. */
export function gasOf(moves: MoveRecord[], by: MoveRecord["by"]): bigint {
  return moves.filter((m) => m.by === by).reduce((s, m) => s + BigInt(m.gas), 0n);
}

/** The honest claim's life: posted, its challenge window, finalized; in chain time and wall time. */
export interface ClaimTimeline {
  claimId: string;
  /** Chain time (block timestamps, s) and wall time (ms since the epoch) of the posting transaction. */
  posted: { chainTime: number; wall: number; block: string };
  /** The window's end in chain time (the ClaimPosted deadline) and its length. */
  window: { deadline: number; seconds: number };
  /** When chain time was moved past the deadline (the demo warps anvil's clock), if it was. */
  warped?: { chainTime: number; wall: number };
  finalized: { chainTime: number; wall: number; block: string };
}

/** The timeline of a finalized claim; `wall` times are those the demo noted around each step. */
export async function claimTimeline(
  c: Clients,
  d: Deployment,
  claimId: bigint,
  wall: { posted: number; finalized: number; warped?: number },
): Promise<ClaimTimeline> {
  const info = new TxInfo(c);
  const [posted] = await events(c, d.game, d.abis.game, "ClaimPosted", { claimId }, d.block);
  const [finalized] = await events(c, d.game, d.abis.game, "ClaimFinalized", { claimId }, d.block);
  if (!posted || !finalized) throw new Error(`claim ${claimId}: not posted and finalized`);
  const postedAt = await info.time(posted.blockNumber);
  const finalizedAt = await info.time(finalized.blockNumber);
  const deadline = Number(posted.args.deadline);
  return {
    claimId: claimId.toString(),
    posted: { chainTime: postedAt, wall: wall.posted, block: posted.blockNumber.toString() },
    window: { deadline, seconds: deadline - postedAt },
    warped: wall.warped === undefined ? undefined : { chainTime: finalizedAt, wall: wall.warped },
    finalized: { chainTime: finalizedAt, wall: wall.finalized, block: finalized.blockNumber.toString() },
  };
}

/** The graph node a dispute narrowed down to: its index, ONNX name and op, and kernel op. */
export interface NodeInfo {
  index: number;
  name: string;
  onnxOp: string;
  kernelOp: string;
}

export function nodeInfo(pkg: ModelPackage, k: number): NodeInfo {
  const n = pkg.manifest.nodes[k];
  return { index: k, name: n.name, onnxOp: n.onnxOp, kernelOp: OP_NAMES[n.op] ?? String(n.op) };
}

/** The one VM instruction the game ended on, decoded from the honest trace's state before it. */
export interface FinalStep {
  node: number;
  /** The step index (state `step` → `step + 1` was proven). */
  step: string;
  /** The machine before the step: running, or already finished/trapped (a halted machine maps to itself). */
  status: "running" | "finished" | "trapped";
  pc: number;
  opcode: string;
  opcodeHex: string;
  /** The instruction's 64-bit immediate, raw and decoded. */
  arg: string;
  argText: string;
  /** The values the instruction pops, top of stack last (u64, decimal). */
  operands: string[];
  /** Roots from the StepProven event: the agreed pre-state and the verifier's post-state. */
  preRoot: Hex;
  postRoot: Hex;
  /** The claimant's root after the step (the game's hiRoot) and whether the proof matched it. */
  claimedPostRoot: Hex;
  claimantWon: boolean;
  /** The honest trace gives the same roots (it must: the honest side's roots are the truth). */
  honestPreRoot: Hex;
  honestPostRoot: Hex;
}

const CTL_NAMES: Record<number, string> = {
  [Ctl.BR]: "br",
  [Ctl.BR_IF]: "br_if",
  [Ctl.BR_UNLESS]: "br_unless",
  [Ctl.BR_TABLE]: "br_table",
};

/** What an instruction's immediate means, in words. */
export function describeArg(op: number, arg: bigint): string {
  switch (op) {
    case Wasm.CALL: {
      const c = unpackCall(arg);
      return `entry pc ${c.entryPc}, ${c.nParams} params, ${c.nLocals} locals, ${c.nResults} results`;
    }
    case Ctl.BR:
    case Ctl.BR_IF: {
      const b = unpackBr(arg);
      return `target pc ${b.target}, drop ${b.drop}, keep ${b.keep}`;
    }
    case Ctl.BR_UNLESS:
      return `target pc ${arg}`;
    case Ctl.BR_TABLE:
      return `${arg} + 1 entries follow`;
    case Wasm.RETURN:
      return `${arg} result${arg === 1n ? "" : "s"}`;
    case Wasm.LOCAL_GET:
    case Wasm.LOCAL_SET:
    case Wasm.LOCAL_TEE:
      return `local ${arg}`;
    case Wasm.GLOBAL_GET:
    case Wasm.GLOBAL_SET:
      return `global ${arg}`;
    case Wasm.I32_CONST:
      return `${BigInt.asIntN(32, arg)}`;
    case Wasm.I64_CONST:
      return `${BigInt.asIntN(64, arg)}`;
    default:
      if (op >= Wasm.I32_LOAD && op <= Wasm.I64_STORE32) return `offset ${arg}`;
      return arg === 0n ? "none" : `${arg}`;
  }
}

export function instrName(op: number): string {
  return CTL_NAMES[op] ?? opcodeName(op);
}

/**
 * Decodes VM step `step` of node `k` from the honest trace: the machine's pc, the instruction there
 * and the values it pops. `ev` is the StepProven event's roots; `claimedPostRoot` the game's hiRoot.
 */
export function decodeFinalStep(
  truth: ClaimTrace,
  k: number,
  step: number,
  ev: { preRoot: Hex; postRoot: Hex; claimantWon: boolean },
  claimedPostRoot: Hex,
): FinalStep {
  const t = truth.nodeTrace(k);
  const honestPostRoot = toHex(t.stateRootAt(step + 1));
  const m = t.liveAt(step);
  const honestPreRoot = toHex(m.stateRoot());
  const status =
    m.status === Status.RUNNING ? "running" : m.status === Status.FINISHED ? "finished" : "trapped";
  const base = {
    node: k,
    step: String(step),
    status,
    preRoot: ev.preRoot,
    postRoot: ev.postRoot,
    claimantWon: ev.claimantWon,
    claimedPostRoot,
    honestPreRoot,
    honestPostRoot,
  } as const;
  if (m.status !== Status.RUNNING)
    return { ...base, pc: m.pc, opcode: "(halted)", opcodeHex: "-", arg: "0", argText: "none", operands: [] };
  const ins = m.prog.program.code[m.pc];
  const stack = m.frameStack(m.r.fp);
  const n = pops(ins.op, ins.arg);
  return {
    ...base,
    pc: m.pc,
    opcode: instrName(ins.op),
    opcodeHex: ins.op >= 0x8000 ? `0x${ins.op.toString(16)}` : opcodeHex(ins.op),
    arg: ins.arg.toString(),
    argText: describeArg(ins.op, ins.arg),
    operands: stack.slice(stack.length - n).map((v) => v.toString()),
  };
}
