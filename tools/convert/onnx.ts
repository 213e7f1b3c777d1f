// ONNX protobuf → a small in-memory graph (names, attributes, float64/int constant values).

import { readFileSync } from "node:fs";
import { UserError } from "../../errors/index.js";
import { onnx } from "./onnx-proto.js";

/** An ONNX model the converter cannot turn into a package (bad file, unsupported op, …). */
export class ConvertError extends UserError {
  override readonly kind: string = "convert";
}

/** Constant tensor values: float tensors as float64, integer/bool tensors as "int". */
export interface Const {
  shape: number[];
  dtype: "float" | "int";
  data: Float64Array;
}

export type AttrValue = number | string | number[] | string[] | Const;

export interface ONode {
  name: string;
  op: string;
  inputs: string[]; // "" = absent optional input
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

export interface ValueInfo {
  name: string;
  shape: (number | string)[];
  elemType: number;
}

export interface OGraph {
  opset: number;
  producer: string;
  nodes: ONode[];
  initializers: Map<string, Const>;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

// TensorProto.DataType values we understand.
const FLOAT = 1;
const UINT8 = 2;
const INT8 = 3;
const UINT16 = 4;
const INT16 = 5;
const INT32 = 6;
const INT64 = 7;
const BOOL = 9;
const FLOAT16 = 10;
const DOUBLE = 11;
const UINT32 = 12;
const UINT64 = 13;
const BFLOAT16 = 16;
export const FLOAT_TYPES = new Set([FLOAT, FLOAT16, DOUBLE, BFLOAT16]);
export const INT_TYPES = new Set([UINT8, INT8, UINT16, INT16, INT32, INT64, BOOL, UINT32, UINT64]);

type LongLike = number | { toNumber(): number };
const num = (v: LongLike | null | undefined): number =>
  v == null ? 0 : typeof v === "number" ? v : v.toNumber();

function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

export function decodeTensor(t: import("onnx-proto").onnx.ITensorProto, where: string): Const {
  const shape = (t.dims ?? []).map(num);
  const n = shape.reduce((a, b) => a * b, 1);
  const dt = t.dataType ?? 0;
  if (t.dataLocation === 1) throw new ConvertError(`${where}: external tensor data is not supported`);
  const data = new Float64Array(n);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  const dv = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  const need = (bytes: number) => {
    if (raw && raw.length < bytes * n) throw new ConvertError(`${where}: raw data is truncated`);
  };
  const fromList = (list: LongLike[] | null | undefined) => {
    if (!list || list.length < n)
      throw new ConvertError(`${where}: tensor has ${list?.length ?? 0} values, needs ${n}`);
    for (let i = 0; i < n; i++) data[i] = num(list[i]);
  };
  switch (dt) {
    case FLOAT:
      if (dv) {
        need(4);
        for (let i = 0; i < n; i++) data[i] = dv.getFloat32(4 * i, true);
      } else fromList(t.floatData);
      break;
    case DOUBLE:
      if (dv) {
        need(8);
        for (let i = 0; i < n; i++) data[i] = dv.getFloat64(8 * i, true);
      } else fromList(t.doubleData);
      break;
    case FLOAT16:
      if (dv) {
        need(2);
        for (let i = 0; i < n; i++) data[i] = half(dv.getUint16(2 * i, true));
      } else {
        fromList(t.int32Data);
        for (let i = 0; i < n; i++) data[i] = half(data[i]);
      }
      break;
    case BFLOAT16: {
      const f = new DataView(new ArrayBuffer(4));
      const bits = (i: number) => (dv ? dv.getUint16(2 * i, true) : num((t.int32Data ?? [])[i]));
      if (dv) need(2);
      for (let i = 0; i < n; i++) {
        f.setUint32(0, bits(i) << 16);
        data[i] = f.getFloat32(0);
      }
      break;
    }
    case INT64:
      if (dv) {
        need(8);
        for (let i = 0; i < n; i++) data[i] = Number(dv.getBigInt64(8 * i, true));
      } else fromList(t.int64Data);
      break;
    case UINT64:
      if (dv) {
        need(8);
        for (let i = 0; i < n; i++) data[i] = Number(dv.getBigUint64(8 * i, true));
      } else fromList(t.uint64Data);
      break;
    case INT32:
    case INT16:
    case INT8:
    case UINT16:
    case UINT8:
    case BOOL: {
      if (dv) {
        const size = dt === INT32 ? 4 : dt === INT16 || dt === UINT16 ? 2 : 1;
        need(size);
        for (let i = 0; i < n; i++) {
          data[i] =
            dt === INT32
              ? dv.getInt32(4 * i, true)
              : dt === INT16
                ? dv.getInt16(2 * i, true)
                : dt === UINT16
                  ? dv.getUint16(2 * i, true)
                  : dt === INT8
                    ? dv.getInt8(i)
                    : dv.getUint8(i);
        }
      } else fromList(t.int32Data);
      break;
    }
    case UINT32:
      if (dv) {
        need(4);
        for (let i = 0; i < n; i++) data[i] = dv.getUint32(4 * i, true);
      } else fromList(t.uint64Data);
      break;
    default:
      throw new ConvertError(`${where}: tensor data type ${dt} is not supported`);
  }
  return { shape, dtype: FLOAT_TYPES.has(dt) ? "float" : "int", data };
}

function decodeAttr(a: import("onnx-proto").onnx.IAttributeProto, where: string): AttrValue {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case T.FLOAT:
      return a.f ?? 0;
    case T.INT:
      return num(a.i);
    case T.STRING:
      return Buffer.from(a.s ?? new Uint8Array()).toString("utf8");
    case T.FLOATS:
      return a.floats ?? [];
    case T.INTS:
      return (a.ints ?? []).map(num);
    case T.STRINGS:
      return (a.strings ?? []).map((s) => Buffer.from(s).toString("utf8"));
    case T.TENSOR:
      return decodeTensor(a.t ?? {}, `${where} attribute '${a.name}'`);
    default:
      throw new ConvertError(`${where}: attribute '${a.name}' has unsupported type ${a.type}`);
  }
}

function valueInfo(v: import("onnx-proto").onnx.IValueInfoProto): ValueInfo {
  const tt = v.type?.tensorType;
  return {
    name: v.name ?? "",
    shape: (tt?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : num(d.dimValue))),
    elemType: tt?.elemType ?? 0,
  };
}

