// The repository root, found from this file whether it runs from tools/ (tests) or dist/tools/.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "foundry.toml")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export const REPO_ROOT = findRoot();
export const FIXTURES = join(REPO_ROOT, "fixtures");
