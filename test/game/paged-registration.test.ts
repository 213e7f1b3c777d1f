// Paged model registration (docs/PROTOCOL.md §5.1): game/deploy.ts splits a node list too large
// for one transaction into beginModel / addNodes … / finishModel, and the registry ends with the
// same model record as registerModel gives in one shot.
import { join } from "node:path";
import { encodeFunctionData, type Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANVIL_KEYS, type Anvil, startAnvil } from "../../chain/anvil.js";
import { type Clients, makeClients } from "../../chain/clients.js";
import { loadPackage } from "../../dnn/src/package.js";
import { registryAbi } from "../../game/abi.js";
import {
  ADD_NODES_OVERHEAD,
  DEFAULT_PAGE_BYTES,
  type Deployment,
  deployAll,
  nodeArgBytes,
  nodeArgs,
  pageRanges,
  registerModel,
} from "../../game/deploy.js";
import { modelRecord } from "../../game/registry.js";
import { FIXTURES } from "../../tools/fixtures.js";

const CNN = loadPackage(join(FIXTURES, "packages", "mnist_cnn"));
const nodes = nodeArgs(CNN.manifest);
const calldataBytes = (hex: Hex) => (hex.length - 2) / 2;
const addNodesBytes = (from: number, to: number) =>
  calldataBytes(
    encodeFunctionData({ abi: registryAbi, functionName: "addNodes", args: [1n, nodes.slice(from, to)] }),
  );

describe("pageRanges", () => {
  it("counts each node's ABI bytes as viem encodes addNodes", () => {
    expect(addNodesBytes(0, 0)).toBe(ADD_NODES_OVERHEAD);
    for (let k = 0; k < nodes.length; k++) {
      expect(addNodesBytes(0, k + 1) - addNodesBytes(0, k)).toBe(nodeArgBytes(nodes[k]));
    }
  });

  it("covers the list in order with pages that fit and could not take the next node", () => {
    const sizes = nodes.map(nodeArgBytes);
    const budget = ADD_NODES_OVERHEAD + Math.max(...sizes) + 200;
    const pages = pageRanges(nodes, budget);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages[0][0]).toBe(0);
    expect(pages.at(-1)?.[1]).toBe(nodes.length);
    for (let i = 0; i < pages.length; i++) {
      const [from, to] = pages[i];
      expect(to).toBeGreaterThan(from);
      if (i > 0) expect(from).toBe(pages[i - 1][1]);
      expect(addNodesBytes(from, to)).toBeLessThanOrEqual(budget);
      if (to < nodes.length) expect(addNodesBytes(from, to + 1)).toBeGreaterThan(budget);
    }
    expect(pageRanges(nodes, DEFAULT_PAGE_BYTES)).toEqual([[0, nodes.length]]);
  });

  it("sends a node that alone exceeds the budget in a page of its own", () => {
    const sizes = nodes.map(nodeArgBytes);
    const big = sizes.reduce((a, b, k) => (b > sizes[a] ? k : a), 0);
    const budget = ADD_NODES_OVERHEAD + sizes[big] - 1;
    const pages = pageRanges(nodes, budget);
    expect(pages).toContainEqual([big, big + 1]);
    expect(pages.flatMap(([a, z]) => Array.from({ length: z - a }, (_, i) => a + i))).toEqual(
      nodes.map((_, k) => k),
    );
    for (const [a, z] of pages) if (z - a > 1) expect(addNodesBytes(a, z)).toBeLessThanOrEqual(budget);
    expect(pageRanges(nodes, 1)).toEqual(nodes.map((_, k) => [k, k + 1]));
  });
});

describe("registerModel on anvil", () => {
  let anvil: Anvil;
  let c: Clients;
  let d: Deployment;
  beforeAll(async () => {
    anvil = await startAnvil();
    c = await makeClients(anvil.rpcUrl, ANVIL_KEYS[0] as Hex);
    d = await deployAll(c);
  }, 120_000);
  afterAll(async () => {
    await anvil?.stop();
  });

  it("registers mnist_cnn in one shot and in pages to the same record", async () => {
    const sent: { what: string; hash: Hex; gas: bigint }[] = [];
    const log = (what: string, r: { hash: Hex; gasUsed: bigint }) =>
      sent.push({ what, hash: r.hash, gas: r.gasUsed });
    const one = await registerModel(c, d, CNN, "ipfs://cnn", {}, { onTx: log });
    expect(sent.map((s) => s.what)).toEqual(["registerProgram", "registerModel"]);

    sent.length = 0;
    const budget = 2048;
    const paged = await registerModel(c, d, CNN, "ipfs://cnn", {}, { pageBytes: budget, onTx: log });
    const pages = sent.filter((s) => s.what === "addNodes");
    expect(sent.map((s) => s.what)).toEqual([
      "registerProgram",
      "beginModel",
      ...pages.map(() => "addNodes"),
      "finishModel",
    ]);
    expect(pages.length).toBe(pageRanges(nodes, budget).length);
    expect(pages.length).toBeGreaterThan(2);
    for (const s of sent) {
      const tx = await c.publicClient.getTransaction({ hash: s.hash });
      expect(calldataBytes(tx.input), s.what).toBeLessThanOrEqual(budget);
    }

    const read = (id: bigint) =>
      c.publicClient.readContract({
        address: d.registry,
        abi: registryAbi,
        functionName: "model",
        args: [id],
      });
    const [a, b] = [await read(one), await read(paged)];
    expect(paged).toBe(one + 1n);
    // Each registration registered its own program: the records differ only in programId.
    expect(b.programId).toBe(a.programId + 1n);
    expect({ ...b, programId: 0n }).toEqual({ ...a, programId: 0n });
    // The nodesRoot is game/registry.ts's, computed offchain.
    expect(b.nodesRoot).toBe(modelRecord(CNN.manifest).nodesRoot);
    expect(b.nNodes).toBe(nodes.length);
  }, 120_000);
});
