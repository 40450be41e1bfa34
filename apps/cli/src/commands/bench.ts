/**
 * `bp bench`: quick throughput figures per available backend: an
 * elementwise op, a square matmul, and training steps of the MNIST MLP
 * (`presets.mnistMlp`: 784-128-10, Adam, batch 32) on random MNIST-shaped data, from which the
 * time of one 60,000-example epoch is projected. Each figure is the median
 * of several timed repetitions after a warm-up.
 */
import { presets } from '@bp/layers';
import { crossEntropyLoss } from '@bp/losses';
import { Adam } from '@bp/optim';
import { getBackend, manualSeed, rand, randint, setBackend, tidy, type Tensor } from '@bp/tensor';
import { out as c } from '../style.js';

/** Flags of `bp bench`. */
export interface BenchFlags {
  backend?: 'cpu' | 'gpu';
  quick?: boolean;
  json?: boolean;
}

/** One backend's figures. */
export interface BenchResult {
  backend: string;
  add: { elements: number; melemsPerSecond: number };
  matmul: { n: number; gflops: number };
  mlp: { batchSize: number; steps: number; examplesPerSecond: number; projectedEpochSeconds: number };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Median seconds of `reps` runs of `fn` after one warm-up. `fn` returns a tensor, read on a GPU
 * backend so that it has finished (the CPU backend's ops finish before they return, and a read
 * would time a copy of the values), then disposed, as a training loop's `tidy` would: an output
 * left to the garbage collector makes the next one take new memory, and the figure time that
 * instead of the op.
 */
function time(fn: () => Tensor, reps: number): number {
  const run = (): void => {
    const t = fn();
    if (getBackend().name !== 'cpu') t.dataSync();
    t.dispose();
  };
  run();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    run();
    times.push((performance.now() - t0) / 1000);
  }
  return median(times);
}

function benchBackend(name: string, small: boolean): BenchResult {
  manualSeed(0);
  const elements = small ? 1 << 18 : 1 << 20;
  const a = rand([elements]);
  const b = rand([elements]);
  const tAdd = time(() => a.add(b), small ? 5 : 11);
  const n = small ? 128 : 512;
  const m1 = rand([n, n]);
  const m2 = rand([n, n]);
  const tMm = time(() => m1.matmul(m2), small ? 3 : 7);

  const batchSize = 32;
  const steps = small ? 20 : 200;
  const model = presets.mnistMlp();
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const x = rand([batchSize, 1, 28, 28]);
  const y = randint(0, 10, [batchSize]);
  const step = () => {
    opt.zeroGrad();
    const loss = crossEntropyLoss(model.forward(x), y);
    loss.backward();
    opt.step();
    return loss;
  };
  // Each step in tidy, as fit runs it: its temporaries go back to the backend at once.
  for (let i = 0; i < 3; i++) tidy(() => step().item());
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) tidy(() => step().item());
  const seconds = (performance.now() - t0) / 1000;
  for (const t of [a, b, m1, m2, x, y]) t.dispose();
  opt.dispose();
  const eps = (steps * batchSize) / seconds;
  return {
    backend: name,
    add: { elements, melemsPerSecond: elements / tAdd / 1e6 },
    matmul: { n, gflops: (2 * n * n * n) / tMm / 1e9 },
    mlp: { batchSize, steps, examplesPerSecond: eps, projectedEpochSeconds: 60000 / eps },
  };
}

/** Runs `bp bench`; returns the exit status. */
export async function runBench(flags: BenchFlags): Promise<number> {
  const results: BenchResult[] = [];
  const skipped: Record<string, string> = {};
  const wanted = flags.backend ? [flags.backend] : ['cpu', 'gpu'];
  for (const name of wanted) {
    if (name === 'cpu') {
      await setBackend('cpu');
      results.push(benchBackend('cpu', flags.quick === true));
      continue;
    }
    try {
      const { gpu } = await import('@bp/backend-gpu');
      const backend = gpu();
      await setBackend(backend);
      // gpu.js' CPU-side modes are far slower than bp's own CPU backend: keep their sizes small.
      const label = `gpu (${backend.info().mode})`;
      results.push(benchBackend(label, flags.quick === true || !backend.info().deviceMemory));
      await setBackend('cpu');
      backend.destroy();
    } catch (e) {
      if (flags.backend === 'gpu') throw e;
      skipped.gpu = (e as Error).message;
    }
  }
  if (flags.json) {
    process.stdout.write(JSON.stringify({ node: process.version, results, skipped }) + '\n');
    return 0;
  }
  const lines: string[] = [];
  for (const r of results) {
    lines.push(c.bold(r.backend));
    lines.push(`  add ${r.add.elements.toLocaleString('en-US')} floats   ${r.add.melemsPerSecond.toFixed(0)} M elements/s`);
    lines.push(`  matmul ${r.matmul.n}x${r.matmul.n}         ${r.matmul.gflops.toFixed(2)} GFLOP/s`);
    lines.push(
      `  MNIST MLP, batch ${r.mlp.batchSize}      ${Math.round(r.mlp.examplesPerSecond).toLocaleString('en-US')} examples/s` +
        c.dim(`  (one 60,000-example epoch ≈ ${r.mlp.projectedEpochSeconds.toFixed(1)}s, from ${r.mlp.steps} steps)`),
    );
  }
  for (const [k, v] of Object.entries(skipped)) lines.push(c.yellow(`${k}: skipped (${v})`));
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
