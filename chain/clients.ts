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
  type GetEventArgs,
  type Hex,
  HttpRequestError,
  http,
  LimitExceededRpcError,
  type Log,
  type PublicClient,
  parseEventLogs,
  ResourceUnavailableRpcError,
  RpcRequestError,
  SocketClosedError,
  TimeoutError,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { RpcError, UserError } from "../errors/index.js";

export interface Clients {
  publicClient: PublicClient;
  wallet: WalletClient;
  account: Account;
  chain: Chain;
}

export async function makeClients(rpcUrl: string, privateKey: Hex): Promise<Clients> {
  const transport = http(rpcUrl, { retryCount: 5, retryDelay: 200 });
  const probe = createPublicClient({ transport });
  let id: number;
  try {
    id = await withRetry(() => probe.getChainId(), `${rpcUrl}: eth_chainId`);
  } catch (e) {
    // Unreachable (retried, then given up) or not a JSON-RPC node at all (an HTTP 404, HTML).
    const why = e instanceof RpcError ? e.message : `${rpcUrl}: not a JSON-RPC endpoint (${oneLine(e)})`;
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

export const RETRY_DELAY_MS = { first: 200 };

/**
 * Retries `f` with exponential backoff (0.2 s … 6.4 s) on transient RPC failures only (see
 * isTransient); anything else (a revert, an invalid argument) is thrown at once.
 */
export async function withRetry<T>(f: () => Promise<T>, what: string, attempts = 6): Promise<T> {
  let delay = RETRY_DELAY_MS.first;
  for (let i = 1; ; i++) {
    try {
      return await f();
    } catch (e) {
      if (!isTransient(e)) throw e;
      if (i >= attempts)
        throw new RpcError(
          `${what}: still failing after ${attempts} attempts: ${oneLine(e)}`,
          {},
          { cause: e },
        );
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

/** send's body, on the widened ABI types (the call was type-checked against the ABI by send). */
async function sendCall(
  c: Clients,
  address: Address,
  abi: Abi,
  functionName: string,
  args: readonly unknown[],
  value: bigint | undefined,
): Promise<TxResult> {
  const simulate = () =>
    c.publicClient.simulateContract({
      address,
      abi,
      functionName,
      args,
      account: c.account,
      value,
      chain: c.chain,
    });
  let request: Awaited<ReturnType<PublicClient["simulateContract"]>>["request"];
  let gas: bigint;
  try {
    ({ request } = await withRetry(simulate, functionName));
    // Gas is estimated in the latest block but paid in the next, whose timestamp can move a chess
    // clock and change which storage slots are written: leave a margin.
    gas = await withRetry(
      () =>
        c.publicClient.estimateContractGas({ address, abi, functionName, args, account: c.account, value }),
      `${functionName} gas`,
    );
  } catch (e) {
    const name = revertName(e);
    if (name === undefined && isTransient(e)) throw e;
    throw new TxError(`${functionName}: ${name ? `reverted ${name}` : oneLine(e)}`, name, { cause: e });
  }
  // Not retried here: a second writeContract would sign a second transaction (new nonce) and
  // double the move. The transport already retries the raw request, which is idempotent.
  const hash = await c.wallet.writeContract({ ...request, gas: (gas * 13n) / 10n + 20_000n });
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
