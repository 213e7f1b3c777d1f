// Bottom stage (rank 0): the error hierarchy every other stage builds on.
export {
  type Culprit,
  type ErrorExit,
  RpcError,
  reportError,
  UsageError,
  UserError,
} from "./user-error.js";
