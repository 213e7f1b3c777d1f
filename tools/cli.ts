// `opml` command line. Every error a user can cause ends in one line naming the culprit and exit 1.
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { convertCommand } from "./commands/convert.js";
import { demoCommand } from "./commands/demo.js";
import { inferCommand } from "./commands/infer.js";
import { proveCommand } from "./commands/prove.js";

const USER_ERRORS = new Set([
  "ConvertError",
  "PackageError",
  "InputError",
  "ExecError",
  "NonFiniteError",
  "UsageError",
]);

async function main() {
  await yargs(hideBin(process.argv))
    .scriptName("opml")
    .strict()
    .demandCommand(1, "name a command (see --help)")
    .command(
      "convert <model>",
      "convert an ONNX model into a fixed-point model package",
      (y) =>
        y
          .positional("model", { type: "string", demandOption: true, describe: "ONNX file" })
          .option("out", {
            alias: "o",
            type: "string",
            demandOption: true,
            describe: "output package directory",
          })
          .option("name", { type: "string", describe: "model name (default: file name)" })
          .option("calib", { type: "string", describe: "calibration input JSON for the fidelity report" })
          .option("input-shape", {
            type: "string",
            array: true,
            describe: "static shape for a symbolic input: name=d0,d1,…",
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
          }),
      (a) =>
        convertCommand({
          ...a,
          model: a.model as string,
          out: a.out as string,
          inputShape: a.inputShape as string[] | undefined,
        }),
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
          }),
      (a) => inferCommand({ ...a, dir: a.dir as string }),
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
          }),
      (a) => proveCommand({ dir: a.dir as string, input: a.input, node: a.node, step: a.step }),
    )
    .command("demo", "convert the MNIST CNN fixture and run real digits (interim demo)", {}, () =>
      demoCommand(),
    )
    .fail((msg, err) => {
      if (err) throw err;
      console.error(`opml: ${msg}`);
      process.exit(1);
    })
    .help()
    .parseAsync();
}

main().catch((e: Error) => {
  if (USER_ERRORS.has(e?.constructor?.name) || e instanceof SyntaxError || e instanceof RangeError) {
    console.error(`opml: ${e.message}`);
    process.exit(1);
  }
  console.error(`opml: internal error: ${e?.stack ?? e}`);
  process.exit(2);
});
