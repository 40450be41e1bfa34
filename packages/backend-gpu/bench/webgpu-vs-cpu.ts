/**
 * WebGPU against the CPU backend, side by side in one process: the workloads of
 * `pnpm bench:gpu` (small models, where launch overhead dominates), a wide MLP
 * (784-1024-1024-10 at batch 1024, Adam) and square products up to 4096², each
 * timed to an awaited read. Needs WebGPU: in Node, the `webgpu` package's Dawn build
 * (Ubuntu 24.04 or Debian 13 and a Vulkan driver). Prints JSON.
 *
 *   node bench/bench.mjs bench/webgpu-vs-cpu.ts
 *
 * `BENCH_SIZES=1024,2048` narrows the products.
 */
import os from 'node:os';
import '@bp/autograd';
import { Dense, Sequential } from '@bp/layers';
import { Adam } from '@bp/optim';
import { cpuBackend, manualSeed, matmul, randint, randn, setBackend, type Backend } from '@bp/tensor';
import { gpuAsync, type GpuBackend } from '../src/index.js';
import { benchBackend, timeSteps, trainStep, type BenchFigure } from './workloads.js';

const sizes = (process.env.BENCH_SIZES ?? '1024,2048,4096').split(',').map(Number);
const figures: BenchFigure[] = [];

async function wideMlp(name: string, b: Backend): Promise<void> {
  await setBackend(b);
  manualSeed(1);
  const model = new Sequential([
    new Dense(1024, { activation: 'relu', inputShape: [784] }),
    new Dense(1024, { activation: 'relu' }),
    new Dense(10),
  ]);
  model.build([784]);
  const { ms } = await timeSteps(b, trainStep(model, new Adam(model.parameters()), randn([1024, 784]), randint(0, 10, [1024])), 10);
  figures.push({ workload: 'MLP 784-1024-1024-10, batch 1024 (Adam)', backend: name, steps: 10, msPerStep: ms });
}

async function products(name: string, b: Backend): Promise<void> {
  await setBackend(b);
  for (const n of sizes) {
    const a = randn([n, n]);
    const c = randn([n, n]);
    const reps = n >= 4096 ? 2 : 4;
    const { ms } = await timeSteps(b, () => matmul(a, c), reps);
    figures.push({ workload: `matmul ${n}x${n}`, backend: name, steps: reps, msPerStep: ms, gflops: (2 * n ** 3) / (ms * 1e6) });
    a.dispose();
    c.dispose();
  }
}

let gpu: GpuBackend;
try {
  gpu = await gpuAsync({ mode: 'webgpu' });
} catch (e) {
  // No WebGPU here: say why (the NotAvailableError names what is missing) without a stack trace.
  console.error(`bench:webgpu needs WebGPU: ${(e as Error).message}`);
  process.exit(1);
}
const info = gpu.info();
for (const [name, b] of [
  ['webgpu', gpu],
  ['cpu', cpuBackend()],
] as [string, Backend][]) {
  figures.push(...(await benchBackend(name, b, { mlp: 20, cnn: 5, gpt: 5, matmul: 3 })));
  await wideMlp(name, b);
  await products(name, b);
  await setBackend('cpu');
}
for (const f of figures) {
  if (f.msPerStep !== undefined) f.msPerStep = Number(f.msPerStep.toFixed(2));
  if (f.gflops !== undefined) f.gflops = Number(f.gflops.toFixed(1));
}
console.log(
  JSON.stringify(
    { adapter: info.renderer, realGpu: info.realGpu, host: { cpu: os.cpus()[0]?.model, cores: os.cpus().length }, figures },
    null,
    1,
  ),
);
process.exit(0);
