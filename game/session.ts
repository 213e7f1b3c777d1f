// Chain sessions for the CLI: an embedded anvil (started on a free loopback port, stopped on
// exit) unless --rpc-url / OPML_RPC_URL points at a real network; a deployment either read from a
// JSON file (--deployment) or made fresh on the embedded chain.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { Address, Hex } from "viem";
import { ANVIL_KEYS, type Anvil, startAnvil } from "../chain/anvil.js";
import { type Clients, makeClients } from "../chain/clients.js";
import { ABIS, DEFAULT_PARAMS, type Deployment, deployAll } from "./deploy.js";

export class UsageError extends Error {}

export interface Session {
  clients: Clients;
  deployment: Deployment;
  anvil?: Anvil;
  close(): Promise<void>;
}

export function privateKeyFrom(arg: string | undefined, fallback: Hex): Hex {
  const k = arg ?? process.env.OPML_PRIVATE_KEY ?? fallback;
  if (!/^0x[0-9a-fA-F]{64}$/.test(k))
    throw new UsageError("--private-key must be 0x followed by 64 hex digits");
  return k as Hex;
}

export function saveDeployment(file: string, d: Deployment): void {
  const { abis: _abis, ...rest } = d;
  writeFileSync(file, `${JSON.stringify(rest, (_, v) => (typeof v === "bigint" ? v.toString() : v), 1)}\n`);
}

function chainIdOf(file: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) {
    throw new UsageError(
      `${file}: no valid chainId (a deployment file from before chain binding? redeploy with \`opml deploy --out ${file}\`)`,
    );
  }
  return v;
}

export function loadDeployment(file: string): Deployment {
  if (!existsSync(file))
    throw new UsageError(`${file}: no such deployment file (write one with \`opml deploy --out ${file}\`)`);
  const j = JSON.parse(readFileSync(file, "utf8"));
  return {
    verifier: j.verifier as Address,
    registry: j.registry as Address,
    link: j.link as Address,
    game: j.game as Address,
    requests: j.requests as Address,
    block: BigInt(j.block),
    chainId: chainIdOf(file, j.chainId),
    ...(j.requestsAnswerWindow !== undefined ? { requestsAnswerWindow: BigInt(j.requestsAnswerWindow) } : {}),
    params: {
      minBond: BigInt(j.params.minBond),
      challengerBond: BigInt(j.params.challengerBond),
      challengeWindow: BigInt(j.params.challengeWindow),
      clockBudget: BigInt(j.params.clockBudget),
      answerWindow:
        j.params.answerWindow !== undefined
          ? BigInt(j.params.answerWindow)
          : 2n * BigInt(j.params.challengeWindow),
    },
    abis: ABIS,
  };
}

/** Opens a session; with no RPC URL an embedded anvil gets a fresh deployment. */
export async function openSession(opts: {
  rpcUrl?: string;
  privateKey?: string;
  deployment?: string;
  keyIndex?: number;
}): Promise<Session> {
  const rpcUrl = opts.rpcUrl ?? process.env.OPML_RPC_URL;
  const anvil = rpcUrl ? undefined : await startAnvil();
  const url = rpcUrl ?? anvil!.rpcUrl;
  const key = privateKeyFrom(opts.privateKey, ANVIL_KEYS[opts.keyIndex ?? 0] as Hex);
  if (rpcUrl && !opts.privateKey && !process.env.OPML_PRIVATE_KEY) {
    throw new UsageError(
      "--rpc-url needs --private-key (or OPML_PRIVATE_KEY): no default account on a real network",
    );
  }
  const clients = await makeClients(url, key);
  let deployment: Deployment;
  if (opts.deployment) deployment = loadDeployment(opts.deployment);
  else if (anvil) deployment = await deployAll(clients, DEFAULT_PARAMS);
  else throw new UsageError("--rpc-url needs --deployment <file.json> (from `opml deploy`)");
  return { clients, deployment, anvil, close: async () => anvil?.stop() };
}
