// Public API of `opml-toolkit/game`: deploy or connect to the dispute game, register a model, compute
// a claim's commitments (ClaimTrace), read and play games.
export { type Artifact, artifact } from "./artifacts.js";
export { ClaimTrace, type ClaimView } from "./claim-trace.js";
export { gameDeadlines, readClaim, timeoutAt, windowDeadline } from "./deadlines.js";
export { DEFAULT_PARAMS, type Deployment, deployAll, type GameParams, registerModel } from "./deploy.js";
export { publishedInputs } from "./inputs.js";
export { dnnVmProgram, type NodeRun, runNodeInVm } from "./link.js";
export { candidateIds, checkModelRecord, type ModelCheck } from "./model-check.js";
export {
  ClaimStatus,
  chainNow,
  claimStatus,
  type GameState,
  GameStatus,
  type Move,
  Phase,
  type Role,
  readGame,
  withdrawCredit,
} from "./moves.js";
export { GraphError, type ModelRecord, modelRecord, validateGraph } from "./registry.js";
export { loadDeployment, openSession, type Session, saveDeployment, UsageError } from "./session.js";
export { claimStatusName, gameStatusName, phaseName } from "./status.js";
