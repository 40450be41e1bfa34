/**
 * The matrix product's rate against the number of threads: square products of each size on
 * 1, 2, 4, ... threads up to the machine's cores, every product split over all of them
 * (`setThreadPolicy('all')`), medians of a few runs on raw arrays. Prints JSON.
 *
 *   npx tsx --conditions=@bp/source src/thread-scaling.ts [--sizes=256,512,1024,2048]
 */
import { availableParallelism, cpus } from 'node:os';
import { cpuBackend } from '@bp/tensor';
import { setThreadPolicy } from '@bp/tensor/internal';
import { median } from './workload.js';

function rnd(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

const sizesArg = process.argv.find((a) => a.startsWith('--sizes='));
const sizes = (sizesArg ? sizesArg.slice(8) : '256,512,1024,2048').split(',').map(Number);
const counts: number[] = [];
for (let t = 1; t < availableParallelism(); t *= 2) counts.push(t);
counts.push(availableParallelism());

setThreadPolicy('all');
const gflops: Record<string, Record<string, number>> = {};
for (const threads of counts) {
  const be = cpuBackend({ threads });
  // The workers start in the background: give them a moment before timing.
  await new Promise((r) => setTimeout(r, 300));
  const row: Record<string, number> = {};
  for (const n of sizes) {
    const a = rnd(n * n, n);
    const b = rnd(n * n, n + 1);
    be.matmul(a, b, 1, 1, n, n, n, false, false);
    const times: number[] = [];
    for (let i = 0; i < (n >= 2048 ? 3 : 7); i++) {
      const t0 = performance.now();
      be.matmul(a, b, 1, 1, n, n, n, false, false);
      times.push((performance.now() - t0) / 1000);
    }
    row[n] = Number(((2 * n ** 3) / median(times) / 1e9).toFixed(1));
  }
  gflops[threads] = row;
}
console.log(JSON.stringify({ cpu: cpus()[0]?.model, cores: availableParallelism(), gflopsByThreads: gflops }, null, 1));
process.exit(0);
