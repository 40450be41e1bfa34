// `pnpm bench:gpu`: the MNIST MLP (batch 128), a CNN, the GPT step and a 1024² matmul, on
// the CPU backend and every gpu.js mode that starts here (Node: WebGPU through Dawn where it
// loads, headless-gl, WebAssembly), then in headless Chromium (CPU, WebGPU, WebGL2) when
// /usr/bin/chromium exists. Prints JSON: step times, launches and readbacks per step, GFLOP/s.
// `--quick` runs fewer steps; `--no-browser` skips Chromium.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpuBackend } from '@bp/tensor';
import { gpu, gpuAsync, type GpuMode } from '../src/index.js';
import { CHROMIUM_PATH, runInChromium } from '../test/chromium.js';
import { benchBackend, type BenchFigure } from './workloads.js';

const quick = process.argv.includes('--quick');
const steps = quick ? { mlp: 3, cnn: 2, gpt: 2, matmul: 1 } : { mlp: 20, cnn: 5, gpt: 5, matmul: 3 };
const slowSteps = { mlp: 2, cnn: 1, gpt: 1, matmul: 1 };

const figures: BenchFigure[] = [];
const modes: Record<string, unknown>[] = [];
figures.push(...(await benchBackend('node cpu', cpuBackend(), steps)));
for (const mode of ['webgpu', 'headlessgl', 'webasm'] as GpuMode[]) {
  try {
    const b = mode === 'webgpu' ? await gpuAsync({ mode }) : gpu({ mode });
    // The WebAssembly mode is 30-100x slower than the CPU backend: a step or two says enough.
    figures.push(...(await benchBackend(`node gpu ${b.mode}`, b, mode === 'webasm' ? slowSteps : steps)));
    modes.push({ mode, started: true, realGpu: b.info().realGpu, renderer: b.info().renderer });
    b.destroy();
  } catch (e) {
    modes.push({ mode, started: false, why: String((e as Error).message).split('\n')[0] });
  }
}
let browser: unknown = null;
if (!process.argv.includes('--no-browser') && existsSync(CHROMIUM_PATH)) {
  const page = fileURLToPath(new URL('../../../bench/gpu-bench-page.ts', import.meta.url));
  try {
    const r = await runInChromium<{ figures: BenchFigure[]; info: Record<string, unknown>[] }>(page, 900_000);
    figures.push(...r.result.figures);
    browser = r.result.info.map((i) => ({ mode: i.mode, realGpu: i.realGpu, renderer: i.renderer }));
  } catch (e) {
    browser = { error: String((e as Error).message).split('\n')[0] };
  }
}
for (const f of figures) {
  if (f.msPerStep !== undefined) f.msPerStep = Number(f.msPerStep.toFixed(2));
  if (f.gflops !== undefined) f.gflops = Number(f.gflops.toFixed(2));
}
console.log(
  JSON.stringify(
    {
      note: 'SwiftShader and the WebAssembly/JavaScript modes run on the CPU: their figures are for correctness and launch/readback counts, not GPU speed',
      modes,
      browser,
      figures,
    },
    null,
    1,
  ),
);
