// The package root, found from this file whether it runs from chain/ (tests), dist/chain/ (a
// source checkout's build) or node_modules/opml-toolkit/dist/chain/ (an installed package).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function isPackageRoot(dir: string): boolean {
  if (existsSync(join(dir, "foundry.toml"))) return true;
  const pj = join(dir, "package.json");
  if (!existsSync(pj)) return false;
  try {
    return JSON.parse(readFileSync(pj, "utf8")).name === "opml-toolkit";
  } catch {
    return false;
  }
}

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!isPackageRoot(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** The repository root in a source checkout; the package's own folder when installed. */
export const REPO_ROOT = findRoot();
/** A source checkout (Solidity sources and foundry.toml present), not an installed package. */
export const SOURCE_CHECKOUT =
  existsSync(join(REPO_ROOT, "foundry.toml")) && existsSync(join(REPO_ROOT, "contracts", "src"));
export const FIXTURES = join(REPO_ROOT, "fixtures");
