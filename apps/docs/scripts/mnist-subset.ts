/**
 * Writes the MNIST subset the browser examples train on: the first 2,000
 * training and 500 test images of the original files (read offline through
 * @bp/datasets' loadMnist), as IDX files under public/data/mnist/, so the
 * site serves them itself and a page parses them with `mnistFromIdx`.
 *
 *   tsx --conditions=@bp/source scripts/mnist-subset.ts [outDir]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMnist } from '@bp/datasets';
import type { Tensor } from '@bp/tensor';

export const SUBSET = { train: 2000, test: 500 } as const;

function header(magic: number, dims: number[]): Uint8Array {
  const b = new Uint8Array(4 + 4 * dims.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, magic);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d));
  return b;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Images in [0, 1] back to the bytes they were read from (loadMnist divides by 255). */
function imageBytes(images: Tensor): Uint8Array {
  const f = images.dataSync();
  const out = new Uint8Array(f.length);
  for (let i = 0; i < f.length; i++) out[i] = Math.round(f[i] * 255);
  return out;
}

async function main(): Promise<void> {
  const outDir = process.argv[2] ?? fileURLToPath(new URL('../public/data/mnist/', import.meta.url));
  await mkdir(outDir, { recursive: true });
  for (const split of ['train', 'test'] as const) {
    const n = SUBSET[split];
    const { images, labels } = await loadMnist({ split, limit: n });
    const imgs = concat(header(0x00000803, [n, 28, 28]), imageBytes(images));
    const labs = concat(header(0x00000801, [n]), Uint8Array.from(labels.dataSync()));
    await writeFile(join(outDir, `${split}-${n}-images.idx`), imgs);
    await writeFile(join(outDir, `${split}-${n}-labels.idx`), labs);
    console.log(`mnist ${split}: ${n} images -> ${join(outDir, `${split}-${n}-*.idx`)} (${imgs.length + labs.length} bytes)`);
  }
}

await main();
