#!/usr/bin/env node
// Deterministic memory, long form: 10,000 synchronous training steps and 10,000 synchronous
// eval steps of a 2-64-64-3 MLP (then fit and evaluate) on the CPU and GPU backends, with the
// live storage count and RSS sampled as it runs. Prints JSON; exits 1 if either grew.
//
//   node scripts/reliability/sync-loop.mjs [--steps 10000] [--backends cpu,gpu]
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'backend-gpu');
const r = spawnSync(process.execPath, ['bench/bench.mjs', 'bench/sync-loop.ts', ...process.argv.slice(2)], { cwd: pkg, stdio: 'inherit' });
process.exit(r.status ?? 1);
