// The embedded chain: anvil from the npm package on a free loopback port, stopped on exit.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { REPO_ROOT } from "./paths.js";

export interface Anvil {
  rpcUrl: string;
  port: number;
  stop(): Promise<void>;
}

/** The ten accounts anvil derives from its default mnemonic (well known; local use only). */
export const ANVIL_KEYS = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
] as const;

function anvilBinary(): string {
  const local = join(REPO_ROOT, "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
  if (existsSync(local)) return local;
  // The checkout's own node_modules, or (an installed package) the project's that depends on it.
  for (let dir = REPO_ROOT; ; dir = dirname(dir)) {
    const bin = join(dir, "node_modules/.bin/anvil");
    if (existsSync(bin)) return bin;
    if (dirname(dir) === dir) break;
  }
  throw new Error(
    "anvil is not installed (npm ci installs @foundry-rs/anvil; a project using the library: npm install -D @foundry-rs/anvil)",
  );
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForRpc(url: string, child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`anvil exited with code ${child.exitCode}`);
    try {
      const r = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`anvil did not answer on ${url} within ${timeoutMs} ms`);
}

const running = new Set<ChildProcess>();
let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  const killAll = () => {
    for (const c of running) c.kill("SIGKILL");
  };
  process.on("exit", killAll);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      killAll();
      process.exit(130);
    });
  }
}

/**
 * Starts anvil on 127.0.0.1 at a free port: by default a block per transaction (so chain time
 * moves only with transactions), with `blockTime` a block every that many seconds.
 */
export async function startAnvil(opts: { gasLimit?: bigint; blockTime?: number } = {}): Promise<Anvil> {
  const port = await freePort();
  const args = [
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--silent",
    "--gas-limit",
    String(opts.gasLimit ?? 60_000_000n),
    ...(opts.blockTime !== undefined ? ["--block-time", String(opts.blockTime)] : []),
  ];
  const child = spawn(anvilBinary(), args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d.toString();
  });
  running.add(child);
  hookExit();
  const rpcUrl = `http://127.0.0.1:${port}`;
  try {
    await waitForRpc(rpcUrl, child);
  } catch (e) {
    child.kill("SIGKILL");
    running.delete(child);
    throw new Error(`${(e as Error).message}${stderr ? `: ${stderr.trim()}` : ""}`);
  }
  return {
    rpcUrl,
    port,
    stop: () =>
      new Promise((resolve) => {
        running.delete(child);
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
