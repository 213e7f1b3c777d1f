// The second core's half of commit/merkle.ts's shared jobs (plain JS: a worker thread loads it
// directly, from the source tree or from dist/). It takes jobs from the END of the list, claiming
// each with a compare-and-swap on ctl, while the main thread takes them from the front. A "root"
// job is one subtree (offset, byte length, depth) of the shared data, its root going to results;
// a "read" job reads one piece of an open file (the descriptor is the process's) into data.
import { readSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";

const e = new WebAssembly.Instance(workerData.module, {}).exports;
e.init();
const DATA = e.DATA.value;

function rootJob(m) {
  const src = new Uint8Array(m.data);
  const out = new Uint8Array(m.results);
  return (j) => {
    const off = m.table[3 * j];
    const len = m.table[3 * j + 1];
    const n = Math.ceil(len / 32);
    const need = DATA + 32 * n + 32;
    const have = e.memory.buffer.byteLength;
    if (need > have) e.memory.grow(Math.ceil((need - have) / 65536));
    const mem = new Uint8Array(e.memory.buffer);
    mem.set(src.subarray(off, off + len), DATA);
    mem.fill(0, DATA + len, DATA + 32 * n);
    e.root(DATA, n, 0, m.table[3 * j + 2]);
    out.set(mem.subarray(DATA, DATA + 32), 32 * j);
  };
}

function readJob(m) {
  const bytes = new Uint8Array(m.data);
  const got = new Float64Array(m.got);
  return (j) => {
    const from = j * m.piece;
    const to = Math.min(m.size, from + m.piece);
    let off = from;
    for (let n = 1; off < to && n > 0; off += n) n = readSync(m.fd, bytes, off, to - off, off);
    got[j] = off - from;
  };
}

parentPort.on("message", (m) => {
  const { ctl, count } = m;
  const run = m.kind === "read" ? readJob(m) : rootJob(m);
  for (let j = count - 1; j >= 0; j--) {
    if (Atomics.compareExchange(ctl, j, 0, 1) !== 0) break; // the main thread got here first
    let ok = 1;
    try {
      run(j);
    } catch {
      ok = 2; // failed here: the main thread redoes it (and reports the error if it fails there too)
    }
    Atomics.store(ctl, count + j, ok);
    Atomics.add(ctl, 2 * count, 1);
    Atomics.notify(ctl, 2 * count);
  }
});
