// The demo's HTML report (issue 13, item 6), built from a recorded real demo run:
// test/fixtures/report/demo.json is `opml demo --json` on the MNIST CNN fixture (the four default
// lies), verbatim. The page must carry the summary table, the honest claim's timeline, per dispute
// the bisection chart (labelled axes, both parties' moves), gas per move for both parties and the
// final step decoded; and it must render in a real browser (headless Chromium, Debian's
// `chromium`, installed by .ci/run), checked on the screenshot's pixels and on the rendered DOM.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { DemoResult } from "../../tools/commands/demo.js";
import { renderReport } from "../../tools/commands/report.js";
import { chromiumPath, dumpDom, screenshot } from "../helpers/chromium.js";
import { ROOT } from "../helpers/helpers.js";
import { colourCounts, decodePng } from "../helpers/png.js";

const demo: DemoResult = JSON.parse(readFileSync(join(ROOT, "test/fixtures/report/demo.json"), "utf8"));
const html = renderReport({ ...demo, chain: "anvil (recorded run)" });
const tmp = mkdtempSync(join(tmpdir(), "opml-report-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The text of an HTML fragment: tags dropped, the entities we write decoded. */
const text = (s: string) =>
  s
    .replace(/<[^>]*>/g, " ")
    .replace(/&#(\d+);/g, (_m, n) => String.fromCharCode(Number(n)))
    .replace(/&(amp|lt|gt|quot);/g, (_m, n: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"' })[n] ?? "")
    .replace(/\s+/g, " ")
    .replace(/ ,/g, ",")
    .trim();

function summaryRows(page: string): string[][] {
  const table = page.match(/<table id="summary">([\s\S]*?)<\/table>/)?.[1];
  if (!table) throw new Error("no summary table");
  return [...table.matchAll(/<tr class="dispute"[^>]*>([\s\S]*?)<\/tr>/g)].map((r) =>
    [...r[1].matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => text(c[1])),
  );
}

function section(page: string, lie: string): string {
  const parts = page.split('<section class="dispute"');
  const s = parts.find((p) => p.includes(`<h2>--lie ${lie}:`));
  if (!s) throw new Error(`no section for --lie ${lie}`);
  return s;
}

const CLAIMANT = "#d9480f";
const CHALLENGER = "#2b8a3e";

describe("the recorded demo run", () => {
  it("records who made each move: both parties, each move kind by its side", () => {
    for (const d of demo.disputes) {
      const by = (kind: string) => [...new Set(d.moves.filter((m) => m.kind === kind).map((m) => m.by))];
      expect(d.moves[0].kind, d.lie).toBe("claim");
      expect(by("claim")).toEqual(["claimant"]);
      expect(by("challenge")).toEqual(["challenger"]);
      if (d.lie !== "silent") {
        expect(by("bisect")).toEqual(["claimant"]);
        expect(by("respond")).toEqual(["challenger"]);
        expect(by("enterVm")).toEqual(["claimant"]);
        expect(by("proveStep")).toEqual(["challenger"]);
      } else expect(by("timeout")).toEqual(["challenger"]);
      // Gas per party is the sum of its own transactions.
      for (const p of ["claimant", "challenger"] as const)
        expect(
          d.moves.filter((m) => m.by === p).reduce((s, m) => s + BigInt(m.gas), 0n),
          `${d.lie} ${p}`,
        ).toBe(BigInt(d.gas[p]));
    }
  });
});

describe("opml demo --report (from the recorded run)", () => {
  it("has a summary table: one row per dispute with winner, rounds, node op and name, steps, final instruction, gas", () => {
    const rows = summaryRows(html);
    expect(rows.map((r) => r[0])).toEqual(demo.disputes.map((d) => `--lie ${d.lie}`));
    for (const [i, d] of demo.disputes.entries()) {
      const [, winner, graph, vm, node, steps, final, cg, hg] = rows[i];
      expect(winner).toBe("challenger");
      expect([Number(graph), Number(vm)]).toEqual([d.rounds.graph, d.rounds.vm]);
      expect(cg.replaceAll(",", "")).toBe(d.gas.claimant);
      expect(hg.replaceAll(",", "")).toBe(d.gas.challenger);
      if (d.node && d.finalStep) {
        expect(node).toBe(`${d.node.index} '${d.node.name}' (${d.node.onnxOp} → ${d.node.kernelOp})`);
        expect(steps.replaceAll(",", "")).toBe(String(d.vmSteps));
        expect(final).toBe(
          `${d.finalStep.opcode} at pc ${d.finalStep.pc} (step ${Number(d.finalStep.step).toLocaleString("en-US")})`,
        );
      } else {
        expect([node, steps]).toEqual(["-", "-"]);
        expect(final).toMatch(/^none \(timeout: claimant's clock ran out\)$/);
      }
    }
    // The recorded run's facts, as the page states them.
    expect(rows[2][4]).toBe("3 '/net/net.4/Conv' (Conv → CONV)");
    expect(rows[2][6]).toBe("i32.shl at pc 3844 (step 2,253,147)");
  });

  it("shows the honest claim's timeline: posted, window, finalized, in chain and wall time", () => {
    const h = demo.honest!;
    const t = html.match(/<table id="timeline">([\s\S]*?)<\/table>/)?.[1] ?? "";
    const rows = [...t.matchAll(/<tr><td>([\s\S]*?)<\/tr>/g)].map((r) => text(`<td>${r[1]}`));
    expect(rows).toHaveLength(4);
    expect(rows[0]).toContain("posted");
    expect(rows[0]).toContain(new Date(h.posted.chainTime * 1000).toISOString().replace(".000Z", "Z"));
    expect(rows[0]).toContain(new Date(h.posted.wall).toISOString());
    expect(rows[1]).toContain(`challenge window closes`);
    expect(rows[1]).toContain(`+${h.window.seconds.toLocaleString("en-US")} s`);
    expect(rows[3]).toContain("finalized");
    expect(rows[3]).toContain(`+${(h.finalized.chainTime - h.posted.chainTime).toLocaleString("en-US")} s`);
    expect(h.finalized.chainTime).toBeGreaterThan(h.window.deadline);
    expect(html).toContain('<svg class="timeline"');
  });

  it("draws the bisection chart with labelled axes and values, both parties' moves marked", () => {
    for (const d of demo.disputes) {
      const s = section(html, d.lie);
      const svg = s.match(/<svg class="bisection"[\s\S]*?<\/svg>/)?.[0] ?? "";
      expect(svg, d.lie).toContain("disputed interval width (log₂ scale)");
      expect(svg).toContain("move number");
      // One marker per game move (the claim itself is not a game move), coloured by its sender.
      const claimant = d.moves.filter((m) => m.kind !== "claim" && m.by === "claimant").length;
      const challenger = d.moves.filter((m) => m.by === "challenger").length;
      expect((svg.match(new RegExp(`<circle [^>]*fill="${CLAIMANT}"`, "g")) ?? []).length).toBe(claimant);
      expect((svg.match(new RegExp(`<path [^>]*fill="${CHALLENGER}"`, "g")) ?? []).length).toBe(challenger);
      expect(challenger).toBeGreaterThan(0);
      // Tick values on the y axis: powers of two up to the widest interval.
      expect(svg).toMatch(/text-anchor="end">1<\/text>/);
    }
    const step = section(html, "step:2253147@3");
    expect(step).toContain("graph level: width in nodes");
    expect(step).toContain("VM level: width in steps");
    expect(step).toMatch(/>3,755,245<\/text>/); // the VM level's first width, labelled
    expect(step).toMatch(/text-anchor="end">(1,048,576|2,097,152|4,194,304)<\/text>/);
  });

  it("charts gas per move for both parties", () => {
    for (const d of demo.disputes) {
      const svg = section(html, d.lie).match(/<svg class="gas"[\s\S]*?<\/svg>/)?.[0] ?? "";
      expect(svg, d.lie).toContain("gas used");
      expect((svg.match(/<rect [^>]*fill="#d9480f"/g) ?? []).length).toBe(
        d.moves.filter((m) => m.by === "claimant").length,
      );
      expect((svg.match(/<rect [^>]*fill="#2b8a3e"/g) ?? []).length).toBe(
        d.moves.filter((m) => m.by === "challenger").length,
      );
      const legend = text(
        section(html, d.lie).match(/<svg class="gas"[\s\S]*?<\/svg><p class="legend">([\s\S]*?)<\/p>/)?.[1] ??
          "",
      );
      expect(legend).toContain(`claimant: ${BigInt(d.gas.claimant).toLocaleString("en-US")} gas`);
      expect(legend).toContain(`challenger: ${BigInt(d.gas.challenger).toLocaleString("en-US")} gas`);
    }
  });

  it("decodes the final step: opcode, operands, pc, pre/post roots", () => {
    const s = section(html, "step:2253147@3");
    const f = text(s.match(/<table class="final">([\s\S]*?)<\/table>/)?.[1] ?? "");
    const fs = demo.disputes[2].finalStep!;
    expect(f).toContain("pc 3844");
    expect(f).toContain("instruction i32.shl (opcode 0x74)");
    expect(f).toContain("operands popped (top last) 10, 2");
    expect(f).toContain(`pre-state root (agreed) ${fs.preRoot} = honest trace`);
    expect(f).toContain(`post-state root (one-step verifier) ${fs.postRoot} = honest trace`);
    expect(f).toContain(`claimant's post-state root ${fs.claimedPostRoot}`);
    expect(fs.claimedPostRoot).not.toBe(fs.postRoot);
    expect(text(section(html, "silent"))).toContain("No step was proven: claimant's clock ran out.");
  });

  it("is self-contained (no scripts, nothing fetched) and escapes what it prints", () => {
    expect(html).not.toMatch(/<script|<link|<img|<iframe|src=|@import|url\(/i);
    expect(html).not.toMatch(/href="(?!#)/);
    const evil = structuredClone(demo);
    evil.model = `<script>alert(1)</script>`;
    evil.disputes[0].node!.name = `"><img src=x>`;
    const page = renderReport(evil);
    expect(page).not.toContain("<script>");
    expect(page).not.toContain("<img");
    expect(page).toContain("&#60;script&#62;");
  });
});

const browser = chromiumPath();
const WHY = "chromium is not installed (Debian: apt-get install -y chromium; .ci/run installs it)";
if (!browser) console.log(`report.test.ts: skipping the headless Chromium checks: ${WHY}`);

describe.skipIf(!browser)(`the report in headless Chromium${browser ? "" : ` (skipped: ${WHY})`}`, () => {
  const page = join(tmp, "demo.html");
  writeFileSync(page, html);

  it("renders: a screenshot of real pixels with both parties' colours", () => {
    const png = join(tmp, "shot.png");
    screenshot(browser!, page, png, 1280, 2400);
    expect(existsSync(png)).toBe(true);
    expect(statSync(png).size).toBeGreaterThan(50_000);
    const img = decodePng(readFileSync(png));
    expect([img.width, img.height]).toEqual([1280, 2400]);
    const colours = colourCounts(img);
    // Text, tables and charts: antialiased text alone gives hundreds of colours; a blank page one.
    expect(colours.size).toBeGreaterThan(200);
    const white = colours.get(0xffffff) ?? 0;
    expect(white / (img.width * img.height)).toBeLessThan(0.95);
    // The charts' marks are drawn: claimant and challenger colours, and the level bands.
    for (const c of [0xd9480f, 0x2b8a3e, 0xe7f5ff, 0xfff4e6])
      expect(colours.get(c) ?? 0, c.toString(16)).toBeGreaterThan(200);
  }, 180_000);

  it("renders the summary table with one row per dispute (the DOM after rendering)", () => {
    const dom = dumpDom(browser!, page);
    expect(dom).toContain('<table id="summary">');
    const rows = summaryRows(dom);
    expect(rows).toHaveLength(demo.disputes.length);
    expect(rows.map((r) => r[0])).toEqual(demo.disputes.map((d) => `--lie ${d.lie}`));
    expect(rows.every((r) => r.length === 10 && r[1] === "challenger")).toBe(true);
    expect((dom.match(/<svg class="bisection"/g) ?? []).length).toBe(demo.disputes.length);
  }, 180_000);
});
