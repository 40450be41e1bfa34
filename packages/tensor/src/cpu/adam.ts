import type { AdamConstants } from '../backend/backend.js';
import { WASM_ADAM_MIN, adamSimd } from './wasm/wasm-adam.js';
import type { WasmRuntime } from './wasm/wasm-runtime.js';

const f = Math.fround;

/**
 * One Adam/AdamW step in a single pass over the parameter, in place. The composite
 * update in @bp/optim takes about ten elementwise ops, each allocating and walking a
 * parameter-sized array; this loop reads each value once. Every intermediate goes
 * through Math.fround where the composite ops round to float32 (scalars included),
 * so the two paths give identical bits and the PyTorch reference tests hold for both.
 * With `simd`, large plain-Adam updates run on the WebAssembly kernel instead (same bits), in place
 * where the backend's `adamPlace` placed parameter and moments.
 */
export function adamUpdate(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  vmax: Float32Array | null,
  size: number,
  c: AdamConstants,
  simd: WasmRuntime | null = null,
): void {
  if (simd !== null && vmax === null && size >= WASM_ADAM_MIN && adamSimd(simd, p, g, m, v, size, c)) return;
  const b1 = f(c.beta1);
  const b2 = f(c.beta2);
  const a1 = f(1 - c.beta1);
  const a2 = f(1 - c.beta2);
  const step = f(c.stepSize);
  const eps = f(c.epsScaled);
  const wd = f(c.weightDecay);
  const shrink = f(1 - c.lr * c.weightDecay);
  const l2 = c.weightDecay !== 0 && !c.decoupled;
  const decay = c.weightDecay !== 0 && c.decoupled;
  const first = c.first;
  for (let i = 0; i < size; i++) {
    const pi = decay ? f(p[i] * shrink) : p[i];
    const gi = l2 ? f(g[i] + f(p[i] * wd)) : g[i];
    const gm = f(gi * a1);
    const gv = f(f(gi * gi) * a2);
    const mi = first ? gm : f(f(m[i] * b1) + gm);
    const vi = first ? gv : f(f(v[i] * b2) + gv);
    m[i] = mi;
    v[i] = vi;
    let second = vi;
    if (vmax !== null) {
      // As the composite's maximum(vmax, v): a NaN in the running maximum stays.
      const prev = vmax[i];
      if (!first && (prev >= vi || prev !== prev)) second = prev;
      vmax[i] = second;
    }
    p[i] = pi - f(f(mi / f(f(Math.sqrt(second)) + eps)) * step);
  }
}
