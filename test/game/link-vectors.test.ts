// contracts/test/vectors/phase-link.json (what the Solidity phase-link tests replay) must equal what
// the TypeScript reference computes today. UPDATE_VECTORS=1 rewrites it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  buildPhaseLinkVectors,
  PHASE_LINK_VECTORS_PATH,
  writePhaseLinkVectors,
} from "../../tools/vectors/phase-link-vectors.js";
import { ROOT } from "../helpers/helpers.js";

describe("phase-link vectors", () => {
  it("are up to date with game/link.ts and game/registry.ts", () => {
    const file = join(ROOT, PHASE_LINK_VECTORS_PATH);
    if (process.env.UPDATE_VECTORS === "1") writePhaseLinkVectors(file);
    const committed = JSON.parse(readFileSync(file, "utf8"));
    const built = JSON.parse(
      JSON.stringify(buildPhaseLinkVectors(), (_, v) => (typeof v === "bigint" ? v.toString() : v)),
    );
    expect(built).toEqual(committed);
  });
});
