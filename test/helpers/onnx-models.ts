// Small ONNX models built in tests (no torch needed): float32 graphs with static shapes.
import onnxProto from "onnx-proto";

const { onnx } = onnxProto as unknown as { onnx: typeof import("onnx-proto").onnx };
const F32 = onnx.TensorProto.DataType.FLOAT;

const valueInfo = (name: string, dims: number[]) => ({
  name,
  type: { tensorType: { elemType: F32, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
});

export interface GraphSpec {
  nodes: import("onnx-proto").onnx.INodeProto[];
  inputs: [string, number[]][];
  outputs: [string, number[]][];
  /** Float initializers by name. */
  initializers?: Record<string, number[]>;
}

/** The encoded ModelProto (opset 13) of a graph. */
export function onnxModel(g: GraphSpec): Uint8Array {
  const graph = {
    name: "g",
    node: g.nodes,
    initializer: Object.entries(g.initializers ?? {}).map(([name, data]) => ({
      name,
      dims: [data.length],
      dataType: F32,
      floatData: data,
    })),
    input: g.inputs.map(([n, d]) => valueInfo(n, d)),
    output: g.outputs.map(([n, d]) => valueInfo(n, d)),
  };
  return onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: "", version: 13 }], graph }).finish();
}

export const INT_ATTR = onnx.AttributeProto.AttributeType.INT;
