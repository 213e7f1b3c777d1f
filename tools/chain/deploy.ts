// Deploys the verifier, registry, phase link and dispute game from forge's artifacts (the TS twin
// of contracts/script/Deploy.s.sol), and registers the DNN program and a model package.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Abi, type Address, decodeEventLog, type Hex, keccak256, parseEther } from "viem";
import type { ModelPackage } from "../../dnn/src/package.js";
import { modelInfo, programInfo } from "../../vm/onchain.js";
import { dnnVmProgram } from "../../vm/phase.js";
import { artifact } from "./artifacts.js";
import { type Clients, send, withRetry } from "./clients.js";

export interface GameParams {
  minBond: bigint;
  challengerBond: bigint;
  /** seconds */
  challengeWindow: bigint;
  /** seconds per party per game */
  clockBudget: bigint;
}

export const DEFAULT_PARAMS: GameParams = {
  minBond: parseEther("1"),
  challengerBond: parseEther("1"),
  challengeWindow: 3600n,
  clockBudget: 1800n,
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
  const requests = await deployOne(c, "InferenceRequests.sol", "InferenceRequests", [game]);
  const block = await c.publicClient.getBlockNumber({ cacheTime: 0 });
  return {
    verifier,
    registry,
    link,
    game,
    requests,
    params,
    block,
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

/** Registers the DNN program and the model; returns the model id the claims refer to. */
export async function registerModel(
  c: Clients,
  d: Deployment,
  pkg: ModelPackage,
  weightsURI = "",
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
  const m = modelInfo(pkg.manifest);
  const manifestHash = pkg.dir ? keccak256(readFileSync(join(pkg.dir, "manifest.json"))) : keccak256("0x");
  const tx2 = await send(c, d.registry, d.abis.registry, "registerModel", [
    programId,
    m.modelRoot,
    m.nodesRoot,
    BigInt(m.nNodes),
    BigInt(m.tableDepth),
    BigInt(m.weightsDepth),
    BigInt(m.inputSlots.length),
    BigInt(m.outputSlot),
    manifestHash,
    weightsURI,
  ]);
  const r2 = await c.publicClient.getTransactionReceipt({ hash: tx2.hash });
  return idFromLogs(d.abis.registry, r2.logs, "ModelRegistered", "modelId");
}
