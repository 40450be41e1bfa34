import { ArgumentError, ShapeError, Tensor, fmtShape, gather, narrow, randomPermutation, stack, tensor } from '@bp/tensor';
import { optionsOf } from './options.js';
import type { TensorPair } from './synthetic.js';

/** The most examples a {@link Dataset} may hold (2^31 - 1): a shuffled pass draws a permutation of them all. */
const MAX_DATASET_LENGTH = 2 ** 31 - 1;

/** One example of a {@link Dataset}: an input tensor and its target (a tensor, or a number such as a class id). */
export interface Example {
  /** The input, without a batch axis. */
  x: Tensor;
  /** The target, without a batch axis; numbers become a 1-d batch tensor. */
  y: Tensor | number;
}

/**
 * A dataset read one example at a time (PyTorch's map-style `Dataset`): for
 * data that is not one big tensor, e.g. generated or decoded on demand.
 * The {@link DataLoader} stacks examples into batches.
 */
export interface Dataset {
  /** Number of examples. */
  readonly length: number;
  /** The example at `index`, `0 <= index < length`. */
  get(index: number): Example;
}

/** Options for {@link DataLoader}; the defaults are PyTorch's. */
export interface DataLoaderOptions {
  /** Examples per batch (default 1). */
  batchSize?: number;
  /** Draw a new random order at the start of every pass, from the generator seeded by `manualSeed` (default false). */
  shuffle?: boolean;
  /** Leave out the last batch when it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
}

function isTensorPair(d: unknown): d is TensorPair {
  return typeof d === 'object' && d !== null && (d as TensorPair).x instanceof Tensor && (d as TensorPair).y instanceof Tensor;
}

function isDataset(d: unknown): d is Dataset {
  return typeof d === 'object' && d !== null && typeof (d as Dataset).get === 'function';
}

/** Refuses a dataset length that is not an integer from 0 to {@link MAX_DATASET_LENGTH}. */
function checkLength(length: unknown): number {
  if (!(typeof length === 'number' && Number.isInteger(length) && length >= 0 && length <= MAX_DATASET_LENGTH)) {
    throw new ArgumentError(
      'DataLoader',
      `dataset.length must be an integer from 0 to ${MAX_DATASET_LENGTH}, got ${typeof length === 'string' ? JSON.stringify(length) : String(length)}`,
    );
  }
  return length;
}

function booleanOption(name: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') {
    throw new ArgumentError('DataLoader', `${name} must be true or false, got ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
  }
  return v;
}

/**
 * Splits a dataset into mini-batches of `{ x, y }`, optionally reshuffled every
 * pass, as PyTorch's `DataLoader`. Iterate it with `for await` (or plain `for`:
 * it is sync-iterable too); each pass over it is one epoch.
 *
 * The dataset is either a pair of tensors sharing their first axis, e.g. what
 * `loadMnist` or `moons()` return (`{ x: images, y: labels }`), or any
 * {@link Dataset}.
 *
 * @example
 * manualSeed(0);
 * const loader = new DataLoader({ x: images, y: labels }, { batchSize: 64, shuffle: true });
 * for (let epoch = 0; epoch < 3; epoch++) {
 *   for await (const { x, y } of loader) {
 *     // x: [64, 1, 28, 28], y: [64]
 *   }
 * }
 */
export class DataLoader implements Iterable<TensorPair>, AsyncIterable<TensorPair> {
  /** The data being batched. */
  readonly dataset: TensorPair | Dataset;
  /** Examples per batch. */
  readonly batchSize: number;
  /** Whether each pass draws a new order. */
  readonly shuffle: boolean;
  /** Whether a last, smaller batch is left out. */
  readonly dropLast: boolean;

  constructor(dataset: TensorPair | Dataset, options?: DataLoaderOptions | null) {
    const op = 'DataLoader';
    const opts = optionsOf(op, options, ['batchSize', 'shuffle', 'dropLast']);
    if (isTensorPair(dataset)) {
      const { x, y } = dataset;
      if (x.rank === 0 || y.rank === 0 || x.shape[0] !== y.shape[0]) {
        throw new ShapeError(op, `x ${fmtShape(x.shape)} and y ${fmtShape(y.shape)} must share their first (example) axis`);
      }
    } else if (!isDataset(dataset)) {
      throw new ArgumentError(op, 'dataset must be { x, y } tensors sharing their first axis, or an object with length and get(index)');
    } else {
      checkLength(dataset.length);
    }
    const batchSize = opts.batchSize ?? 1;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ArgumentError(op, `batchSize must be a positive integer, got ${String(batchSize)}`);
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = booleanOption('shuffle', opts.shuffle);
    this.dropLast = booleanOption('dropLast', opts.dropLast);
  }

  /** Number of examples in the dataset. */
  get numExamples(): number {
    // A Dataset's length is read again each time (it may change), so it is checked again.
    return isTensorPair(this.dataset) ? this.dataset.x.shape[0] : checkLength(this.dataset.length);
  }

  /** Number of batches in one pass (PyTorch's `len(loader)`). */
  get length(): number {
    const n = this.numExamples;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** One pass over the data (one epoch); with `shuffle`, in a new order each time. */
  *[Symbol.iterator](): Iterator<TensorPair> {
    const n = this.numExamples;
    const order = this.shuffle ? randomPermutation(n) : null;
    const batches = this.length;
    for (let b = 0; b < batches; b++) {
      const start = b * this.batchSize;
      const size = Math.min(this.batchSize, n - start);
      yield this.batch(order, start, size);
    }
  }

  /** The same batches as the sync iterator, for `for await` loops. */
  async *[Symbol.asyncIterator](): AsyncIterator<TensorPair> {
    for (const batch of this) yield batch;
  }

  private batch(order: Int32Array | null, start: number, size: number): TensorPair {
    const d = this.dataset;
    if (isTensorPair(d)) {
      if (order === null) return { x: narrow(d.x, 0, start, size), y: narrow(d.y, 0, start, size) };
      const idx = tensor(order.subarray(start, start + size), { shape: [size], dtype: 'int32' });
      const batch = { x: gather(d.x, idx, 0), y: gather(d.y, idx, 0) };
      // Released now (a GPU backend's memory is not the garbage collector's to see), unless a
      // gradient through the gather will read it.
      if (!d.x.requiresGrad && !d.y.requiresGrad) idx.dispose();
      return batch;
    }
    const xs: Tensor[] = [];
    const ys: (Tensor | number)[] = [];
    for (let i = 0; i < size; i++) {
      const index = order === null ? start + i : order[start + i];
      const ex = d.get(index);
      if (!ex || !(ex.x instanceof Tensor) || !(ex.y instanceof Tensor || typeof ex.y === 'number')) {
        throw new ArgumentError('DataLoader', `dataset.get(${index}) must return { x: Tensor, y: Tensor | number }`);
      }
      xs.push(ex.x);
      ys.push(ex.y);
    }
    return { x: stack(xs, 0), y: stackTargets(ys) };
  }
}

function stackTargets(ys: (Tensor | number)[]): Tensor {
  if (ys.every((v) => typeof v === 'number')) {
    const nums = ys as number[];
    return tensor(nums, { dtype: nums.every(Number.isInteger) ? 'int32' : 'float32' });
  }
  if (ys.some((v) => typeof v === 'number')) {
    throw new ArgumentError('DataLoader', 'targets must be all tensors or all numbers within a dataset');
  }
  return stack(ys as Tensor[], 0);
}
