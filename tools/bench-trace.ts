// Dispute memory against step count (issue 10): the query sequence of one VM-level dispute (a
// bisection to a random step, then that step's proof) on two nodes of one package, one with about
// 4× the steps of the other. Reported side by side: bytes the trace holds (peak, exact) against what
// the former trace held (a full memory copy, bytes and hashes, every 65,536 steps), the process's
// RSS growth, and the steps the queries replay against T (≤ 1×), with their wall time.
// `npm run bench` runs it on mnist_cnn's two Conv nodes; `node dist/tools/bench-trace.js DIR K1,K2`
// on any package's nodes (e.g. /work/scale/pkg-s 29,127: MatMuls of 120 M and 490 M steps).
import { join } from "node:path";
import { FIXTURES } from "../chain/paths.js";
import { defaultBackend } from "../dnn/src/engine.js";
import { loadPackage, numel } from "../dnn/src/package.js";
import { nodeInputs, nodeLayout } from "../game/link.js";
import { NodeTrace } from "../game/trace.js";

export interface TraceRow {
  what: string;
  ours: number;
  ref: number;
  unit: string;
  goal: string;
}

const MiB = 1024 * 1024;

export function traceRows(dir = join(FIXTURES, "packages", "mnist_cnn"), nodes = [0, 3]): TraceRow[] {
  const pkg = loadPackage(dir);
  const m = pkg.manifest;
  const zeros = m.inputs.map((s) => new Int32Array(numel(m.activations[s].shape)));
  const acts = defaultBackend().prepare(pkg).run(zeros, { keepAll: true });
  const rows: TraceRow[] = [];
  let seed = 0x2545f491;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  for (const k of nodes) {
    const rss0 = process.memoryUsage().rss;
    let rss = rss0;
    const sample = () => {
      rss = Math.max(rss, process.memoryUsage().rss);
    };
    const t0 = performance.now();
    const trace = new NodeTrace(pkg, k, nodeInputs(pkg, k, acts));
    const firstRun = (performance.now() - t0) / 1000;
    sample();
    const T = trace.totalSteps;
    const target = Math.floor(rand() * T);
    const t1 = performance.now();
    let [lo, hi] = [0, T];
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      trace.stateRootAt(mid);
      sample();
      if (mid <= target) lo = mid;
      else hi = mid;
    }
    trace.proveStep(lo);
    sample();
    const queries = (performance.now() - t1) / 1000;
    const st = trace.stats();
    const memBytes = nodeLayout(m, k).pages * 65536;
    const formerly = Math.ceil(T / 65536) * 2 * memBytes; // bytes + hash levels per copy
    const name = `${m.name} ${m.nodes[k].onnxOp} node ${k} (${(T / 1e6).toFixed(1)} M steps)`;
    rows.push(
      {
        what: `trace: ${name}, bytes held, peak (vs full copies every 64 Ki steps)`,
        ours: st.peakBytes / MiB,
        ref: formerly / MiB,
        unit: `MiB; ${st.checkpoints} checkpoints now`,
        goal: "flat in T",
      },
      {
        what: `trace: ${name}, RSS growth over the dispute`,
        ours: (rss - rss0) / MiB,
        ref: Number.NaN,
        unit: "MiB",
        goal: "flat in T",
      },
      {
        what: `trace: ${name}, steps replayed by bisection + step proof (vs T)`,
        ours: st.replayed / 1e6,
        ref: T / 1e6,
        unit: `M steps; ${st.restores} restores; queries ${queries.toFixed(2)} s, first run ${firstRun.toFixed(2)} s`,
        goal: "≤ 1×",
      },
    );
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir, nodes] = process.argv.slice(2);
  const rows = traceRows(dir, nodes?.split(",").map(Number));
  for (const r of rows) {
    const ratio = Number.isNaN(r.ref) ? "" : ` vs ${r.ref.toFixed(2)} (${(r.ours / r.ref).toFixed(3)}×)`;
    console.log(`${r.what}: ${r.ours.toFixed(2)}${ratio} ${r.unit}`);
  }
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}
