// viem clients for any RPC, with retries (exponential backoff) for transient RPC failures.
import {
  type Abi,
  type Account,
  type Address,
  type Chain,
  type ContractEventArgs,
  type ContractEventName,
  type ContractFunctionArgs,
  type ContractFunctionName,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  defineChain,
  ExecutionRevertedError,
  formatEther,
  formatGwei,
  type GetEventArgs,
  type Hex,
  HttpRequestError,
  http,
  InsufficientFundsError,
  LimitExceededRpcError,
  type Log,
  type PublicClient,
  parseEventLogs,
  ResourceUnavailableRpcError,
  RpcRequestError,
  SocketClosedError,
  TimeoutError,
  type Transport,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { RpcError, UserError } from "../errors/index.js";
import { agentLog, type Logger } from "./log.js";

export interface Clients {
  publicClient: PublicClient;
  wallet: WalletClient;
  account: Account;
  chain: Chain;
}

/**
 * Refuses an RPC URL that cannot work before anything is sent: not a URL (e.g. a missing scheme,
 * `127.0.0.1:8545`) or a scheme the HTTP transport does not speak.
 */
export function checkRpcUrl(rpcUrl: string): void {
  let u: URL | undefined;
  try {
    u = new URL(rpcUrl);
  } catch {
    u = undefined;
  }
  // `localhost:8545` parses as scheme "localhost:"; `127.0.0.1:8545` does not parse at all.
  const bareHost = /^[^/:]+:\d+(\/.*)?$/.test(rpcUrl);
  if (u === undefined || bareHost)
    throw new RpcError(`${rpcUrl}: not a URL: the scheme is missing (try http://${rpcUrl})`, { url: rpcUrl });
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new RpcError(
      `${rpcUrl}: unsupported scheme '${u.protocol.slice(0, -1)}' (the RPC URL must start with http:// or https://)`,
      { url: rpcUrl },
    );
}

/**
 * Why a connection could not be made at all, for the failures a retry cannot fix when they
 * happen on the first request (nothing listens there, the host name does not exist).
 */
export function connectFailure(e: unknown, rpcUrl: string): string | undefined {
  for (const x of causes(e)) {
    const code = (x as { code?: unknown } | null)?.code;
    if (code === "ECONNREFUSED") return "connection refused (is a node listening there?)";
    if (code === "ENOTFOUND") return `unknown host '${hostOf(rpcUrl)}'`;
    if (code === "EAI_AGAIN") return `cannot resolve host '${hostOf(rpcUrl)}' (DNS lookup failed: EAI_AGAIN)`;
    // fetch refuses the ports of other protocols (1, 25, 6000, …) before connecting.
    if ((x as { message?: unknown } | null)?.message === "bad port")
      return `port ${portOf(rpcUrl)} is one fetch refuses to connect to (reserved for another protocol; use another port)`;
  }
  return undefined;
}

function hostOf(rpcUrl: string): string {
  try {
    return new URL(rpcUrl).hostname;
  } catch {
    return rpcUrl;
  }
}

function portOf(rpcUrl: string): string {
  try {
    return new URL(rpcUrl).port;
  } catch {
    return "?";
  }
}

/** Clients on `rpcUrl`; refuses a URL that is not one, or where no JSON-RPC node answers. */
export async function makeClients(rpcUrl: string, privateKey: Hex): Promise<Clients> {
  checkRpcUrl(rpcUrl);
  const transport = loggedHttp(rpcUrl);
  // The first request fails fast when nothing can answer (refused, unknown host): a wrong URL is
  // said within seconds, not after a minute of backoff. Other failures are retried, each logged.
  const probe = createPublicClient({
    transport: loggedHttp(rpcUrl, { fatal: (e) => connectFailure(e, rpcUrl) }),
  });
  let id: number;
  try {
    id = await withRetry(
      () => probe.getChainId(),
      `${rpcUrl}: eth_chainId`,
      4,
      (e) => connectFailure(e, rpcUrl) === undefined,
    );
  } catch (e) {
    const fatal = connectFailure(e, rpcUrl);
    // Unreachable (retried, then given up) or not a JSON-RPC node at all (an HTTP 404, HTML).
    const why = fatal
      ? `${rpcUrl}: ${fatal}`
      : e instanceof RpcError
        ? e.message
        : `${rpcUrl}: not a JSON-RPC endpoint (${oneLine(e)})`;
    throw new RpcError(why, { url: rpcUrl }, { cause: e });
  }
  const chain = defineChain({
    id,
    name: `chain-${id}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const account = privateKeyToAccount(privateKey);
  return {
    publicClient: createPublicClient({ chain, transport, pollingInterval: 100 }) as PublicClient,
    wallet: createWalletClient({ chain, transport, account }),
    account,
    chain,
  };
}

/** Where RPC retries are logged as they happen (the agents' log unless a test replaces it). */
export const rpcLog: { log: Logger } = { log: agentLog };

/** The HTTP status of the response an error carries, if any. */
function httpStatus(e: unknown): number | undefined {
  for (const x of causes(e)) if (x instanceof HttpRequestError) return x.status;
  return undefined;
}

/**
 * What viem's HTTP transport retries (utils/buildRequest.ts `shouldRetry`), restated here so that
 * each retry can be logged: connection failures, timeouts, 403/408/413/429/5xx, and the JSON-RPC
 * codes -1, -32603, -32005, -32007, 429; never a refusal of the method or a revert.
 */
function transportRetries(e: unknown): boolean {
  if ((e as { name?: string } | null)?.name === "AbortError") return false;
  if (
    causes(e).some((x) => x instanceof ContractFunctionRevertedError || x instanceof ExecutionRevertedError)
  )
    return false;
  const status = httpStatus(e);
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "number") {
    if ([-1, -32005, -32603, 429, -32007].includes(code)) return true;
    if (code === -32601 || code === -32004) return false;
    if (!status) return false;
  }
  if (status) return [403, 408, 413, 429, 500, 502, 503, 504].includes(status);
  return true;
}

/**
 * viem's HTTP transport with its retries done here, so each is logged as it happens ("rpc retry",
 * with the method, the attempt and the error): 5 retries, 0.2 s doubling (as viem's), or the
 * server's Retry-After. `fatal` names failures never to retry (the first request's refusals).
 */
export function loggedHttp(
  rpcUrl: string,
  opts: { retries?: number; fatal?: (e: unknown) => string | undefined } = {},
): Transport {
  const inner = http(rpcUrl, { retryCount: 0 });
  const retries = opts.retries ?? 5;
  return (cfg) => {
    const t = inner({ ...cfg, retryCount: 0 });
    const request = (async (args: { method: string }, options?: unknown) => {
      for (let i = 0; ; i++) {
        try {
          return await (t.request as (a: unknown, o?: unknown) => Promise<unknown>)(args, options);
        } catch (e) {
          if (i >= retries || !transportRetries(e) || opts.fatal?.(e) !== undefined) throw e;
          const delay = retryAfterMs(e) ?? (1 << i) * RETRY_DELAY_MS.first;
          rpcLog.log("warn", "rpc retry", {
            url: rpcUrl,
            method: args.method,
            attempt: i + 1,
            of: retries,
            inMs: delay,
            error: oneLine(e),
          });
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    }) as typeof t.request;
    return { ...t, request };
  };
}

/** The delay a Retry-After header asks for, in ms. */
function retryAfterMs(e: unknown): number | undefined {
  for (const x of causes(e)) {
    if (!(x instanceof HttpRequestError)) continue;
    const h = x.headers?.get("Retry-After");
    if (!h) return undefined;
    const s = Number.parseInt(h, 10);
    if (!Number.isNaN(s)) return s * 1000;
    const d = Date.parse(h) - Date.now();
    return d > 0 ? d : undefined;
  }
  return undefined;
}

/** The error and its causes, outermost first (viem wraps the transport's error several times). */
function causes(e: unknown): unknown[] {
  const out: unknown[] = [];
  for (let x = e; x !== undefined && x !== null && out.length < 16; x = (x as { cause?: unknown }).cause) {
    out.push(x);
    if (typeof x !== "object") break;
  }
  return out;
}

/** JSON-RPC error codes that mean "try again later": limit exceeded, resource unavailable. */
const TRANSIENT_RPC_CODES = new Set([-32005, -32002]);
/** Socket-level failures Node reports by `code` (fetch's cause, net errors). */
const TRANSIENT_SYSCALL_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/**
 * Whether an RPC failure is transient (worth retrying): classified by viem's error classes, the
 * HTTP status and the JSON-RPC code, never by matching text in the message (which holds function
 * names such as `timeout` and hex calldata). A revert anywhere in the chain is never transient.
 */
export function isTransient(e: unknown): boolean {
  const chain = causes(e);
  if (chain.some((x) => x instanceof ContractFunctionRevertedError || x instanceof ExecutionRevertedError))
    return false;
  for (const x of chain) {
    if (x instanceof HttpRequestError) {
      const st = x.status;
      if (st === undefined || st === 429 || st >= 500) return true; // no status: the connection failed
      return false;
    }
    if (x instanceof TimeoutError || x instanceof SocketClosedError) return true;
    if (x instanceof LimitExceededRpcError || x instanceof ResourceUnavailableRpcError) return true;
    if (x instanceof RpcRequestError) return TRANSIENT_RPC_CODES.has(x.code);
    const code = (x as { code?: unknown } | null)?.code;
    if (typeof code === "number" && TRANSIENT_RPC_CODES.has(code)) return true;
    if (typeof code === "string" && TRANSIENT_SYSCALL_CODES.has(code)) return true;
  }
  return false;
}

/** The custom error a reverted call names (e.g. "ClaimAlreadyRejected"), if any. */
export function revertName(e: unknown): string | undefined {
  for (const x of causes(e)) {
    if (x instanceof ContractFunctionRevertedError) return x.data?.errorName ?? x.reason ?? "revert";
    const r = (x as { revert?: unknown } | null)?.revert;
    if (typeof r === "string") return r;
  }
  return undefined;
}

/** One line: viem's short message (or the message's first line). */
export function oneLine(e: unknown): string {
  const x = e as { shortMessage?: string; message?: string };
  return (x?.shortMessage ?? x?.message ?? String(e)).split("\n")[0];
}

/** A transaction (or its simulation) that reverted; `revert` names the custom error. */
export class TxError extends UserError {
  override readonly kind: string = "tx";
  constructor(
    message: string,
    readonly revert?: string,
    options?: { cause?: unknown },
  ) {
    super(message, { op: message.split(":")[0] }, options);
  }
}

/** A transaction the account cannot pay for: names the address, its balance and what it needs. */
export class FundsError extends UserError {
  override readonly kind: string = "funds";
}

/**
 * If `e` says the account cannot pay (viem's InsufficientFundsError, from the node's "insufficient
 * funds for gas * price + value"), the one-line FundsError for it: the address, its balance and
 * the amount needed (value + gas limit × max fee per gas, as the transaction would have been sent).
 */
export async function fundsError(
  c: Clients,
  what: string,
  e: unknown,
  value: bigint | undefined,
  gas: (() => Promise<bigint>) | bigint | undefined,
): Promise<FundsError | undefined> {
  if (!causes(e).some((x) => x instanceof InsufficientFundsError)) return undefined;
  const address = c.account.address;
  const quiet = <T>(p: () => Promise<T>) => p().catch(() => undefined);
  const balance = await quiet(() => c.publicClient.getBalance({ address }));
  const fees = await quiet(() => c.publicClient.estimateFeesPerGas());
  const price = fees?.maxFeePerGas ?? (await quiet(() => c.publicClient.getGasPrice()));
  const limit = typeof gas === "bigint" ? gas : gas ? await quiet(gas) : undefined;
  const v = value ?? 0n;
  const eth = (x: bigint | undefined) => (x === undefined ? "unknown" : `${formatEther(x)} ETH`);
  const needs =
    limit !== undefined && price !== undefined
      ? `needs ${eth(v + limit * price)} (${v > 0n ? `${eth(v)} value + ` : ""}gas ${limit} × ${formatGwei(price)} gwei)`
      : `needs ${v > 0n ? `${eth(v)} plus gas` : "gas money"}`;
  return new FundsError(
    `${address}: not enough ETH for ${what}: balance ${eth(balance)}, ${needs}; fund the account or use another --private-key`,
    { address, op: what },
    { cause: e },
  );
}

export const RETRY_DELAY_MS = { first: 200 };

/**
 * Retries `f` with exponential backoff (0.2 s … 6.4 s) on transient RPC failures only (see
 * isTransient; `retryable` narrows it further); anything else (a revert, an invalid argument) is
 * thrown at once. Each retry is logged as it happens ("rpc retry").
 */
export async function withRetry<T>(
  f: () => Promise<T>,
  what: string,
  attempts = 6,
  retryable: (e: unknown) => boolean = () => true,
): Promise<T> {
  let delay = RETRY_DELAY_MS.first;
  for (let i = 1; ; i++) {
    try {
      return await f();
    } catch (e) {
      if (!isTransient(e) || !retryable(e)) throw e;
      if (i >= attempts)
        throw new RpcError(
          `${what}: still failing after ${attempts} attempts: ${oneLine(e)}`,
          {},
          { cause: e },
        );
      rpcLog.log("warn", "rpc retry", { what, attempt: i, of: attempts - 1, inMs: delay, error: oneLine(e) });
      await new Promise((r) => setTimeout(r, delay));
      delay *= 2;
    }
  }
}

export interface TxResult {
  hash: Hex;
  gasUsed: bigint;
}

/** Sends a contract call, waits for the receipt, throws with the revert reason if it failed. */
export async function send<
  const abi extends Abi,
  functionName extends ContractFunctionName<abi, "nonpayable" | "payable">,
>(
  c: Clients,
  address: Address,
  abi: abi,
  functionName: functionName,
  // Every ABI's arguments are a tuple; the intersection lets sendCall take them as one.
  args: ContractFunctionArgs<abi, "nonpayable" | "payable", functionName> & readonly unknown[],
  value?: bigint,
): Promise<TxResult> {
  return sendCall(c, address, abi, functionName, args, value);
}

/**
 * The gas limit sent for an estimate: gas is estimated in the latest block but paid in the next,
 * whose timestamp can move a chess clock and change which storage slots are written.
 */
const withMargin = (gas: bigint) => (gas * 13n) / 10n + 20_000n;

/** send's body, on the widened ABI types (the call was type-checked against the ABI by send). */
async function sendCall(
  c: Clients,
  address: Address,
  abi: Abi,
  functionName: string,
  args: readonly unknown[],
  value: bigint | undefined,
): Promise<TxResult> {
  const call = { address, abi, functionName, args, account: c.account, value };
  const simulate = () => c.publicClient.simulateContract({ ...call, chain: c.chain });
  let request: Awaited<ReturnType<PublicClient["simulateContract"]>>["request"];
  let gas: bigint;
  try {
    ({ request } = await withRetry(simulate, functionName));
    // Sent with a margin (withMargin).
    gas = await withRetry(() => c.publicClient.estimateContractGas(call), `${functionName} gas`);
  } catch (e) {
    // The gas it would take, estimated as if the account could pay (a balance override).
    const gasIfFunded = async () =>
      withMargin(
        await c.publicClient.estimateContractGas({
          ...call,
          stateOverride: [{ address: c.account.address, balance: (value ?? 0n) + 10n ** 24n }],
        }),
      );
    const funds = await fundsError(c, functionName, e, value, gasIfFunded);
    if (funds) throw funds;
    const name = revertName(e);
    if (name === undefined && isTransient(e)) throw e;
    throw new TxError(`${functionName}: ${name ? `reverted ${name}` : oneLine(e)}`, name, { cause: e });
  }
  // Not retried here: a second writeContract would sign a second transaction (new nonce) and
  // double the move. The transport already retries the raw request, which is idempotent.
  const limit = withMargin(gas);
  let hash: Hex;
  try {
    hash = await c.wallet.writeContract({ ...request, gas: limit });
  } catch (e) {
    throw (await fundsError(c, functionName, e, value, limit)) ?? e;
  }
  const receipt = await withRetry(
    () => c.publicClient.waitForTransactionReceipt({ hash }),
    `${functionName} receipt`,
  );
  if (receipt.status !== "success") {
    // The state changed between simulation and inclusion; replaying the call names the reason.
    let reason = "";
    let name: string | undefined;
    try {
      await simulate();
    } catch (e) {
      name = revertName(e);
      reason = `: ${name ?? oneLine(e)}`;
    }
    throw new TxError(
      `${functionName}: transaction ${hash} reverted in block ${receipt.blockNumber}${reason}`,
      name,
    );
  }
  return { hash, gasUsed: receipt.gasUsed };
}

/** The decoded arguments of `eventName` (all fields present: `events` decodes strictly). */
export type EventArgs<abi extends Abi, eventName extends ContractEventName<abi>> = GetEventArgs<
  abi,
  eventName,
  { EnableUnion: false; IndexedOnly: false; Required: true }
>;

/**
 * Decoded logs of one event of a game-family contract, with retries; `args` are typed from the
 * ABI. Strict: a log whose data does not decode against the event is dropped, never half-decoded.
 */
export async function events<const abi extends Abi, eventName extends ContractEventName<abi>>(
  c: Clients,
  address: Address,
  abi: abi,
  eventName: eventName,
  args: ContractEventArgs<abi, eventName> | undefined,
  fromBlock: bigint,
  toBlock?: bigint,
) {
  return withRetry(
    () =>
      c.publicClient.getContractEvents({ address, abi, eventName, args, fromBlock, toBlock, strict: true }),
    `${eventName} logs`,
  );
}

/** The first `eventName` log among a receipt's logs, decoded (undefined if there is none). */
export function firstEvent<const abi extends Abi, eventName extends ContractEventName<abi>>(
  abi: abi,
  logs: Log[],
  eventName: eventName,
) {
  const [ev] = parseEventLogs({ abi, logs, eventName });
  return ev;
}

/** Local dev chains only (anvil): advances block time by `seconds` and mines a block. */
export async function warp(c: Clients, seconds: bigint): Promise<void> {
  // Methods outside viem's public schema: each request names its parameters' type instead.
  await c.publicClient.request<{ Parameters: [number]; ReturnType: unknown }>({
    method: "evm_increaseTime",
    params: [Number(seconds)],
  });
  await c.publicClient.request<{ Parameters: []; ReturnType: unknown }>({ method: "evm_mine", params: [] });
}
