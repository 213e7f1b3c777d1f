// Public API of `opml-toolkit`: every stage's barrel in one import (the subpath exports
// `opml-toolkit/errors`, `/commit`, `/dnn`, `/vm`, `/chain`, `/game`, `/agents`, `/convert` hold the same names).
export * from "../agents/index.js";
export * from "../chain/index.js";
export * from "../commit/index.js";
export * from "../dnn/src/index.js";
export * from "../errors/index.js";
export * from "../game/index.js";
export * from "../vm/index.js";
export * from "./convert/index.js";
