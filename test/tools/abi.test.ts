// game/abi.ts is generated from forge's out/ and the enums in contracts/src (tools/ci/abi.ts) and
// committed; this fails when it is stale. Fix: `npm run abi`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureBuilt } from "../../game/artifacts.js";
import { ABI_MODULE, renderAbiModule, solidityEnums } from "../../tools/ci/abi.js";
import { ROOT } from "../helpers/helpers.js";

describe("generated contract bindings", () => {
  it("game/abi.ts matches forge's out/ and the Solidity enums (regenerate: npm run abi)", () => {
    ensureBuilt();
    const committed = readFileSync(join(ROOT, ABI_MODULE), "utf8");
    expect(committed === renderAbiModule(ROOT), `${ABI_MODULE} is stale: run \`npm run abi\``).toBe(true);
  });

  it("parses every Solidity enum the game uses, in declaration order", () => {
    const byName = new Map(solidityEnums(ROOT).map((e) => [e.name, e.members]));
    expect(byName.get("Phase")).toEqual(["Bisect", "Respond", "Descend", "Step"]);
    expect(byName.get("GameStatus")).toEqual(["None", "Open", "ClaimantWon", "ChallengerWon", "Void"]);
    expect(byName.get("ClaimStatus")).toEqual(["None", "Pending", "Rejected", "Finalized"]);
  });
});
