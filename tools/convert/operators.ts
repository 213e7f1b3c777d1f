// The supported-operator table, generated from the converter's own dispatch table and the rows each
// kernel family writes (lower/*_DOCS): docs/OPERATORS.md and `opml convert --list-ops` print it.
import { writeFileSync } from "node:fs";
import { OP_DOCS, type OpDoc, SUPPORTED_OPS } from "./lower/index.js";

export interface OperatorRow extends OpDoc {
  op: string;
}

/** One row per supported ONNX op type, sorted by name; an op without a written row says so. */
export function operatorRows(): OperatorRow[] {
  return SUPPORTED_OPS.map((op) => ({
    op,
    ...(OP_DOCS[op] ?? { opsets: "?", attrs: "?", notes: "(undocumented)" }),
  }));
}

const cell = (s: string) => s.replace(/\|/g, "\\|");

export function operatorsMarkdown(rows = operatorRows()): string {
  const lines = [
    "# Supported ONNX operators",
    "",
    "Generated from the converter (`npm run gen:operators`; `opml convert --list-ops` prints the same",
    "table). Every op lowers to integer-only DNN-library kernels that the native engine and the VM run",
    "bit for bit alike; an op or attribute value not listed here stops the conversion with a one-line",
    "error naming the node. Opsets: the ONNX opset versions whose form of the op the lowering follows",
    "(`A+`: opset A and every later one; `A–B`: A through B); §n refers to docs/NUMERICS.md. Inputs that define shapes",
    "(shape, axes, pads, sizes, scales…) must fold to constants at conversion time: shapes are static.",
    "",
    `${rows.length} op types (domain ai.onnx).`,
    "",
    "| op | opsets | attributes | kernels, rounding and limits |",
    "|---|---|---|---|",
    ...rows.map((r) => `| ${r.op} | ${cell(r.opsets)} | ${cell(r.attrs)} | ${cell(r.notes)} |`),
    "",
  ];
  return lines.join("\n");
}

/** A plain-text listing for the terminal: op, opsets, attributes. */
export function operatorsText(rows = operatorRows()): string {
  const w = Math.max(...rows.map((r) => r.op.length));
  const v = Math.max(...rows.map((r) => r.opsets.length));
  return [
    ...rows.map((r) => `${r.op.padEnd(w)}  ${r.opsets.padEnd(v)}  ${r.attrs}`),
    `${rows.length} op types; details in docs/OPERATORS.md`,
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ?? "docs/OPERATORS.md";
  writeFileSync(out, operatorsMarkdown());
  console.log(`wrote ${out} (${SUPPORTED_OPS.length} op types)`);
}
