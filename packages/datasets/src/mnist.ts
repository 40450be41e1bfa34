import { ArgumentError, FormatError, tensor, type Tensor } from '@bp/tensor';
import { parseIdx } from './idx.js';
import { optionsOf } from './options.js';

/** Which half of MNIST (or Fashion-MNIST) to load: 60,000 training or 10,000 test images. */
export type MnistSplit = 'train' | 'test';

/** An image dataset as tensors: `images` float32 `[N, 1, 28, 28]` in [0, 1], `labels` int32 `[N]`. */
export interface ImageDataset {
  /** float32 `[N, 1, 28, 28]`, pixel intensities scaled to [0, 1] (as torchvision's `ToTensor`). */
  images: Tensor;
  /** int32 `[N]`, class ids 0-9. */
  labels: Tensor;
}

/** Mean pixel intensity of the MNIST training set, the value every PyTorch MNIST example normalizes with. */
export const MNIST_MEAN = 0.1307;
/** Standard deviation of the MNIST training pixels, paired with {@link MNIST_MEAN}. */
export const MNIST_STD = 0.3081;

/** MNIST's class names: the digits `'0'` to `'9'`, indexed by label. */
export const MNIST_CLASSES: readonly string[] = Object.freeze(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);

/** Fashion-MNIST's class names, indexed by label (as in Zalando's README). */
export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);

/** The original file names of each split (MNIST and Fashion-MNIST share them), without `.gz`. */
export const MNIST_FILES: Readonly<Record<MnistSplit, { images: string; labels: string }>> = Object.freeze({
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
});

const IMAGES_MAGIC = 0x00000803;
const LABELS_MAGIC = 0x00000801;
const SIDE = 28;
const NUM_CLASSES = 10;

/** byte / 255 rounded to float32, exactly what `torch.ByteTensor.float() / 255` gives. */
const SCALE = new Float32Array(256);
for (let i = 0; i < 256; i++) SCALE[i] = i / 255;

/**
 * The 256 pixel values `(byte / 255 - mean) / std`, each step rounded to float32 as the
 * tensor ops `x.sub(mean).div(std)` round it.
 */
export function normalizedScale(op: string, stats: { mean: number; std: number }): Float32Array {
  const { mean, std } = stats ?? ({} as { mean: number; std: number });
  if (typeof mean !== 'number' || !Number.isFinite(mean) || typeof std !== 'number' || !Number.isFinite(std) || std === 0) {
    const shown = stats !== null && typeof stats === 'object' ? `{ mean: ${String(mean)}, std: ${String(std)} }` : String(stats);
    throw new ArgumentError(op, `normalize must be { mean, std } with finite numbers and std not zero, got ${shown}`);
  }
  const m = Math.fround(mean);
  const s = Math.fround(std);
  const table = SCALE.map((v) => Math.fround(Math.fround(v - m) / s));
  // Finite as doubles, but not as float32 (a mean of 1e39, a std of 1e-45): the pixels would be infinite.
  const bad = table.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new ArgumentError(
      op,
      `normalize { mean: ${mean}, std: ${std} } turns pixel value ${bad} into ${table[bad]} in float32; use a mean and std of the pixels' scale (such as MNIST_MEAN and MNIST_STD)`,
    );
  }
  return table;
}

/** Options for {@link mnistFromIdx}. */
export interface MnistFromIdxOptions {
  /** Keep only the first `limit` examples. */
  limit?: number;
  /** Name of the images file, for error messages. */
  imagesName?: string;
  /** Name of the labels file, for error messages. */
  labelsName?: string;
  /**
   * Standardize the pixels while decoding them: `(pixel / 255 - mean) / std`, the same float32
   * values as {@link normalize} gives afterwards, without a second full-size copy of the images
   * (e.g. `{ mean: MNIST_MEAN, std: MNIST_STD }`).
   */
  normalize?: { mean: number; std: number };
}

/** Checks `limit` and returns how many examples to keep out of `n`. */
export function resolveLimit(op: string, limit: number | undefined, n: number): number {
  if (limit === undefined) return n;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new ArgumentError(
      op,
      `limit must be a non-negative integer, got ${typeof limit === 'string' ? JSON.stringify(limit) : String(limit)}`,
    );
  }
  return Math.min(limit, n);
}

/**
 * Builds MNIST-style tensors from the bytes of an images file and a labels
 * file (decompressed). Browser-safe: fetch the files yourself and pass them in.
 * Checks the magic numbers (0x00000803 images, 0x00000801 labels), 28x28
 * images, matching item counts and labels in 0-9, failing with a
 * {@link FormatError} that names the file.
 */
export function mnistFromIdx(images: Uint8Array, labels: Uint8Array, options?: MnistFromIdxOptions | null): ImageDataset {
  const opts = optionsOf('mnistFromIdx', options, ['imagesName', 'labelsName', 'limit', 'normalize']);
  const imagesName = opts.imagesName ?? 'images';
  const labelsName = opts.labelsName ?? 'labels';
  const img = parseIdx(images, imagesName);
  const lab = parseIdx(labels, labelsName);
  if (img.magic !== IMAGES_MAGIC) {
    throw new FormatError(
      imagesName,
      `bad magic number 0x${img.magic.toString(16).padStart(8, '0')}: an images file has 0x00000803 (unsigned bytes, 3 dimensions)`,
    );
  }
  if (lab.magic !== LABELS_MAGIC) {
    throw new FormatError(
      labelsName,
      `bad magic number 0x${lab.magic.toString(16).padStart(8, '0')}: a labels file has 0x00000801 (unsigned bytes, 1 dimension)`,
    );
  }
  if (img.shape[1] !== SIDE || img.shape[2] !== SIDE) {
    throw new FormatError(imagesName, `expected ${SIDE}x${SIDE} images, got ${img.shape[1]}x${img.shape[2]}`);
  }
  const count = img.shape[0];
  if (lab.shape[0] !== count) {
    throw new FormatError(labelsName, `holds ${lab.shape[0]} labels but ${imagesName} holds ${count} images`);
  }
  const n = resolveLimit('mnistFromIdx', opts.limit, count);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = lab.data[i];
    if (v >= NUM_CLASSES) throw new FormatError(labelsName, `label ${v} at index ${i} is not a class id 0-9`);
    y[i] = v;
  }
  const px = SIDE * SIDE;
  const x = new Float32Array(n * px);
  const src = img.data;
  const table = opts.normalize === undefined ? SCALE : normalizedScale('mnistFromIdx', opts.normalize);
  for (let i = 0; i < x.length; i++) x[i] = table[src[i]];
  // x and y are ours alone: the CPU backend keeps them as the tensors' storage, so the training
  // set is not held twice while it is loaded.
  return {
    images: tensor(x, { shape: [n, 1, SIDE, SIDE], copy: false }),
    labels: tensor(y, { shape: [n], dtype: 'int32', copy: false }),
  };
}
