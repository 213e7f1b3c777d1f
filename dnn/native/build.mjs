// Builds the native backend's addon (dnn/native/opml_native.cc → build/Release/opml_native.node)
// with node-gyp against the headers of the Node that runs this script: nothing is downloaded
// (--nodedir points at this Node's own include/node). It never fails the install: when it cannot
// compile, it says so once and the engine uses the reference WASM module (dnn/src/native.ts).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "build/Release/opml_native.node");

function nodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  const bundled = join(
    dirname(process.execPath),
    "../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js",
  );
  return existsSync(bundled) ? bundled : undefined;
}

function skip(why) {
  rmSync(out, { force: true }); // a stale addon must not outlive a failed rebuild
  console.log(`dnn/native: native backend not built (${why}); native runs use the WASM module`);
  process.exit(0);
}

if (process.env.OPML_NO_NATIVE) skip("OPML_NO_NATIVE is set");
// Up to date: built after its sources, by this Node (the ABI it was built against).
const stamp = join(here, "build/node-version");
if (
  existsSync(out) &&
  existsSync(stamp) &&
  readFileSync(stamp, "utf8") === process.version &&
  ["opml_native.cc", "binding.gyp"].every((f) => statSync(join(here, f)).mtimeMs <= statSync(out).mtimeMs)
) {
  console.log("dnn/native: addon up to date");
  process.exit(0);
}
const nodedir = join(dirname(process.execPath), "..");
if (!existsSync(join(nodedir, "include/node/node_api.h")))
  skip(`no Node headers under ${nodedir}/include/node`);
const gyp = nodeGyp();
if (!gyp) skip("node-gyp not found next to npm");
const r = spawnSync(process.execPath, [gyp, "rebuild", `--nodedir=${nodedir}`, "--directory", here], {
  encoding: "utf8",
  env: { ...process.env, npm_config_nodedir: nodedir },
});
if (r.status !== 0 || !existsSync(out)) {
  // The compiler's or make's own words, not node-gyp's summary lines.
  const lines = `${r.stdout ?? ""}\n${r.stderr ?? ""}\n${r.error ?? ""}`.split("\n").map((l) => l.trim());
  const cause = lines
    .filter((l) => l && !l.startsWith("gyp ") && /error|not found|no such/i.test(l))
    .slice(0, 2);
  skip(`node-gyp failed: ${cause.join(" | ") || `exit ${r.status}`}`);
}
writeFileSync(stamp, process.version);
console.log("built dnn/native/build/Release/opml_native.node");
