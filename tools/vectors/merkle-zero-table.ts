// Generates the ZERO[0..32] lookup table inside contracts/src/lib/Merkle.sol (`_zeroTable`).
//
// The table sits between the BEGIN/END marker lines of that file; test/commit/merkle.test.ts checks the
// block equals this generator's output byte for byte, and contracts/test/Merkle.t.sol checks every
// entry against keccak256 and the committed vectors. Regenerate with
//   npm run build && node dist/tools/vectors/merkle-zero-table.js --write
// (or UPDATE_VECTORS=1 npx vitest run test/commit/merkle.test.ts). The output is already `forge fmt` clean.
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { toHex, ZERO } from "../../commit/merkle.js";

export const MERKLE_SOL_PATH = "contracts/src/lib/Merkle.sol";
export const TABLE_MAX_DEPTH = 32;
export const BEGIN_MARKER = "        // BEGIN GENERATED ZERO TABLE (tools/vectors/merkle-zero-table.ts)";
export const END_MARKER = "        // END GENERATED ZERO TABLE";

/**
 * The Yul lookup: an outer `switch` on depth / 8 picks a group of eight, an inner `switch` picks the
 * entry, so a lookup costs a handful of comparisons instead of up to 32 keccak256 calls.
 */
export function zeroTableBlock(): string {
  const i12 = " ".repeat(12);
  const i16 = " ".repeat(16);
  const i20 = " ".repeat(20);
  const lines: string[] = [BEGIN_MARKER, `        assembly ("memory-safe") {`, `${i12}switch shr(3, depth)`];
  const groups = Math.floor(TABLE_MAX_DEPTH / 8); // groups 0..3 hold depths 0..31; depth 32 is the default
  for (let g = 0; g < groups; g++) {
    lines.push(`${i12}case ${g} {`, `${i16}switch depth`);
    for (let d = 8 * g; d < 8 * g + 8; d++) {
      if (d === 0) {
        lines.push(`${i16}case 0 { z := 0 }`);
        continue;
      }
      const last = d === 8 * g + 7;
      lines.push(last ? `${i16}default {` : `${i16}case ${d} {`, `${i20}z := ${toHex(ZERO[d])}`, `${i16}}`);
    }
    lines.push(`${i12}}`);
  }
  lines.push(
    `${i12}default {`,
    `${i16}z := ${toHex(ZERO[TABLE_MAX_DEPTH])}`,
    `${i12}}`,
    "        }",
    END_MARKER,
  );
  return lines.join("\n");
}

/** Returns the generated block currently in `source` (markers included), or undefined. */
export function extractZeroTableBlock(source: string): string | undefined {
  const start = source.indexOf(BEGIN_MARKER);
  const end = source.indexOf(END_MARKER);
  if (start < 0 || end < start) return undefined;
  return source.slice(start, end + END_MARKER.length);
}

/** Replaces the generated block in `source` with the current one. */
export function patchZeroTable(source: string): string {
  const current = extractZeroTableBlock(source);
  if (current === undefined) throw new Error(`${MERKLE_SOL_PATH}: zero-table markers not found`);
  return source.replace(current, zeroTableBlock());
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  if (process.argv.includes("--write")) {
    const path = resolve(MERKLE_SOL_PATH);
    writeFileSync(path, patchZeroTable(readFileSync(path, "utf8")));
    console.log(`patched ${path}`);
  } else {
    console.log(zeroTableBlock());
  }
}
