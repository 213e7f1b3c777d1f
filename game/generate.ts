// Deterministic greedy generation over a converted decoder (docs/PROTOCOL.md "Generation (greedy
// decoding)"): N forward passes of the same static graph, each on the ids so far with every later
// position filled with the pad id, each appending the argmax of its logits at the last filled
// position. The token commitment is the tensor root of the [1, ctx] ids tensor before the first
// pass and after each pass. Only the computation and its roots live here; the token level of the
// game (bisection over passes and its link) is not built yet.
import { type Hash, tensorRoot } from "../commit/merkle.js";
import { type PreparedModel, preparedModel } from "../dnn/src/engine.js";
import { InputError, type ModelPackage } from "../dnn/src/package.js";
import { UsageError } from "../errors/index.js";

/** The id written at every position past the current length. */
export const PAD_ID = 0;

/** A decoder package's shape: one i32 input [1, ctx] of token ids, one q16 output [1, ctx, vocab]. */
export interface DecoderShape {
  ctx: number;
  vocab: number;
  /** Activation slots of the ids input and of the logits output. */
  inputSlot: number;
  outputSlot: number;
}

const shapeText = (s: readonly number[]) => `[${s.join(", ")}]`;

/**
 * The package's decoder shape, or a UsageError naming the package and what does not fit: a
 * generation runs only over a graph whose one input is int token ids [1, ctx] and whose one output
 * is the logits [1, ctx, vocab].
 */
export function decoderShape(pkg: ModelPackage): DecoderShape {
  const m = pkg.manifest;
  const where = pkg.dir ?? m.name;
  const not = (why: string) =>
    new UsageError(
      `${where}: not a decoder package (${why}); generate needs one i32 input [1, ctx] of token ids and one q16 output [1, ctx, vocab] of logits`,
      { file: where },
    );
  if (m.inputs.length !== 1) throw not(`${m.inputs.length} graph inputs`);
  if (m.outputs.length !== 1) throw not(`${m.outputs.length} graph outputs`);
  const inp = m.activations[m.inputs[0]];
  const out = m.activations[m.outputs[0]];
  if (inp.dtype !== "i32") throw not(`input '${inp.name}' is ${inp.dtype}, not i32 token ids`);
  if (inp.shape.length !== 2 || inp.shape[0] !== 1 || inp.shape[1] < 1)
    throw not(`input '${inp.name}' has shape ${shapeText(inp.shape)}, not [1, ctx]`);
  const ctx = inp.shape[1];
  if (out.dtype !== "q16") throw not(`output '${out.name}' is ${out.dtype}, not q16 logits`);
  if (out.shape.length !== 3 || out.shape[0] !== 1 || out.shape[1] !== ctx || out.shape[2] < 1)
    throw not(`output '${out.name}' has shape ${shapeText(out.shape)}, not [1, ${ctx}, vocab]`);
  return { ctx, vocab: out.shape[2], inputSlot: m.inputs[0], outputSlot: m.outputs[0] };
}

/**
 * The argmax rule: the index of the largest of the `n` Q16 words from `offset`, compared as
 * signed 32-bit integers; on a tie the lowest index wins.
 */
export function argmaxQ16(words: Int32Array, offset: number, n: number): number {
  if (n < 1) throw new RangeError("argmaxQ16: empty row");
  let best = 0;
  let bestV = words[offset];
  for (let i = 1; i < n; i++) {
    const v = words[offset + i];
    if (v > bestV) {
      bestV = v;
      best = i;
    }
  }
  return best;
}

/** The [1, ctx] ids tensor of a pass: the ids so far, then `pad` up to ctx. */
export function idsTensor(ids: readonly number[], ctx: number, pad = PAD_ID): Int32Array {
  if (ids.length > ctx) throw new RangeError(`idsTensor: ${ids.length} ids exceed the context ${ctx}`);
  const t = new Int32Array(ctx).fill(pad);
  t.set(ids);
  return t;
}

/**
 * Checks a prompt and a token count against a decoder: a non-empty prompt of integer ids in
 * [0, vocab), N ≥ 1 and prompt + N ≤ ctx (every generated id needs a position of the context).
 */
export function checkGeneration(shape: DecoderShape, promptIds: readonly number[], n: number): void {
  if (promptIds.length === 0)
    throw new UsageError("--prompt-ids: the prompt is empty; give at least one token id", {
      arg: "--prompt-ids",
    });
  promptIds.forEach((id, i) => {
    if (!Number.isInteger(id) || id < 0 || id >= shape.vocab)
      throw new InputError(
        `--prompt-ids: id ${id} at position ${i} is out of the vocabulary [0, ${shape.vocab})`,
        { arg: "--prompt-ids" },
      );
  });
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--tokens ${n}: expected a positive integer`, { arg: "--tokens" });
  if (promptIds.length + n > shape.ctx)
    throw new UsageError(
      `--tokens ${n}: the prompt's ${promptIds.length} ids + ${n} tokens exceed the model's context ctx = ${shape.ctx}`,
      { arg: "--tokens" },
    );
}

export interface Generation {
  /** The prompt followed by the generated ids. */
  ids: number[];
  /** How many of `ids` are the prompt. */
  promptLength: number;
  /** Tensor root of the [1, ctx] ids tensor: index 0 the prompt alone, index t+1 after pass t. */
  tokenRoots: Hash[];
  /** Tensor root of pass t's logits [1, ctx, vocab] (its input is the ids committed at t). */
  outputRoots: Hash[];
}

export interface GenerateOptions {
  /** The pad id (default PAD_ID); only for checking that the causal mask hides it. */
  pad?: number;
  /** The engine to run (default: the package's preparedModel). */
  model?: PreparedModel;
  /** Called with each pass's logits (a copy the caller may keep). */
  onPass?: (t: number, input: Int32Array, logits: Int32Array) => void;
}

/**
 * Greedy generation of `n` tokens after `promptIds`: pass t runs the graph on the ids so far (pad
 * after them) and appends argmaxQ16 of its logits at position len − 1. Deterministic: the same
 * package, prompt and n give the same ids and roots on every engine.
 */
export function generate(
  pkg: ModelPackage,
  promptIds: readonly number[],
  n: number,
  opts: GenerateOptions = {},
): Generation {
  const shape = decoderShape(pkg);
  checkGeneration(shape, promptIds, n);
  const pad = opts.pad ?? PAD_ID;
  const model = opts.model ?? preparedModel(pkg);
  const { ctx, vocab } = shape;
  const ids = [...promptIds];
  const tokenRoots: Hash[] = [tensorRoot(idsTensor(ids, ctx, pad))];
  const outputRoots: Hash[] = [];
  for (let t = 0; t < n; t++) {
    const input = idsTensor(ids, ctx, pad);
    const logits = model.run([input])[shape.outputSlot];
    outputRoots.push(tensorRoot(logits));
    opts.onPass?.(t, input, logits);
    ids.push(argmaxQ16(logits, (ids.length - 1) * vocab, vocab));
    tokenRoots.push(tensorRoot(idsTensor(ids, ctx, pad)));
  }
  return { ids, promptLength: promptIds.length, tokenRoots, outputRoots };
}
