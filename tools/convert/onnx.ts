// ONNX protobuf → a small in-memory graph (names, attributes, float64/int constant values decoded
// on demand).

import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from "node:fs";
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

export type AttrValue = number | string | number[] | string[] | Const | OGraph | OGraph[];

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
  /** The value's type: only tensors convert (sequences, optionals and maps are refused). */
  kind: "tensor" | "sequence" | "optional" | "map" | "untyped";
}

/** A graph: the model's main graph, or a subgraph attribute (If branches, Loop/Scan bodies). */
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

/** What a tensor proto holds, checked up front so a bad tensor is refused at parse time. */
interface TensorHead {
  shape: number[];
  n: number;
  dt: number;
  raw?: Uint8Array;
}

/** Bytes per element of raw data, per TensorProto.DataType. */
const RAW_SIZE: Record<number, number> = {
  [FLOAT]: 4,
  [DOUBLE]: 8,
  [FLOAT16]: 2,
  [BFLOAT16]: 2,
  [INT64]: 8,
  [UINT64]: 8,
  [INT32]: 4,
  [INT16]: 2,
  [UINT16]: 2,
  [INT8]: 1,
  [UINT8]: 1,
  [BOOL]: 1,
  [UINT32]: 4,
};

function tensorHead(t: import("onnx-proto").onnx.ITensorProto, where: string): TensorHead {
  const shape = (t.dims ?? []).map(num);
  const n = shape.reduce((a, b) => a * b, 1);
  const dt = t.dataType ?? 0;
  if (t.dataLocation === 1) throw new ConvertError(`${where}: external tensor data is not supported`);
  if (RAW_SIZE[dt] === undefined) throw new ConvertError(`${where}: tensor data type ${dt} is not supported`);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  if (raw && raw.length < RAW_SIZE[dt] * n) throw new ConvertError(`${where}: raw data is truncated`);
  return { shape, n, dt, raw };
}

const dtypeOf = (dt: number): Const["dtype"] => (FLOAT_TYPES.has(dt) ? "float" : "int");

/** Decodes n little-endian elements of type dt from raw bytes (length already checked). */
function decodeRaw(dt: number, n: number, raw: Uint8Array): Float64Array {
  const data = new Float64Array(n);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dt) {
    case FLOAT:
      for (let i = 0; i < n; i++) data[i] = dv.getFloat32(4 * i, true);
      break;
    case DOUBLE:
      for (let i = 0; i < n; i++) data[i] = dv.getFloat64(8 * i, true);
      break;
    case FLOAT16:
      for (let i = 0; i < n; i++) data[i] = half(dv.getUint16(2 * i, true));
      break;
    case BFLOAT16: {
      const f = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < n; i++) {
        f.setUint32(0, dv.getUint16(2 * i, true) << 16);
        data[i] = f.getFloat32(0);
      }
      break;
    }
    case INT64:
      for (let i = 0; i < n; i++) data[i] = Number(dv.getBigInt64(8 * i, true));
      break;
    case UINT64:
      for (let i = 0; i < n; i++) data[i] = Number(dv.getBigUint64(8 * i, true));
      break;
    case INT32:
      for (let i = 0; i < n; i++) data[i] = dv.getInt32(4 * i, true);
      break;
    case INT16:
      for (let i = 0; i < n; i++) data[i] = dv.getInt16(2 * i, true);
      break;
    case UINT16:
      for (let i = 0; i < n; i++) data[i] = dv.getUint16(2 * i, true);
      break;
    case INT8:
      for (let i = 0; i < n; i++) data[i] = dv.getInt8(i);
      break;
    case UINT8:
    case BOOL:
      for (let i = 0; i < n; i++) data[i] = dv.getUint8(i);
      break;
    case UINT32:
      for (let i = 0; i < n; i++) data[i] = dv.getUint32(4 * i, true);
      break;
  }
  return data;
}

/** Decodes the typed value lists (tensors without raw_data). */
function decodeLists(t: import("onnx-proto").onnx.ITensorProto, h: TensorHead, where: string): Float64Array {
  const { n, dt } = h;
  const data = new Float64Array(n);
  const fromList = (list: LongLike[] | null | undefined) => {
    if (!list || list.length < n)
      throw new ConvertError(`${where}: tensor has ${list?.length ?? 0} values, needs ${n}`);
    for (let i = 0; i < n; i++) data[i] = num(list[i]);
  };
  switch (dt) {
    case FLOAT:
      fromList(t.floatData);
      break;
    case DOUBLE:
      fromList(t.doubleData);
      break;
    case FLOAT16:
      fromList(t.int32Data);
      for (let i = 0; i < n; i++) data[i] = half(data[i]);
      break;
    case BFLOAT16: {
      const f = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < n; i++) {
        f.setUint32(0, num((t.int32Data ?? [])[i]) << 16);
        data[i] = f.getFloat32(0);
      }
      break;
    }
    case INT64:
      fromList(t.int64Data);
      break;
    case UINT64:
    case UINT32:
      fromList(t.uint64Data);
      break;
    default:
      fromList(t.int32Data);
  }
  return data;
}

