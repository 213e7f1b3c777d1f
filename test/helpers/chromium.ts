// Headless Chromium for page tests (Debian's `chromium`, installed by .ci/run): a screenshot and the
// DOM after rendering. `chromiumPath()` is undefined when no browser is installed.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const CANDIDATES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

/** The browser to run: $OPML_CHROMIUM, else the first of CANDIDATES on PATH. */
export function chromiumPath(): string | undefined {
  const env = process.env.OPML_CHROMIUM;
  if (env) return env;
  for (const c of CANDIDATES) {
    const r = spawnSync("sh", ["-c", `command -v ${c}`], { encoding: "utf8" });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return undefined;
}

function run(browser: string, args: string[], page: string): { stdout: string; stderr: string } {
  // A profile of its own: two runs at once must not share (and lock) one.
  const profile = mkdtempSync(join(tmpdir(), "opml-chromium-"));
  try {
    const r = spawnSync(
      browser,
      [
        "--headless",
        // Needed as root (CI containers); the page is a local file of ours.
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--hide-scrollbars",
        `--user-data-dir=${profile}`,
        ...args,
        pathToFileURL(page).href,
      ],
      { encoding: "utf8", timeout: 120_000, maxBuffer: 64 << 20 },
    );
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`${browser} exited ${r.status}: ${r.stderr.slice(-2000)}`);
    return { stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Renders `page` (an HTML file) at width × height and writes a PNG screenshot to `png`. */
export function screenshot(browser: string, page: string, png: string, width: number, height: number): void {
  run(browser, [`--screenshot=${png}`, `--window-size=${width},${height}`], page);
}

/** The DOM of `page` after it rendered, serialized. */
export function dumpDom(browser: string, page: string): string {
  return run(browser, ["--dump-dom"], page).stdout;
}
