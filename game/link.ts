// Phase link between the graph-level game and the VM-level game (docs/PROTOCOL.md §4.6).
// A graph node runs in a VM whose initial state is a function of the node's input tensor roots,
// its parameters (from the committed manifest) and the program's code root alone: every tensor sits
// in a region aligned to its padded size, so the region's memory subtree *is* the tensor root.
import {
  byteDepth,
  bytesRoot,
  depthFor,
  type Hash,
  hashPair,
  leavesProof,
  leavesRoot,
  rootFromProof,
  tensorBytes,
  tensorRoot,
  ZERO,
} from "../commit/merkle.js";
import { paramBlock } from "../dnn/src/engine.js";
import { type KernelNode, type Manifest, type ModelPackage, numel, wordsOf } from "../dnn/src/package.js";
import { dnnWasm } from "../dnn/src/wasm.js";
import { HALT_PC, LIMITS } from "../vm/isa.js";
import { advance } from "../vm/jit.js";
import { loadProgram } from "../vm/loader.js";
import { LoadedProgram, Machine, type Snapshot } from "../vm/machine.js";
import { MerkleMemory, PAGE } from "../vm/memory.js";
import { EMPTY, globalsRootOf, localsRootOf, type StateFields, Status, stateRoot } from "../vm/state.js";

const DEPTH = LIMITS.MEMORY_DEPTH;

let dnnProgram: LoadedProgram | undefined;
/** The DNN library loaded as a VM program (cached). */
export function dnnVmProgram(): LoadedProgram {
  if (!dnnProgram) dnnProgram = new LoadedProgram(loadProgram(dnnWasm().bytes, "dnn.wasm"));
  return dnnProgram;
}

export interface Region {
  /** Byte address, aligned to the region size. */
  addr: number;
  /** Height of the region's subtree (size = 32·2^height bytes). */
  height: number;
  role: "params" | "input" | "output";
  index: number;
}

export interface NodeLayout {
  regions: Region[];
  params: Region;
  inputs: Region[];
  outputs: Region[];
  pages: number;
  paramWords: Int32Array;
}

/** Words of an input's region: an i8 weight packs four elements a word. */
function tensorElems(m: Manifest, ref: KernelNode["inputs"][number]): number {
  const info = ref[0] === "w" ? m.weights[ref[1]] : m.activations[ref[1]];
  return Math.max(1, wordsOf(info));
}

/**
 * Region layout of node k: the parameter block, each input, each output, sorted by size
 * (descending; ties keep that order) and packed from address 0, so each is aligned to its size.
 */
export function nodeLayout(m: Manifest, k: number): NodeLayout {
  const node = m.nodes[k];
  if (!node) throw new RangeError(`node index ${k} out of range (the model has ${m.nodes.length} nodes)`);
  const paramBytes = 4 * (4 + node.inputs.length + node.outputs.length + node.params.length);
  const items: { role: Region["role"]; index: number; height: number }[] = [
    { role: "params", index: 0, height: byteDepth(paramBytes) },
    ...node.inputs.map((r, i) => ({
      role: "input" as const,
      index: i,
      height: byteDepth(4 * tensorElems(m, r)),
    })),
    ...node.outputs.map((s, i) => ({
      role: "output" as const,
      index: i,
      height: byteDepth(4 * Math.max(1, numel(m.activations[s].shape))),
    })),
  ];
  const order = items.map((it, i) => ({ it, i })).sort((a, b) => b.it.height - a.it.height || a.i - b.i);
  let addr = 0;
  const regions: Region[] = new Array(items.length);
  for (const { it, i } of order) {
    regions[i] = { addr, height: it.height, role: it.role, index: it.index };
    addr += 32 * 2 ** it.height;
  }
  const params = regions[0];
  const inputs = regions.slice(1, 1 + node.inputs.length);
  const outputs = regions.slice(1 + node.inputs.length);
  const paramWords = paramBlock(
    node,
    inputs.map((r) => r.addr),
    outputs.map((r) => r.addr),
  );
  return { regions, params, inputs, outputs, pages: Math.max(1, Math.ceil(addr / PAGE)), paramWords };
}

/** Root of a memory whose only non-zero bytes are the given aligned regions. */
export function regionsMemoryRoot(regions: { addr: number; height: number; root: Hash }[]): Hash {
  const node = (h: number, j: number, rs: typeof regions): Hash => {
    if (rs.length === 0) return ZERO[h];
    const start = j * 2 ** h;
    const exact = rs.find((r) => r.height === h && r.addr / 32 === start);
    if (exact) return exact.root;
    if (h === 0) throw new Error("regions overlap a leaf unaligned");
    const mid = start + 2 ** (h - 1);
    const left = rs.filter((r) => r.addr / 32 < mid);
    const right = rs.filter((r) => r.addr / 32 >= mid);
    return hashPair(node(h - 1, 2 * j, left), node(h - 1, 2 * j + 1, right));
  };
  return node(DEPTH, 0, regions);
}

/**
 * The initial VM state root of node k, computed from roots alone — what the contract does:
 * parameter block bytes (from the manifest), input tensor roots, zero output regions, the program.
 */
