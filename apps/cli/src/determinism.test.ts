// The same seeded run gives byte-identical weights on the CPU backend whatever the number of
// kernel threads (BP_CPU_THREADS): the matrix products split output columns between threads,
// the convolution sums its per-group products in group order, and a weight gradient finished on a
// worker is the same product as on the calling thread. The long form,
// scripts/reliability/determinism.mjs, repeats full MNIST runs and prints JSON.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { plainEnv, runCli, tempDir, writeTinyMnist } from './testing/run-cli.js';

const SLOW = 240_000;

async function weightsHash(args: string[], threads: number): Promise<string> {
  const out = await tempDir();
  const r = await runCli([...args, '--out', out], { env: plainEnv({ BP_CPU_THREADS: String(threads) }) });
  expect(r.code, r.stderr).toBe(0);
  return createHash('sha256')
    .update(await readFile(join(out, 'model.safetensors')))
    .digest('hex');
}

describe('determinism across thread counts', () => {
  it(
    'MLP and CNN on MNIST-format data: the same weights with 1, 2 and 4 threads, run twice',
    async () => {
      const data = await writeTinyMnist(640, 40);
      for (const model of ['mlp', 'cnn']) {
        // Batches of 64: the MLP's products (64 x 784 x 128) pass the threading threshold.
        const args = ['train', 'mnist', '--model', model, '--data-dir', data, '--epochs', '2', '--batch-size', '64', '--seed', '3'];
        const hashes = [];
        for (const threads of [1, 2, 4, 1, 2, 4]) hashes.push(await weightsHash(args, threads));
        expect(new Set(hashes).size, `${model}: ${hashes.join(' ')}`).toBe(1);
      }
    },
    SLOW,
  );

  it(
    'GPT on the names corpus: the same weights with 1 and 2 threads (weight gradients finished on a worker)',
    async () => {
      // 600 windows of 16 characters: 17 steps of batch 32 an epoch, the linear layers' gradients
      // past the threading threshold.
      const args = ['train', 'names', '--model', 'gpt', '--limit', '600', '--epochs', '2', '--seed', '7'];
      const hashes = [];
      for (const threads of [1, 2, 1, 2]) hashes.push(await weightsHash(args, threads));
      expect(new Set(hashes).size, hashes.join(' ')).toBe(1);
    },
    SLOW,
  );
});
