// What the contracts need to know about a model and the VM program, computed exactly as they
// recompute it (docs/PROTOCOL.md §5): node descriptors and their Merkle root, program constants.

import { encodeAbiParameters, type Hex, keccak256 } from "viem";
import { depthFor, type Hash, leavesRoot, StaticMerkle, toHex } from "../commit/merkle.js";
import { stepBound } from "../dnn/src/cost.js";
import { type Manifest, numel } from "../dnn/src/package.js";
import { UserError } from "../errors/index.js";
import type { LoadedProgram } from "../vm/machine.js";
import { globalsRootOf } from "../vm/state.js";
import { nodeLayout } from "./link.js";

/** A node as the phase-link contract sees it: enough to rebuild the VM's initial memory. */
export interface NodeDesc {
  op: number;
  /** 0 = activation slot, 1 = weight index, per input. */
  inKinds: number[];
  inIndex: number[];
  /** Region heights (tensor depths, §1.2) of inputs and outputs. */
  inHeights: number[];
  outSlots: number[];
  outHeights: number[];
  /** Kernel parameters, as int32 values. */
  params: number[];
}

export function nodeDesc(m: Manifest, k: number): NodeDesc {
  const n = m.nodes[k];
  const lay = nodeLayout(m, k);
  return {
    op: n.op,
    inKinds: n.inputs.map((r) => (r[0] === "w" ? 1 : 0)),
    inIndex: n.inputs.map((r) => r[1]),
    inHeights: lay.inputs.map((r) => r.height),
    outSlots: n.outputs.slice(),
    outHeights: lay.outputs.map((r) => r.height),
    params: n.params.slice(),
  };
}

export const NODE_DESC_ABI = [
  { type: "uint256", name: "op" },
  { type: "uint256[]", name: "inKinds" },
  { type: "uint256[]", name: "inIndex" },
  { type: "uint256[]", name: "inHeights" },
  { type: "uint256[]", name: "outSlots" },
  { type: "uint256[]", name: "outHeights" },
  { type: "int256[]", name: "params" },
] as const;

const big = (xs: number[]) => xs.map((x) => BigInt(x));

/** keccak256(abi.encode(op, inKinds, inIndex, inHeights, outSlots, outHeights, params)). */
export function nodeLeaf(d: NodeDesc): Hash {
  const enc = encodeAbiParameters(NODE_DESC_ABI, [
    BigInt(d.op),
    big(d.inKinds),
    big(d.inIndex),
    big(d.inHeights),
    big(d.outSlots),
    big(d.outHeights),
    big(d.params),
  ]);
  return Buffer.from(keccak256(enc).slice(2), "hex");
}

/** Merkle root (§1.1) over the node leaves, in execution order. */
export function nodesTree(m: Manifest): StaticMerkle {
  return new StaticMerkle(
    m.nodes.map((_, k) => nodeLeaf(nodeDesc(m, k))),
    depthFor(m.nodes.length),
  );
}

/** The constants a registered program contributes to every initial VM state. */
export function programInfo(prog: LoadedProgram) {
  return {
    codeRoot: toHex(prog.tree.root),
    codeDepth: prog.tree.depth,
    entryPc: prog.entry("exec").entryPc,
    globalsRoot: toHex(globalsRootOf(prog.program.globals)),
  };
}

/** Everything the registry stores for a model package (older shape; see `modelRecord`). */
export function modelInfo(m: Manifest) {
  const r = modelRecord(m);
  return { ...r, inputSlots: m.inputs.slice() };
}

/** Step bound of a node's VM run when the manifest names none (docs/PROTOCOL.md §5.8). */
export const DEFAULT_MAX_STEPS = 1n << 32n;

/** Deepest region a node may have: the VM memory tree (vm/isa.ts LIMITS.MEMORY_DEPTH). */
const MEMORY_DEPTH = 27;
const MAX_UINT64 = (1n << 64n) - 1n;

/** What the registry stores for a model, as the package implies it (Registry.Model). */
export interface ModelRecord {
  modelRoot: Hex;
  nodesRoot: Hex;
  nNodes: number;
  tableDepth: number;
  weightsDepth: number;
  /** Byte length of each graph input: numel · 4. */
  inputBytes: number[];
  outputSlot: number;
  maxSteps: bigint;
}

function maxStepsOf(m: Manifest): bigint {
  const v = m.maxSteps;
  if (v === undefined) return DEFAULT_MAX_STEPS;
  if (!Number.isSafeInteger(v)) throw new GraphError(`maxSteps ${v} is not an integer`);
  return BigInt(v);
}

