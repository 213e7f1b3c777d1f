// The agents' log: one JSON object per line (bigints as decimal strings), so operators can grep and
// parse it; tests pass a quiet or capturing Logger instead.
export type Logger = (
  level: "info" | "warn" | "error",
  msg: string,
  fields?: Record<string, unknown>,
) => void;

export const jsonLogger: Logger = (level, msg, fields = {}) => {
  // A field (a game's "level", say) never overwrites the line's own level or message.
  const line = { t: new Date().toISOString(), level, msg, ...fields };
  Object.assign(line, { level, msg });
  console.log(JSON.stringify(line, (_, v) => (typeof v === "bigint" ? v.toString() : v)));
};
