// `opml demo --report file.html`: one self-contained page (inline SVG and CSS, no scripts, nothing
// fetched: it opens offline) built from the demo's game records (tools/commands/game-record.ts):
//  - a summary table, one row per dispute: winner, rounds per level, the disputed node with its
//    op and name, VM steps, the final instruction and its pc, gas per party;
//  - the honest claim's timeline: posted, its challenge window, finalized (chain and wall time);
//  - per dispute: the bisection chart (interval width after every move on a log axis, both
//    parties' moves marked), gas per move for both parties, the final step decoded, every move.
import { writeFileSync } from "node:fs";
import type { ClaimTimeline, FinalStep, MoveRecord, NodeInfo } from "./game-record.js";

/** One dispute of the demo, as the report and --json print it. */
export interface DisputeSummary {
  lie: string;
  claimId: string;
  gameId: string;
  winner: "challenger" | "claimant" | "none";
  honestWon: boolean;
  rounds: { graph: number; vm: number };
  disputedNode?: number;
  /** The disputed node's ONNX name and op and its kernel op (with disputedNode). */
  node?: NodeInfo;
  vmSteps?: number;
  /** The VM instruction the game ended on (absent when it ended by timeout). */
  finalStep?: FinalStep;
  /** Gas per party, every transaction of the dispute included (the claim, the challenge). */
  gas: { claimant: string; challenger: string };
  seconds: number;
  /** Every transaction of the dispute in chain order, with who sent it. */
  moves: MoveRecord[];
}

