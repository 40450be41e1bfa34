#!/usr/bin/env node
// The long form of the file fuzzers that run in `pnpm test` with a few thousand cases each:
// the IDX parser and MNIST builder, the safetensors decoder and model loader, the
// checkpoint reader of `bp train --resume` (with the architecture a checkpoint keeps), the
// PNG reader of `bp predict`, and the lock file of a run directory. Prints one JSON object (cases, accepted,
// refused, the reasons and the slowest case per suite) and exits 1 if any suite failed.
//
//   node scripts/reliability/fuzz.mjs --cases 100000 [--only layers]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SUITES = [
  ['packages/datasets', 'src/idx.fuzz.test.ts'],
  ['packages/layers', 'src/io/model-files.fuzz.test.ts'],
  ['apps/cli', 'src/checkpoint.fuzz.test.ts'],
  ['apps/cli', 'src/png-digit.fuzz.test.ts', 'mutated PNG'],
  ['apps/cli', 'src/run-dir.test.ts', 'fuzz'],
];

function flag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const cases = Number(flag('cases', '20000'));
if (!Number.isInteger(cases) || cases <= 0) {
  console.error(`fuzz.mjs: --cases must be a positive integer, got ${flag('cases')}`);
  process.exit(2);
}

const tmp = mkdtempSync(join(tmpdir(), 'bp-fuzz-'));
const reportFile = join(tmp, 'reports.jsonl');
const runs = [];
let failed = false;
const only = flag('only', '');
for (const [pkg, file, name] of SUITES.filter(([pkg, file]) => `${pkg}/${file}`.includes(only))) {
  const t0 = Date.now();
  const r = spawnSync(join(root, 'node_modules', '.bin', 'vitest'), ['run', file, '--testTimeout', '0', ...(name ? ['-t', name] : [])], {
    cwd: join(root, pkg),
    env: { ...process.env, BP_FUZZ_CASES: String(cases), BP_FUZZ_REPORT: reportFile },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const ok = r.status === 0;
  failed ||= !ok;
  runs.push({ package: pkg, file, ok, seconds: (Date.now() - t0) / 1000 });
  if (!ok) process.stderr.write(`${pkg}/${file} failed:\n${r.stdout}\n${r.stderr}\n`);
}
let suites = [];
try {
  suites = readFileSync(reportFile, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
} catch {
  /* no suite got far enough to report */
}
rmSync(tmp, { recursive: true, force: true });
console.log(JSON.stringify({ casesPerSuite: cases, runs, suites }, null, 2));
process.exit(failed ? 1 : 0);
