// What the contracts need to know about a model and the VM program, computed exactly as they
// recompute it (docs/PROTOCOL.md §5): node descriptors and their Merkle root, program constants.
import { encodeAbiParameters, keccak256 } from "viem";
import { depthFor, type Hash, leavesRoot, StaticMerkle, toHex } from "../dnn/src/commit.js";
import type { Manifest } from "../dnn/src/package.js";
import type { LoadedProgram } from "./machine.js";
import { nodeLayout } from "./phase.js";
import { globalsRootOf } from "./state.js";

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

/** Everything the registry stores for a model package. */
export function modelInfo(m: Manifest) {
  return {
    modelRoot: m.modelRoot,
    nodesRoot: toHex(nodesTree(m).root),
    nNodes: m.nodes.length,
    tableDepth: depthFor(m.activations.length),
    weightsDepth: depthFor(m.weights.length),
    inputSlots: m.inputs.slice(),
    outputSlot: m.outputs[0],
  };
}

export { leavesRoot };
