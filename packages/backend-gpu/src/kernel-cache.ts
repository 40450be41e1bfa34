import type { GPU, IKernelRunShortcut } from 'gpu.js';
import type { KernelSpec } from './kernels/codegen.js';

type KernelArg = unknown;

/**
 * Compiles each kernel once per key (op, shapes, dtype) and keeps it. Kernels
 * are built with `pipeline` where the mode has device memory, so results
 * stay textures, and `immutable`, so every call gets a texture of its own
 * instead of overwriting the previous result.
 */
export class KernelCache {
  private readonly kernels = new Map<string, IKernelRunShortcut>();
  /** Kernels gpu.js moved to its JavaScript fallback, with the reason it gave. */
  readonly fallbacks: string[] = [];

  constructor(
    private readonly gpu: GPU,
    private readonly pipeline: boolean,
  ) {}

  /** Number of distinct kernels compiled so far. */
  get size(): number {
    return this.kernels.size;
  }

  /** Runs the kernel of `spec` (compiling it on first use) on `args`. */
  run(spec: KernelSpec, args: KernelArg[]): unknown {
    // Size-generic kernels are shared across sizes only off GL: there gpu.js'
    // dynamic output returned textures of a stale size after a resize (seen
    // in the WebGL conformance run), so GL compiles them per size like the rest.
    const dynamic = spec.dynamic === true && !this.pipeline;
    const key = spec.dynamic && !dynamic ? `${spec.key}:${spec.output}` : spec.key;
    let k = this.kernels.get(key);
    if (!k) {
      k = this.gpu.createKernel(spec.source, {
        output: [spec.output],
        pipeline: this.pipeline,
        immutable: true,
        precision: 'single',
        tactic: 'precision',
        dynamicOutput: dynamic,
        dynamicArguments: dynamic,
      } as never) as IKernelRunShortcut;
      this.kernels.set(key, k);
    } else if (dynamic && k.output[0] !== spec.output) {
      k.setOutput([spec.output]);
    }
    const out = (k as unknown as (...a: KernelArg[]) => unknown)(...args);
    const reason = (k as unknown as { kernel?: { fallbackReason?: string } }).kernel?.fallbackReason;
    if (reason && !this.fallbacks.some((f) => f.startsWith(`${key}: `))) this.fallbacks.push(`${key}: ${reason}`);
    return out;
  }

  /** Frees every compiled kernel. */
  destroy(): void {
    for (const k of this.kernels.values()) k.destroy();
    this.kernels.clear();
  }
}
