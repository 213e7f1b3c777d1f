// Public API of `opml-toolkit/convert`: ONNX → fixed-point model package, and the float reference
// (onnxruntime-node, loaded only when a fidelity function is called).
export { type ConvertOptions, convertGraph, writePackage } from "./convert.js";
export { ConvertError, type OGraph, parseOnnx, readOnnx } from "./onnx.js";
export {
  calibrationInputs,
  compare,
  type ErrorReport,
  type FloatInput,
  runOnnxRuntime,
} from "./reference.js";
