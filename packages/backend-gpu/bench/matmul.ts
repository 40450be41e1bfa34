/**
 * Matmul timings and a Keras MNIST MLP epoch: the CPU backend and every
 * gpu.js mode that runs here, side by side in one process. Each matmul timing
 * includes reading the result back, so device modes are charged for the round
 * trip; compile time is reported apart. The MLP runs `BENCH_MLP_STEPS` steps of
 * batch 32 on real MNIST images (default 100) and scales the time to the 1,875
 * steps of an epoch; `BENCH_MLP_STEPS=1875` times a whole epoch.
 */
import { cpuBackend, type Backend } from '@bp/tensor';
import { GPU } from 'gpu.js';
import { gpu, type GpuMode } from '../src/index.js';
import { trainKerasMlp } from '../test/keras-mlp.js';
import { loadMnistBytes } from '../test/mnist-bytes.js';

const sizes = (process.env.BENCH_SIZES ?? '256,512,1024').split(',').map(Number);
const reps = Number(process.env.BENCH_REPS ?? 3);

function values(n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(b: Backend, n: number): { firstMs: number; medianMs: number; gflops: number } {
  const a = b.upload(values(n * n), 'float32');
  const c = b.upload(values(n * n).reverse(), 'float32');
  const once = () => {
    const t = performance.now();
    const out = b.matmul(a, c, 1, 1, n, n, n, false, false);
    b.read(out, n * n, 'float32');
    const ms = performance.now() - t;
    b.dispose?.(out);
    return ms;
  };
  const firstMs = once();
  const ms = median(Array.from({ length: reps }, once));
  b.dispose?.(a);
  b.dispose?.(c);
  return { firstMs: +firstMs.toFixed(2), medianMs: +ms.toFixed(2), gflops: +((2 * n ** 3) / (ms * 1e6)).toFixed(3) };
}

const modes: GpuMode[] = [];
if (GPU.isHeadlessGLSupported) modes.push('headlessgl');
if (GPU.isWebAssemblySupported) modes.push('webasm');
modes.push('cpu');

const results: Record<string, Record<string, unknown>> = {};
for (const n of sizes) {
  const row: Record<string, unknown> = { cpuBackend: time(cpuBackend(), n) };
  for (const mode of modes) {
    const b = gpu({ mode });
    row[`gpu:${mode}`] = time(b, n);
    b.destroy();
  }
  results[`matmul ${n}x${n} @ ${n}x${n}`] = row;
}

const mlpSteps = Number(process.env.BENCH_MLP_STEPS ?? 100);
const EPOCH_STEPS = 60_000 / 32;
const mnist = await loadMnistBytes(mlpSteps * 32, 0);
const mlpRow: Record<string, unknown> = {};
for (const name of ['cpuBackend', ...modes]) {
  const b = name === 'cpuBackend' ? cpuBackend() : gpu({ mode: name as GpuMode });
  // Two warm-up steps first, so kernel compilation and JIT warm-up stay out of the timing.
  const warm = { images: mnist.train.images.subarray(0, 64 * 784), labels: mnist.train.labels.subarray(0, 64) };
  await trainKerasMlp(b, { train: warm, test: mnist.test }, { skipTest: true });
  const run = await trainKerasMlp(b, mnist, { skipTest: true });
  mlpRow[name === 'cpuBackend' ? name : `gpu:${name}`] = {
    measuredSteps: mlpSteps,
    measuredSeconds: +run.fitSeconds.toFixed(3),
    epochSeconds: +((run.fitSeconds * EPOCH_STEPS) / mlpSteps).toFixed(2),
    trainLoss: +run.trainLoss.toFixed(4),
  };
  if ('destroy' in b) (b as { destroy(): void }).destroy();
}
results['Keras MNIST MLP epoch (784-128-10, Adam, batch 32)'] = mlpRow;

console.log(
  JSON.stringify(
    {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      reps,
      modes,
      note:
        'matmul medianMs includes reading the result back; firstMs also includes compiling the kernel. ' +
        `The MLP epoch is ${mlpSteps === EPOCH_STEPS ? 'measured whole' : `scaled from ${mlpSteps} measured steps (after two warm-up steps)`}.`,
      results,
    },
    null,
    2,
  ),
);
