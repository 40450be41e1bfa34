/** The `pnpm bench:gpu` page: the workloads on the CPU backend, WebGPU and WebGL2 in Chromium. */
import { cpuBackend } from '@bp/tensor';
import { gpu, gpuAsync } from '../src/index.js';
import { benchBackend, type BenchFigure } from './workloads.js';

const steps = { mlp: 5, cnn: 3, gpt: 3, matmul: 2 };

async function main(): Promise<{ figures: BenchFigure[]; info: Record<string, unknown>[] }> {
  const figures: BenchFigure[] = [];
  const info: Record<string, unknown>[] = [];
  figures.push(...(await benchBackend('chromium cpu', cpuBackend(), steps)));
  for (const mode of ['webgpu', 'webgl2'] as const) {
    try {
      const b = mode === 'webgpu' ? await gpuAsync({ mode }) : gpu({ mode });
      figures.push(...(await benchBackend(`chromium gpu ${b.mode}`, b, steps)));
      info.push(b.info());
      b.destroy();
    } catch (e) {
      figures.push({ workload: '*', backend: `chromium gpu ${mode}`, steps: 0, error: String((e as Error).message).split('\n')[0] });
    }
  }
  return { figures, info };
}

main().then(
  (r) => ((window as unknown as { __bpResult: unknown }).__bpResult = r),
  (e: unknown) => ((window as unknown as { __bpFatal: string }).__bpFatal = String((e as Error)?.stack ?? e)),
);