export function parseOnnx(bytes: Uint8Array, file: string): OGraph {
  let model: import("onnx-proto").onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new ConvertError(`${file}: not a valid ONNX model (${(e as Error).message})`, { file });
  }
  const g = model.graph;
  if (!g?.node || g.node.length === 0)
    throw new ConvertError(`${file}: ONNX model has no graph nodes`, { file });
  const opset = Math.max(
    0,
    ...(model.opsetImport ?? [])
      .filter((o) => !o.domain || o.domain === "ai.onnx")
      .map((o) => num(o.version)),
  );
  const initializers = new Map<string, Const>();
  for (const t of g.initializer ?? [])
    initializers.set(t.name ?? "", decodeTensor(t, `${file}: initializer '${t.name}'`));
  const nodes: ONode[] = g.node.map((n, i) => {
    const name = n.name || `${n.opType}_${i}`;
    if (n.domain && n.domain !== "ai.onnx") {
      throw new ConvertError(
        `${file}: node '${name}' uses op '${n.domain}.${n.opType}' from an unsupported domain`,
        { file, node: i, nodeName: name, op: `${n.domain}.${n.opType}` },
      );
    }
    const attrs: Record<string, AttrValue> = {};
    for (const a of n.attribute ?? [])
      attrs[a.name ?? ""] = decodeAttr(a, `${file}: node '${name}' (${n.opType})`);
    return { name, op: n.opType ?? "", inputs: n.input ?? [], outputs: n.output ?? [], attrs };
  });
  return {
    opset,
    producer: `${model.producerName ?? ""} ${model.producerVersion ?? ""}`.trim(),
    nodes,
    initializers,
    inputs: (g.input ?? []).map(valueInfo).filter((v) => !initializers.has(v.name)),
    outputs: (g.output ?? []).map(valueInfo),
  };
}

export function readOnnx(file: string): OGraph {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new ConvertError(
      `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      { file },
    );
  }
  return parseOnnx(bytes, file);
}
