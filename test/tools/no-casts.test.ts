// Non-test TypeScript carries no `as unknown as` (issue 9): contract data is typed from the ABIs in
// game/abi.ts, JSON input by type guards; a cast left over must be a narrow, commented `as T`.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/helpers.js";

const SKIP = new Set(["node_modules", "dist", "out", "cache", "lib", "build", "fixtures", "test"]);

function tsFiles(dir = ""): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    if (SKIP.has(name) || name.startsWith(".")) continue;
    const rel = dir ? `${dir}/${name}` : name;
    if (statSync(join(ROOT, rel)).isDirectory()) out.push(...tsFiles(rel));
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith(".d.ts") && !name.endsWith(".test.ts")) out.push(rel);
  }
  return out;
}

describe("no casts through unknown", () => {
  it("finds no `as unknown as` (nor `as never` / `as any`) in non-test TypeScript", () => {
    const files = tsFiles();
    expect(files.length).toBeGreaterThan(60);
    const hits: string[] = [];
    for (const f of files) {
      readFileSync(join(ROOT, f), "utf8")
        .split("\n")
        .forEach((line, i) => {
          if (/\bas\s+unknown\s+as\b|\bas\s+never\b|\bas\s+any\b/.test(line))
            hits.push(`${f}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(hits).toEqual([]);
  });
});