export interface ReportData {
  model: string;
  /** The RPC the demo ran on (its embedded anvil, or the one given). */
  chain?: string;
  honest?: ClaimTimeline;
  disputes: DisputeSummary[];
  /** ISO time the report was made. */
  generated?: string;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (s: string | number | bigint) => BigInt(s).toLocaleString("en-US");
const f1 = (x: number) => x.toFixed(1);

const PARTY_COLOR: Record<string, string> = { claimant: "#d9480f", challenger: "#2b8a3e" };
const OTHER_COLOR = "#868e96";
const colorOf = (by: string) => PARTY_COLOR[by] ?? OTHER_COLOR;

function nodeText(r: DisputeSummary): string {
  if (!r.node) return r.disputedNode === undefined ? "-" : String(r.disputedNode);
  return `${r.node.index} '${esc(r.node.name)}' (${esc(r.node.onnxOp)} → ${esc(r.node.kernelOp)})`;
}

function finalText(r: DisputeSummary): string {
  const f = r.finalStep;
  if (!f) {
    const end = r.moves.find((m) => m.kind === "timeout" || m.kind === "voidGame");
    return end ? `none (${esc(end.kind)}: ${esc(end.detail ?? "")})` : "-";
  }
  return `<code>${esc(f.opcode)}</code> at pc ${f.pc} (step ${num(f.step)})`;
}

function summaryTable(rs: DisputeSummary[]): string {
  const rows = rs
    .map(
      (
        r,
      ) => `<tr class="dispute" data-lie="${esc(r.lie)}"><td><a href="#d-${esc(r.gameId)}">--lie ${esc(r.lie)}</a></td>
<td class="${r.honestWon ? "won" : "lost"}">${esc(r.winner)}</td><td class="n">${r.rounds.graph}</td><td class="n">${r.rounds.vm}</td>
<td>${nodeText(r)}</td><td class="n">${r.vmSteps === undefined ? "-" : num(r.vmSteps)}</td><td>${finalText(r)}</td>
<td class="n">${num(r.gas.claimant)}</td><td class="n">${num(r.gas.challenger)}</td><td class="n">${f1(r.seconds)}</td></tr>`,
    )
    .join("\n");
  return `<table id="summary"><caption>One row per dispute (the watchtower is the challenger; every lie should be won by it)</caption>
<thead><tr><th>dispute</th><th>winner</th><th>graph rounds</th><th>VM rounds</th><th>disputed node (ONNX op → kernel)</th><th>VM steps</th><th>final instruction</th><th>claimant gas</th><th>challenger gas</th><th>wall s</th></tr></thead>
<tbody>
${rows}
</tbody></table>`;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

function timelineSection(t: ClaimTimeline): string {
  const p = t.posted;
  const rows: [string, number, number | undefined, string][] = [
    ["posted (bond locked)", p.chainTime, p.wall, `block ${t.posted.block}`],
    [
      "challenge window closes",
      t.window.deadline,
      undefined,
      `${num(t.window.seconds)} s of chain time after posting`,
    ],
  ];
  if (t.warped)
    rows.push(["chain time moved past the window (anvil warped)", t.warped.chainTime, t.warped.wall, ""]);
  rows.push(["finalized (bond back)", t.finalized.chainTime, t.finalized.wall, `block ${t.finalized.block}`]);
  const body = rows
    .map(
      ([what, chain, wall, note]) =>
        `<tr><td>${esc(what)}</td><td>${iso(chain * 1000)}</td><td class="n">+${num(chain - p.chainTime)} s</td><td>${wall === undefined ? "-" : iso(wall)}</td><td class="n">${wall === undefined ? "-" : `+${f1((wall - p.wall) / 1000)} s`}</td><td>${esc(note)}</td></tr>`,
    )
    .join("\n");
  // A bar in chain time: posting, the window, the finalization.
  const W = 640;
  const span = Math.max(1, t.finalized.chainTime - p.chainTime);
  const x = (ct: number) => 20 + ((ct - p.chainTime) / span) * (W - 60);
  const mark = (ct: number, label: string, anchor: string, color: string, ly: number) =>
    `<line x1="${f1(x(ct))}" y1="22" x2="${f1(x(ct))}" y2="46" stroke="${color}" stroke-width="2"/><text x="${f1(x(ct))}" y="${ly}" font-size="11" text-anchor="${anchor}" fill="${color}">${esc(label)}</text>`;
  const svg = `<svg class="timeline" width="${W}" height="70" role="img" aria-label="honest claim timeline in chain time">
<rect x="${f1(x(p.chainTime))}" y="28" width="${f1(Math.max(1, x(t.window.deadline) - x(p.chainTime)))}" height="12" fill="#d0ebff"/>
<line x1="20" y1="34" x2="${W - 40}" y2="34" stroke="#495057"/>
<text x="${f1((x(p.chainTime) + x(t.window.deadline)) / 2)}" y="16" font-size="11" text-anchor="middle">challenge window: ${num(t.window.seconds)} s of chain time</text>
${mark(p.chainTime, "posted t=0", "start", "#1864ab", 60)}${mark(t.window.deadline, `window closes +${num(t.window.seconds)} s`, "end", "#e67700", 16)}${mark(t.finalized.chainTime, `finalized +${num(t.finalized.chainTime - p.chainTime)} s`, "end", "#2b8a3e", 60)}</svg>`;
  return `<section id="honest"><h2>The honest claim (id ${esc(t.claimId)})</h2>
<p>Posted with its bond, checked by the watchtower (valid: not challenged), finalized once the challenge window closed.
Chain time is the blocks' timestamps (the demo moves anvil's clock past the window); wall time is when the demo saw each step.</p>
${svg}
<table id="timeline"><thead><tr><th>event</th><th>chain time</th><th>chain Δ</th><th>wall time</th><th>wall Δ</th><th></th></tr></thead><tbody>
${body}
</tbody></table></section>`;
}

/** log2 of a width ≥ 1. */
const lg = (w: bigint) => (w <= 1n ? 0 : Math.log2(Number(w)));
const widthOf = (m: MoveRecord) => {
  const w = BigInt(m.after.hi) - BigInt(m.after.lo);
  return w < 1n ? 1n : w;
};

function marker(by: string, cx: number, cy: number, title: string): string {
  const c = colorOf(by);
  if (by === "claimant")
    return `<circle cx="${f1(cx)}" cy="${f1(cy)}" r="4" fill="${c}"><title>${title}</title></circle>`;
  if (by === "challenger")
    return `<path d="M${f1(cx)},${f1(cy - 5)} L${f1(cx + 4.5)},${f1(cy + 3.5)} L${f1(cx - 4.5)},${f1(cy + 3.5)} Z" fill="${c}"><title>${title}</title></path>`;
  return `<rect x="${f1(cx - 3.5)}" y="${f1(cy - 3.5)}" width="7" height="7" fill="${c}"><title>${title}</title></rect>`;
}

const LEGEND = `<p class="legend"><span style="color:${PARTY_COLOR.claimant}">●</span> claimant (the liar: bisect, descend)
<span style="color:${PARTY_COLOR.challenger}">▲</span> challenger (the watchtower: challenge, respond, prove)
<span style="color:${OTHER_COLOR}">■</span> another sender</p>`;

/** Interval width after every move of the game, log₂ axis, both levels, both parties marked. */
export function bisectionSvg(r: DisputeSummary): string {
  const ms = r.moves.filter((m) => m.kind !== "claim");
  if (ms.length === 0) return `<p>no game moves</p>`;
  const W = 660;
  const H = 300;
  const L = 78;
  const R = 16;
  const T = 24;
  const B = 46;
  const widths = ms.map(widthOf);
  const maxE = Math.max(1, Math.ceil(Math.max(...widths.map(lg))));
  const x = (i: number) => L + ((i + 0.5) * (W - L - R)) / ms.length;
  const y = (w: bigint) => H - B - (lg(w) / maxE) * (H - T - B);
  // Level bands behind everything.
  const bands: string[] = [];
  let start = 0;
  for (let i = 1; i <= ms.length; i++) {
    if (i === ms.length || ms[i].after.level !== ms[start].after.level) {
      const lvl = ms[start].after.level;
      const x0 = L + (start * (W - L - R)) / ms.length;
      const x1 = L + (i * (W - L - R)) / ms.length;
      bands.push(
        `<rect x="${f1(x0)}" y="${T}" width="${f1(x1 - x0)}" height="${H - T - B}" fill="${lvl === 0 ? "#e7f5ff" : "#fff4e6"}"/><text x="${f1((x0 + x1) / 2)}" y="${T - 8}" font-size="11" text-anchor="middle">${lvl === 0 ? "graph level: width in nodes" : "VM level: width in steps"}</text>`,
      );
      start = i;
    }
  }
  // Y ticks at powers of two.
  const every = Math.max(1, Math.ceil(maxE / 8));
  const yt: string[] = [];
  for (let e = 0; e <= maxE; e += every) {
    const yy = y(1n << BigInt(e));
    yt.push(
      `<line x1="${L - 4}" y1="${f1(yy)}" x2="${W - R}" y2="${f1(yy)}" stroke="#dee2e6"/><text x="${L - 6}" y="${f1(yy + 3.5)}" font-size="10" text-anchor="end">${num(1n << BigInt(e))}</text>`,
    );
  }
  // X ticks: move numbers.
  const xEvery = Math.max(1, Math.ceil(ms.length / 12));
  const xt: string[] = [];
  for (let i = 0; i < ms.length; i += xEvery)
    xt.push(
      `<line x1="${f1(x(i))}" y1="${H - B}" x2="${f1(x(i))}" y2="${H - B + 4}" stroke="#495057"/><text x="${f1(x(i))}" y="${H - B + 15}" font-size="10" text-anchor="middle">${i + 1}</text>`,
    );
  // A step line through the widths, then the markers.
  let d = "";
  ms.forEach((_m, i) => {
    const yy = y(widths[i]);
    d += i === 0 ? `M${f1(x(i))},${f1(yy)}` : ` H${f1(x(i))} V${f1(yy)}`;
  });
  const marks = ms
    .map((m, i) =>
      marker(
        m.by,
        x(i),
        y(widths[i]),
        `move ${i + 1}: ${esc(m.by)} ${esc(m.kind)}${m.detail ? ` (${esc(m.detail)})` : ""}; level ${m.after.level} interval [${m.after.lo}, ${m.after.hi}], width ${num(widths[i])}`,
      ),
    )
    .join("");
  // Values: the width where each level starts and the final one.
  const labels: string[] = [];
  ms.forEach((m, i) => {
    if (m.kind === "challenge" || m.kind === "enterVm" || i === ms.length - 1)
      labels.push(
        `<text x="${f1(x(i) + (i === ms.length - 1 ? -6 : 6))}" y="${f1(y(widths[i]) - 7)}" font-size="10" font-weight="bold"${i === ms.length - 1 ? ' text-anchor="end"' : ""}>${num(widths[i])}</text>`,
      );
  });
  return `<svg class="bisection" width="${W}" height="${H}" role="img" aria-label="interval width per move, log scale">
${bands.join("")}${yt.join("")}
<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#495057"/><line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#495057"/>${xt.join("")}
<path d="${d}" fill="none" stroke="#495057" stroke-width="1.2"/>${marks}${labels.join("")}
<text x="${f1((L + W - R) / 2)}" y="${H - 8}" font-size="12" text-anchor="middle">move number (a bisection round is a claimant bisect + a challenger respond)</text>
<text transform="translate(14 ${f1((T + H - B) / 2)}) rotate(-90)" font-size="12" text-anchor="middle">disputed interval width (log₂ scale)</text>
</svg>${LEGEND}`;
}

/** A round axis top ≥ x, 5 ticks of 1, 2, 2.5, 5 or 10 × 10^k… each. */
function niceCeil(x: number): number {
  if (x <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

/** Gas of every transaction of the dispute, one bar each, coloured by party. */
export function gasSvg(r: DisputeSummary): string {
  const ms = r.moves;
  if (ms.length === 0) return "";
  const W = 660;
  const H = 260;
  const L = 78;
  const R = 16;
  const T = 16;
  const B = 46;
  const gas = ms.map((m) => Number(m.gas));
  const top = niceCeil(Math.max(...gas) * 1.2);
  const step = top / 5;
  const y = (g: number) => H - B - (g / top) * (H - T - B);
  const slot = (W - L - R) / ms.length;
  const yt: string[] = [];
  for (let g = 0; g <= top + 1e-9; g += step)
    yt.push(
      `<line x1="${L - 4}" y1="${f1(y(g))}" x2="${W - R}" y2="${f1(y(g))}" stroke="#dee2e6"/><text x="${L - 6}" y="${f1(y(g) + 3.5)}" font-size="10" text-anchor="end">${num(Math.round(g))}</text>`,
    );
  const bars = ms
    .map(
      (m, i) =>
        `<rect x="${f1(L + i * slot + slot * 0.1)}" y="${f1(y(gas[i]))}" width="${f1(Math.max(1, slot * 0.8))}" height="${f1(y(0) - y(gas[i]))}" fill="${colorOf(m.by)}"><title>move ${i + 1}: ${esc(m.by)} ${esc(m.kind)}: ${num(m.gas)} gas</title></rect>`,
    )
    .join("");
  // Values on the bars that stand out (the claim, the challenge, the descent, the proof), raised
  // a line where the bar before is labelled too.
  const near = Math.ceil(70 / slot);
  let prev = -near - 1;
  let prevY = 0;
  const labels = ms
    .map((m, i) => {
      if (m.kind === "bisect" || m.kind === "respond") return "";
      let ly = y(gas[i]) - 4;
      if (i - prev <= near) ly = Math.min(ly, prevY - 11);
      prev = i;
      prevY = ly;
      const cx = L + (i + 0.5) * slot;
      const anchor = cx < L + 40 ? "start" : cx > W - R - 40 ? "end" : "middle";
      return `<text x="${f1(cx)}" y="${f1(ly)}" font-size="9" text-anchor="${anchor}">${esc(m.kind)} ${num(Math.round(gas[i] / 1000))}k</text>`;
    })
    .join("");
  const xEvery = Math.max(1, Math.ceil(ms.length / 12));
  const xt: string[] = [];
  for (let i = 0; i < ms.length; i += xEvery)
    xt.push(
      `<text x="${f1(L + (i + 0.5) * slot)}" y="${H - B + 15}" font-size="10" text-anchor="middle">${i + 1}</text>`,
    );
  return `<svg class="gas" width="${W}" height="${H}" role="img" aria-label="gas per move">
${yt.join("")}${bars}${labels}
<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#495057"/><line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#495057"/>${xt.join("")}
<text x="${f1((L + W - R) / 2)}" y="${H - 8}" font-size="12" text-anchor="middle">transaction number (1 = the claim)</text>
<text transform="translate(14 ${f1((T + H - B) / 2)}) rotate(-90)" font-size="12" text-anchor="middle">gas used</text>
</svg><p class="legend"><span style="color:${PARTY_COLOR.claimant}">■</span> claimant: ${num(r.gas.claimant)} gas in ${ms.filter((m) => m.by === "claimant").length} transactions
<span style="color:${PARTY_COLOR.challenger}">■</span> challenger: ${num(r.gas.challenger)} gas in ${ms.filter((m) => m.by === "challenger").length} transactions</p>`;
}

function finalStepTable(r: DisputeSummary): string {
  const f = r.finalStep;
  if (!f)
    return `<p>No step was proven: ${esc(r.moves.find((m) => m.kind === "timeout" || m.kind === "voidGame")?.detail ?? "the game ended otherwise")}.</p>`;
  const rows: [string, string][] = [
    ["graph node", nodeText(r)],
    [
      "VM step",
      `${num(f.step)} → ${num(BigInt(f.step) + 1n)} (of ${r.vmSteps === undefined ? "?" : num(r.vmSteps)})`,
    ],
    ["machine", esc(f.status)],
    ["pc", String(f.pc)],
    ["instruction", `<code>${esc(f.opcode)}</code> (opcode ${esc(f.opcodeHex)})`],
    ["immediate", `${esc(f.arg)} (${esc(f.argText)})`],
    [
      "operands popped (top last)",
      f.operands.length ? f.operands.map((o) => `<code>${esc(o)}</code>`).join(", ") : "none",
    ],
    [
      "pre-state root (agreed)",
      `<code>${esc(f.preRoot)}</code>${f.preRoot === f.honestPreRoot ? " = honest trace" : " ≠ honest trace!"}`,
    ],
    [
      "post-state root (one-step verifier)",
      `<code>${esc(f.postRoot)}</code>${f.postRoot === f.honestPostRoot ? " = honest trace" : " ≠ honest trace!"}`,
    ],
    ["claimant's post-state root", `<code>${esc(f.claimedPostRoot)}</code>`],
    [
      "verdict",
      f.claimantWon
        ? "the proof gave the claimant's root: claimant won"
        : "the proof did not give the claimant's root: challenger won",
    ],
  ];
  return `<table class="final"><tbody>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join("")}</tbody></table>`;
}

function movesTable(r: DisputeSummary): string {
  const t0 = r.moves[0]?.chainTime ?? 0;
  const rows = r.moves
    .map(
      (m, i) =>
        `<tr><td class="n">${i + 1}</td><td style="color:${colorOf(m.by)}">${esc(m.by)}</td><td>${esc(m.kind)}</td><td class="n">${m.level}</td><td class="n">[${esc(m.lo)}, ${esc(m.hi)}]</td><td class="n">[${esc(m.after.lo)}, ${esc(m.after.hi)}]${m.after.level !== m.level ? ` (level ${m.after.level})` : ""}</td><td>${esc(m.detail ?? "")}</td><td class="n">${num(m.gas)}</td><td class="n">+${num(m.chainTime - t0)} s</td></tr>`,
    )
    .join("\n");
  return `<details><summary>all ${r.moves.length} transactions</summary><table class="moves"><thead><tr><th>#</th><th>by</th><th>move</th><th>level</th><th>interval</th><th>after</th><th>detail</th><th>gas</th><th>chain time</th></tr></thead><tbody>
${rows}
</tbody></table></details>`;
}

function disputeSection(r: DisputeSummary): string {
  return `<section class="dispute" id="d-${esc(r.gameId)}"><h2>--lie ${esc(r.lie)}: ${r.honestWon ? "watchtower won" : `WATCHTOWER LOST (${esc(r.winner)})`}</h2>
<p>Claim ${esc(r.claimId)}, game ${esc(r.gameId)}: ${r.rounds.graph} graph rounds, ${r.rounds.vm} VM rounds${r.node ? `, disputed node ${nodeText(r)}, ${r.vmSteps === undefined ? "?" : num(r.vmSteps)} VM steps` : ""}; ${f1(r.seconds)} s.</p>
<h3>Bisection</h3>${bisectionSvg(r)}
<h3>Gas per move</h3>${gasSvg(r)}
<h3>The final step</h3>${finalStepTable(r)}
${movesTable(r)}</section>`;
}

const STYLE = `body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;max-width:1100px;margin:1.5em auto;padding:0 1em;color:#212529}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.2em}h3{font-size:1em;margin:.8em 0 .3em}
section{border-top:1px solid #dee2e6;padding:6px 0}table{border-collapse:collapse;font-size:13px;margin:.4em 0}
th,td{border:1px solid #dee2e6;padding:3px 6px;text-align:left;vertical-align:top}thead th{background:#f1f3f5}
td.n{text-align:right;font-variant-numeric:tabular-nums}td.won{color:#2b8a3e;font-weight:bold}td.lost{color:#c92a2a;font-weight:bold}
caption{text-align:left;font-size:12px;color:#495057;padding-bottom:3px}table.final th{background:#f8f9fa;width:16em}
code{font-size:12px;word-break:break-all}.legend{font-size:12px;margin:2px 0 8px}svg{display:block}`;

export function renderReport(data: ReportData): string {
  const won = data.disputes.filter((r) => r.honestWon).length;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>opml demo: ${esc(data.model)}</title>
<style>${STYLE}</style></head>
<body><h1>opML dispute simulation: ${esc(data.model)}</h1>
<p>${data.chain ? `Chain: ${esc(data.chain)}. ` : ""}${data.honest ? "One honest claim finalized; " : ""}${won} of ${data.disputes.length} lying claims defeated by the watchtower.${data.generated ? ` Generated ${esc(data.generated)}.` : ""}</p>
<h2>Summary</h2>
${summaryTable(data.disputes)}
${data.honest ? timelineSection(data.honest) : ""}
${data.disputes.map(disputeSection).join("\n")}
</body></html>
`;
}

export function writeReport(file: string, data: ReportData): void {
  writeFileSync(file, renderReport(data));
}
