// The layout rule (README "Layout"): every stage folder has a rank, and an import may only point
// to a lower rank or stay inside its own folder. `npm test` runs this over the whole tree (test/
// layout.test.ts) and also refuses import cycles, so the graph reads top-down.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

/** Stage folders, bottom first. Longest prefix wins; a file's folder is its stage. */
export const LAYERS: readonly { folder: string; rank: number; what: string }[] = [
  { folder: "errors", rank: 0, what: "the error hierarchy: UserError and the CLI's error report" },
  { folder: "commit", rank: 1, what: "the Merkle rule: tensor, model and graph-state roots" },
  { folder: "dnn", rank: 2, what: "numbers: fixed-point rules, package format, the DNN library" },
  { folder: "vm", rank: 3, what: "the Merkle-ized WASM VM, its step proofs and one-step verifier" },
  { folder: "chain", rank: 3, what: "RPC plumbing: viem clients, retries, anvil, the agents' log" },
  { folder: "game", rank: 4, what: "the game client: twin of contracts/src/game" },
  { folder: "challenger", rank: 5, what: "the watchtower agent" },
  { folder: "submitter", rank: 5, what: "the submitter agents and the scripted liars" },
  { folder: "agents", rank: 6, what: "library barrel over both agents (opml-toolkit/agents)" },
  { folder: "tools/convert", rank: 6, what: "the converter: ONNX → fixed-point package" },
  { folder: "tools/vectors", rank: 7, what: "generators of the differential vectors" },
  { folder: "tools/adversarial", rank: 7, what: "the adversarial harness" },
  { folder: "tools/ci", rank: 7, what: "CI helpers" },
  { folder: "tools/commands", rank: 8, what: "the CLI's commands" },
  { folder: "tools", rank: 9, what: "CLI entry, library barrel, bench, conformance, fixture builder" },
  { folder: "bin", rank: 10, what: "the executable" },
];

const SOURCE = /\.(ts|mts|mjs|js)$/;
const SKIP = new Set([
  "node_modules",
  "dist",
  "out",
  "cache",
  "lib",
  "build",
  "assembly",
  "keccak",
  "fixtures",
]);

function layerOf(file: string): { folder: string; rank: number } | undefined {
  let best: (typeof LAYERS)[number] | undefined;
  for (const l of LAYERS) {
    if (
      (file.startsWith(`${l.folder}/`) || file === l.folder) &&
      (!best || l.folder.length > best.folder.length)
    )
      best = l;
  }
  return best;
}

function sources(root: string, dir = ""): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    if (SKIP.has(name) || name.startsWith(".")) continue;
    const rel = dir ? `${dir}/${name}` : name;
    if (statSync(join(root, rel)).isDirectory()) out.push(...sources(root, rel));
    else if (SOURCE.test(name) && !name.endsWith(".d.mts")) out.push(rel);
  }
  return out;
}

/** Relative imports of one file, resolved to repository paths (`.js` specifiers name `.ts` files). */
export function importsOf(root: string, file: string, known: Set<string>): string[] {
  // Comments first: an import written in a comment is not an edge.
  const src = readFileSync(join(root, file), "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|\s)\/\/.*$/gm, "$1");
  const re = /(?:\bfrom|\bimport)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;
  const out: string[] = [];
  for (let m = re.exec(src); m; m = re.exec(src)) {
    const base = normalize(join(dirname(file), m[1]));
    const hit = [base.replace(/\.js$/, ".ts"), base, base.replace(/\.mjs$/, ".mts")].find((c) =>
      known.has(c),
    );
    if (hit) out.push(hit);
  }
  return out;
}

export interface LayoutReport {
  files: number;
  edges: number;
  /** "a.ts → b.ts (rank 4 → 4)" for each import that does not point down. */
  upward: string[];
  /** Each import cycle, as its files in order. */
  cycles: string[][];
}

export function checkLayout(root: string, include: (file: string) => boolean = () => true): LayoutReport {
  const files = sources(root).filter((f) => !f.startsWith("test/") && include(f));
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  let edges = 0;
  const upward: string[] = [];
  for (const f of files) {
    const deps = importsOf(root, f, known);
    graph.set(f, deps);
    edges += deps.length;
    const from = layerOf(f);
    for (const d of deps) {
      const to = layerOf(d);
      if (!from || !to) {
        upward.push(`${f} → ${d} (a file outside every stage folder; add its folder to LAYERS)`);
        continue;
      }
      if (from.folder === to.folder) continue;
      if (to.rank >= from.rank)
        upward.push(`${f} → ${d} (${from.folder} ${from.rank} → ${to.folder} ${to.rank})`);
    }
  }
  // Cycles: depth-first search with an explicit path; each back edge closes one cycle.
  const cycles: string[][] = [];
  const state = new Map<string, 1 | 2>();
  const path: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 1);
    path.push(f);
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === 1) cycles.push([...path.slice(path.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    path.pop();
    state.set(f, 2);
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return { files: files.length, edges, upward, cycles };
}

if (process.argv[1]?.endsWith("layers.js")) {
  const root = relative(process.cwd(), join(dirname(process.argv[1]), "..", "..", "..")) || ".";
  const r = checkLayout(root);
  for (const u of r.upward) console.log(`upward import: ${u}`);
  for (const c of r.cycles) console.log(`import cycle: ${c.join(" → ")}`);
  console.log(`${r.files} files, ${r.edges} imports, ${r.upward.length} upward, ${r.cycles.length} cycles`);
  process.exit(r.upward.length + r.cycles.length > 0 ? 1 : 0);
}
