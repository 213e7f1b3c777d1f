export declare const MNIST_ORDER_SEED: number;
export declare const MNIST_PIXELS: number;
/** All 10,000 digits of the `mnist` package in the canonical (seeded-shuffle) order. */
export declare function loadMnist(): { count: number; images: Float32Array; labels: Uint8Array };
export declare function encodeMnist(d: {
  count: number;
  images: Float32Array;
  labels: Uint8Array;
}): Uint8Array;
