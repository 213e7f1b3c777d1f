// Agent state files bound to their chain (issue 8, finding 12): a watchtower's or serve-submitter's
// progress file records the chain id, the genesis block hash and the game address it was written
// for. Resuming on another chain (an anvil restart and redeploy, another network, another game) or
// with a lastBlock beyond the chain head is refused with one line naming the file and what
// differs; `--rescan` starts over from the deployment block.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { Address, Hex } from "viem";
import { type Clients, withRetry } from "../chain/clients.js";
import type { Deployment } from "./deploy.js";
import { UsageError } from "./session.js";

export interface ChainBinding {
  chainId: number;
  genesisHash: Hex;
  game: Address;
}

export async function chainBinding(c: Clients, d: Deployment): Promise<ChainBinding> {
  const chainId = await withRetry(() => c.publicClient.getChainId(), "eth_chainId");
  const genesis = await withRetry(() => c.publicClient.getBlock({ blockNumber: 0n }), "genesis block");
  return { chainId, genesisHash: genesis.hash as Hex, game: d.game };
}

/** A state file's content: the binding and the agent's own fields, with lastBlock as a string. */
export type Bound<T> = T & { chain: ChainBinding; lastBlock: string };

/**
 * Reads `file` if it exists and belongs to this chain; `fresh()` otherwise (or with rescan). Throws
 * a UsageError (one line) when the file is for another chain, genesis, game, or is ahead of the head.
 */
export function loadBound<T extends { lastBlock: string }>(
  file: string | undefined,
  binding: ChainBinding,
  head: bigint,
  fresh: () => T,
  rescan = false,
): { state: Bound<T>; resumed: boolean } {
  const start = (): { state: Bound<T>; resumed: boolean } => ({
    state: { ...fresh(), chain: binding },
    resumed: false,
  });
  if (!file || !existsSync(file) || rescan) return start();
  let j: Bound<T>;
  try {
    j = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new UsageError(
      `${file}: not a JSON state file (${(e as Error).message}); pass --rescan to start over`,
    );
  }
  const was = j.chain as Partial<ChainBinding> | undefined;
  const again = "pass --rescan to start over";
  if (!was) throw new UsageError(`${file}: written without a chain binding (an older version); ${again}`);
  if (was.chainId !== binding.chainId)
    throw new UsageError(
      `${file}: written for chain id ${was.chainId}, the RPC serves ${binding.chainId}; ${again}`,
    );
  if (was.genesisHash !== binding.genesisHash)
    throw new UsageError(
      `${file}: written for genesis ${was.genesisHash}, the chain's genesis is ${binding.genesisHash} (the chain was reset?); ${again}`,
    );
  if (String(was.game).toLowerCase() !== binding.game.toLowerCase())
    throw new UsageError(
      `${file}: written for game ${was.game}, the deployment's game is ${binding.game}; ${again}`,
    );
  if (BigInt(j.lastBlock) > head)
    throw new UsageError(
      `${file}: lastBlock ${j.lastBlock} is beyond the chain head ${head} (the chain was reset?); ${again}`,
    );
  return { state: j, resumed: true };
}

/** Writes the state atomically (temp file + rename). */
export function saveBound(file: string | undefined, state: unknown): void {
  if (!file) return;
  const tmp = `${file}.tmp`;
  writeFileSync(
    tmp,
    JSON.stringify(state, (_, v) => (typeof v === "bigint" ? v.toString() : v), 1),
  );
  renameSync(tmp, file);
}