export function decodeTensor(t: import("onnx-proto").onnx.ITensorProto, where: string): Const {
  const h = tensorHead(t, where);
  const data = h.raw ? decodeRaw(h.dt, h.n, h.raw) : decodeLists(t, h, where);
  return { shape: h.shape, dtype: dtypeOf(h.dt), data };
}

const releasers = new WeakMap<Const, () => void>();

/**
 * A constant whose values are decoded from raw bytes on first use of `data` and kept until
 * releaseData(c). `data` is an own enumerable getter, so `{ ...c, shape }` copies the values.
 */
export function lazyConst(shape: number[], dtype: Const["dtype"], load: () => Float64Array): Const {
  let cache: Float64Array | undefined;
  const c = { shape, dtype } as Const;
  Object.defineProperty(c, "data", {
    enumerable: true,
    get: () => {
      cache ??= load();
      return cache;
    },
  });
  releasers.set(c, () => {
    cache = undefined;
  });
  return c;
}

/** Drops a lazy constant's decoded values (they are decoded again if read again); no-op otherwise. */
export function releaseData(c: Const): void {
  releasers.get(c)?.();
}

// Closures made in their own functions, so one that rereads the file holds no view of its bytes.
function rereadConst(
  shape: number[],
  dt: number,
  n: number,
  span: RawSpan,
  reread: (span: RawSpan) => Uint8Array,
): Const {
  return lazyConst(shape, dtypeOf(dt), () => decodeRaw(dt, n, reread(span)));
}
const rawLoader = (dt: number, n: number, raw: Uint8Array) => () => decodeRaw(dt, n, raw);

/** Where an initializer's raw bytes lie in the ONNX file (to read them again on demand). */
export interface RawSpan {
  offset: number;
  length: number;
}

/** Whether an attribute value is a subgraph (GRAPH attribute). */
export const isGraph = (v: AttrValue | undefined): v is OGraph =>
  !!v && typeof v === "object" && !Array.isArray(v) && "nodes" in v;

/** The subgraphs a node carries (If branches, Loop/Scan bodies), in attribute order. */
export function subgraphsOf(n: ONode): OGraph[] {
  const out: OGraph[] = [];
  for (const v of Object.values(n.attrs)) {
    if (isGraph(v)) out.push(v);
    else if (Array.isArray(v))
      for (const x of v as unknown[]) if (isGraph(x as AttrValue)) out.push(x as OGraph);
  }
  return out;
}

/** Every op type of a graph, those inside subgraphs included. */
export function opsOf(g: OGraph, into = new Set<string>()): Set<string> {
  for (const n of g.nodes) {
    into.add(n.op);
    for (const sg of subgraphsOf(n)) opsOf(sg, into);
  }
  return into;
}

/**
 * Names a graph reads from enclosing scopes: inputs of its nodes (and of their subgraphs) that
 * are neither its inputs, its initializers nor produced by its nodes.
 */
export function freeNames(g: OGraph): Set<string> {
  const local = new Set<string>([...g.inputs.map((v) => v.name), ...g.initializers.keys()]);
  for (const n of g.nodes) for (const o of n.outputs) if (o) local.add(o);
  const free = new Set<string>();
  for (const n of g.nodes) {
    for (const i of n.inputs) if (i && !local.has(i)) free.add(i);
    for (const sg of subgraphsOf(n)) for (const i of freeNames(sg)) if (!local.has(i)) free.add(i);
  }
  for (const o of g.outputs) if (!local.has(o.name)) free.add(o.name);
  return free;
}

/** Parses a GraphProto (the main graph or a subgraph attribute). */
type GraphParser = (g: import("onnx-proto").onnx.IGraphProto, where: string) => OGraph;

