#!/usr/bin/env node
// The npm registry reachable here mirrors only some platform builds, so `npm install` writes a
// lockfile without the other platforms' optional binaries (biome, foundry, jco…), and `npm ci` then
// refuses the lockfile as out of sync. This adds the missing entries, marked optional with the
// os/cpu/libc their names encode, so `npm ci` skips them on a non-matching machine without fetching.
// Run after any dependency change: `node tools/ci/complete-lock.mjs`.
import { readFileSync, writeFileSync } from "node:fs";

const file = new URL("../../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(file, "utf8"));
const pkgs = lock.packages;

function platformOf(name) {
  const n = name.split("/").pop();
  const os = ["android", "darwin", "linux", "win32", "freebsd", "openbsd", "sunos", "aix"].find((o) =>
    n.includes(o),
  );
  const cpu = n.includes("arm64")
    ? "arm64"
    : n.includes("x64") || n.includes("amd64")
      ? "x64"
      : n.includes("ia32")
        ? "ia32"
        : undefined;
  const libc = n.includes("musl") ? "musl" : os === "linux" ? "glibc" : undefined;
  return { os, cpu, libc };
}

let added = 0;
for (const [path, meta] of Object.entries(pkgs)) {
  for (const [dep, range] of Object.entries(meta.optionalDependencies ?? {})) {
    const base = path === "" ? "" : `${path}/`;
    const candidates = [`${base}node_modules/${dep}`, `node_modules/${dep}`];
    if (candidates.some((c) => pkgs[c])) continue;
    const { os, cpu, libc } = platformOf(dep);
    if (!os || !cpu) throw new Error(`${dep}: cannot tell its platform from its name; add it by hand`);
    pkgs[`node_modules/${dep}`] = {
      version: range.replace(/^[\^~=]/, ""),
      ...(meta.dev ? { dev: true } : {}),
      optional: true,
      os: [os],
      cpu: [cpu],
      ...(libc ? { libc: [libc] } : {}),
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(pkgs).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lock: added ${added} platform entries`);
