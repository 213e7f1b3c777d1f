// docs/OPERATORS.md is the converter's own table: every supported op has a written row, the committed
// file is what the generator prints, and `opml convert --list-ops` lists the same ops.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OP_DOCS, SUPPORTED_OPS } from "../../../tools/convert/lower/index.js";
import { operatorRows, operatorsMarkdown } from "../../../tools/convert/operators.js";
import { cli, ROOT } from "../../helpers/helpers.js";

describe("supported-operator table", () => {
  it("has a written row for every op the converter lowers, and none for ops it does not", () => {
    expect(SUPPORTED_OPS.filter((op) => !OP_DOCS[op])).toEqual([]);
    expect(Object.keys(OP_DOCS).filter((op) => !SUPPORTED_OPS.includes(op))).toEqual([]);
    for (const r of operatorRows()) {
      expect(r.opsets, r.op).toMatch(/^\d+(\+|–\d+)$/);
      expect(r.attrs.length, r.op).toBeGreaterThan(0);
      expect(r.notes.length, r.op).toBeGreaterThan(0);
    }
  });

  it("docs/OPERATORS.md is current (regenerate with `npm run gen:operators`)", () => {
    expect(readFileSync(join(ROOT, "docs/OPERATORS.md"), "utf8")).toBe(operatorsMarkdown());
  });

  it("`opml convert --list-ops` prints every op, and --json gives the rows", () => {
    const text = cli(["convert", "--list-ops"]);
    expect(text.code).toBe(0);
    const listed = text.stdout
      .trim()
      .split("\n")
      .slice(0, -1)
      .map((l) => l.split(/\s+/)[0]);
    expect(listed).toEqual(SUPPORTED_OPS);
    expect(text.stdout).toContain(`${SUPPORTED_OPS.length} op types`);
    const json = cli(["convert", "--list-ops", "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(operatorRows());
  });

  it("without a model or --out, convert fails in one line", () => {
    const r = cli(["convert"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/name the ONNX file/);
    const o = cli(["convert", "fixtures/mnist_mlp.onnx"]);
    expect(o.code).toBe(1);
    expect(o.stderr).toMatch(/--out \(-o\) is required/);
  });
});
