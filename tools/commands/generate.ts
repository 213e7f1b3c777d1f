import { toHex } from "../../commit/merkle.js";
import { loadPackage } from "../../dnn/src/package.js";
import { UsageError } from "../../errors/index.js";
import { checkGeneration, decoderShape, generate } from "../../game/generate.js";

export interface GenerateArgs {
  dir: string;
  promptIds: string;
  tokens: string;
  json?: boolean;
}

/** `--prompt-ids 1,2,3`: comma-separated non-negative integers (the vocabulary is checked later). */
export function parsePromptIds(s: string): number[] {
  const parts = s.split(",").map((p) => p.trim());
  if (s.trim() === "" || parts.some((p) => !/^[0-9]+$/.test(p)))
    throw new UsageError(
      `--prompt-ids '${s}': expected comma-separated non-negative integer token ids, e.g. 1,2,3`,
      { arg: "--prompt-ids" },
    );
  return parts.map((p) => {
    const v = Number(p);
    if (!Number.isSafeInteger(v) || v > 2 ** 31 - 1)
      throw new UsageError(`--prompt-ids: id ${p} is not an int32`, { arg: "--prompt-ids" });
    return v;
  });
}

/** `--tokens N`: a positive integer. */
export function parseTokens(s: string): number {
  if (!/^[1-9][0-9]*$/.test(s.trim()))
    throw new UsageError(`--tokens '${s}': expected a positive integer`, { arg: "--tokens" });
  return Number(s.trim());
}

export function generateCommand(a: GenerateArgs): void {
  const promptIds = parsePromptIds(a.promptIds);
  const n = parseTokens(a.tokens);
  const pkg = loadPackage(a.dir);
  checkGeneration(decoderShape(pkg), promptIds, n);
  const t0 = performance.now();
  const g = generate(pkg, promptIds, n);
  const ms = performance.now() - t0;
  const tokenRoots = g.tokenRoots.map(toHex);
  const finalTokenRoot = tokenRoots[tokenRoots.length - 1];
  if (a.json) {
    console.log(
      JSON.stringify({
        prompt: promptIds,
        generated: g.ids.slice(g.promptLength),
        ids: g.ids,
        tokenRoots,
        outputRoots: g.outputRoots.map(toHex),
        finalTokenRoot,
      }),
    );
    return;
  }
  console.log(`prompt:    ${promptIds.join(",")}`);
  console.log(`generated: ${g.ids.slice(g.promptLength).join(",")}`);
  console.log(`ids:       ${g.ids.join(",")}`);
  console.log(`final token root: ${finalTokenRoot}`);
  console.log(`${n} passes (greedy, pad id 0, ties → lowest id): ${(ms / 1000).toFixed(2)} s`);
}
