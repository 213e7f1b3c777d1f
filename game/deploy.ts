// Deploys the verifier, registry, phase link and dispute game from forge's artifacts (the TS twin
// of contracts/script/Deploy.s.sol), and registers the DNN program and a model package.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Address, keccak256, parseEther } from "viem";
import { type Clients, firstEvent, send, withRetry } from "../chain/clients.js";
import type { ModelPackage } from "../dnn/src/package.js";
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
  const hash = await withRetry(
    () =>
      c.wallet.deployContract({ abi: a.abi, bytecode: a.bytecode, args, account: c.account, chain: c.chain }),
    `deploy ${name}`,
  );
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
 * Registers the DNN program and the model (its whole node list: the registry validates the graph
 * and computes nodesRoot); returns the model id the claims refer to. A package the registry would
 * refuse throws GraphError before any transaction.
 */
export async function registerModel(
  c: Clients,
  d: Deployment,
  pkg: ModelPackage,
  weightsURI = "",
  /** Fields registered differently from what the package implies (the adversarial harness's griefer). */
  overrides: { outputSlot?: number } = {},
): Promise<bigint> {
  const p = programInfo(dnnVmProgram());
  const tx1 = await send(c, d.registry, d.abis.registry, "registerProgram", [
    p.codeRoot,
    BigInt(p.codeDepth),
    BigInt(p.entryPc),
    p.globalsRoot,
  ]);
  const r1 = await c.publicClient.getTransactionReceipt({ hash: tx1.hash });
  const programId = firstEvent(d.abis.registry, r1.logs, "ProgramRegistered")?.args.programId;
  if (programId === undefined) throw new Error("no ProgramRegistered event in the receipt");
  validateGraph(pkg.manifest);
  const m = modelRecord(pkg.manifest);
  const manifestHash = pkg.dir ? keccak256(readFileSync(join(pkg.dir, "manifest.json"))) : keccak256("0x");
  const big = (xs: number[]) => xs.map((x) => BigInt(x));
  const nodes = pkg.manifest.nodes.map((_, k) => {
    const n = nodeDesc(pkg.manifest, k);
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
  const tx2 = await send(c, d.registry, d.abis.registry, "registerModel", [spec, nodes]);
  const r2 = await c.publicClient.getTransactionReceipt({ hash: tx2.hash });
  const modelId = firstEvent(d.abis.registry, r2.logs, "ModelRegistered")?.args.modelId;
  if (modelId === undefined) throw new Error("no ModelRegistered event in the receipt");
  return modelId;
}
