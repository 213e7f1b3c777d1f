// viem clients for any RPC, with retries (exponential backoff) for transient RPC failures.
import {
  type Abi,
  type Account,
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  type PublicClient,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

export interface Clients {
  publicClient: PublicClient;
  wallet: WalletClient;
  account: Account;
  chain: Chain;
}

export async function makeClients(rpcUrl: string, privateKey: Hex): Promise<Clients> {
  const probe = createPublicClient({ transport: http(rpcUrl, { retryCount: 5, retryDelay: 200 }) });
  const id = await withRetry(() => probe.getChainId(), `${rpcUrl}: eth_chainId`);
  const chain = defineChain({
    id,
    name: `chain-${id}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const transport = http(rpcUrl, { retryCount: 5, retryDelay: 200 });
  const account = privateKeyToAccount(privateKey);
  return {
    publicClient: createPublicClient({ chain, transport, pollingInterval: 100 }) as PublicClient,
    wallet: createWalletClient({ chain, transport, account }),
    account,
    chain,
  };
}

/** Retries `f` with exponential backoff (0.2 s … 6.4 s) on errors that look transient. */
export async function withRetry<T>(f: () => Promise<T>, what: string, attempts = 6): Promise<T> {
  let delay = 200;
  for (let i = 1; ; i++) {
    try {
      return await f();
    } catch (e) {
      const msg = (e as Error).message ?? String(e);
      const transient =
        /fetch failed|ECONNREFUSED|ECONNRESET|socket|timeout|timed out|429|503|HTTP request failed/i.test(
          msg,
        );
      if (!transient) throw e;
      if (i >= attempts)
        throw new Error(`${what}: still failing after ${attempts} attempts: ${msg.split("\n")[0]}`);
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
export async function send(
  c: Clients,
  address: Address,
  abi: Abi,
  functionName: string,
  args: readonly unknown[],
  value?: bigint,
): Promise<TxResult> {
  const { request } = await withRetry(
    () =>
      c.publicClient.simulateContract({
        address,
        abi,
        functionName,
        args,
        account: c.account,
        value,
        chain: c.chain,
      }),
    functionName,
  );
  // Not retried here: a second writeContract would sign a second transaction (new nonce) and
  // double the move. The transport already retries the raw request, which is idempotent.
  // Gas is estimated in the latest block but paid in the next, whose timestamp can move a chess
  // clock and change which storage slots are written: leave a margin.
  const gas = await withRetry(
    () => c.publicClient.estimateContractGas({ address, abi, functionName, args, account: c.account, value }),
    `${functionName} gas`,
  );
  const hash = await c.wallet.writeContract({ ...request, gas: (gas * 13n) / 10n + 20_000n });
  const receipt = await withRetry(
    () => c.publicClient.waitForTransactionReceipt({ hash }),
    `${functionName} receipt`,
  );
  if (receipt.status !== "success") {
    // The state changed between simulation and inclusion; replaying the call names the reason.
    let reason = "";
    try {
      await c.publicClient.simulateContract({
        address,
        abi,
        functionName,
        args,
        account: c.account,
        value,
        chain: c.chain,
      });
    } catch (e) {
      reason = `: ${((e as { shortMessage?: string }).shortMessage ?? (e as Error).message).split("\n")[0]}`;
    }
    throw new Error(`${functionName}: transaction ${hash} reverted in block ${receipt.blockNumber}${reason}`);
  }
  return { hash, gasUsed: receipt.gasUsed };
}

/** Decoded logs of one event of a game-family contract, with retries. */
export async function events<A>(
  c: Clients,
  address: Address,
  abi: Abi,
  eventName: string,
  args: Record<string, unknown> | undefined,
  fromBlock: bigint,
  toBlock?: bigint,
): Promise<{ args: A; transactionHash: Hex }[]> {
  const logs = await withRetry(
    () => c.publicClient.getContractEvents({ address, abi, eventName, args, fromBlock, toBlock } as never),
    `${eventName} logs`,
  );
  return logs as unknown as { args: A; transactionHash: Hex }[];
}

/** Local dev chains only (anvil): advances block time by `seconds` and mines a block. */
export async function warp(c: Clients, seconds: bigint): Promise<void> {
  await c.publicClient.request({ method: "evm_increaseTime" as never, params: [Number(seconds)] as never });
  await c.publicClient.request({ method: "evm_mine" as never, params: [] as never });
}
