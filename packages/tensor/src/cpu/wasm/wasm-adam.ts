import type { AdamConstants } from '../../backend/backend.js';
import type { WasmRuntime } from './wasm-runtime.js';

/** Below this many values, copying in and out costs more than the SIMD loop saves. */
export const WASM_ADAM_MIN = 1024;

/**
 * Adam and AdamW (L2 or decoupled weight decay; not AMSGrad) on the SIMD kernel: parameter,
 * gradient and moments are copied into the kernels' memory, updated there four lanes at a time,
 * and copied back. f32x4 arithmetic rounds exactly as the float32 ops of the composite update.
 * Returns true (the caller leaves AMSGrad to the JavaScript loop).
 */
export function adamSimd(
  rt: WasmRuntime,
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  n: number,
  c: AdamConstants,
): boolean {
  const decay = c.weightDecay === 0 ? 0 : c.decoupled ? 2 : 1;
  const shrink = Math.fround(1 - c.lr * c.weightDecay);
  // Block by block, so the four blocks copied in are still in cache when the kernel reads them
  // and its results when they are copied out.
  const block = adamBlock;
  const q = (Math.min(n, block) + 3) & ~3;
  const mem = rt.heap(4 * q);
  for (let at = 0; at < n; at += block) {
    const len = Math.min(block, n - at);
    const end = at + len;
    mem.set(p.subarray(at, end), 0);
    mem.set(g.subarray(at, end), q);
    if (!c.first) {
      mem.set(m.subarray(at, end), 2 * q);
      mem.set(v.subarray(at, end), 3 * q);
    }
    rt.exports.adam(
      0,
      q * 4,
      2 * q * 4,
      3 * q * 4,
      len,
      c.beta1,
      c.beta2,
      1 - c.beta1,
      1 - c.beta2,
      c.stepSize,
      c.epsScaled,
      c.first ? 1 : 0,
      decay,
      c.weightDecay,
      shrink,
    );
    p.set(mem.subarray(0, len), at);
    m.set(mem.subarray(2 * q, 2 * q + len), at);
    v.set(mem.subarray(3 * q, 3 * q + len), at);
  }
  return true;
}

/**
 * Values per block of {@link adamSimd}: four blocks of 16,384 floats (256 KiB) stay in a core's
 * L2 cache between being copied in, updated and copied out.
 */
export const ADAM_BLOCK = 1 << 14;
let adamBlock = ADAM_BLOCK;

/** For tests and measurements: the block size of {@link adamSimd} (results do not depend on it). */
export function setAdamBlock(values: number): void {
  adamBlock = Math.max(4, values & ~3);
}
