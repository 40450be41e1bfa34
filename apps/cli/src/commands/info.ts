/**
 * `bp info`: what this installation can do here: version, runtime, the CPU kernels, the
 * backends and which gpu.js mode the GPU backend would pick (and why better
 * ones were passed over), and where the MNIST files were found.
 */
import { cpus } from 'node:os';
import { getBackend, listBackends } from '@bp/tensor';
import { locateMnist } from '../mnist-location.js';
import { VERSION } from '../program.js';
import { out as c } from '../style.js';

/** Flags of `bp info`. */
export interface InfoFlags {
  json?: boolean;
}

interface GpuReport {
  available: boolean;
  mode?: string;
  realGpu?: boolean;
  renderer?: string | null;
  skipped?: string[];
  error?: string;
}

async function probeGpu(): Promise<GpuReport> {
  try {
    const { gpu } = await import('@bp/backend-gpu');
    const backend = gpu();
    try {
      const i = backend.info();
      return { available: true, mode: i.mode, realGpu: i.realGpu, renderer: i.renderer, skipped: i.skipped };
    } finally {
      backend.destroy();
    }
  } catch (e) {
    return { available: false, error: (e as Error).message };
  }
}

/** The CPU backend's kernels: WebAssembly SIMD or TypeScript, and whether its products fuse multiply-adds. */
function cpuReport(): { kernels: string; fma: boolean } {
  const info = getBackend().info?.() ?? {};
  return { kernels: String(info.kernels ?? 'typescript'), fma: info.fma === true };
}

/** Runs `bp info`; returns the exit status. */
export async function runInfo(flags: InfoFlags): Promise<number> {
  const [gpuReport, mnist] = await Promise.all([probeGpu(), locateMnist()]);
  const backends = [...new Set(['cpu', ...listBackends(), ...(gpuReport.available ? ['gpu'] : [])])];
  const result = {
    version: VERSION,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    backends,
    cpu: cpuReport(),
    gpu: gpuReport,
    mnist: { dir: mnist.dir, origin: mnist.origin, searched: mnist.searched },
  };
  if (flags.json) {
    process.stdout.write(JSON.stringify(result) + '\n');
    return 0;
  }
  const lines: string[] = [];
  const row = (k: string, v: string) => lines.push(`${c.bold(k.padEnd(10))} ${v}`);
  row('bp', VERSION);
  row('node', `${process.version} (${result.platform}, ${result.cpus} CPU cores)`);
  row('backends', backends.join(', '));
  row(
    'cpu',
    result.cpu.kernels === 'wasm-simd'
      ? `WebAssembly SIMD kernels, ${result.cpu.fma ? 'fused multiply-adds (BP_CPU_FMA=0 turns them off)' : 'multiply then add (no relaxed SIMD here, or BP_CPU_FMA=0)'}`
      : 'TypeScript loops (no WebAssembly SIMD here)',
  );
  if (gpuReport.available) {
    const what = gpuReport.realGpu
      ? `on ${gpuReport.renderer}`
      : gpuReport.renderer
        ? `software renderer ${gpuReport.renderer}`
        : 'on the CPU (no GL device)';
    row('gpu', `gpu.js mode ${c.cyan(gpuReport.mode ?? '?')}, ${what}`);
    for (const s of gpuReport.skipped ?? []) lines.push(`${' '.repeat(11)}${c.dim(`skipped ${s}`)}`);
  } else {
    row('gpu', c.yellow(`not available: ${gpuReport.error}`));
  }
  if (mnist.dir) row('mnist', `${mnist.dir} ${c.dim(`(${mnist.origin})`)}`);
  else {
    row('mnist', c.yellow('not found'));
    for (const s of mnist.searched) lines.push(`${' '.repeat(11)}${c.dim(`${s.dir} (${s.origin}) lacks ${s.missing.join(', ')}`)}`);
    lines.push(`${' '.repeat(11)}Put the four IDX files in a directory and pass --data-dir DIR or set BP_DATA_DIR.`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
