// Chain sessions for the CLI: an embedded anvil (started on a free loopback port, stopped on
// exit) unless --rpc-url / OPML_RPC_URL points at a real network; a deployment either read from a
// JSON file (--deployment) or made fresh on the embedded chain.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { Address, Hex } from "viem";
import { ANVIL_KEYS, type Anvil, startAnvil } from "../chain/anvil.js";
import { type Clients, makeClients, withRetry } from "../chain/clients.js";
import { UsageError } from "../errors/index.js";
import { ABIS, DEFAULT_PARAMS, type Deployment, deployAll } from "./deploy.js";

export { UsageError };

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

const ADDRESS_FIELDS = ["verifier", "registry", "link", "game", "requests"] as const;

export function loadDeployment(file: string): Deployment {
  if (!existsSync(file))
    throw new UsageError(`${file}: no such deployment file (write one with \`opml deploy --out ${file}\`)`, {
      file,
    });
  let j: ReturnType<typeof JSON.parse>;
  try {
    j = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new UsageError(`${file}: not a deployment file (${(e as Error).message})`, { file });
  }
  const notDeployment = (why: string) =>
    new UsageError(`${file}: not a deployment file written by \`opml deploy\` (${why})`, { file });
  if (typeof j !== "object" || j === null) throw notDeployment("not a JSON object");
  for (const k of ADDRESS_FIELDS) {
    if (typeof j[k] !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(j[k]))
      throw notDeployment(`'${k}' is not an address`);
  }
  let numbers: Pick<Deployment, "block" | "params" | "requestsAnswerWindow">;
  try {
    numbers = {
      block: BigInt(j.block),
      ...(j.requestsAnswerWindow !== undefined
        ? { requestsAnswerWindow: BigInt(j.requestsAnswerWindow) }
        : {}),
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
    };
  } catch (e) {
    // A field missing (BigInt of undefined) or not a number (BigInt of "abc").
    throw notDeployment((e as Error).message);
  }
  return {
    verifier: j.verifier as Address,
    registry: j.registry as Address,
    link: j.link as Address,
    game: j.game as Address,
    requests: j.requests as Address,
    chainId: chainIdOf(file, j.chainId),
    ...numbers,
    abis: ABIS,
  };
}

/**
 * A deployment file used on a chain it was not written for, or whose game has no code there, is
 * refused with one line naming the file, the chain and the address.
 */
async function checkDeploymentChain(c: Clients, d: Deployment, file: string, url: string): Promise<void> {
  if (d.chainId !== c.chain.id) {
    throw new UsageError(
      `${file}: written for chain id ${d.chainId}, but ${url} serves chain id ${c.chain.id}`,
      {
        file,
        chain: c.chain.id,
        url,
      },
    );
  }
  const code = await withRetry(() => c.publicClient.getCode({ address: d.game }), "eth_getCode");
  if (!code || code === "0x") {
    throw new UsageError(`${file}: no contract at game address ${d.game} on chain id ${c.chain.id}`, {
      file,
      address: d.game,
      chain: c.chain.id,
    });
  }
}

/**
 * Opens a session; with no RPC URL an embedded anvil gets a fresh deployment. The arguments and
 * the deployment file are checked before anything starts or connects.
 */
export async function openSession(opts: {
  rpcUrl?: string;
  privateKey?: string;
  deployment?: string;
  keyIndex?: number;
  /** Reads only (`opml claims`): no key needed on a real network, nothing is ever signed. */
  readOnly?: boolean;
}): Promise<Session> {
  const rpcUrl = opts.rpcUrl ?? process.env.OPML_RPC_URL;
  const key = privateKeyFrom(opts.privateKey, ANVIL_KEYS[opts.keyIndex ?? 0] as Hex);
  if (rpcUrl && !opts.readOnly && !opts.privateKey && !process.env.OPML_PRIVATE_KEY) {
    throw new UsageError(
      "--rpc-url needs --private-key (or OPML_PRIVATE_KEY): no default account on a real network",
      { arg: "--private-key" },
    );
  }
  if (rpcUrl && !opts.deployment)
    throw new UsageError("--rpc-url needs --deployment <file.json> (from `opml deploy`)", {
      arg: "--deployment",
    });
  const loaded = opts.deployment ? loadDeployment(opts.deployment) : undefined;
  const anvil = rpcUrl ? undefined : await startAnvil();
  const url = rpcUrl ?? anvil!.rpcUrl;
  try {
    const clients = await makeClients(url, key);
    let deployment: Deployment;
    if (loaded && opts.deployment) {
      await checkDeploymentChain(clients, loaded, opts.deployment, url);
      deployment = loaded;
    } else deployment = await deployAll(clients, DEFAULT_PARAMS);
    return { clients, deployment, anvil, close: async () => anvil?.stop() };
  } catch (e) {
    await anvil?.stop();
    throw e;
  }
}
