// `opml` command line. Every error a user can cause (a UserError, errors/) ends in one line naming
// the culprit and exit 1; anything else is a bug: "internal error" with the stack and exit 2.
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { LOG_FORMATS, setLogFormat } from "../chain/log.js";
import { backendNamed, setDefaultBackend } from "../dnn/src/engine.js";
import { reportError, UsageError } from "../errors/index.js";
import {
  deployCommand,
  serveSubmitterCommand,
  submitCommand,
  watchCommand,
} from "./commands/chain-commands.js";
import { convertCommand, listOpsCommand } from "./commands/convert.js";
import { demoCommand } from "./commands/demo.js";
import { generateCommand } from "./commands/generate.js";
import { inferCommand } from "./commands/infer.js";
import { proveCommand } from "./commands/prove.js";
import { claimsCommand, finalizeCommand, warpCommand, withdrawCommand } from "./commands/time-commands.js";

function parseModelId(s: string | undefined): bigint | undefined {
  if (s === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(s))
    throw new UsageError(`--model-id '${s}': expected a positive integer`, { arg: "--model-id" });
  return BigInt(s);
}

const chainOptions = {
  "rpc-url": { type: "string", describe: "JSON-RPC URL (default: an embedded anvil; env OPML_RPC_URL)" },
  "private-key": {
    type: "string",
    describe: "account key (env OPML_PRIVATE_KEY; default on the embedded chain: anvil's)",
  },
  deployment: { type: "string", describe: "deployment JSON written by `opml deploy`" },
} as const;

const clampOption = {
  type: "boolean",
  default: false,
  describe:
    "saturate float input values outside the Q16.16 range [-32768, 32768) with a warning (default: refuse them)",
} as const;

/** The agents' log (watch, submit, serve-submitter, demo): always on stderr, stdout stays for people. */
const logOptions = {
  "log-format": {
    type: "string",
    default: "json",
    describe: `log lines on stderr: ${LOG_FORMATS.join(" or ")} (json: one object per line; pretty: one human line per event)`,
  },
} as const;

