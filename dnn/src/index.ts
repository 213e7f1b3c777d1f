// Public API of `opml-toolkit/dnn`: the fixed-point number format, the model package and the native
// engine (the DNN WASM module in V8) behind the Backend interface.
export {
  BACKENDS,
  type Backend,
  backendNamed,
  defaultBackend,
  ExecError,
  nativeCpuBackend,
  type PreparedModel,
  type RunOptions,
  setDefaultBackend,
  wasmCpuBackend,
} from "./engine.js";
export {
  dequantize,
  FRAC_BITS,
  I32_MAX,
  I32_MIN,
  intArray,
  NonFiniteError,
  quantize,
  quantizeArray,
  SCALE,
} from "./fixed.js";
export { nativeStatus } from "./native.js";
export { OP_NAMES, Op, type OpCode } from "./opcodes.js";
export {
  type DType,
  decodeOutput,
  FORMAT,
  InputError,
  type InputTensorJson,
  type InputValues,
  inputValues,
  type KernelNode,
  loadPackage,
  type Manifest,
  type ModelPackage,
  numel,
  PackageError,
  prepareInputs,
  type Ref,
  type TensorInfo,
  type WeightInfo,
  weightRoots,
} from "./package.js";
export { dnnWasmPath } from "./wasm.js";