/** The record a registration of this package yields (the twin of Registry.registerModel). */
export function modelRecord(m: Manifest): ModelRecord {
  const nSlots = m.inputs.length + m.nodes.reduce((a, n) => a + n.outputs.length, 0);
  return {
    modelRoot: m.modelRoot,
    nodesRoot: toHex(nodesTree(m).root) as Hex,
    nNodes: m.nodes.length,
    tableDepth: depthFor(nSlots),
    weightsDepth: depthFor(m.weights.length),
    inputBytes: m.inputs.map((s) => 4 * numel(m.activations[s]?.shape ?? [])),
    outputSlot: m.outputs[0],
    maxSteps: maxStepsOf(m),
  };
}

/** A package whose graph the registry would refuse; the message names the node. */
export class GraphError extends UserError {
  override readonly kind: string = "graph";
}

/**
 * The TypeScript twin of the registry's graph validation (docs/PROTOCOL.md §5.1): graph inputs are
 * slots 0 … I−1 with a positive size, node k writes the next free slots in order (every slot once,
 * never in place), reads only inputs or earlier outputs (weights: existing ones), every region fits
 * the VM memory, and the output slot is some node's output. Stricter than the contract where the
 * package knows more: a weight read must name a real weight, not a padding leaf of the model root.
 */
export function validateGraph(m: Manifest): void {
  const nIn = m.inputs.length;
  if (m.nodes.length === 0 || m.nodes.length >= 2 ** 32)
    throw new GraphError(`the graph has ${m.nodes.length} nodes`);
  if (nIn === 0) throw new GraphError("the graph has no inputs");
  m.inputs.forEach((s, i) => {
    if (s !== i) throw new GraphError(`graph input ${i} is slot ${s}, not slot ${i}`);
    const info = m.activations[s];
    const bytes = info ? 4 * numel(info.shape) : 0;
    if (bytes === 0 || bytes >= 2 ** 32) throw new GraphError(`graph input ${i} has ${bytes} bytes`);
  });
  const steps = maxStepsOf(m);
  if (steps < 1n || steps > MAX_UINT64) throw new GraphError(`maxSteps ${steps} is outside 1 … 2^64 − 1`);
  let next = nIn;
  m.nodes.forEach((n, k) => {
    const where = `node ${k} (op ${n.op})`;
    const at = { node: k, nodeName: n.name, op: n.onnxOp };
    n.inputs.forEach((ref, j) => {
      if (ref[0] === "a") {
        if (!(ref[1] >= 0 && ref[1] < next)) {
          throw new GraphError(`${where}: reads slot ${ref[1]} before it is written`, at);
        }
      } else if (ref[0] === "w") {
        if (!(ref[1] >= 0 && ref[1] < m.weights.length)) {
          throw new GraphError(`${where}: reads weight ${ref[1]}, the model has ${m.weights.length}`, at);
        }
      } else {
        throw new GraphError(`${where}: input ${j} has unknown kind ${String(ref[0])}`, at);
      }
    });
    for (const slot of n.outputs) {
      if (slot < next) throw new GraphError(`${where}: writes slot ${slot}, already written`, at);
      if (slot > next) {
        throw new GraphError(
          `${where}: writes slot ${slot} out of order (the next free slot is ${next})`,
          at,
        );
      }
      if (!m.activations[slot])
        throw new GraphError(`${where}: writes slot ${slot}, not in the manifest`, at);
      next++;
    }
    // An honest party must be able to play this node's VM level to the end: a node that may run
    // past maxSteps could not be linked (NodeVmLink refuses T > maxSteps), so it is refused here.
    const bound = stepBound(n.op, n.params);
    if (bound > Number(steps)) {
      throw new GraphError(
        `${where}: may take up to ${bound} VM steps, over the model's maxSteps ${steps} (re-convert: big nodes are split)`,
        at,
      );
    }
    const d = nodeDesc(m, k);
    for (const [what, hs] of [
      ["input", d.inHeights],
      ["output", d.outHeights],
    ] as const) {
      hs.forEach((h, j) => {
        if (h > MEMORY_DEPTH)
          throw new GraphError(`${where}: ${what} ${j} has height ${h} > ${MEMORY_DEPTH}`, at);
      });
    }
  });
  if (m.activations.length !== next) {
    throw new GraphError(
      `the manifest lists ${m.activations.length} activation slots, the nodes make ${next}`,
    );
  }
  const out = m.outputs[0];
  if (out === undefined || out < nIn || out >= next)
    throw new GraphError(`output slot ${out} is written by no node`);
}

export { leavesRoot };
