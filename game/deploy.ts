// Deploys the verifier, registry, phase link and dispute game from forge's artifacts (the TS twin
// of contracts/script/Deploy.s.sol), and registers the DNN program and a model package.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Address, encodeDeployData, encodeFunctionData, type Hex, keccak256, parseEther } from "viem";
import { type Clients, firstEvent, fundsError, send, type TxResult, withRetry } from "../chain/clients.js";
import type { Manifest, ModelPackage } from "../dnn/src/package.js";
import { disputeGameAbi, inferenceRequestsAbi, nodeVmLinkAbi, registryAbi } from "./abi.js";
import { artifact } from "./artifacts.js";
import { dnnVmProgram } from "./link.js";
import { modelRecord, nodeDesc, programInfo, validateGraph } from "./registry.js";

export interface GameParams {
  minBond: bigint;
  challengerBond: bigint;
  /** seconds */
  challengeWindow: bigint;
  /** seconds per party per game */
  clockBudget: bigint;
  /** seconds from an inference request to its answer deadline (InferenceRequests) */
  answerWindow: bigint;
}

export const DEFAULT_PARAMS: GameParams = {
  minBond: parseEther("1"),
  challengerBond: parseEther("1"),
  challengeWindow: 3600n,
  clockBudget: 1800n,
  answerWindow: 7200n, // 2 × challengeWindow
};

/** The typed ABIs of the deployed contracts (game/abi.ts, generated from forge's out/). */
export const ABIS = {
  game: disputeGameAbi,
  registry: registryAbi,
  link: nodeVmLinkAbi,
  requests: inferenceRequestsAbi,
} as const;

export interface Deployment {
  verifier: Address;
  registry: Address;
  link: Address;
  game: Address;
  requests: Address;
  abis: typeof ABIS;
  params: GameParams;
  block: bigint;
  /** The chain the contracts live on (eth_chainId at deployment). */
  chainId: number;
  /** InferenceRequests' answer window, if known (the same as params.answerWindow when deployed here). */
  requestsAnswerWindow?: bigint;
}

async function deployOne(
  c: Clients,
  file: string,
  name: string,
  args: readonly unknown[] = [],
): Promise<Address> {
  const a = artifact(file, name);
  let hash: Hex;
  try {
    hash = await withRetry(
      () =>
        c.wallet.deployContract({
          abi: a.abi,
          bytecode: a.bytecode,
          args,
          account: c.account,
          chain: c.chain,
        }),
      `deploy ${name}`,
    );
  } catch (e) {
    const data = encodeDeployData({ abi: a.abi, bytecode: a.bytecode, args });
    throw (
      (await fundsError(c, `deploy ${name}`, e, 0n, () =>
        c.publicClient.estimateGas({ account: c.account, data }),
      )) ?? e
    );
  }
  const r = await withRetry(() => c.publicClient.waitForTransactionReceipt({ hash }), `deploy ${name}`);
  if (r.status !== "success" || !r.contractAddress) throw new Error(`deploying ${name} failed (${hash})`);
  return r.contractAddress;
}

export async function deployAll(c: Clients, params: GameParams = DEFAULT_PARAMS): Promise<Deployment> {
  const verifier = await deployOne(c, "OneStepProver.sol", "OneStepProver");
  const registry = await deployOne(c, "Registry.sol", "Registry");
  const link = await deployOne(c, "NodeVmLink.sol", "NodeVmLink", [registry]);
  const game = await deployOne(c, "DisputeGame.sol", "DisputeGame", [
    registry,
    verifier,
    [link],
    params.minBond,
    params.challengerBond,
    params.challengeWindow,
    params.clockBudget,
  ]);
  const requests = await deployOne(c, "InferenceRequests.sol", "InferenceRequests", [
    game,
    params.answerWindow,
  ]);
  const block = await c.publicClient.getBlockNumber({ cacheTime: 0 });
  const chainId = await c.publicClient.getChainId();
  return {
    verifier,
    registry,
    link,
    game,
    requests,
    params,
    block,
    chainId,
    requestsAnswerWindow: params.answerWindow,
    abis: ABIS,
  };
}

/**
 * Default calldata budget of one registration transaction, in bytes: under geth's 128 KiB
 * transaction size limit (txpool) with room for the signature and RLP envelope, and far under
 * anvil's 2 MB JSON-RPC request limit. A node list that does not fit one registerModel call of
 * this size is registered in pages (beginModel, addNodes …, finishModel).
 */
export const DEFAULT_PAGE_BYTES = 96 * 1024;

/** The registry's NodeDesc as the ABI takes it. */
export interface NodeArg {
  op: bigint;
  inKinds: bigint[];
  inIndex: bigint[];
  inHeights: bigint[];
  outSlots: bigint[];
  outHeights: bigint[];
  params: bigint[];
}

/** The package's node descriptors as registerModel and addNodes take them. */
export function nodeArgs(manifest: Manifest): NodeArg[] {
  const big = (xs: number[]) => xs.map((x) => BigInt(x));
  return manifest.nodes.map((_, k) => {
    const n = nodeDesc(manifest, k);
    return {
      op: BigInt(n.op),
      inKinds: big(n.inKinds),
      inIndex: big(n.inIndex),
      inHeights: big(n.inHeights),
      outSlots: big(n.outSlots),
      outHeights: big(n.outHeights),
      params: big(n.params),
    };
  });
}

/**
 * ABI-encoded bytes of one node as an element of a NodeDesc[] argument: its offset word, 7 head
 * words (op and six array offsets) and each array's length word and elements.
 */
export function nodeArgBytes(n: NodeArg): number {
  const words =
    n.inKinds.length + n.inIndex.length + n.inHeights.length + n.outSlots.length + n.outHeights.length;
  return 32 * (14 + words + n.params.length);
}

