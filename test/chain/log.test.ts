// The agents' log (issue 13, item 4): every line on stderr, never stdout; `json` (one object per
// line) or `pretty` (one human line per event); a field never hides or replaces the line's own
// level, message or time.
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  agentLog,
  formatJson,
  formatPretty,
  jsonLogger,
  type LogFields,
  logFormat,
  setLogFormat,
  setLogSink,
} from "../../chain/log.js";
import { UsageError } from "../../errors/index.js";

describe("the agents' log", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    setLogFormat("json");
  });

  it("writes JSON lines to stderr and nothing to stdout", () => {
    const out = vi.spyOn(console, "log").mockImplementation(() => {});
    const err: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => {
      err.push(String(s));
      return true;
    });
    agentLog("info", "claim posted", { claimId: 3n });
    jsonLogger("warn", "old name", {});
    expect(out).not.toHaveBeenCalled();
    expect(err).toHaveLength(2);
    expect(err[0].endsWith("\n")).toBe(true);
    expect(JSON.parse(err[0])).toMatchObject({ level: "info", msg: "claim posted", claimId: "3" });
    expect(JSON.parse(err[1])).toMatchObject({ level: "warn", msg: "old name" });
  });

  it("renames a field named like the line's own (level, msg, t) instead of dropping or obeying it", () => {
    // The type forbids them; a caller that casts still cannot overwrite the line's level.
    const fields = { level: 0, msg: "other", t: "x", gas: 102730n, gameId: 4n } as unknown as LogFields;
    const line = JSON.parse(formatJson("warn", "timeout", fields));
    expect(line.level).toBe("warn");
    expect(line.msg).toBe("timeout");
    expect(line.t).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(line["field.level"]).toBe(0);
    expect(line["field.msg"]).toBe("other");
    expect(line["field.t"]).toBe("x");
    expect(line.gas).toBe("102730");
    expect(line.gameId).toBe("4");
  });

  it("pretty: one human line per event, fields as key=value, strings with spaces quoted", () => {
    const t = new Date("2026-12-01T21:04:05.123Z");
    const s = formatPretty(
      "warn",
      "claim is WRONG",
      { claimId: 3n, differs: "finalGraphState", reason: "two words", gameLevel: 1, skipped: undefined },
      t,
    );
    expect(s).toBe(
      '21:04:05 WARN  claim is WRONG  claimId=3 differs=finalGraphState reason="two words" gameLevel=1',
    );
    expect(s).not.toContain("\n");
    expect(formatPretty("info", "watching", {}, t)).toBe("21:04:05 INFO  watching");
  });

  it("setLogFormat switches agentLog's format; an unknown one is a UsageError naming the option", () => {
    const lines: string[] = [];
    const was = setLogSink((l) => lines.push(l));
    try {
      setLogFormat("pretty");
      expect(logFormat()).toBe("pretty");
      agentLog("info", "moved", { gameId: 1n, gameLevel: 0 });
      setLogFormat("json");
      agentLog("info", "moved", { gameId: 1n, gameLevel: 0 });
    } finally {
      setLogSink(was);
    }
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d INFO {2}moved {2}gameId=1 gameLevel=0$/);
    expect(JSON.parse(lines[1])).toMatchObject({ msg: "moved", gameId: "1", gameLevel: 0 });
    expect(() => setLogFormat("xml")).toThrow(UsageError);
    expect(() => setLogFormat("xml")).toThrow(/--log-format 'xml': expected json or pretty/);
  });
});
