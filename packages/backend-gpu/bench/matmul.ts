/**
 * Matmul timings: the CPU backend and every gpu.js mode that runs here, side
 * by side in one process. Each timing includes reading the result back, so
 * device modes are charged for the round trip; compile time is reported apart.
 */
import { cpuBackend, type Backend } from '@bp/tensor';
import { GPU } from 'gpu.js';
import { gpu, type GpuMode } from '../src/index.js';

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

console.log(JSON.stringify({
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  reps,
  modes,
  note: 'medianMs includes reading the result back; firstMs also includes compiling the kernel',
  results,
}, null, 2));
