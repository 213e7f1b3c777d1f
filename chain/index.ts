// Public API of `opml-toolkit/chain`: viem clients with retries, transaction sending with decoded
// reverts, an embedded anvil, the agents' log (JSON or pretty lines on stderr).
export { ANVIL_KEYS, type Anvil, startAnvil } from "./anvil.js";
export {
  type Clients,
  isTransient,
  makeClients,
  revertName,
  send,
  TxError,
  type TxResult,
  warp,
  withRetry,
} from "./clients.js";
export {
  ChainClock,
  type ChainClockOptions,
  type Deadline,
  inChainTime,
  latestBlock,
  type MiningMode,
  miningMode,
  type Warped,
  warpChain,
} from "./clock.js";
export {
  agentLog,
  formatJson,
  formatPretty,
  jsonLogger,
  type LogFields,
  type LogFormat,
  type Logger,
  setLogFormat,
} from "./log.js";
