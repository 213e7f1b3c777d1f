// Chain sessions for the CLI: an embedded anvil (started on a free loopback port, stopped on
// exit) unless --rpc-url / OPML_RPC_URL points at a real network; a deployment either read from a
// JSON file (--deployment) or made fresh on the embedded chain.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { Address, Hex } from "viem";
import { ANVIL_KEYS, type Anvil, startAnvil } from "../chain/anvil.js";
import { type Clients, isTransient, makeClients, oneLine, withRetry } from "../chain/clients.js";
import { RpcError, UsageError } from "../errors/index.js";
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
    const what =
      v === undefined ? "'chainId' is missing" : `'chainId' is ${JSON.stringify(v)}, not a chain id`;
    throw new UsageError(
      `${file}: ${what} (a deployment file from before chain binding? redeploy with \`opml deploy --out ${file}\`)`,
      { file },
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
    if (j[k] === undefined) throw notDeployment(`'${k}' is missing`);
    if (typeof j[k] !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(j[k]))
      throw notDeployment(`'${k}' is ${JSON.stringify(j[k])}, not an address`);
  }
  // Each number a decimal string or a safe integer; a missing or malformed one is named by its path.
  const int = (path: string, v: unknown): bigint => {
    if (v === undefined || v === null) throw notDeployment(`'${path}' is missing`);
    if (
      (typeof v === "string" && /^[0-9]+$/.test(v)) ||
      (typeof v === "number" && Number.isSafeInteger(v) && v >= 0)
    )
      return BigInt(v);
    throw notDeployment(`'${path}' is ${JSON.stringify(v)}, not a non-negative integer`);
  };
  const p: unknown = j.params;
  if (typeof p !== "object" || p === null || Array.isArray(p))
    throw notDeployment(p === undefined ? "'params' is missing" : "'params' is not an object");
  const param = (k: string) => int(`params.${k}`, (p as Record<string, unknown>)[k]);
  const challengeWindow = param("challengeWindow");
  const numbers: Pick<Deployment, "block" | "params" | "requestsAnswerWindow"> = {
    block: int("block", j.block),
    ...(j.requestsAnswerWindow !== undefined
      ? { requestsAnswerWindow: int("requestsAnswerWindow", j.requestsAnswerWindow) }
      : {}),
    params: {
      minBond: param("minBond"),
      challengerBond: param("challengerBond"),
      challengeWindow,
      clockBudget: param("clockBudget"),
      answerWindow:
        (p as Record<string, unknown>).answerWindow !== undefined
          ? param("answerWindow")
          : 2n * challengeWindow,
    },
  };
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
 * A deployment file used on a chain it was not written for is refused on start-up with one line
 * naming the file and what differs: the chain ids compared, the deployment block against the head,
 * code at each of its five addresses, and the contracts' wiring and parameters as the file states
 * them (the game's registry, verifier, link and bonds; the link's registry; the requests' game).
 */
export async function checkDeploymentChain(
  c: Clients,
  d: Deployment,
  file: string,
  url: string,
): Promise<void> {
  const chain = c.chain.id;
  if (d.chainId !== chain) {
    throw new UsageError(`${file}: written for chain id ${d.chainId}, but ${url} serves chain id ${chain}`, {
      file,
      chain,
      url,
    });
  }
  const head = await withRetry(() => c.publicClient.getBlockNumber({ cacheTime: 0 }), "eth_blockNumber");
  if (d.block > head)
    throw new UsageError(
      `${file}: deployed in block ${d.block}, but the head of chain id ${chain} at ${url} is block ${head} (a file for another chain, or the chain was reset; redeploy)`,
      { file, chain, url },
    );
  const codes = await Promise.all(
    ADDRESS_FIELDS.map((k) => withRetry(() => c.publicClient.getCode({ address: d[k] }), "eth_getCode")),
  );
  ADDRESS_FIELDS.forEach((k, i) => {
    const code = codes[i];
    if (!code || code === "0x")
      throw new UsageError(`${file}: no contract at ${k} address ${d[k]} on chain id ${chain}`, {
        file,
        address: d[k],
        chain,
      });
  });
  // Each getter the file's contracts must answer, and what it must return.
  const g = { address: d.game, abi: d.abis.game } as const;
  const checks: [keyof typeof ADDRESS_NAMES, Address, string, () => Promise<unknown>, unknown][] = [
    [
      "game",
      d.game,
      "registry()",
      () => c.publicClient.readContract({ ...g, functionName: "registry" }),
      d.registry,
    ],
    [
      "game",
      d.game,
      "verifier()",
      () => c.publicClient.readContract({ ...g, functionName: "verifier" }),
      d.verifier,
    ],
    [
      "game",
      d.game,
      "links(0)",
      () => c.publicClient.readContract({ ...g, functionName: "links", args: [0n] }),
      d.link,
    ],
    [
      "game",
      d.game,
      "minBond()",
      () => c.publicClient.readContract({ ...g, functionName: "minBond" }),
      d.params.minBond,
    ],
    [
      "game",
      d.game,
      "challengerBond()",
      () => c.publicClient.readContract({ ...g, functionName: "challengerBond" }),
      d.params.challengerBond,
    ],
    [
      "game",
      d.game,
      "challengeWindow()",
      () => c.publicClient.readContract({ ...g, functionName: "challengeWindow" }),
      d.params.challengeWindow,
    ],
    [
      "game",
      d.game,
      "clockBudget()",
      () => c.publicClient.readContract({ ...g, functionName: "clockBudget" }),
      d.params.clockBudget,
    ],
    [
      "link",
      d.link,
      "registry()",
      () => c.publicClient.readContract({ address: d.link, abi: d.abis.link, functionName: "registry" }),
      d.registry,
    ],
    [
      "requests",
      d.requests,
      "game()",
      () => c.publicClient.readContract({ address: d.requests, abi: d.abis.requests, functionName: "game" }),
      d.game,
    ],
  ];
  const got = await Promise.all(
    checks.map(([, , , read]) =>
      withRetry(read, "deployment check").then(
        (v) => ({ v }),
        (e: unknown) => {
          if (isTransient(e) || e instanceof RpcError) throw e;
          return { e };
        },
      ),
    ),
  );
  checks.forEach(([k, address, getter, , want], i) => {
    const r = got[i];
    const show = (v: unknown) => (typeof v === "string" ? v.toLowerCase() : String(v));
    if ("e" in r)
      throw new UsageError(
        `${file}: the contract at ${k} address ${address} on chain id ${chain} is not the ${ADDRESS_NAMES[k]} this file describes (${getter} fails: ${oneLine(r.e)})`,
        { file, address, chain },
      );
    if (show(r.v) !== show(want))
      throw new UsageError(
        `${file}: the ${ADDRESS_NAMES[k]} at ${address} on chain id ${chain} has ${getter} = ${show(r.v)}, but the file says ${show(want)}`,
        { file, address, chain },
      );
  });
}

const ADDRESS_NAMES = {
  game: "DisputeGame",
  link: "NodeVmLink",
  requests: "InferenceRequests",
} as const;

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
