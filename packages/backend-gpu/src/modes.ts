import { GPU } from 'gpu.js';
import { ArgumentError, NotAvailableError } from '@bp/tensor';

/** The gpu.js modes this backend runs on. */
export type GpuMode = 'webgl2' | 'webgl' | 'headlessgl' | 'webasm' | 'cpu';

/** A mode to force, or `'gpu'` for gpu.js' own pick among the GL modes and webasm. */
export type GpuModeOption = GpuMode | 'gpu';

/** Modes whose kernels run on a graphics device and keep results in textures. */
export const GL_MODES: readonly GpuMode[] = ['headlessgl', 'webgl2', 'webgl'];

/**
 * Preference order: a GL device first (headless-gl only exists in Node, the
 * WebGL ones only in browsers), then gpu.js' WebAssembly kernels, then its
 * plain JavaScript ones. WebGPU is left out on purpose: gpu.js runs WebGPU
 * kernels only under its Promise contract, and a Backend's kernels are synchronous.
 */
const ORDER: readonly GpuMode[] = ['headlessgl', 'webgl2', 'webgl', 'webasm', 'cpu'];

function supported(mode: GpuMode): boolean {
  switch (mode) {
    case 'headlessgl': return GPU.isHeadlessGLSupported;
    case 'webgl2': return GPU.isWebGL2Supported;
    case 'webgl': return GPU.isWebGLSupported;
    case 'webasm': return GPU.isWebAssemblySupported;
    case 'cpu': return true;
  }
}

interface NodeModuleApi {
  createRequire(path: string): { (id: string): unknown; resolve(id: string): string };
}

/** Why headless-gl cannot run here, in words a user can act on. */
export function headlessGlReason(): string {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown; cwd(): string } }).process;
  if (!proc) return 'headless-gl exists only in Node';
  const mod = proc.getBuiltinModule?.('node:module') as NodeModuleApi | undefined;
  if (!mod) return 'headless-gl did not start (the optional `gl` module is missing, or no display); see the README';
  try {
    const fromCwd = mod.createRequire(`${proc.cwd()}/`);
    let base: string;
    try {
      base = mod.createRequire(import.meta.url).resolve('gpu.js');
    } catch {
      base = fromCwd.resolve('gpu.js');
    }
    const create = mod.createRequire(base)('gl') as (w: number, h: number) => { getExtension(n: string): { destroy(): void } | null } | null;
    const ctx = create(1, 1);
    if (!ctx) return 'the `gl` module loads but cannot open a context: no display (run under xvfb-run)';
    ctx.getExtension('STACKGL_destroy_context')?.destroy();
    return 'the `gl` module opens a context, but gpu.js rejected it (no float textures?)';
  } catch (e) {
    // The bindings error's first line ends in "Tried:", and the list of paths after it is long: keep the sentence.
    const first = String((e as Error).message ?? e).split('\n')[0].replace(/[.\s]*Tried:\s*$/, '');
    return `the optional native module \`gl\` is not built (${first}); see the README to enable headless-gl`;
  }
}

/** The chosen mode and, when better modes were passed over, why. */
export interface ModeChoice {
  mode: GpuMode;
  /** Reasons the modes ahead of it in the preference order were not used. */
  skipped: string[];
}

/** Picks the gpu.js mode: the requested one (which must be available), or the best that runs here. */
export function chooseMode(requested?: GpuModeOption): ModeChoice {
  if (requested !== undefined && requested !== 'gpu') {
    if (!(ORDER as readonly string[]).includes(requested)) {
      const name = String(requested);
      const what =
        name === 'webgpu' || name === 'async'
          ? `gpu.js mode '${name}' is not supported by this backend: gpu.js runs its kernels only asynchronously, and backend kernels are synchronous`
          : `unknown mode '${name}'`;
      throw new ArgumentError('gpu', `${what}; use one of ${ORDER.join(', ')} or 'gpu'`);
    }
    if (!supported(requested)) {
      const why = requested === 'headlessgl' ? headlessGlReason() : `gpu.js reports ${requested} unsupported in this environment`;
      throw new NotAvailableError('gpu', `mode '${requested}' is not available: ${why}`);
    }
    return { mode: requested, skipped: [] };
  }
  const skipped: string[] = [];
  for (const mode of ORDER) {
    if (requested === 'gpu' && mode === 'cpu') break;
    if (supported(mode)) return { mode, skipped };
    if (mode === 'headlessgl' && typeof document === 'undefined') skipped.push(`headlessgl: ${headlessGlReason()}`);
  }
  if (requested === 'gpu') throw new NotAvailableError('gpu', `mode 'gpu' found no GL or WebAssembly support here (${skipped.join('; ')})`);
  return { mode: 'cpu', skipped };
}
