/**
 * The jobs `pnpm bench` runs both in Node and in Chromium (src/browser-bench.ts), with the same
 * code on each side: the 512² and 1024² matrix products and the Keras MLP epoch at batch 32 and
 * 128, on a CPU backend with one thread and with `threads` threads.
 */
import '@bp/autograd';
import { cpuBackend, getBackend, rand, setBackend } from '@bp/tensor';
import { bpMatmulGflops } from './bp-bench.js';
import { bpKerasMlpEpoch } from './bp-models.js';

/** What one side runs: `steps` per MLP run (0: whole epochs), matmul repetitions. */
export interface BrowserJobsConfig {
  /** Thread settings to run, e.g. `[1, 2]`. */
  threads: number[];
  steps: number;
  reps: number;
  samples: number;
  sizes: number[];
  batches: number[];
}

/** One thread setting's figures. */
export interface JobFigures {
  /** Threads asked for. */
  threadsAsked: number;
  /** Threads the backend had when the jobs ran (1 where workers cannot start). */
  threads: number;
  matmulGflops: Record<string, number>;
  mlpEpochSeconds: Record<string, number>;
}

/**
 * Runs 512² products (B packed, as at 1024) until their rate stops improving (or for `ms`): engines start WebAssembly
 * in a baseline compiler and swap in optimized code between calls once a background compile is
 * done (Chromium's and Node's V8 alike), and a product timed before that measures the baseline.
 */
function warmUp(ms: number): void {
  const a = rand([512, 512]);
  const b = rand([512, 512]);
  const end = performance.now() + ms;
  let best = Infinity;
  let still = 0;
  while (performance.now() < end && still < 10) {
    const t0 = performance.now();
    a.matmul(b);
    const dt = performance.now() - t0;
    if (dt < best * 0.98) {
      best = dt;
      still = 0;
    } else {
      still++;
    }
  }
}

/**
 * Runs the jobs once per thread setting in `config`, each on a fresh CPU backend (given up to 5 s
 * to start its workers where it can), and returns the figures; `log` gets progress lines.
 */
export async function runJobs(config: BrowserJobsConfig, log: (line: string) => void): Promise<JobFigures[]> {
  const out: JobFigures[] = [];
  const previous = getBackend();
  for (const threads of config.threads) {
    await setBackend(cpuBackend({ threads }));
    const info = (): number => Number(getBackend().info?.().threads ?? 1);
    for (let i = 0; i < 250 && info() < threads; i++) await new Promise((r) => setTimeout(r, 20));
    warmUp(3000);
    const figures: JobFigures = { threadsAsked: threads, threads: info(), matmulGflops: {}, mlpEpochSeconds: {} };
    for (const n of config.sizes) {
      figures.matmulGflops[n] = Math.round(bpMatmulGflops(n, n >= 1024 ? Math.max(3, Math.ceil(config.reps / 3)) : config.reps) * 10) / 10;
      log(`threads ${figures.threads}: matmul ${n}: ${figures.matmulGflops[n]} GFLOP/s`);
    }
    for (const b of config.batches) {
      const r = await bpKerasMlpEpoch({ batchSize: b, samples: config.samples, steps: config.steps });
      figures.mlpEpochSeconds[b] = Math.round(r.epochSeconds * 1000) / 1000;
      log(`threads ${figures.threads}: mlp batch ${b}: ${figures.mlpEpochSeconds[b]} s/epoch`);
    }
    out.push(figures);
  }
  await setBackend(previous);
  return out;
}
