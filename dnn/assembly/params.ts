// Reads the node parameter block that the host (native engine or VM loader) writes before exec():
//   word 0 opcode, 1 nIn, 2 nOut, 3 nParams, then nIn input pointers, nOut output pointers,
//   then nParams op-specific words (docs/PROTOCOL.md §2).
let base: usize = 0;
let nIn: i32 = 0;
let nOut: i32 = 0;

export function bind(p: usize): i32 {
  base = p;
  nIn = load<i32>(p + 4);
  nOut = load<i32>(p + 8);
  return load<i32>(p);
}

@inline
export function inPtr(i: i32): usize {
  return <usize>load<i32>(base + 16 + (<usize>i << 2));
}

@inline
export function outPtr(i: i32): usize {
  return <usize>load<i32>(base + 16 + (<usize>(nIn + i) << 2));
}

@inline
export function prm(i: i32): i32 {
  return load<i32>(base + 16 + (<usize>(nIn + nOut + i) << 2));
}

@inline
export function inputCount(): i32 {
  return nIn;
}

@inline
export function outputCount(): i32 {
  return nOut;
}
