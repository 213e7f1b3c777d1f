// Compiled contracts from forge's out/ directory (built on demand with `forge build`).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Abi, Hex } from "viem";
import { REPO_ROOT } from "../paths.js";

export interface Artifact {
  abi: Abi;
  bytecode: Hex;
}

export function ensureBuilt(): void {
  if (existsSync(join(REPO_ROOT, "out"))) return;
  execFileSync(join(REPO_ROOT, "node_modules/.bin/forge"), ["build"], { cwd: REPO_ROOT, stdio: "inherit" });
}

export function artifact(file: string, contract: string): Artifact {
  ensureBuilt();
  const path = join(REPO_ROOT, "out", file, `${contract}.json`);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npx forge build\``);
  const j = JSON.parse(readFileSync(path, "utf8"));
  return { abi: j.abi as Abi, bytecode: j.bytecode.object as Hex };
}
