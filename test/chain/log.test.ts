// The agents' JSON log: one parseable object per line; a field never hides the line's level.
import { afterEach, describe, expect, it, vi } from "vitest";
import { jsonLogger } from "../../chain/log.js";

describe("jsonLogger", () => {
  afterEach(() => vi.restoreAllMocks());

  it("keeps the line's level and message when a field has the same name, and prints bigints", () => {
    const out: string[] = [];
    vi.spyOn(console, "log").mockImplementation((s: string) => out.push(s));
    jsonLogger("warn", "timeout", { level: 0, msg: "other", gas: 102730n, gameId: 4n });
    expect(out).toHaveLength(1);
    const line = JSON.parse(out[0]);
    expect(line.level).toBe("warn");
    expect(line.msg).toBe("timeout");
    expect(line.gas).toBe("102730");
    expect(line.gameId).toBe("4");
  });
});