const hexBytes = (hex: string) => (hex.length - 2) / 2;

/** Calldata bytes of addNodes(draftId, nodes): selector, draftId, array offset, length, nodes. */
export const ADD_NODES_OVERHEAD = 4 + 3 * 32;

/**
 * Splits `nodes` greedily, in order, into pages whose addNodes calldata fits `pageBytes`; returns
 * each page's [from, to). A node that alone does not fit goes in a page of its own: a node's leaf is
 * the hash of its whole descriptor, so it cannot be split, and whether the chain takes that
 * transaction is the chain's call (anvil takes up to 2 MB, geth's txpool 128 KiB).
 */
export function pageRanges(nodes: readonly NodeArg[], pageBytes: number): [number, number][] {
  const pages: [number, number][] = [];
  let from = 0;
  let size = ADD_NODES_OVERHEAD;
  for (let k = 0; k < nodes.length; k++) {
    const b = nodeArgBytes(nodes[k]);
    if (k > from && size + b > pageBytes) {
      pages.push([from, k]);
      from = k;
      size = ADD_NODES_OVERHEAD;
    }
    size += b;
  }
  if (from < nodes.length) pages.push([from, nodes.length]);
  return pages;
}

export interface RegisterOptions {
  /** Calldata budget per transaction (DEFAULT_PAGE_BYTES): above it, the node list goes in pages. */
  pageBytes?: number;
  /** Called after each registration transaction (the program's included), e.g. to log its gas. */
  onTx?: (
    what: "registerProgram" | "registerModel" | "beginModel" | "addNodes" | "finishModel",
    r: TxResult,
  ) => void;
}

/**
 * Registers the DNN program and the model (its whole node list: the registry validates the graph
 * and computes nodesRoot); returns the model id the claims refer to. A package the registry would
 * refuse throws GraphError before any transaction. A node list whose registerModel call would
 * exceed `opts.pageBytes` of calldata is sent in pages instead (docs/PROTOCOL.md §5.1); the
 * record is the same either way.
 */
export async function registerModel(
  c: Clients,
  d: Deployment,
  pkg: ModelPackage,
  weightsURI = "",
  /** Fields registered differently from what the package implies (the adversarial harness's griefer). */
  overrides: { outputSlot?: number } = {},
  opts: RegisterOptions = {},
): Promise<bigint> {
  const pageBytes = opts.pageBytes ?? DEFAULT_PAGE_BYTES;
  const onTx = opts.onTx ?? (() => {});
  const p = programInfo(dnnVmProgram());
  const tx1 = await send(c, d.registry, d.abis.registry, "registerProgram", [
    p.codeRoot,
    BigInt(p.codeDepth),
    BigInt(p.entryPc),
    p.globalsRoot,
  ]);
  onTx("registerProgram", tx1);
  const r1 = await c.publicClient.getTransactionReceipt({ hash: tx1.hash });
  const programId = firstEvent(d.abis.registry, r1.logs, "ProgramRegistered")?.args.programId;
  if (programId === undefined) throw new Error("no ProgramRegistered event in the receipt");
  validateGraph(pkg.manifest);
  const m = modelRecord(pkg.manifest);
  const manifestHash = pkg.dir ? keccak256(readFileSync(join(pkg.dir, "manifest.json"))) : keccak256("0x");
  const nodes = nodeArgs(pkg.manifest);
  const spec = {
    programId,
    modelRoot: m.modelRoot,
    tableDepth: BigInt(m.tableDepth),
    weightsDepth: BigInt(m.weightsDepth),
    inputBytes: m.inputBytes,
    outputSlot: BigInt(overrides.outputSlot ?? m.outputSlot),
    maxSteps: m.maxSteps,
    manifestHash,
    weightsURI,
  };
  // The list alone is checked first, so a large one is never encoded whole.
  const listBytes = 32 + nodes.reduce((b, n) => b + nodeArgBytes(n), 0);
  const oneShot =
    listBytes <= pageBytes &&
    hexBytes(
      encodeFunctionData({ abi: d.abis.registry, functionName: "registerModel", args: [spec, nodes] }),
    ) <= pageBytes;
  let tx2: TxResult;
  if (oneShot) {
    tx2 = await send(c, d.registry, d.abis.registry, "registerModel", [spec, nodes]);
    onTx("registerModel", tx2);
  } else {
    const pages = pageRanges(nodes, pageBytes);
    const nSlots = m.inputBytes.length + nodes.reduce((s, n) => s + n.outSlots.length, 0);
    const tb = await send(c, d.registry, d.abis.registry, "beginModel", [
      spec,
      BigInt(nodes.length),
      BigInt(nSlots),
    ]);
    onTx("beginModel", tb);
    const rb = await c.publicClient.getTransactionReceipt({ hash: tb.hash });
    const draftId = firstEvent(d.abis.registry, rb.logs, "ModelDraftBegun")?.args.draftId;
    if (draftId === undefined) throw new Error("no ModelDraftBegun event in the receipt");
    for (const [from, to] of pages) {
      onTx(
        "addNodes",
        await send(c, d.registry, d.abis.registry, "addNodes", [draftId, nodes.slice(from, to)]),
      );
    }
    tx2 = await send(c, d.registry, d.abis.registry, "finishModel", [draftId]);
    onTx("finishModel", tx2);
  }
  const r2 = await c.publicClient.getTransactionReceipt({ hash: tx2.hash });
  const modelId = firstEvent(d.abis.registry, r2.logs, "ModelRegistered")?.args.modelId;
  if (modelId === undefined) throw new Error("no ModelRegistered event in the receipt");
  return modelId;
}
