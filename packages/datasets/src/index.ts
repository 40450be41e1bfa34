/**
 * @bp/datasets: MNIST and Fashion-MNIST from the original IDX files, small
 * synthetic problems (XOR, spirals, moons, circles, linear regression), a
 * PyTorch-style DataLoader and normalisation helpers. Every random draw goes
 * through @bp/tensor's generator, so `manualSeed` makes it reproducible.
 *
 * File access (`loadMnist`, `loadFashionMnist`) is Node-only and loaded on
 * demand; everything else, `parseIdx` and `mnistFromIdx` included, runs in
 * browsers.
 *
 * @example
 * import { manualSeed } from '@bp/tensor';
 * import { loadMnist, DataLoader } from '@bp/datasets';
 * manualSeed(42);
 * const { images, labels } = await loadMnist({ split: 'train' });
 * for await (const { x, y } of new DataLoader({ x: images, y: labels }, { batchSize: 32, shuffle: true })) {
 *   // train on x [32,1,28,28], y [32]
 * }
 *
 * @packageDocumentation
 */
export { parseIdx, isGzip } from './idx.js';
export type { IdxArray } from './idx.js';
export { mnistFromIdx, MNIST_MEAN, MNIST_STD, MNIST_CLASSES, FASHION_MNIST_CLASSES, MNIST_FILES } from './mnist.js';
export type { ImageDataset, MnistSplit, MnistFromIdxOptions } from './mnist.js';
export { loadMnist, loadFashionMnist } from './load-mnist.js';
export type { LoadMnistOptions, LoadFashionMnistOptions } from './load-mnist.js';
export { xor, spirals, moons, circles, linearRegression } from './synthetic.js';
export type {
  TensorPair,
  LinearRegressionData,
  SpiralsOptions,
  MoonsOptions,
  CirclesOptions,
  LinearRegressionOptions,
} from './synthetic.js';
export { DataLoader } from './data-loader.js';
export type { Dataset, Example, DataLoaderOptions } from './data-loader.js';
export { normalize } from './normalize.js';
