// The one error hierarchy (issue 9): every error a user can cause (a bad file, package, input,
// graph, lie spec or CLI argument, an unsupported op, a refused transaction, an unreachable RPC, a
// wrong address or chain, a VM trap caused by the model) is a UserError with a short message and
// its culprit; the CLI prints it as one line and exits 1. Anything else is a bug: exit 2 with the
// stack. Programming errors stay plain Errors.

/** What a user error points at. Every field is optional; set the ones the error knows. */
export interface Culprit {
  /** A file or directory: ONNX model, model package, input JSON, deployment or state file. */
  file?: string;
  /** A graph node index (model package order). */
  node?: number;
  /** The node's name (ONNX node name). */
  nodeName?: string;
  /** An op: ONNX op type, kernel op, WASM instruction, or a contract function. */
  op?: string;
  /** A VM step within a node. */
  step?: number;
  /** A contract address. */
  address?: string;
  /** A chain id. */
  chain?: number;
  /** An RPC URL. */
  url?: string;
  /** A CLI option, e.g. "--lie". */
  arg?: string;
  /** A tensor (weight or input) name. */
  tensor?: string;
}

export class UserError extends Error {
  /** A short stable name of the error family: "convert", "input", "tx", "rpc", … */
  readonly kind: string = "user";
  readonly culprit: Readonly<Culprit>;

  constructor(message: string, culprit: Culprit = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.culprit = culprit;
  }
}

/** A CLI argument, option or environment setting that cannot work (bad value, missing option). */
export class UsageError extends UserError {
  override readonly kind: string = "usage";
}

/** An RPC endpoint that cannot be reached or does not speak JSON-RPC. */
export class RpcError extends UserError {
  override readonly kind: string = "rpc";
}

/** How the CLI ends on an error: the text for stderr and the exit status. */
export interface ErrorExit {
  exitCode: 1 | 2;
  text: string;
}

/**
 * One line `prog: message` and exit 1 for a UserError (line breaks inside the message are folded,
 * so it stays one line); `prog: internal error: <stack>` and exit 2 for anything else.
 */
export function reportError(e: unknown, prog = "opml"): ErrorExit {
  if (e instanceof UserError) {
    const msg = e.message.replace(/\s*\n\s*/g, "; ").trim();
    return { exitCode: 1, text: `${prog}: ${msg}` };
  }
  const detail = e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
  return { exitCode: 2, text: `${prog}: internal error: ${detail}` };
}