async function main() {
  await yargs(hideBin(process.argv))
    .scriptName("opml")
    .strict()
    .demandCommand(1, "name a command (see --help)")
    .option("backend", {
      type: "string",
      global: true,
      describe:
        "native engine: native-cpu (the addon; default when built) or wasm-cpu (the VM's module in V8)",
    })
    .middleware((a) => {
      if (a.backend !== undefined) setDefaultBackend(backendNamed(a.backend));
      if (typeof a.logFormat === "string") setLogFormat(a.logFormat);
    })
    .command(
      "convert [model]",
      "convert an ONNX model into a fixed-point model package",
      (y) =>
        y
          .positional("model", { type: "string", describe: "ONNX file" })
          .option("out", {
            alias: "o",
            type: "string",
            describe: "output package directory (required unless --list-ops)",
          })
          .option("list-ops", {
            type: "boolean",
            default: false,
            describe: "print the supported ONNX operators (docs/OPERATORS.md) and exit",
          })
          .option("name", { type: "string", describe: "model name (default: file name)" })
          .option("calib", { type: "string", describe: "calibration input JSON for the fidelity report" })
          .option("input-shape", {
            type: "string",
            array: true,
            describe: "static shape for a symbolic input: name=d0,d1,…",
          })
          .option("input-value", {
            type: "string",
            array: true,
            describe:
              "fix an input to constant values at conversion (e.g. a sample rate an If tests): name=v0,v1,…",
          })
          .option("force", {
            type: "boolean",
            default: false,
            describe: "replace an existing output directory",
          })
          .option("fidelity", {
            type: "boolean",
            default: true,
            describe: "compare with onnxruntime (--no-fidelity skips)",
          })
          .option("json", {
            type: "boolean",
            default: false,
            describe: "print a JSON summary (and no progress bars)",
          })
          .option("step-budget", {
            type: "number",
            describe: "most VM steps one node may take; bigger nodes are split (default 2^26)",
          })
          .option("weights", {
            choices: ["q16", "int8"] as const,
            default: "q16" as const,
            describe:
              "int8: MatMul/Gemm and Conv weights as int8 with a scale per output channel (4× smaller)",
          })
          .option("clamp", clampOption),
      (a) => {
        if (a.listOps) return listOpsCommand(a.json);
        if (!a.model)
          throw new UsageError("convert: name the ONNX file (or pass --list-ops)", { arg: "model" });
        if (!a.out) throw new UsageError("convert: --out (-o) is required", { arg: "--out" });
        return convertCommand({
          ...a,
          model: a.model,
          out: a.out,
          inputShape: a.inputShape as string[] | undefined,
          inputValue: a.inputValue as string[] | undefined,
        });
      },
    )
    .command(
      "infer <dir>",
      "run a model package on an input (native engine)",
      (y) =>
        y
          .positional("dir", { type: "string", demandOption: true, describe: "model package directory" })
          .option("input", {
            alias: "i",
            type: "string",
            demandOption: true,
            describe: 'input JSON {"shape":[…],"data":[…]}',
          })
          .option("json", {
            type: "boolean",
            default: false,
            describe: "print {shape,data,outputRoot} as JSON",
          })
          .option("compare-onnx", {
            type: "string",
            describe: "also run this ONNX model in onnxruntime and print the errors",
          })
          .option("vm", {
            type: "boolean",
            default: false,
            describe: "also run every node in the Merkle-ized VM and check it is bit-identical",
          })
          .option("clamp", clampOption),
      (a) => inferCommand({ ...a, dir: a.dir as string }),
    )
    .command(
      "generate <dir>",
      "greedy generation over a decoder package: N passes, each appending the argmax token",
      (y) =>
        y
          .positional("dir", {
            type: "string",
            demandOption: true,
            describe: "decoder model package directory",
          })
          .option("prompt-ids", {
            type: "string",
            demandOption: true,
            describe: "prompt token ids, comma-separated: 1,2,3",
          })
          .option("tokens", {
            type: "string",
            demandOption: true,
            describe: "how many tokens to generate (prompt + tokens ≤ the model's context)",
          })
          .option("json", {
            type: "boolean",
            default: false,
            describe: "print {prompt,generated,ids,tokenRoots,outputRoots,finalTokenRoot} as JSON",
          }),
      (a) =>
        generateCommand({
          dir: a.dir as string,
          promptIds: String(a.promptIds),
          tokens: String(a.tokens),
          json: a.json,
        }),
    )
    .command(
      "prove <dir>",
      "print the one-step proof of VM step N of graph node K as JSON",
      (y) =>
        y
          .positional("dir", { type: "string", demandOption: true, describe: "model package directory" })
          .option("input", { alias: "i", type: "string", demandOption: true, describe: "input JSON" })
          .option("node", { type: "number", demandOption: true, describe: "graph node index K" })
          .option("step", {
            type: "number",
            demandOption: true,
            describe: "VM step N within the node (0-based)",
          })
          .option("clamp", clampOption),
      (a) =>
        proveCommand({ dir: a.dir as string, input: a.input, node: a.node, step: a.step, clamp: a.clamp }),
    )
    .command(
      "deploy",
      "deploy the verifier, registry and dispute game to an RPC and write the deployment JSON",
      (y) =>
        y
          .options(chainOptions)
          .option("out", {
            alias: "o",
            type: "string",
            demandOption: true,
            describe: "deployment JSON to write",
          })
          .option("model", { type: "string", array: true, describe: "model package(s) to register" })
          .option("challenge-window", {
            type: "string",
            describe: "seconds of chain time a claim can be challenged (default 3600)",
          })
          .option("clock-budget", {
            type: "string",
            describe: "seconds on each party's chess clock per game (default 1800)",
          }),
      (a) =>
        deployCommand({
          rpcUrl: a.rpcUrl,
          privateKey: a.privateKey,
          out: a.out,
          model: a.model as string[] | undefined,
          challengeWindow: a.challengeWindow,
          clockBudget: a.clockBudget,
        }),
    )
    .command(
      "submit",
      "post one inference claim with a bond and defend it until it resolves",
      (y) =>
        y
          .options(chainOptions)
          .options(logOptions)
          .option("model", { type: "string", demandOption: true, describe: "model package directory" })
          .option("input", { alias: "i", type: "string", demandOption: true, describe: "input JSON" })
          .option("lie", {
            type: "string",
            describe: "simulate a dishonest submitter: output, node:K, step:N[@K], after-halt[@K], silent",
          })
          .option("model-id", {
            type: "string",
            describe: "registered model id to claim on (refused unless its whole record matches the package)",
          })
          .option("clamp", clampOption),
      (a) =>
        submitCommand({
          modelId: parseModelId(a.modelId),
          rpcUrl: a.rpcUrl,
          privateKey: a.privateKey,
          deployment: a.deployment,
          model: a.model,
          input: a.input,
          lie: a.lie,
          clamp: a.clamp,
        }),
    )
    .command(
      "serve-submitter",
      "answer onchain inference requests with claims, defend them, collect rewards",
      (y) =>
        y
          .options(chainOptions)
          .options(logOptions)
          .option("model", {
            type: "string",
            array: true,
            demandOption: true,
            describe: "model package(s) to serve",
          })
          .option("state", { type: "string", describe: "progress file (bound to its chain)" })
          .option("rescan", {
            type: "boolean",
            default: false,
            describe: "ignore the state file and start over from the deployment block",
          })
          .option("interval", { type: "number", default: 1000, describe: "poll interval in ms" })
          .option("lie", { type: "string", describe: "simulate a dishonest submitter" })
          .option("once", { type: "boolean", default: false, describe: "one pass, then exit" }),
      (a) =>
        serveSubmitterCommand({
          rpcUrl: a.rpcUrl,
          privateKey: a.privateKey,
          deployment: a.deployment,
          model: a.model as string[],
          state: a.state,
          interval: a.interval,
          lie: a.lie,
          once: a.once,
          rescan: a.rescan,
        }),
    )
    .command(
      "watch",
      "watchtower: re-execute every claim, challenge wrong ones, play the dispute game, collect bonds",
      (y) =>
        y
          .options(chainOptions)
          .options(logOptions)
          .option("model", {
            type: "string",
            array: true,
            demandOption: true,
            describe: "model package(s) it can re-execute",
          })
          .option("state", {
            type: "string",
            describe: "progress file (crash-safe resume, bound to its chain)",
          })
          .option("rescan", {
            type: "boolean",
            default: false,
            describe: "ignore the state file and start over from the deployment block",
          })
          .option("metrics-port", {
            type: "number",
            describe: "serve Prometheus metrics on 127.0.0.1:PORT/metrics",
          })
          .option("interval", { type: "number", default: 500, describe: "poll interval in ms" })
          .option("once", { type: "boolean", default: false, describe: "one pass, then exit" }),
      (a) =>
        watchCommand({
          rpcUrl: a.rpcUrl,
          privateKey: a.privateKey,
          deployment: a.deployment,
          model: a.model as string[],
          state: a.state,
          metricsPort: a.metricsPort,
          interval: a.interval,
          once: a.once,
          rescan: a.rescan,
        }),
    )
    .command(
      "warp <seconds>",
      "advance a local chain's clock (anvil: evm_increaseTime + evm_mine)",
      (y) =>
        y
          .positional("seconds", { type: "string", demandOption: true, describe: "seconds to add" })
          .option("rpc-url", {
            type: "string",
            describe: "the local chain's JSON-RPC URL (env OPML_RPC_URL)",
          }),
      (a) => warpCommand({ seconds: a.seconds, rpcUrl: a.rpcUrl }),
    )
    .command(
      "claims",
      "list a deployment's claims and games: status, deadlines, clocks, bonds",
      (y) =>
        y
          .options(chainOptions)
          .option("json", { type: "boolean", default: false, describe: "print one JSON object" }),
      (a) => claimsCommand({ rpcUrl: a.rpcUrl, deployment: a.deployment, json: a.json }),
    )
    .command(
      "finalize",
      "finalize a claim whose challenge window closed with no game open (e.g. after an interrupted submit)",
      (y) =>
        y
          .options(chainOptions)
          .option("claim", { type: "string", demandOption: true, describe: "claim id (`opml claims`)" }),
      (a) =>
        finalizeCommand({
          rpcUrl: a.rpcUrl,
          privateKey: a.privateKey,
          deployment: a.deployment,
          claim: a.claim,
        }),
    )
    .command(
      "withdraw",
      "withdraw this key's credit on the game (finalized claims' bonds, won games)",
      (y) => y.options(chainOptions),
      (a) => withdrawCommand({ rpcUrl: a.rpcUrl, privateKey: a.privateKey, deployment: a.deployment }),
    )
    .command(
      "demo",
      "simulate an honest claim and lies of every kind on an embedded chain",
      (y) =>
        y
          .options(logOptions)
          .option("model", {
            type: "string",
            describe: "model package directory (default: the MNIST CNN fixture)",
          })
          .option("input", { type: "string", describe: "input JSON (default: a fixture digit)" })
          .option("json", { type: "boolean", default: false, describe: "print the summary as JSON" })
          .option("report", { type: "string", describe: "write an HTML report with the bisection pictures" })
          .option("rpc-url", {
            type: "string",
            describe: "use this chain instead of an embedded anvil (needs anvil's dev accounts)",
          })
          .option("lie", {
            type: "string",
            array: true,
            describe: "lies to simulate (default: output node:K step:N silent)",
          })
          .option("clamp", clampOption),
      (a) =>
        demoCommand({
          model: a.model,
          input: a.input,
          json: a.json,
          report: a.report,
          rpcUrl: a.rpcUrl,
          lies: a.lie as string[] | undefined,
          clamp: a.clamp,
        }),
    )
    .fail((msg, err) => {
      if (err) throw err;
      console.error(`opml: ${msg}`);
      process.exit(1);
    })
    .help()
    .parseAsync();
}

main().catch((e: unknown) => {
  const r = reportError(e);
  console.error(r.text);
  process.exit(r.exitCode);
});
