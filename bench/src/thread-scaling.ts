/**
 * The matrix product's rate against the number of threads: square products of each size on
 * 1, 2, 4, ... threads up to the machine's cores, every product split over all of them
 * (`setThreadPolicy('all')`), medians of a few runs on raw arrays (matmul-peak.ts' `rate`). Prints JSON.
 *
 *   npx tsx --conditions=@bp/source src/thread-scaling.ts [--sizes=256,512,1024,2048]
 */
import { availableParallelism, cpus } from 'node:os';
import { cpuBackend } from '@bp/tensor';
import { setThreadPolicy } from '@bp/tensor/internal';
import { rate, ready } from './matmul-peak.js';

const sizesArg = process.argv.find((a) => a.startsWith('--sizes='));
const sizes = (sizesArg ? sizesArg.slice(8) : '256,512,1024,2048').split(',').map(Number);
const counts: number[] = [];
for (let t = 1; t < availableParallelism(); t *= 2) counts.push(t);
counts.push(availableParallelism());

setThreadPolicy('all');
const gflops: Record<string, Record<string, number>> = {};
for (const threads of counts) {
  const be = cpuBackend({ threads });
  await ready(be, threads);
  const row: Record<string, number> = {};
  for (const n of sizes) row[n] = Number(rate(be, n, n >= 2048 ? 3 : 7).toFixed(1));
  gflops[threads] = row;
}
console.log(JSON.stringify({ cpu: cpus()[0]?.model, cores: availableParallelism(), gflopsByThreads: gflops }, null, 1));
process.exit(0);
