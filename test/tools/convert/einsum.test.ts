// Einsum (lower/einsum.ts) against onnxruntime: the attention, bilinear, batch-matmul, product,
// transpose, sum and diagonal forms, runtime and constant operands; VM parity on every kernel node;
// refusals naming the node and the equation.
import { describe, expect, it } from "vitest";
import { Op } from "../../../dnn/src/opcodes.js";
import { convert, expectMatchesOrt, expectVmParity, type Model, node, rand } from "../../helpers/onnx-ort.js";

/** Einsum over runtime inputs of these shapes (operand i named x{i}); `weights` makes those constants. */
function einsumModel(equation: string, shapes: number[][], weights: number[] = []): Model {
  const names = shapes.map((_, i) => `x${i}`);
  const inputs: Model["inputs"] = {};
  const initializers: Model["initializers"] = {};
  shapes.forEach((s, i) => {
    const t = {
      shape: s,
      data: rand(
        s.reduce((a, b) => a * b, 1),
        11 + i,
      ),
    };
    if (weights.includes(i)) initializers[names[i]] = t;
    else inputs[names[i]] = t;
  });
  return { nodes: [node("Einsum", names, ["y"], { equation }, "ein")], inputs, outputs: ["y"], initializers };
}

const CASES: [string, number[][], number[]?][] = [
  [
    "bhid,bhjd->bhij",
    [
      [2, 3, 4, 5],
      [2, 3, 6, 5],
    ],
  ],
  [
    "bhij,bhjd->bhid",
    [
      [2, 3, 4, 6],
      [2, 3, 6, 5],
    ],
  ],
  [
    "bn,anm,bm->ba",
    [
      [3, 4],
      [2, 4, 5],
      [3, 5],
    ],
    [1],
  ],
  [
    "bn,anm,bm->ba",
    [
      [3, 4],
      [2, 4, 5],
      [3, 5],
    ],
  ],
  [
    "bij,bjk->bik",
    [
      [2, 3, 4],
      [2, 4, 5],
    ],
  ],
  [
    "ij,jk",
    [
      [3, 4],
      [4, 5],
    ],
    [1],
  ],
  ["i,i", [[7], [7]]],
  ["i,j->ij", [[3], [4]]],
  ["ij->ji", [[3, 4]]],
  ["ij->i", [[3, 4]]],
  ["ijk->", [[2, 3, 4]]],
  ["ii->i", [[4, 4]]],
  ["bii->bi", [[2, 3, 3]]],
  ["...ii->...i", [[2, 2, 3, 3]]],
  ["ii", [[3, 3]]],
  [
    "bid,jd->bij",
    [
      [2, 3, 4],
      [5, 4],
    ],
    [1],
  ],
  [
    "ij,kj->ik",
    [
      [3, 4],
      [5, 4],
    ],
  ],
  [
    "...ij,...jk->...ik",
    [
      [2, 3, 4],
      [2, 4, 5],
    ],
  ],
];

describe("Einsum against onnxruntime", () => {
  it.each(CASES)("%s on %j (constant operands %j)", async (eq, shapes, weights) => {
    await expectMatchesOrt(einsumModel(eq, shapes, weights ?? []));
  });
});

describe("kernels", () => {
  it("attention forms are one MATMUL each, with no transposing copy", () => {
    for (const [eq, shapes] of CASES.slice(0, 2)) {
      const pkg = convert(einsumModel(eq, shapes));
      expect(pkg.manifest.nodes.map((n) => n.op)).toEqual([Op.MATMUL]);
    }
  });

  it("diagonal is one COPY, a sum one REDUCE", () => {
    expect(convert(einsumModel("bii->bi", [[2, 3, 3]])).manifest.nodes.map((n) => n.op)).toEqual([Op.COPY]);
    expect(convert(einsumModel("ij->i", [[3, 4]])).manifest.nodes.map((n) => n.op)).toEqual([Op.REDUCE]);
  });

  it("runs every kernel node bit-identically in the VM", () => {
    let checked = 0;
    for (const [eq, shapes, weights] of CASES) {
      const m = einsumModel(eq, shapes, weights ?? []);
      checked += expectVmParity(convert(m), m);
    }
    expect(checked).toBeGreaterThan(CASES.length);
  });
});

describe("refusals name the node and the equation", () => {
  const cases: [string, number[][], RegExp][] = [
    ["ij,jk->ik", [[2, 3]], /node 'ein'.*equation 'ij,jk->ik': names 2 operand\(s\), the node has 1/],
    [
      "ij,jk->ik",
      [
        [2, 3],
        [4, 5],
      ],
      /equation 'ij,jk->ik': index 'j' has sizes 3 and 4/,
    ],
    ["ij->ik", [[2, 3]], /equation 'ij->ik': output index 'k' is in no operand/],
    ["ijk->i", [[2, 3]], /equation 'ijk->i': operand 0 term 'ijk' has 3 indices for rank 2/],
    ["i1->i", [[2, 3]], /equation 'i1->i': operand 0 term 'i1' has a character that is not a letter/],
    ["ij->ii", [[2, 3]], /equation 'ij->ii': output index 'i' repeats/],
  ];
  it.each(cases)("%s on %j", (eq, shapes, re) => {
    expect(() => convert(einsumModel(eq, shapes))).toThrow(re);
  });
});
