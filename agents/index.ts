// Public API of `opml-toolkit/agents`: the submitter (post a claim, defend its games, the request
// service) and the challenger (the watchtower). A barrel above both agent folders (README "Layout").
export {
  type GameInfo,
  type Metrics,
  type Verdict,
  type WatchOptions,
  type WatchState,
  Watchtower,
} from "../challenger/watchtower.js";
export { type Lie, LieError, parseLie } from "../submitter/lies.js";
export { type ServedStatus, type ServeOptions, SubmitterService } from "../submitter/serve.js";
export { defendOnce, gamesOf, type PostedClaim, postClaim } from "../submitter/submitter.js";