export function nodeInitialFields(
  prog: LoadedProgram,
  m: Manifest,
  k: number,
  inputRoots: Hash[],
): StateFields {
  const lay = nodeLayout(m, k);
  const entry = prog.entry("exec");
  const pb = new Uint8Array(lay.paramWords.buffer, lay.paramWords.byteOffset, lay.paramWords.byteLength);
  const regions = [
    { addr: lay.params.addr, height: lay.params.height, root: bytesRoot(pb, lay.params.height) },
    ...lay.inputs.map((r, i) => ({ addr: r.addr, height: r.height, root: inputRoots[i] })),
  ];
  return {
    status: Status.RUNNING,
    pc: entry.entryPc,
    stackHash: EMPTY,
    localsRoot: localsRootOf([BigInt(lay.params.addr)]),
    returnPc: HALT_PC,
    frameStackHash: EMPTY,
    frameDepth: 0,
    globalsRoot: globalsRootOf(prog.program.globals),
    memoryRoot: regionsMemoryRoot(regions),
    memoryPages: lay.pages,
    codeRoot: prog.tree.root,
    codeDepth: prog.tree.depth,
  };
}

/** Builds the initial machine of node k from the actual input tensors. */
export function nodeMachine(prog: LoadedProgram, m: Manifest, k: number, inputs: Int32Array[]): Machine {
  const lay = nodeLayout(m, k);
  const mem = new MerkleMemory(lay.pages);
  const i32 = new Int32Array(mem.bytes.buffer);
  i32.set(lay.paramWords, lay.params.addr >> 2);
  lay.inputs.forEach((r, i) => {
    i32.set(inputs[i], r.addr >> 2);
  });
  mem.touchRange(0, mem.bytes.length);
  return Machine.start(prog, "exec", [BigInt(lay.params.addr)], mem);
}

/** The tensors node k reads, in its input order, given weights and the activations so far. */
export function nodeInputs(pkg: ModelPackage, k: number, acts: Int32Array[]): Int32Array[] {
  return pkg.manifest.nodes[k].inputs.map((r) => (r[0] === "w" ? pkg.weights[r[1]] : acts[r[1]]));
}

export interface NodeRun {
  outputs: Int32Array[];
  steps: number;
  machine: Machine;
  layout: NodeLayout;
}

/** Runs node k to completion in the VM (with an optional step limit). */
export function runNodeInVm(pkg: ModelPackage, k: number, inputs: Int32Array[], maxSteps = 2e9): NodeRun {
  const prog = dnnVmProgram();
  const m = pkg.manifest;
  const layout = nodeLayout(m, k);
  const machine = nodeMachine(prog, m, k, inputs);
  while (machine.status === Status.RUNNING && machine.steps < maxSteps)
    advance(machine, Math.min(1 << 20, maxSteps - machine.steps));
  const outputs = m.nodes[k].outputs.map((s, i) => {
    const r = layout.outputs[i];
    const n = numel(m.activations[s].shape);
    return new Int32Array(machine.mem.bytes.buffer.slice(r.addr, r.addr + 4 * n));
  });
  return { outputs, steps: machine.steps, machine, layout };
}

/** Proof that the final state's output region i holds a tensor with the given root. */
export interface OutputProof {
  fields: StateFields;
  addr: number;
  height: number;
  path: Hash[];
}

export function proveOutput(machine: Machine, layout: NodeLayout, i: number): OutputProof {
  const r = layout.outputs[i];
  const index = r.addr / (32 * 2 ** r.height);
  return {
    fields: machine.fields(),
    addr: r.addr,
    height: r.height,
    path: machine.mem.subtreeProof(r.height, index),
  };
}

/** Checks an output proof against a final state root and a claimed output tensor root. */
export function verifyOutput(finalRoot: Hash, outputRoot: Hash, p: OutputProof): boolean {
  if (!eq(stateRoot(p.fields), finalRoot) || p.fields.status !== Status.FINISHED) return false;
  const index = p.addr / (32 * 2 ** p.height);
  if (!Number.isInteger(index) || p.path.length !== DEPTH - p.height) return false;
  return eq(rootFromProof(outputRoot, index, p.path), p.fields.memoryRoot);
}

const eq = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

// ---------- graph-state update (docs/PROTOCOL.md §1.4) ----------

export interface GraphUpdateProof {
  slot: number;
  path: Hash[];
}

/** Path of `slot` in the activation table (same before and after: only that leaf changes). */
export function proveGraphUpdate(table: Hash[], slot: number): GraphUpdateProof {
  return { slot, path: leavesProof(table, slot, depthFor(table.length)) };
}

/** graphState(before) has `slot` empty and graphState(after) has it set to `leaf`, nothing else changed. */
export function verifyGraphUpdate(
  modelRoot: Hash,
  before: Hash,
  after: Hash,
  leaf: Hash,
  p: GraphUpdateProof,
): boolean {
  return (
    eq(hashPair(modelRoot, rootFromProof(ZERO[0], p.slot, p.path)), before) &&
    eq(hashPair(modelRoot, rootFromProof(leaf, p.slot, p.path)), after)
  );
}

/** Activation table after the first `done` nodes (docs/PROTOCOL.md §1.4). */
export function activationTable(m: Manifest, acts: (Int32Array | undefined)[], done: number): Hash[] {
  return activationTableOf(m, (s) => (acts[s] ? tensorRoot(acts[s]!) : undefined), done);
}

/**
 * The same table from a per-slot root lookup, so a party that asks for many tables (every bisection
 * round asks for one) hashes each activation once, not once per table.
 */
export function activationTableOf(
  m: Manifest,
  rootOf: (slot: number) => Hash | undefined,
  done: number,
): Hash[] {
  const produced = new Set<number>(m.inputs);
  for (let k = 0; k < done; k++) for (const s of m.nodes[k].outputs) produced.add(s);
  return m.activations.map((_, s) => (produced.has(s) ? (rootOf(s) ?? ZERO[0]) : ZERO[0]));
}

export { leavesRoot, type Snapshot, tensorBytes };
