// Shared set-up for the agent tests on anvil: a fresh chain and deployment with the MNIST MLP
// registered, clients for the submitter (key 0), the watchtower (key 1) and two others.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Hex } from "viem";
import { ANVIL_KEYS, type Anvil, startAnvil } from "../../chain/anvil.js";
import { type Clients, makeClients } from "../../chain/clients.js";
import type { Logger } from "../../chain/log.js";
import { Watchtower } from "../../challenger/watchtower.js";
import { loadPackage, prepareInputs } from "../../dnn/src/package.js";
import {
  DEFAULT_PARAMS,
  type Deployment,
  deployAll,
  type GameParams,
  registerModel,
} from "../../game/deploy.js";
import { FIXTURES } from "../../tools/fixtures.js";

export const MLP = join(FIXTURES, "packages", "mnist_mlp");
export const pkg = loadPackage(MLP);
export const digit = (i: number) =>
  prepareInputs(
    pkg.manifest,
    JSON.parse(readFileSync(join(FIXTURES, "inputs", `mnist_${i}.json`), "utf8")),
    `mnist_${i}.json`,
  );

export interface Chain {
  anvil: Anvil;
  sub: Clients;
  wtc: Clients;
  other: Clients;
  user: Clients;
  d: Deployment;
  modelId: bigint;
}

export async function chain(params: GameParams = DEFAULT_PARAMS): Promise<Chain> {
  const anvil = await startAnvil();
  const [sub, wtc, other, user] = await Promise.all(
    ANVIL_KEYS.map((k) => makeClients(anvil.rpcUrl, k as Hex)),
  );
  const d = await deployAll(sub, params);
  const modelId = await registerModel(sub, d, pkg);
  return { anvil, sub, wtc, other, user, d, modelId };
}

/** A watchtower for the MLP with a logger that records every line. */
export function watchtower(ch: Chain, c: Clients = ch.wtc, stateFile?: string) {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const log: Logger = (level, msg, fields = {}) => {
    lines.push({ level, msg, fields });
  };
  const wt = new Watchtower(c, ch.d, new Map([[pkg.manifest.modelRoot, pkg]]), stateFile, log);
  return { wt, lines };
}
