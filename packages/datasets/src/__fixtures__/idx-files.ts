import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** Encodes an unsigned-byte IDX file: magic 0x000008<rank>, big-endian dimensions, then the values. */
export function idxBytes(shape: number[], values: ArrayLike<number>, magic = 0x0800 + shape.length): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + values.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, false);
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(Array.from(values), 4 + 4 * shape.length);
  return out;
}

/** `n` 28x28 images whose pixel `p` of image `i` is `(i * 31 + p) % 256`, so every byte value occurs. */
export function imagePixels(n: number): Uint8Array {
  const px = new Uint8Array(n * 784);
  for (let i = 0; i < n; i++) for (let p = 0; p < 784; p++) px[i * 784 + p] = (i * 31 + p) % 256;
  return px;
}

/** A fresh temporary directory. */
export function tempDir(prefix = 'bp-datasets-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes an images file and a labels file for `labels.length` generated images into `dir`. */
export function writeMnistPair(dir: string, prefix: 'train' | 't10k', labels: number[], opts: { gzip?: boolean } = {}): void {
  mkdirSync(dir, { recursive: true });
  const images = idxBytes([labels.length, 28, 28], imagePixels(labels.length));
  const labelBytes = idxBytes([labels.length], labels);
  const ext = opts.gzip ? '.gz' : '';
  writeFileSync(join(dir, `${prefix}-images-idx3-ubyte${ext}`), opts.gzip ? gzipSync(images) : images);
  writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte${ext}`), opts.gzip ? gzipSync(labelBytes) : labelBytes);
}
