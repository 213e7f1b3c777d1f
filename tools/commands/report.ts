// `opml demo --report file.html`: one page with, per dispute, the bisection narrowing (interval
// width vs round, log scale, both levels) and the gas of every move. Plain SVG, no dependencies.
import { writeFileSync } from "node:fs";

/** One dispute of the demo, as the report and --json print it. */
export interface DisputeSummary {
  lie: string;
  claimId: string;
  gameId: string;
  winner: "challenger" | "claimant" | "none";
  honestWon: boolean;
  rounds: { graph: number; vm: number };
  disputedNode?: number;
  vmSteps?: number;
  gas: { claimant: string; challenger: string };
  seconds: number;
  moves: { level: number; kind: string; lo: string; hi: string; gas: string; by: string }[];
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function narrowingSvg(r: DisputeSummary): string {
  const pts = r.moves
    .filter((m) => m.kind === "respond" || m.kind === "bisect")
    .filter((m) => m.kind === "bisect");
  const W = 420;
  const H = 180;
  if (pts.length === 0)
    return `<p>no bisection (ended by ${r.winner === "challenger" ? "timeout" : "resolution"})</p>`;
  const widths = pts.map((m) => Math.max(1, Number(BigInt(m.hi) - BigInt(m.lo))));
  const maxLog = Math.log2(Math.max(...widths)) || 1;
  const x = (i: number) => 30 + (i * (W - 40)) / Math.max(1, pts.length - 1);
  const y = (w: number) => H - 20 - (Math.log2(w) / maxLog) * (H - 40);
  const path = pts.map((_m, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(widths[i]).toFixed(1)}`).join(" ");
  const dots = pts
    .map(
      (m, i) =>
        `<circle cx="${x(i).toFixed(1)}" cy="${y(widths[i]).toFixed(1)}" r="3" fill="${m.level === 0 ? "#1f77b4" : "#d62728"}"><title>level ${m.level}: [${m.lo}, ${m.hi}]</title></circle>`,
    )
    .join("");
  return `<svg width="${W}" height="${H}" role="img" aria-label="bisection interval width per round">
<line x1="30" y1="${H - 20}" x2="${W - 10}" y2="${H - 20}" stroke="#888"/><line x1="30" y1="10" x2="30" y2="${H - 20}" stroke="#888"/>
<text x="${W / 2}" y="${H - 4}" font-size="11" text-anchor="middle">round</text>
<text x="4" y="14" font-size="11">log₂ width</text>
<path d="${path}" fill="none" stroke="#555"/>${dots}</svg>
<p style="font-size:12px"><span style="color:#1f77b4">●</span> graph level (nodes) <span style="color:#d62728">●</span> VM level (steps)</p>`;
}

function gasSvg(r: DisputeSummary): string {
  const W = 420;
  const H = 160;
  if (r.moves.length === 0) return "";
  const gas = r.moves.map((m) => Number(m.gas));
  const max = Math.max(...gas);
  const bw = (W - 40) / gas.length;
  const bars = r.moves
    .map((m, i) => {
      const h = ((H - 30) * Number(m.gas)) / max;
      return `<rect x="${(30 + i * bw).toFixed(1)}" y="${(H - 20 - h).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${m.by === "claimant" ? "#ff7f0e" : "#2ca02c"}"><title>${m.by} ${m.kind}: ${m.gas} gas</title></rect>`;
    })
    .join("");
  return `<svg width="${W}" height="${H}" role="img" aria-label="gas per move">${bars}
<line x1="30" y1="${H - 20}" x2="${W - 10}" y2="${H - 20}" stroke="#888"/><text x="4" y="14" font-size="11">gas (max ${max})</text></svg>
<p style="font-size:12px"><span style="color:#ff7f0e">■</span> claimant <span style="color:#2ca02c">■</span> challenger (claimant moves only; challenger total ${esc(r.gas.challenger)})</p>`;
}

export function writeReport(file: string, model: string, results: DisputeSummary[]): void {
  const sections = results
    .map(
      (
        r,
      ) => `<section><h2>--lie ${esc(r.lie)}: ${r.winner === "challenger" ? "watchtower won" : `watchtower lost (${esc(r.winner)})`}</h2>
<p>graph rounds ${r.rounds.graph}, VM rounds ${r.rounds.vm}${r.disputedNode !== undefined ? `, disputed node ${r.disputedNode} (${r.vmSteps} VM steps)` : ""}; gas: claimant ${esc(r.gas.claimant)}, challenger ${esc(r.gas.challenger)}; ${r.seconds.toFixed(1)} s</p>
<div style="display:flex;gap:24px;flex-wrap:wrap"><div><h3>bisection narrowing</h3>${narrowingSvg(r)}</div><div><h3>gas per move</h3>${gasSvg(r)}</div></div></section>`,
    )
    .join("\n");
  writeFileSync(
    file,
    `<!doctype html><html><head><meta charset="utf-8"><title>opml demo: ${esc(model)}</title>
<style>body{font-family:sans-serif;max-width:980px;margin:2em auto}section{border-top:1px solid #ddd;padding:8px 0}</style></head>
<body><h1>opml dispute simulation: ${esc(model)}</h1>${sections}</body></html>\n`,
  );
}
