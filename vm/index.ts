// Public API of `opml-toolkit/vm`: the Merkle-ized WASM VM (load, run, state roots, step proofs) and
// the reference one-step verifier.
export { TrapError } from "./i64.js";
export type { FunctionInfo, Instr, Program } from "./isa.js";
export { advance, runBlocks, setVmEngine, type VmEngine } from "./jit.js";
export { LoadError, loadProgram } from "./loader.js";
export { LoadedProgram, Machine, type Snapshot, VmError } from "./machine.js";
export { MerkleMemory, PAGE } from "./memory.js";
export { PROOF_ERROR_CODES, ProofError, type ProofErrorCode } from "./proof-format.js";
export { proveStep, type StepProof } from "./prove.js";
export { type StateFields, Status, stateRoot } from "./state.js";
export { verifyStep } from "./verify/one-step-prover.js";
