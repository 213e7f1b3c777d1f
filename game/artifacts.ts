// Compiled contracts from forge's out/ directory: built on demand with `forge build` in a source
// checkout; an installed package ships the out/ files the deploy code reads (package.json `files`).
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Abi, Hex } from "viem";
import { REPO_ROOT, SOURCE_CHECKOUT } from "../chain/paths.js";

export interface Artifact {
  abi: Abi;
  bytecode: Hex;
}

let checked = false;

/** Newest modification time of the Solidity sources (ms). */
function newestSource(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestSource(p) : e.name.endsWith(".sol") ? statSync(p).mtimeMs : 0);
  }
  return t;
}

/**
 * Builds the contracts when out/ is missing or older than a source (stale ABIs fail confusingly).
 * Only in a source checkout: an installed package has no Solidity sources and reads its shipped out/.
 */
export function ensureBuilt(): void {
  if (checked) return;
  checked = true;
  if (!SOURCE_CHECKOUT) return;
  const cache = join(REPO_ROOT, "cache", "solidity-files-cache.json");
  const src = join(REPO_ROOT, "contracts", "src");
  const fresh =
    existsSync(join(REPO_ROOT, "out")) && existsSync(cache) && statSync(cache).mtimeMs >= newestSource(src);
  if (fresh) return;
  execFileSync(join(REPO_ROOT, "node_modules/.bin/forge"), ["build", "--quiet"], {
    cwd: REPO_ROOT,
    stdio: "inherit",
  });
}

export function artifact(file: string, contract: string): Artifact {
  ensureBuilt();
  const path = join(REPO_ROOT, "out", file, `${contract}.json`);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npx forge build\``);
  const j = JSON.parse(readFileSync(path, "utf8"));
  return { abi: j.abi as Abi, bytecode: j.bytecode.object as Hex };
}
