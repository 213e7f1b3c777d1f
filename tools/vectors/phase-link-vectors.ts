// Phase-link test vectors (docs/PROTOCOL.md §4.6, §5.4): the real mnist_cnn package on a real input,
// every node run in the VM, and for each node everything the claimant hands to
// `DisputeGame.enterVm` (NodeVmLink's LinkData) together with what the contract must compute from
// it (the initial VM state root S_0) and the graph states around it. contracts/test/PhaseLink.t.sol
// checks NodeVmLink against them; contracts/test/GameIntegration.t.sol plays whole games on them.
//
// `vmGame` adds one short node (the Relu on 64 values, ~800 steps) in full: every VM state root, the
// step proofs at both ends of its run, and a consistent lie (a wrong output of that node carried to
// a wrong final claim) for the dishonest-claimant game.
//
//   npx tsc -p tsconfig.build.json && node dist/tools/vectors/phase-link-vectors.js [out.json]
//
// JSON shapes are chosen for forge's vm.parseJson* helpers: bytes32 and bytes as 0x-hex strings,
// integers as JSON numbers, lists as arrays.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { FIXTURES } from "../../chain/paths.js";
import {
  type Hash,
  hashPair,
  leavesProof,
  leavesRoot,
  rootFromProof,
  tensorBytes,
  tensorRoot,
  toHex,
} from "../../commit/merkle.js";
import { defaultBackend } from "../../dnn/src/engine.js";
import { loadPackage, type Manifest, prepareInputs } from "../../dnn/src/package.js";
import {
  activationTable,
  dnnVmProgram,
  nodeInitialFields,
  nodeInputs,
  nodeLayout,
  nodeMachine,
  proveGraphUpdate,
  proveOutput,
  runNodeInVm,
  verifyGraphUpdate,
  verifyOutput,
} from "../../game/link.js";
import {
  modelRecord,
  type NodeDesc,
  nodeDesc,
  nodeLeaf,
  nodesTree,
  programInfo,
  validateGraph,
} from "../../game/registry.js";
import { proveStep } from "../../vm/prove.js";
import { decodeFields, encodeFields, type StateFields, Status, stateRoot } from "../../vm/state.js";
import { serializeCommitVectors } from "./commit-vectors.js";

export const PHASE_LINK_VECTORS_PATH = "contracts/test/vectors/phase-link.json";
export const PHASE_LINK_MODEL = "mnist_cnn";
export const PHASE_LINK_INPUT = "mnist_0.json";
/** The node played in full in `vmGame`: the Relu after the first Gemm (64 values). */
export const VM_GAME_NODE = 8;

type Hex = `0x${string}`;

/** One node's vector: its descriptor (as committed in nodesRoot) and what the link computes. */
export interface NodeVector extends NodeDesc {
  index: number;
  nodeLeaf: Hex;
  nodePath: Hex[];
  // the graph transition index → index + 1
  preState: Hex;
  postState: Hex;
  preTableRoot: Hex;
  inputRoots: Hex[];
  inputPaths: Hex[][];
  // what the contract computes: layout and S_0 (its 12 words too, to locate a mismatch)
  regionAddrs: number[];
  memoryPages: number;
  initialState: Hex[];
  initialRoot: Hex;
  // the claimed run
  steps: number;
  finalState: Hex[];
  finalRoot: Hex;
  outputRoots: Hex[];
  outputPaths: Hex[][];
  tablePaths: Hex[][];
}

export interface StepVector {
  index: number;
  preRoot: Hex;
  proof: Hex;
  postRoot: Hex;
}

export interface PhaseLinkVectors {
  meta: { generator: string; model: string; input: string };
  model: {
    modelRoot: Hex;
    nodesRoot: Hex;
    nNodes: number;
    tableDepth: number;
    weightsDepth: number;
    nInputs: number;
    /** Byte length of each graph input (Registry ModelSpec.inputBytes). */
    inputBytes: number[];
    outputSlot: number;
    /** The per-node VM step bound registered with the model (a JSON number: 2^32 by default). */
    maxSteps: number;
    manifestHash: Hex;
  };
  program: { codeRoot: Hex; codeDepth: number; entryPc: number; globalsRoot: Hex };
  claim: {
    inputBytes: Hex[];
    inputRoots: Hex[];
    graphState0: Hex;
    outputRoot: Hex;
    finalGraphState: Hex;
    finalTableRoot: Hex;
    outputPath: Hex[];
  };
  /** graphStates[i] / tableRoots[i]: after the first i nodes. */
  graphStates: Hex[];
  tableRoots: Hex[];
  nodes: NodeVector[];
  vmGame: {
    node: number;
    steps: number;
    /** roots[i]: the VM state after i steps of node `node`. */
    roots: Hex[];
    first: StepVector;
    last: StepVector;
    /** A lying claimant: node `node` outputs `outputRoot` instead, carried to a wrong final claim. */
    lie: {
      outputRoot: Hex;
      finalState: Hex[];
      finalRoot: Hex;
      /** The lie's graph states after node+1 … nNodes nodes (index 0 = after node+1). */
      graphStates: Hex[];
      claimOutputRoot: Hex;
      claimFinalTableRoot: Hex;
      claimOutputPath: Hex[];
    };
  };
}

