// The second core's half of commit/merkle.ts's parallel roots (plain JS: a worker thread loads it
// directly, from the source tree or from dist/). It takes jobs from the END of the shared list,
// claiming each with a compare-and-swap, while the main thread takes them from the front; each
// job is one subtree (offset, byte length, depth) of the shared data, its root goes to results.
import { parentPort, workerData } from "node:worker_threads";

const e = new WebAssembly.Instance(workerData.module, {}).exports;
e.init();
const DATA = e.DATA.value;

parentPort.on("message", (m) => {
  const { ctl, table, data, results, count } = m;
  const src = new Uint8Array(data);
  const out = new Uint8Array(results);
  for (let j = count - 1; j >= 0; j--) {
    if (Atomics.compareExchange(ctl, j, 0, 1) !== 0) break; // the main thread got here first
    const off = table[3 * j];
    const len = table[3 * j + 1];
    const depth = table[3 * j + 2];
    const n = Math.ceil(len / 32);
    const need = DATA + 32 * n + 32;
    if (need > e.memory.buffer.byteLength)
      e.memory.grow(Math.ceil((need - e.memory.buffer.byteLength) / 65536));
    const mem = new Uint8Array(e.memory.buffer);
    mem.set(src.subarray(off, off + len), DATA);
    mem.fill(0, DATA + len, DATA + 32 * n);
    e.root(DATA, n, 0, depth);
    out.set(mem.subarray(DATA, DATA + 32), 32 * j);
    Atomics.store(ctl, count + j, 1);
    Atomics.add(ctl, 2 * count, 1);
    Atomics.notify(ctl, 2 * count);
  }
});
