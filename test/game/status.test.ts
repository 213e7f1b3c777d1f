// The contracts' status enums by name, in one place (issue 13, item 4: "statuses are bare numbers").
import { describe, expect, it } from "vitest";
import { ClaimStatus, GameStatus, Phase } from "../../game/abi.js";
import { claimStatusName, gameStatusName, phaseName } from "../../game/status.js";

describe("status names", () => {
  it("names every value of GameStatus, ClaimStatus and Phase, and says so for an unknown one", () => {
    for (const [k, v] of Object.entries(GameStatus)) expect(gameStatusName(v)).toBe(k);
    for (const [k, v] of Object.entries(ClaimStatus)) expect(claimStatusName(v)).toBe(k);
    for (const [k, v] of Object.entries(Phase)) expect(phaseName(v)).toBe(k);
    expect(gameStatusName(3)).toBe("ChallengerWon");
    expect(gameStatusName(3n)).toBe("ChallengerWon");
    expect(claimStatusName(2)).toBe("Rejected");
    expect(gameStatusName(9)).toBe("GameStatus(9)");
  });
});
