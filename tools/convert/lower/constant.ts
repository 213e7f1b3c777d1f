// Ops folded to constants at conversion time, so they emit no kernel (Shape, Size, Constant, …).
import { type Const, ConvertError } from "../onnx.js";
import { numel } from "../views.js";
import { attrInt, constOf, type Handler, intsOf, mkConst, need, shapeOf } from "./context.js";

const H: Record<string, Handler> = {};

H.Shape = (_ctx, n, ins, w) => {
  const s = shapeOf(need(ins[0], 0, n, w));
  const r = s.length;
  let start = attrInt(n, "start", 0);
  let end = attrInt(n, "end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  return [mkConst([0], "int", [], n.outputs[0])].map(() => {
    const v = s.slice(Math.max(0, start), Math.min(r, end));
    return mkConst([v.length], "int", v, n.outputs[0]);
  });
};
H.Size = (_ctx, n, ins, w) => [mkConst([], "int", [numel(shapeOf(need(ins[0], 0, n, w)))], n.outputs[0])];
H.Constant = (_ctx, n, _ins, w) => {
  const a = n.attrs;
  if (a.value && typeof a.value === "object" && !Array.isArray(a.value))
    return [{ kind: "const", c: a.value as Const, name: n.outputs[0] }];
  if (typeof a.value_float === "number") return [mkConst([], "float", [a.value_float], n.outputs[0])];
  if (Array.isArray(a.value_floats))
    return [mkConst([a.value_floats.length], "float", a.value_floats as number[], n.outputs[0])];
  if (typeof a.value_int === "number") return [mkConst([], "int", [a.value_int], n.outputs[0])];
  if (Array.isArray(a.value_ints))
    return [mkConst([a.value_ints.length], "int", a.value_ints as number[], n.outputs[0])];
  throw new ConvertError(`${w}: unsupported Constant attribute (${Object.keys(a).join(", ")})`);
};
H.ConstantOfShape = (_ctx, n, ins, w) => {
  const shape = intsOf(constOf(ins[0], "shape", w));
  const v = n.attrs.value as Const | undefined;
  const val = v ? v.data[0] : 0;
  return [mkConst(shape, v?.dtype ?? "float", new Float64Array(numel(shape)).fill(val), n.outputs[0])];
};
H.Range = (_ctx, n, ins, w) => {
  const [s, l, d] = [0, 1, 2].map((i) => constOf(ins[i], ["start", "limit", "delta"][i], w));
  const cnt = Math.max(0, Math.ceil((l.data[0] - s.data[0]) / d.data[0]));
  return [
    mkConst(
      [cnt],
      s.dtype,
      Array.from({ length: cnt }, (_, i) => s.data[0] + i * d.data[0]),
      n.outputs[0],
    ),
  ];
};
export const CONSTANT_HANDLERS = H;