const hex = (h: Uint8Array): Hex => toHex(h);
const hexList = (hs: readonly Uint8Array[]): Hex[] => hs.map(hex);
const words = (f: StateFields): Hex[] => {
  const b = encodeFields(f);
  return Array.from({ length: 12 }, (_, i) => hex(b.subarray(32 * i, 32 * i + 32)));
};
const sameHash = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const fail = (msg: string): never => {
  throw new Error(`phase-link-vectors: ${msg}`);
};
const label = (s: string): Hash => keccak_256(new TextEncoder().encode(s));

function graphStateOf(modelRoot: Hash, table: Hash[], depth: number): Hash {
  return hashPair(modelRoot, leavesRoot(table, depth));
}

export function buildPhaseLinkVectors(): PhaseLinkVectors {
  const dir = join(FIXTURES, "packages", PHASE_LINK_MODEL);
  const pkg = loadPackage(dir);
  const m: Manifest = pkg.manifest;
  const json = JSON.parse(readFileSync(join(FIXTURES, "inputs", PHASE_LINK_INPUT), "utf8"));
  const inputs = prepareInputs(m, json, PHASE_LINK_INPUT);
  const acts = defaultBackend().prepare(pkg).run(inputs, { keepAll: true });
  const prog = dnnVmProgram();
  validateGraph(m);
  const info = modelRecord(m);
  const tree = nodesTree(m);
  const modelRoot = Buffer.from(m.modelRoot.slice(2), "hex");
  const td = info.tableDepth;

  if (m.inputs.some((s, i) => s !== i)) fail("graph inputs must be slots 0 … I−1");
  const tables = Array.from({ length: m.nodes.length + 1 }, (_, i) => activationTable(m, acts, i));
  const states = tables.map((t) => graphStateOf(modelRoot, t, td));
  const weightRoots = m.weights.map((w) => Buffer.from(w.root.slice(2), "hex"));

  const nodes: NodeVector[] = [];
  for (let k = 0; k < m.nodes.length; k++) {
    const node = m.nodes[k];
    const desc = nodeDesc(m, k);
    const lay = nodeLayout(m, k);
    const ins = nodeInputs(pkg, k, acts);
    const inRoots = ins.map((t) => tensorRoot(t));
    const inPaths = node.inputs.map((r) =>
      r[0] === "w" ? leavesProof(weightRoots, r[1], info.weightsDepth) : leavesProof(tables[k], r[1], td),
    );
    const init = nodeInitialFields(prog, m, k, inRoots);
    const initRoot = stateRoot(init);
    if (!sameHash(initRoot, nodeMachine(prog, m, k, ins).stateRoot())) fail(`node ${k}: S_0 differs`);

    const run = runNodeInVm(pkg, k, ins);
    if (run.machine.status !== Status.FINISHED || run.machine.result() !== 0n)
      fail(`node ${k} did not finish`);
    const finalRoot = run.machine.stateRoot();
    const outRoots = node.outputs.map((s) => tensorRoot(acts[s]));
    const outProofs = node.outputs.map((_, i) => proveOutput(run.machine, run.layout, i));
    outProofs.forEach((p, i) => {
      if (!verifyOutput(finalRoot, outRoots[i], p)) fail(`node ${k}: output ${i} proof`);
    });
    // Output slots filled one by one; path i is taken with outputs 0 … i−1 already set.
    const table = tables[k].slice();
    const tablePaths: Hash[][] = [];
    node.outputs.forEach((s, i) => {
      const before = graphStateOf(modelRoot, table, td);
      const gp = proveGraphUpdate(table, s);
      table[s] = outRoots[i];
      if (!verifyGraphUpdate(modelRoot, before, graphStateOf(modelRoot, table, td), outRoots[i], gp))
        fail(`node ${k}: graph update ${i}`);
      tablePaths.push(gp.path);
    });
    if (!sameHash(graphStateOf(modelRoot, table, td), states[k + 1])) fail(`node ${k}: post state`);

    nodes.push({
      index: k,
      ...desc,
      nodeLeaf: hex(nodeLeaf(desc)),
      nodePath: hexList(tree.proof(k)),
      preState: hex(states[k]),
      postState: hex(states[k + 1]),
      preTableRoot: hex(leavesRoot(tables[k], td)),
      inputRoots: hexList(inRoots),
      inputPaths: inPaths.map(hexList),
      regionAddrs: [lay.params, ...lay.inputs, ...lay.outputs].map((r) => r.addr),
      memoryPages: lay.pages,
      initialState: words(init),
      initialRoot: hex(initRoot),
      steps: run.steps,
      finalState: words(run.machine.fields()),
      finalRoot: hex(finalRoot),
      outputRoots: hexList(outRoots),
      outputPaths: outProofs.map((p) => hexList(p.path)),
      tablePaths: tablePaths.map(hexList),
    });
  }

  // The claim: inputs, the output slot of the final table.
  const finalTable = tables[m.nodes.length];
  const outputSlot = info.outputSlot;
  const claim = {
    inputBytes: inputs.map((t) => hex(tensorBytes(t))),
    inputRoots: inputs.map((t) => hex(tensorRoot(t))),
    graphState0: hex(states[0]),
    outputRoot: hex(finalTable[outputSlot]),
    finalGraphState: hex(states[m.nodes.length]),
    finalTableRoot: hex(leavesRoot(finalTable, td)),
    outputPath: hexList(leavesProof(finalTable, outputSlot, td)),
  };

  return {
    meta: {
      generator: "tools/vectors/phase-link-vectors.ts",
      model: `fixtures/packages/${PHASE_LINK_MODEL}`,
      input: `fixtures/inputs/${PHASE_LINK_INPUT}`,
    },
    model: {
      modelRoot: m.modelRoot,
      nodesRoot: hex(tree.root),
      nNodes: info.nNodes,
      tableDepth: td,
      weightsDepth: info.weightsDepth,
      nInputs: m.inputs.length,
      inputBytes: info.inputBytes,
      outputSlot,
      maxSteps: Number(info.maxSteps),
      manifestHash: hex(keccak_256(readFileSync(join(dir, "manifest.json")))),
    },
    program: programInfo(prog),
    claim,
    graphStates: hexList(states),
    tableRoots: hexList(tables.map((t) => leavesRoot(t, td))),
    nodes,
    vmGame: buildVmGame(pkg, acts, tables, nodes[VM_GAME_NODE], modelRoot, td, outputSlot),
  };
}

