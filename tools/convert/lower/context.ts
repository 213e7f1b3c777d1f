// Shared lowering state: the value type, the kernel-emitting context, attribute/input and spatial helpers.
import { q8Bound, stepBound } from "../../../dnn/src/cost.js";
import { intArray, NonFiniteError, quantizeArray } from "../../../dnn/src/fixed.js";
import { OP_NAMES, Op } from "../../../dnn/src/opcodes.js";
import type { DType, KernelNode, Ref, TensorInfo, WeightTensorInfo } from "../../../dnn/src/package.js";
import { interpret } from "../interp.js";
import { type Const, ConvertError, type ONode } from "../onnx.js";
import { numel } from "../views.js";

export type Val =
  | { kind: "const"; c: Const; name: string }
  | { kind: "act"; slot: number; shape: number[]; dtype: DType };

export const shapeOf = (v: Val) => (v.kind === "const" ? v.c.shape : v.shape);
export const isIntVal = (v: Val) => (v.kind === "const" ? v.c.dtype === "int" : v.dtype === "i32");

/** Takes each weight as it is quantized (e.g. hashes and writes it), so lowering need not keep it. */
export type WeightSink = (index: number, info: WeightTensorInfo, data: Int32Array) => void;

/** What int8.ts makes of a MATMUL or CONV: its Q8 opcode, parameters and inputs. */
export interface Q8Kernel {
  op: number;
  params: number[];
  inputs: Ref[];
}

export class Ctx {
  activations: TensorInfo[] = [];
  nodes: KernelNode[] = [];
  /** Weights in creation order; `data` only when there is no sink. */
  weights: { info: WeightTensorInfo; data?: Int32Array }[] = [];
  private weightIndex = new Map<string, number>();
  /**
   * Per-node VM step budget (docs/PROTOCOL.md §5.8) and the splitter that keeps kernels under it
   * (lower/split.ts, passed in so this file does not import its own user).
   */
  /** `--weights int8`: MATMUL and CONV weights become int8 with a scale per channel (int8.ts). */
  int8?: (ctx: Ctx, n: ONode, spec: KSpec, where: string) => (() => Q8Kernel) | undefined;
  budget?: {
    steps: number;
    split: (ctx: Ctx, n: ONode, spec: KSpec, where: string, budget: number) => Val[] | undefined;
  };
  constructor(
    readonly opset: number,
    readonly file: string,
    readonly sink?: WeightSink,
  ) {}

  addActivation(info: TensorInfo): number {
    this.activations.push(info);
    return this.activations.length - 1;
  }

  /** Materializes a constant as a weight tensor (deduplicated by name + dtype). */
  weight(c: Const, name: string, where: string, dtype: DType = c.dtype === "float" ? "q16" : "i32"): Ref {
    return this.rawWeight({ name, shape: c.shape, dtype }, () => {
      try {
        return dtype === "q16"
          ? quantizeArray(c.data, `${where}: tensor '${name}'`, true)
          : intArray(c.data, `${where}: tensor '${name}'`);
      } catch (e) {
        if (e instanceof NonFiniteError) throw new ConvertError(`${this.file}: ${e.message}`);
        throw e;
      }
    });
  }

  /** A weight tensor of words made by `make` (called once per name + dtype + shape). */
  rawWeight(info: WeightTensorInfo, make: () => Int32Array): Ref {
    const key = `${info.name}|${info.dtype}|${info.shape.join("x")}`;
    let idx = this.weightIndex.get(key);
    if (idx === undefined) {
      const data = make();
      idx = this.weights.length;
      if (this.sink) {
        this.sink(idx, info, data);
        this.weights.push({ info });
      } else this.weights.push({ info, data });
      this.weightIndex.set(key, idx);
    }
    return ["w", idx];
  }
}

/** One kernel invocation to emit (or fold, when all inputs are constant). */
export interface KSpec {
  op: number;
  params: number[];
  inputs: Val[];
  outShapes: number[][];
  outDtype: DType;
  /** Allow folding when every input is constant. */
  foldable?: boolean;
}

export type Handler = (ctx: Ctx, n: ONode, ins: (Val | undefined)[], where: string) => Val[];

/**
 * One row of docs/OPERATORS.md and `opml convert --list-ops`: the opset versions the lowering
 * follows (e.g. "1-21", "13+"), the attributes or modes it supports ("all" when every one is),
 * and what a user should know: the kernels it becomes, rounding, refusals.
 */
export interface OpDoc {
  opsets: string;
  attrs: string;
  notes: string;
}

// ---------- attribute and input helpers ----------
export const attrInt = (n: ONode, k: string, d: number) =>
  typeof n.attrs[k] === "number" ? (n.attrs[k] as number) : d;
export const attrFloat = attrInt;
export const attrInts = (n: ONode, k: string): number[] | undefined =>
  Array.isArray(n.attrs[k]) ? (n.attrs[k] as number[]) : undefined;
export const attrStr = (n: ONode, k: string, d: string) =>
  typeof n.attrs[k] === "string" ? (n.attrs[k] as string) : d;

export function need(v: Val | undefined, i: number, _n: ONode, where: string): Val {
  if (!v) throw new ConvertError(`${where}: missing required input ${i}`);
  return v;
}
export function constOf(v: Val | undefined, what: string, where: string): Const {
  if (!v) throw new ConvertError(`${where}: missing ${what}`);
  if (v.kind !== "const")
    throw new ConvertError(`${where}: ${what} must be a constant known at conversion time`);
  return v.c;
}
export const intsOf = (c: Const) => Array.from(c.data, (x) => Math.trunc(x));

