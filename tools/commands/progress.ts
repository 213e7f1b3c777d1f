// Progress of long-running commands on stderr: a bar redrawn in place, only when stderr is a
// terminal (and the caller did not ask for --json); nothing at all otherwise, so logs and pipes
// get the command's output alone.

export interface Progress {
  /** Starts a phase (ending the previous one). */
  phase(label: string): void;
  /** Updates the current phase: `done` of `total` units, and a free-form detail. */
  update(done: number, total: number, detail?: string): void;
  /** Ends the current phase (its line stays, with the time it took). */
  end(): void;
}

const QUIET: Progress = { phase() {}, update() {}, end() {} };

/** Nothing is drawn until the command has run this long: small models convert without a flicker. */
const SHOW_AFTER_MS = 500;
const REDRAW_MS = 100;
const WIDTH = 24;

export function progress(enabled: boolean, out: NodeJS.WriteStream = process.stderr): Progress {
  if (!enabled || !out.isTTY) return QUIET;
  const t0 = Date.now();
  let label = "";
  let started = 0;
  let drawn = 0;
  let last = "";
  let latest = "";
  const secs = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const draw = (line: string) => {
    out.write(`\r\x1b[K${line}  ${secs()}`);
    drawn = Date.now();
    last = line;
  };
  return {
    phase(l) {
      this.end();
      label = l;
      started = Date.now();
      last = "";
      latest = "";
      // A phase without updates blocks until it ends: name it now if the command is a long one.
      if (started - t0 >= SHOW_AFTER_MS) draw(`${l} …`);
    },
    update(done, total, detail) {
      if (!label) return;
      const frac = total > 0 ? Math.min(1, done / total) : 0;
      const fill = Math.round(frac * WIDTH);
      latest = `${label} [${"#".repeat(fill)}${"-".repeat(WIDTH - fill)}] ${done}/${total}${detail ? `, ${detail}` : ""}`;
      const now = Date.now();
      if (now - t0 >= SHOW_AFTER_MS && now - drawn >= REDRAW_MS) draw(latest);
    },
    end() {
      // A phase that drew something keeps its line, in its final state, with the time it took.
      if (label && last) out.write(`\r\x1b[K${latest || last}  ${secs()}\n`);
      label = "";
      last = "";
      latest = "";
    },
  };
}