function buildVmGame(
  pkg: ReturnType<typeof loadPackage>,
  acts: Int32Array[],
  tables: Hash[][],
  nv: NodeVector,
  modelRoot: Hash,
  td: number,
  outputSlot: number,
): PhaseLinkVectors["vmGame"] {
  const m = pkg.manifest;
  const k = nv.index;
  const mach = nodeMachine(dnnVmProgram(), m, k, nodeInputs(pkg, k, acts));
  const roots: Hash[] = [mach.stateRoot()];
  let first: StepVector | undefined;
  let last: StepVector | undefined;
  for (let i = 0; i < nv.steps; i++) {
    if (i === 0 || i === nv.steps - 1) {
      const p = proveStep(mach);
      const v = { index: i, preRoot: hex(p.preRoot), proof: hex(p.proof), postRoot: hex(p.postRoot) };
      if (i === 0) first = v;
      else last = v;
    } else mach.step();
    roots.push(mach.stateRoot());
  }
  if (mach.status !== Status.FINISHED || hex(roots[nv.steps]) !== nv.finalRoot) fail("vmGame: final root");
  if (!first || !last) fail("vmGame: needs at least two steps");

  // The lie: node k's single output replaced by a made-up tensor root, in the final memory and in
  // every later table, and a made-up model output at the end.
  if (m.nodes[k].outputs.length !== 1) fail("vmGame node must have one output");
  const slot = m.nodes[k].outputs[0];
  const fakeOut = label("opml: a wrong output");
  const lay = nodeLayout(m, k);
  const r = lay.outputs[0];
  const fakeFields = decodeFields(Buffer.concat(nv.finalState.map((h) => Buffer.from(h.slice(2), "hex"))));
  fakeFields.memoryRoot = rootFromProof(
    fakeOut,
    r.addr / (32 * 2 ** r.height),
    nv.outputPaths[0].map((h) => Buffer.from(h.slice(2), "hex")),
  );
  const fakeFinal = stateRoot(fakeFields);
  const fakeClaimOut = label("opml: a wrong model output");
  const lieStates: Hash[] = [];
  for (let i = k + 1; i < tables.length; i++) {
    const t = tables[i].slice();
    t[slot] = fakeOut;
    if (i === tables.length - 1) t[outputSlot] = fakeClaimOut;
    lieStates.push(graphStateOf(modelRoot, t, td));
  }
  const lastTable = tables[tables.length - 1].slice();
  lastTable[slot] = fakeOut;
  lastTable[outputSlot] = fakeClaimOut;
  return {
    node: k,
    steps: nv.steps,
    roots: hexList(roots),
    first: first!,
    last: last!,
    lie: {
      outputRoot: hex(fakeOut),
      finalState: words(fakeFields),
      finalRoot: hex(fakeFinal),
      graphStates: hexList(lieStates),
      claimOutputRoot: hex(fakeClaimOut),
      claimFinalTableRoot: hex(leavesRoot(lastTable, td)),
      claimOutputPath: hexList(leavesProof(lastTable, outputSlot, td)),
    },
  };
}

export function writePhaseLinkVectors(path = PHASE_LINK_VECTORS_PATH): string {
  const abs = resolve(path);
  mkdirSync(dirname(abs), { recursive: true });
  // The commit-vectors serializer lays out any JSON value the way `biome format` would.
  writeFileSync(abs, serializeCommitVectors(buildPhaseLinkVectors()));
  return abs;
}

// CLI: node dist/tools/vectors/phase-link-vectors.js [out.json]   (paths relative to the cwd)
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  console.log(`wrote ${writePhaseLinkVectors(process.argv[2] ?? PHASE_LINK_VECTORS_PATH)}`);
}
