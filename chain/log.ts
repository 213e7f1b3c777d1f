// The agents' log. Every event is one line on stderr, so a command's stdout keeps only what it prints
// for people (the demo's transcript, a table, a JSON summary) and can be piped. Two formats
// (`--log-format`, set once by the CLI): `json`, the default, one object per line (bigints as
// decimal strings) for operators to grep and parse; `pretty`, one human line per event. Tests pass
// a quiet or capturing Logger instead.
import { UsageError } from "../errors/user-error.js";

/** Field names every line owns; an event's own fields may not use them (a game's level is `gameLevel`). */
export const RESERVED_FIELDS = ["t", "level", "msg"] as const;

export type LogFields = Record<string, unknown> & { [K in (typeof RESERVED_FIELDS)[number]]?: never };

export type Logger = (level: "info" | "warn" | "error", msg: string, fields?: LogFields) => void;

export const LOG_FORMATS = ["json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

let format: LogFormat = "json";
let write: (line: string) => void = (line) => {
  process.stderr.write(`${line}\n`);
};

/** Picks the format of `agentLog` (the CLI's `--log-format`); an unknown name is a UsageError. */
export function setLogFormat(name: string): void {
  if (!(LOG_FORMATS as readonly string[]).includes(name))
    throw new UsageError(`--log-format '${name}': expected ${LOG_FORMATS.join(" or ")}`, {
      arg: "--log-format",
    });
  format = name as LogFormat;
}

export function logFormat(): LogFormat {
  return format;
}

/** Redirects `agentLog`'s lines (tests); returns the previous sink. */
export function setLogSink(sink: (line: string) => void): (line: string) => void {
  const was = write;
  write = sink;
  return was;
}

/**
 * An event's fields with any reserved name renamed (`level` → `field.level`): a field never
 * overwrites the line's own level, message or time, and is never silently dropped either.
 */
function ownFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields))
    out[(RESERVED_FIELDS as readonly string[]).includes(k) ? `field.${k}` : k] = v;
  return out;
}

const bigintsAsStrings = (_: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

/** The JSON line of an event: `{"t","level","msg",…fields}`. */
export function formatJson(
  level: string,
  msg: string,
  fields: Record<string, unknown> = {},
  t = new Date(),
): string {
  return JSON.stringify({ t: t.toISOString(), level, msg, ...ownFields(fields) }, bigintsAsStrings);
}

function prettyValue(v: unknown): string {
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "string") return /^[^\s"=]*$/.test(v) && v !== "" ? v : JSON.stringify(v);
  if (v === undefined) return "-";
  return JSON.stringify(v, bigintsAsStrings);
}

/** The human line of an event: `21:04:05 WARN  claim is WRONG  claimId=3 differs=…`. */
export function formatPretty(
  level: string,
  msg: string,
  fields: Record<string, unknown> = {},
  t = new Date(),
): string {
  const kv = Object.entries(ownFields(fields))
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${prettyValue(v)}`)
    .join(" ");
  const time = t.toISOString().slice(11, 19);
  return `${time} ${level.toUpperCase().padEnd(5)} ${msg}${kv ? `  ${kv}` : ""}`;
}

/** The agents' logger: one line per event on stderr, in the format `setLogFormat` picked. */
export const agentLog: Logger = (level, msg, fields = {}) => {
  write((format === "pretty" ? formatPretty : formatJson)(level, msg, fields));
};

/** The old name of `agentLog` (it follows `--log-format` too). */
export const jsonLogger: Logger = agentLog;