export const mkConst = (
  shape: number[],
  dtype: "float" | "int",
  data: ArrayLike<number>,
  name: string,
): Val => ({
  kind: "const",
  c: { shape, dtype, data: Float64Array.from(data) },
  name,
});

/** Emits (or folds) a kernel; returns one Val per output. */
export function kernel(ctx: Ctx, n: ONode, spec: KSpec, where: string): Val[] {
  const isInt = spec.outDtype === "i32" || spec.inputs.some((v) => isIntVal(v));
  if (spec.foldable !== false && spec.inputs.every((v) => v.kind === "const")) {
    const r = interpret(
      spec.op,
      spec.params,
      spec.inputs.map((v) => (v as { c: Const }).c.data),
      spec.outShapes.map(numel),
      isInt,
    );
    if (r) {
      return r.map((data, i) =>
        mkConst(
          spec.outShapes[i],
          spec.outDtype === "i32" ? "int" : "float",
          data,
          `${n.outputs[i] ?? n.name}`,
        ),
      );
    }
  }
  // --weights int8: decided here, after folding; the weights are made only for a kernel that is not
  // split further, so every sub-kernel of a split gets its own scales.
  const q8 =
    ctx.int8 && (spec.op === Op.MATMUL || spec.op === Op.CONV) ? ctx.int8(ctx, n, spec, where) : undefined;
  if (ctx.budget) {
    const bound = q8 ? q8Bound(stepBound(spec.op, spec.params)) : stepBound(spec.op, spec.params);
    if (bound > ctx.budget.steps) {
      // A Q8 kernel's bound is 9/8 of its Q16 twin's: split to 8/9 of the budget.
      const budget = q8 ? Math.floor((ctx.budget.steps * 8) / 9) : ctx.budget.steps;
      const parts = ctx.budget.split(ctx, n, spec, where, budget);
      if (parts) return parts;
      throw new ConvertError(
        `${where}: this ${OP_NAMES[spec.op] ?? spec.op} kernel needs up to ${bound} VM steps, over the ` +
          `step budget ${ctx.budget.steps}, and has no split; raise --step-budget`,
      );
    }
  }
  const q8k = q8?.();
  const inputs: Ref[] =
    q8k?.inputs ??
    spec.inputs.map((v, i) => {
      if (v.kind === "act") return ["a", v.slot];
      const dtype: DType = v.c.dtype === "int" ? "i32" : "q16";
      return ctx.weight(v.c, v.name || `${n.name}:in${i}`, where, dtype);
    });
  const outVals: Val[] = spec.outShapes.map((shape, i) => {
    const slot = ctx.addActivation({
      name: n.outputs[i] || `${n.name}:out${i}`,
      shape,
      dtype: spec.outDtype,
    });
    return { kind: "act", slot, shape, dtype: spec.outDtype };
  });
  ctx.nodes.push({
    name: n.name,
    onnxOp: n.op,
    op: q8k?.op ?? spec.op,
    inputs,
    outputs: outVals.map((v) => (v as { slot: number }).slot),
    params: q8k?.params ?? spec.params,
  });
  return outVals;
}

/** An intermediate node of a composition: its own name and output name. */
export const sub = (n: ONode, tag: string): ONode => ({
  ...n,
  name: `${n.name}#${tag}`,
  outputs: [`${n.outputs[0] ?? n.name}#${tag}`],
});

/** The same words under another shape (same element count): kernels address memory by strides. */
export function viewAs(v: Val, shape: number[]): Val {
  if (numel(shape) !== numel(shapeOf(v))) throw new Error(`viewAs: [${shapeOf(v)}] vs [${shape}]`);
  return v.kind === "const" ? derived({ ...v.c, shape }, v.name) : { ...v, shape };
}

/** Float constant rewritten (e.g. folded BN); the name keeps the weight unique. */
export function derived(c: Const, name: string): Val {
  return { kind: "const", c, name };
}

// ---------- spatial helpers ----------
export function spatialPads(
  n: ONode,
  inHW: number[],
  kernelHW: number[],
  strides: number[],
  dil: number[],
  where: string,
): number[] {
  const autoPad = attrStr(n, "auto_pad", "NOTSET");
  const rank = inHW.length;
  if (autoPad === "NOTSET") return attrInts(n, "pads") ?? new Array(2 * rank).fill(0);
  if (autoPad === "VALID") return new Array(2 * rank).fill(0);
  if (autoPad !== "SAME_UPPER" && autoPad !== "SAME_LOWER")
    throw new ConvertError(`${where}: auto_pad '${autoPad}' unknown`);
  const pads = new Array(2 * rank).fill(0);
  for (let i = 0; i < rank; i++) {
    const out = Math.ceil(inHW[i] / strides[i]);
    const total = Math.max(0, (out - 1) * strides[i] + (kernelHW[i] - 1) * dil[i] + 1 - inHW[i]);
    const small = Math.floor(total / 2);
    pads[i] = autoPad === "SAME_UPPER" ? small : total - small;
    pads[i + rank] = total - pads[i];
  }
  return pads;
}

/** Views [N, C, spatial…] with 1 or 2 spatial dims as H, W (1-D gets H = 1). */
export function hw(shape: number[], where: string): [number, number] {
  if (shape.length === 4) return [shape[2], shape[3]];
  if (shape.length === 3) return [1, shape[2]];
  throw new ConvertError(
    `${where}: only 1-D and 2-D spatial inputs are supported (got rank ${shape.length})`,
  );
}
export const to2 = (xs: number[] | undefined, d: number, rank: number) => {
  const v = xs ?? new Array(rank).fill(d);
  return rank === 1 ? [d === 0 ? 0 : 1, v[0]] : v;
};
