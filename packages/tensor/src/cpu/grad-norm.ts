import { newF32 } from './storage.js';
import { WASM_MIN_ELEMENTS, scalarSimd } from './wasm/wasm-elementwise.js';
import type { WasmRuntime } from './wasm/wasm-runtime.js';

/**
 * The sum of the squares of the first `sizes[t]` values of every `xs[t]`, squared and summed in
 * float64 (a float32 squared is exact there) and rounded to float32 once: four running sums per
 * array, taken in turn, added in pairs at its end, then into the total. A total past float32's
 * range comes out as Infinity, as the composite's.
 */
export function sumOfSquares(xs: readonly Float32Array[], sizes: readonly number[]): Float32Array {
  let total = 0;
  for (let t = 0; t < xs.length; t++) {
    const x = xs[t];
    const n = sizes[t];
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let i = 0;
    for (; i + 3 < n; i += 4) {
      const a = x[i];
      const b = x[i + 1];
      const c = x[i + 2];
      const d = x[i + 3];
      s0 += a * a;
      s1 += b * b;
      s2 += c * c;
      s3 += d * d;
    }
    for (; i < n; i++) s0 += x[i] * x[i];
    total += s0 + s1 + (s2 + s3);
  }
  const out = newF32(1, false);
  out[0] = total;
  return out;
}

/**
 * `x[i] *= factor[0]` for the first `size` values, in place: each product rounded to float32 as
 * `mul`'s, through `mul`'s SIMD kernel (block by block, back into `x`) from 256 values where there
 * is one.
 */
export function scaleInPlace(x: Float32Array, size: number, factor: Float32Array, simd: WasmRuntime | null): void {
  const f = factor[0];
  if (simd !== null && size >= WASM_MIN_ELEMENTS && scalarSimd(simd, 'mul', x, f, x, size, false)) return;
  for (let i = 0; i < size; i++) x[i] *= f;
}
