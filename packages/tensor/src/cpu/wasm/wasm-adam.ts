import type { AdamConstants } from '../../backend/backend.js';
import type { WasmRuntime } from './wasm-runtime.js';

/** Below this many values, copying in and out costs more than the SIMD loop saves. */
export const WASM_ADAM_MIN = 1024;

/**
 * Plain Adam (no weight decay, no AMSGrad) on the SIMD kernel: parameter, gradient and
 * moments are copied into the kernels' memory, updated there four lanes at a time, and
 * copied back. f32x4 arithmetic rounds exactly as the float32 ops of the composite update.
 * Returns false for the variants the kernel leaves to the JavaScript loop.
 */
export function adamSimd(
  rt: WasmRuntime, p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, n: number, c: AdamConstants,
): boolean {
  if (c.weightDecay !== 0) return false;
  const q = (n + 3) & ~3;
  const mem = rt.heap(4 * q);
  mem.set(p.subarray(0, n), 0);
  mem.set(g.subarray(0, n), q);
  if (!c.first) {
    mem.set(m.subarray(0, n), 2 * q);
    mem.set(v.subarray(0, n), 3 * q);
  }
  rt.exports.adam(0, q * 4, 2 * q * 4, 3 * q * 4, n, c.beta1, c.beta2, 1 - c.beta1, 1 - c.beta2, c.stepSize, c.epsScaled, c.first ? 1 : 0);
  p.set(mem.subarray(0, n));
  m.set(mem.subarray(2 * q, 2 * q + n));
  v.set(mem.subarray(3 * q, 3 * q + n));
  return true;
}