function decodeAttr(
  a: import("onnx-proto").onnx.IAttributeProto,
  where: string,
  graph: GraphParser,
): AttrValue {
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
    case T.GRAPH:
      return graph(a.g ?? {}, `${where} attribute '${a.name}'`);
    case T.GRAPHS:
      return (a.graphs ?? []).map((g, k) => graph(g, `${where} attribute '${a.name}'[${k}]`));
    default:
      throw new ConvertError(
        `${where}: attribute '${a.name}' has unsupported type ${a.type} (${T[a.type ?? 0] ?? "unknown"})`,
      );
  }
}

function valueInfo(v: import("onnx-proto").onnx.IValueInfoProto): ValueInfo {
  const t = v.type as (import("onnx-proto").onnx.ITypeProto & Record<string, unknown>) | null | undefined;
  const tt = t?.tensorType;
  const kind: ValueInfo["kind"] = tt
    ? "tensor"
    : t?.sequenceType
      ? "sequence"
      : t?.optionalType
        ? "optional"
        : t?.mapType
          ? "map"
          : "untyped";
  return {
    name: v.name ?? "",
    shape: (tt?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : num(d.dimValue))),
    elemType: tt?.elemType ?? 0,
    kind,
  };
}

/**
 * Parses an ONNX model. Initializers with raw data stay undecoded until a handler reads them (see
 * lazyConst). With `reread`, they are read again from the file when needed, so the caller may
 * drop `bytes`; without it they are decoded from views into `bytes`.
 */
export function parseOnnx(bytes: Uint8Array, file: string, reread?: (span: RawSpan) => Uint8Array): OGraph {
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
  const producer = `${model.producerName ?? ""} ${model.producerVersion ?? ""}`.trim();
  const parseGraph: GraphParser = (pg, where) => {
    const initializers = new Map<string, Const>();
    for (const t of pg.initializer ?? []) {
      const at = `${where}: initializer '${t.name}'`;
      const h = tensorHead(t, at);
      let c: Const;
      if (!h.raw) c = decodeTensor(t, at);
      else if (reread && h.raw.buffer === bytes.buffer) {
        const span = { offset: h.raw.byteOffset - bytes.byteOffset, length: RAW_SIZE[h.dt] * h.n };
        c = rereadConst(h.shape, h.dt, h.n, span, reread);
      } else c = lazyConst(h.shape, dtypeOf(h.dt), rawLoader(h.dt, h.n, h.raw));
      initializers.set(t.name ?? "", c);
    }
    const nodes: ONode[] = (pg.node ?? []).map((n, i) => {
      const name = n.name || `${n.opType}_${i}`;
      if (n.domain && n.domain !== "ai.onnx") {
        throw new ConvertError(
          `${where}: node '${name}' uses op '${n.domain}.${n.opType}' from an unsupported domain`,
          { file, node: i, nodeName: name, op: `${n.domain}.${n.opType}` },
        );
      }
      const attrs: Record<string, AttrValue> = {};
      for (const a of n.attribute ?? [])
        attrs[a.name ?? ""] = decodeAttr(a, `${where}: node '${name}' (${n.opType})`, parseGraph);
      return { name, op: n.opType ?? "", inputs: n.input ?? [], outputs: n.output ?? [], attrs };
    });
    return {
      opset,
      producer,
      nodes,
      initializers,
      inputs: (pg.input ?? []).map(valueInfo).filter((v) => !initializers.has(v.name)),
      outputs: (pg.output ?? []).map(valueInfo),
    };
  };
  return parseGraph(g, file);
}

/**
 * Reads and parses an ONNX file. The file's bytes are dropped after parsing: initializer values
 * are read again from the file when lowering needs them, so the whole file is never held alongside
 * the weights made from it. The file must not change meanwhile (size and mtime are checked).
 */
export function readOnnx(file: string): OGraph {
  let bytes: Uint8Array;
  let st: import("node:fs").Stats;
  try {
    st = statSync(file);
    bytes = readFileSync(file);
  } catch (e) {
    throw new ConvertError(
      `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      { file },
    );
  }
  const reread = (span: RawSpan): Uint8Array => {
    const fd = openSync(file, "r");
    try {
      const now = fstatSync(fd);
      if (now.size !== st.size || now.mtimeMs !== st.mtimeMs)
        throw new ConvertError(`${file}: the file changed while it was being converted`, { file });
      const buf = Buffer.allocUnsafe(span.length);
      for (let got = 0; got < span.length; ) {
        const k = readSync(fd, buf, got, span.length - got, span.offset + got);
        if (k === 0)
          throw new ConvertError(`${file}: the file changed while it was being converted`, { file });
        got += k;
      }
      return buf;
    } finally {
      closeSync(fd);
    }
  };
  return parseOnnx(bytes, file, reread);
}
