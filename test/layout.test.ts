// The layout rule: imports only point down the stage ranks (tools/ci/layers.ts) and form no cycle.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkLayout } from "../tools/ci/layers.js";
import { ROOT } from "./helpers/helpers.js";

describe("layout", () => {
  it("has no import pointing up a stage and no import cycle", () => {
    const r = checkLayout(ROOT);
    expect(r.files).toBeGreaterThan(60);
    expect(r.upward).toEqual([]);
    expect(r.cycles).toEqual([]);
  });

  it("catches an upward import and a cycle when there is one", () => {
    const dir = mkdtempSync(join(tmpdir(), "layout-"));
    for (const d of ["vm", "game", "tools/commands"]) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, "vm/a.ts"), 'import { b } from "../game/b.js";\n');
    writeFileSync(join(dir, "game/b.ts"), "export const b = 1;\n");
    writeFileSync(join(dir, "tools/commands/x.ts"), 'import { y } from "./y.js";\n');
    writeFileSync(join(dir, "tools/commands/y.ts"), 'import { x } from "./x.js";\n');
    const r = checkLayout(dir);
    expect(r.upward).toEqual(["vm/a.ts → game/b.ts (vm 3 → game 4)"]);
    expect(r.cycles).toEqual([["tools/commands/x.ts", "tools/commands/y.ts", "tools/commands/x.ts"]]);
  });
});
