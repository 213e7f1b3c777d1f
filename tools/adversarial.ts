// `npm run adversarial -- --games N [--seed S] [--json]`: randomized games between the real honest
// agents and scripted adversaries on the embedded anvil (tools/adversarial/). Exits 1 on any
// violation of the invariants.
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { runAdversarial } from "./adversarial/run.js";
import { STRATEGIES } from "./adversarial/strategies.js";

const a = await yargs(hideBin(process.argv))
  .scriptName("adversarial")
  .strict()
  .option("games", { type: "number", default: STRATEGIES.length, describe: "games to play" })
  .option("seed", { type: "number", default: 1, describe: "seed of every random choice" })
  .option("json", { type: "boolean", default: false, describe: "print one JSON summary line" })
  .option("model", { type: "string", describe: "model package (default: fixtures/packages/mnist_mlp)" })
  .option("strategy", {
    type: "string",
    array: true,
    describe: `only these (${STRATEGIES.map((s) => s.name).join(", ")})`,
  })
  .option("kill-rate", { type: "number", default: 0.3, describe: "chance per game of a watchtower SIGKILL" })
  .option("outage-rate", { type: "number", default: 0.15, describe: "chance per game of an RPC outage" })
  .option("verbose", { type: "boolean", default: false, describe: "log every game to stderr" })
  .parse();

try {
  const r = await runAdversarial({
    games: a.games,
    seed: a.seed,
    model: a.model,
    strategies: a.strategy,
    killRate: a["kill-rate"],
    outageRate: a["outage-rate"],
    log: a.verbose || !a.json ? (l) => process.stderr.write(`${l}\n`) : undefined,
  });
  if (a.json) console.log(JSON.stringify(r));
  else {
    console.log(`${r.honestWins}/${r.games} games won by the honest side in ${r.seconds} s`);
    console.log(`watchtower SIGKILLed ${r.watchtowerKills} times, RPC node down ${r.rpcOutages} times`);
    console.log("strategy                  games  honest wins");
    for (const [k, v] of Object.entries(r.byStrategy))
      console.log(`${k.padEnd(26)}${String(v.games).padStart(5)}  ${String(v.honestWins).padStart(11)}`);
    for (const v of r.violations) console.log(`VIOLATION game ${v.game} (${v.strategy}): ${v.what}`);
  }
  process.exitCode = r.violations.length === 0 ? 0 : 1;
} catch (e) {
  console.error(`adversarial: ${(e as Error).message.split("\n")[0]}`);
  process.exitCode = 1;
}
