#!/usr/bin/env node
// The long form of the memory check in `pnpm test`: trains a small MLP on spirals for 20
// epochs (or --epochs N) on the CPU backend and on the GPU backend (gpu.js), and compares
// RSS, the JS heap and the live device-tensor count, each after a full garbage collection,
// at the last epoch with epoch 2. Prints JSON; exits 1 if any grew by more than 10%.
//
//   node scripts/reliability/memory-flat.mjs [--epochs 20] [--backends cpu,gpu]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
function flag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const epochs = Number(flag('epochs', '20'));
const backends = flag('backends', 'cpu,gpu');
if (!Number.isInteger(epochs) || epochs < 3) {
  console.error(`memory-flat.mjs: --epochs must be an integer >= 3, got ${flag('epochs')}`);
  process.exit(2);
}

const tmp = mkdtempSync(join(tmpdir(), 'bp-memory-'));
const report = join(tmp, 'report.jsonl');
const r = spawnSync(join(root, 'node_modules', '.bin', 'vitest'), ['run', 'src/memory.test.ts', '--testTimeout', '0'], {
  cwd: join(root, 'packages', 'backend-gpu'),
  env: { ...process.env, BP_MEMORY_EPOCHS: String(epochs), BP_MEMORY_BACKENDS: backends, BP_MEMORY_REPORT: report },
  encoding: 'utf8',
});
let runs = [];
try {
  runs = readFileSync(report, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
} catch {
  /* the test failed before reporting */
}
rmSync(tmp, { recursive: true, force: true });
const pct = (v) => (v === null ? null : Math.round(v * 1000) / 10);
const summary = runs.map(({ backend, samples, growth }) => {
  const a = samples.find((s) => s.epoch === 2);
  const b = samples[samples.length - 1];
  return {
    backend,
    epochs: samples.length,
    epoch2: { rssMB: +a.rssMB.toFixed(1), heapMB: +a.heapMB.toFixed(1), liveTensors: a.liveTensors },
    last: { rssMB: +b.rssMB.toFixed(1), heapMB: +b.heapMB.toFixed(1), liveTensors: b.liveTensors },
    growthPct: { rss: pct(growth.rss), heap: pct(growth.heap), liveTensors: pct(growth.liveTensors) },
    loss: { first: +samples[0].loss.toFixed(4), last: +b.loss.toFixed(4) },
  };
});
const ok = r.status === 0;
console.log(JSON.stringify({ ok, limitPct: 10, runs: summary }, null, 2));
if (!ok) process.stderr.write(`${r.stdout}\n${r.stderr}\n`);
process.exit(ok ? 0 : 1);
