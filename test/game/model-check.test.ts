// Issue 8, finding 6: a model is identified by its whole registry record. A second registration
// of the same weights with another output slot is another model: the watchtower does not judge
// its claims with our package (it would challenge true claims and lose its bond), and submit
// refuses its id with one line naming the id and the field.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ANVIL_KEYS } from "../../chain/anvil.js";
import type { ModelPackage } from "../../dnn/src/package.js";
import { registerModel } from "../../game/deploy.js";
import { checkModelRecord } from "../../game/model-check.js";
import { saveDeployment } from "../../game/session.js";
import { postClaim } from "../../submitter/submitter.js";
import { FIXTURES } from "../../tools/fixtures.js";
import { chain, digit, MLP, pkg, watchtower } from "../helpers/agents-chain.js";
import { cli } from "../helpers/helpers.js";

describe("model identity is the whole record", () => {
  it("a re-registration with another output slot is not our model: no challenge, and submit refuses it", async () => {
    const ch = await chain();
    try {
      // Same weights and nodes, but the claimed output is slot 3 (node 2's output) instead of 4.
      const other: ModelPackage = { ...pkg, manifest: { ...pkg.manifest, outputs: [3] } };
      const otherId = await registerModel(ch.sub, ch.d, other);
      expect(await checkModelRecord(ch.sub, ch.d, ch.modelId, pkg)).toEqual({ ok: true });
      const chk = await checkModelRecord(ch.sub, ch.d, otherId, pkg);
      expect(chk.ok).toBe(false);
      expect(!chk.ok && chk.reason).toMatch(
        new RegExp(`^model ${otherId}: registry outputSlot 3 ≠ package 4$`),
      );
      // A true claim under the other model's record.
      const claim = await postClaim(ch.sub, ch.d, otherId, other, digit(1));
      const { wt } = watchtower(ch);
      await wt.tick();
      expect(wt.state.claims[claim.claimId.toString()]).toBe("unknown-model");
      expect(Object.keys(wt.state.games)).toHaveLength(0);
      // submit on that id is refused.
      const dep = join(mkdtempSync(join(tmpdir(), "opml-model-")), "deployment.json");
      saveDeployment(dep, ch.d);
      const r = cli([
        "submit",
        "--rpc-url",
        ch.anvil.rpcUrl,
        "--private-key",
        ANVIL_KEYS[0],
        "--deployment",
        dep,
        "--model",
        MLP,
        "--input",
        join(FIXTURES, "inputs", "mnist_1.json"),
        "--model-id",
        otherId.toString(),
      ]);
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`refusing model ${otherId}: registry outputSlot 3 ≠ package 4`));
    } finally {
      await ch.anvil.stop();
    }
  }, 180_000);
});
