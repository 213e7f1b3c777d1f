// The ONNX protobuf classes. onnx-proto is CommonJS: Node's ESM loader exposes only its default
// export (module.exports), whose `onnx` namespace the package's types describe (esModuleInterop).
import onnxProto from "onnx-proto";

export const { onnx } = onnxProto;
