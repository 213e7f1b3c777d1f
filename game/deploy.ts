// Deploys the verifier, registry, phase link and dispute game from forge's artifacts (the TS twin
// of contracts/script/Deploy.s.sol), and registers the DNN program and a model package.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Abi, type Address, decodeEventLog, type Hex, keccak256, parseEther } from "viem";
import { type Clients, send, withRetry } from "../chain/clients.js";
import type { ModelPackage } from "../dnn/src/package.js";
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

export interface Deployment {
  verifier: Address;
  registry: Address;
  link: Address;
  game: Address;
  requests: Address;
  abis: { game: Abi; registry: Abi; link: Abi; requests: Abi };
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
    abis: {
      game: artifact("DisputeGame.sol", "DisputeGame").abi,
      registry: artifact("Registry.sol", "Registry").abi,
      link: artifact("NodeVmLink.sol", "NodeVmLink").abi,
      requests: artifact("InferenceRequests.sol", "InferenceRequests").abi,
    },
  };
}

function idFromLogs(
  abi: Abi,
  logs: readonly { data: Hex; topics: readonly Hex[] }[],
  event: string,
  field: string,
): bigint {
  for (const l of logs) {
    try {
      const d = decodeEventLog({ abi, data: l.data, topics: l.topics as [Hex, ...Hex[]] });
      if (d.eventName === event) return (d.args as unknown as Record<string, bigint>)[field];
    } catch {
      // another event
    }
  }
  throw new Error(`no ${event} event in the receipt`);
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
  const programId = idFromLogs(d.abis.registry, r1.logs, "ProgramRegistered", "programId");
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
  return idFromLogs(d.abis.registry, r2.logs, "ModelRegistered", "modelId");
}
