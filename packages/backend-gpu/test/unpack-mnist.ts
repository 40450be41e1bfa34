import type { MnistSubset } from './keras-mlp.js';

/** Reverses `packMnist` (test/mnist-bytes.ts); runs in the browser page. */
export function unpackMnist(buf: ArrayBuffer): MnistSubset {
  const [nTrain, nTest, side] = new Int32Array(buf, 0, 4);
  if (side !== 784) throw new Error(`unpackMnist: expected 784 pixels per image, got ${side}`);
  const bytes = new Uint8Array(buf);
  let o = 16;
  const take = (n: number) => bytes.subarray(o, (o += n));
  const train = { images: take(nTrain * 784), labels: take(nTrain) };
  const test = { images: take(nTest * 784), labels: take(nTest) };
  return { train, test };
}
