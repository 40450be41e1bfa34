#!/usr/bin/env node
// Runs the same seeded `bp train` N times on the CPU backend, cycling the kernel thread count
// (BP_CPU_THREADS), and compares the SHA-256 of the saved weights and the reported test
// accuracy. Prints one JSON object; exits 1 unless every run wrote byte-identical weights.
//
//   node scripts/reliability/determinism.mjs [--runs 6] [--threads 1,2,4] [--dataset mnist]
//        [--epochs 1] [--limit N] [--model mlp|cnn] [--seed 42] [--data-dir DIR]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'apps', 'cli', 'bin', 'bp.mjs');

function flag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const runs = Number(flag('runs', '6'));
const threads = flag('threads', '1,2,4').split(',').map(Number);
const dataset = flag('dataset', 'mnist');
const epochs = flag('epochs', '1');
const limit = flag('limit', undefined);
const model = flag('model', 'mlp');
const seed = flag('seed', '42');
const dataDir = flag('data-dir', undefined);
if (!Number.isInteger(runs) || runs < 2 || threads.some((t) => !Number.isInteger(t) || t < 1)) {
  console.error('determinism.mjs: --runs must be an integer >= 2 and --threads a list of positive integers');
  process.exit(2);
}

const tmp = mkdtempSync(join(tmpdir(), 'bp-determinism-'));
const results = [];
try {
  for (let r = 0; r < runs; r++) {
    const t = threads[r % threads.length];
    const out = join(tmp, `run-${r}`);
    const args = [bin, 'train', dataset, '--model', model, '--epochs', epochs, '--seed', seed, '--backend', 'cpu', '--out', out, '--json'];
    if (limit !== undefined) args.push('--limit', limit);
    if (dataDir !== undefined) args.push('--data-dir', dataDir);
    const t0 = Date.now();
    const p = spawnSync(process.execPath, args, {
      env: { ...process.env, BP_CPU_THREADS: String(t) },
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    if (p.status !== 0) {
      console.error(`run ${r} (BP_CPU_THREADS=${t}) failed with ${p.status}:\n${p.stderr}`);
      process.exit(1);
    }
    const final = JSON.parse(p.stdout.trim().split('\n').pop());
    const weights = readFileSync(join(out, 'model.safetensors'));
    results.push({
      run: r,
      threads: t,
      sha256: createHash('sha256').update(weights).digest('hex'),
      test_accuracy: final.test_accuracy,
      test_loss: final.test_loss,
      seconds: (Date.now() - t0) / 1000,
    });
    rmSync(out, { recursive: true, force: true });
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const hashes = new Set(results.map((r) => r.sha256));
const accuracies = new Set(results.map((r) => r.test_accuracy));
const identical = hashes.size === 1;
console.log(
  JSON.stringify(
    {
      dataset,
      model,
      epochs: Number(epochs),
      limit: limit === undefined ? null : Number(limit),
      seed: Number(seed),
      runs: results,
      distinctWeights: hashes.size,
      distinctAccuracies: accuracies.size,
      identical,
    },
    null,
    2,
  ),
);
process.exit(identical ? 0 : 1);
