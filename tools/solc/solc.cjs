#!/usr/bin/env node
// solc shim for forge: forge cannot download a native solc offline, so foundry.toml points its
// `solc` setting here and this script answers with solc-js (WebAssembly, npm package `solc`).
//   solc.cjs --version          -> "solc, the solidity compiler commandline interface\nVersion: X.Y.Z+commit.H.Linux.g++"
//   solc.cjs --standard-json …  -> standard JSON in on stdin, standard JSON out on stdout
"use strict";
const fs = require("node:fs");
const path = require("node:path");

// Resolve solc from the project's node_modules whatever the cwd is (this file is tools/solc/).
const projectRoot = path.resolve(__dirname, "..", "..");
const solc = require(require.resolve("solc", { paths: [projectRoot, __dirname] }));

const args = process.argv.slice(2);

if (args.includes("--version") || args.includes("-v")) {
  const version = solc.version().replace(/\.Emscripten\.clang$/, ".Linux.g++");
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${version}\n`);
  process.exit(0);
}

// Import callback: forge passes sources inline, but the compiler may still ask for a file.
// Paths are resolved against the cwd (forge runs solc from the project root), then against any
// --base-path / --include-path / --allow-paths forge gave, and absolute paths are taken as is.
function optionValues(name) {
  const out = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name && i + 1 < args.length) out.push(...args[i + 1].split(","));
    else if (args[i].startsWith(`${name}=`)) out.push(...args[i].slice(name.length + 1).split(","));
  }
  return out;
}
const searchRoots = [process.cwd(), ...optionValues("--base-path"), ...optionValues("--include-path")];

function readFileCallback(importPath) {
  const candidates = path.isAbsolute(importPath)
    ? [importPath]
    : searchRoots.map((root) => path.resolve(root, importPath));
  for (const candidate of candidates) {
    try {
      return { contents: fs.readFileSync(candidate, "utf8") };
    } catch {
      // try the next root
    }
  }
  return { error: `File not found: ${importPath}` };
}

const input = fs.readFileSync(0, "utf8");
const output = solc.compile(input, { import: readFileCallback });
process.stdout.write(output);
