/**
 * `pnpm bench`: bp against PyTorch and TensorFlow.js (wasm) on the same machine, in one run.
 * Prints one JSON object. Flags (or env): `--short` (BP_BENCH_SHORT=1) times 300 steps per
 * MLP instead of a whole epoch; `--no-torch`, `--no-tfjs` skip a comparison; `--no-mlp` times
 * matmul only; `--no-simd` runs bp with its plain TypeScript kernels, `--threads=N` with N threads.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import '@bp/autograd';
import { cpuBackend, getBackend, setBackend } from '@bp/tensor';
import { bpBackendInfo, bpMatmulGflops, bpMlpEpoch } from './bp-bench.js';
import { loadTfjsWasm, tfjsMatmulGflops, tfjsMlpEpoch } from './tfjs-bench.js';
import type { MlpResult } from './workload.js';

const argv = process.argv.slice(2);
const short = argv.includes('--short') || process.env.BP_BENCH_SHORT === '1';
const steps = short ? 300 : 0;
const reps = short ? 3 : 7;
const samples = 60000;
const sizes = [256, 512, 1024];
const batches = [32, 128];
const noMlp = argv.includes('--no-mlp');
const threadsArg = argv.find((a) => a.startsWith('--threads='));
if (argv.includes('--no-simd')) await setBackend(cpuBackend({ simd: false }));
else if (threadsArg) await setBackend(cpuBackend({ threads: Number(threadsArg.slice(10)) }));
// Worker threads start in the background; give them a moment so the timed work can use them.
for (let i = 0; i < 100 && Number(getBackend().info?.().threads ?? 1) < 2; i++) await new Promise((r) => setTimeout(r, 20));
const python = process.env.BP_BENCH_PYTHON ?? '/usr/bin/python3';

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

type Side = { matmulGflops: Record<string, number>; mlp: Record<string, MlpResult> } & Record<string, unknown>;

function runBp(): Side {
  const matmulGflops: Record<string, number> = {};
  for (const n of sizes) {
    matmulGflops[n] = bpMatmulGflops(n, reps);
    log(`bp matmul ${n}: ${matmulGflops[n].toFixed(2)} GFLOP/s`);
  }
  const mlp: Record<string, MlpResult> = {};
  for (const b of noMlp ? [] : batches) {
    mlp[b] = bpMlpEpoch({ batchSize: b, samples, steps });
    log(`bp mlp batch ${b}: ${mlp[b].epochSeconds.toFixed(2)} s/epoch`);
  }
  return {
    backend: bpBackendInfo(),
    training: 'raw @bp/tensor + @bp/autograd ops (matmul + bias, relu, logSoftmax + one-hot NLL, Adam via assign in noGrad); no @bp/layers',
    matmulGflops,
    mlp,
  };
}

function runTorch(threads: number): Side | { skipped: string } {
  if (argv.includes('--no-torch')) return { skipped: '--no-torch' };
  if (!existsSync(python)) return { skipped: `${python} not found (set BP_BENCH_PYTHON)` };
  const script = fileURLToPath(new URL('../src/torch_bench.py', import.meta.url));
  log(`running PyTorch with ${threads} thread(s)...`);
  const args = [script, '--steps', String(noMlp ? -1 : steps), '--reps', String(reps), '--samples', String(samples), '--threads', String(threads)];
  const r = spawnSync(python, args, {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || '').trim().split('\n').pop() ?? 'unknown error';
    return { skipped: `PyTorch benchmark failed: ${why}` };
  }
  return JSON.parse(r.stdout) as Side;
}

async function runTfjs(): Promise<Side | { skipped: string }> {
  if (argv.includes('--no-tfjs')) return { skipped: '--no-tfjs' };
  const loaded = await loadTfjsWasm();
  if ('error' in loaded) return { skipped: loaded.error };
  const { tf, info } = loaded;
  const matmulGflops: Record<string, number> = {};
  for (const n of sizes) matmulGflops[n] = tfjsMatmulGflops(tf, n, reps);
  log(`tfjs matmul: ${JSON.stringify(matmulGflops)}`);
  const mlp: Record<string, MlpResult> = {};
  for (const b of noMlp ? [] : batches) {
    mlp[b] = tfjsMlpEpoch(tf, { batchSize: b, samples, steps });
    log(`tfjs mlp batch ${b}: ${mlp[b].epochSeconds.toFixed(2)} s/epoch`);
  }
  return { ...info, matmulGflops, mlp };
}

/** bp relative to another library: time ratios (lower is better) and throughput ratios (higher is better). */
function ratios(bp: Side, other: Side | { skipped: string }): Record<string, number> | string {
  if ('skipped' in other) return `skipped: ${other.skipped}`;
  const out: Record<string, number> = {};
  for (const n of sizes) out[`matmul${n}Throughput`] = round(bp.matmulGflops[n] / other.matmulGflops[n]);
  for (const b of noMlp ? [] : batches) out[`mlpBatch${b}Time`] = round(bp.mlp[b].epochSeconds / other.mlp[b].epochSeconds);
  return out;
}

const started = performance.now();
const bp = runBp();
// Two threads as in the reference; one thread too, because OpenMP's spinning threads
// slow PyTorch down badly whenever anything else runs on a two-core machine.
const torch = runTorch(2);
const torch1 = runTorch(1);
const tfjs = await runTfjs();
const result = {
  date: new Date().toISOString(),
  mode: short ? `short (${steps} steps per MLP run, extrapolated to an epoch)` : 'full epoch',
  machine: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: (await import('node:os')).cpus().length },
  data: `synthetic uniform [${samples}, 784] images, random labels`,
  bp,
  pytorch: torch,
  pytorchOneThread: torch1,
  tfjsWasm: tfjs,
  ratios: { bpOverPytorch: ratios(bp, torch), bpOverPytorchOneThread: ratios(bp, torch1), bpOverTfjsWasm: ratios(bp, tfjs) },
  wallSeconds: round((performance.now() - started) / 1000, 1),
};
process.stdout.write(JSON.stringify(result, null, 2) + '\n');
