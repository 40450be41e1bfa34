import type { TypedArray } from '../dtype.js';
import { wasmGemm, wasmGemmBatch } from './wasm/wasm-gemm.js';
import type { WasmRuntime } from './wasm/wasm-runtime.js';
import { newF32 } from './storage.js';

/**
 * C[m,n] += op(A) @ op(B) for one batch item, with A, B, C given as arrays and offsets.
 *
 * The loops are ordered so the innermost one walks contiguous memory:
 * - A @ B    : i-p-j (row of B scaled into row of C), blocked over p for cache;
 * - A @ B^T  : i-j-p dot products of two contiguous rows, four at a time;
 * - A^T @ B  : p-i-j (outer products accumulated row by row).
 */
function gemm(
  A: TypedArray,
  aOff: number,
  B: TypedArray,
  bOff: number,
  C: Float32Array,
  cOff: number,
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
): void {
  if (!transA && !transB) {
    const KB = 256;
    for (let p0 = 0; p0 < k; p0 += KB) {
      const p1 = Math.min(p0 + KB, k);
      for (let i = 0; i < m; i++) {
        const cRow = cOff + i * n;
        const aRow = aOff + i * k;
        let p = p0;
        for (; p + 3 < p1; p += 4) {
          const a0 = A[aRow + p];
          const a1 = A[aRow + p + 1];
          const a2 = A[aRow + p + 2];
          const a3 = A[aRow + p + 3];
          if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue;
          const b0 = bOff + p * n;
          const b1 = b0 + n;
          const b2 = b1 + n;
          const b3 = b2 + n;
          for (let j = 0; j < n; j++) {
            C[cRow + j] += a0 * B[b0 + j] + a1 * B[b1 + j] + a2 * B[b2 + j] + a3 * B[b3 + j];
          }
        }
        for (; p < p1; p++) {
          const av = A[aRow + p];
          if (av === 0) continue;
          const bRow = bOff + p * n;
          for (let j = 0; j < n; j++) C[cRow + j] += av * B[bRow + j];
        }
      }
    }
    return;
  }
  if (!transA && transB) {
    for (let i = 0; i < m; i++) {
      const aRow = aOff + i * k;
      const cRow = cOff + i * n;
      let j = 0;
      for (; j + 3 < n; j += 4) {
        const b0 = bOff + j * k;
        const b1 = b0 + k;
        const b2 = b1 + k;
        const b3 = b2 + k;
        let s0 = 0,
          s1 = 0,
          s2 = 0,
          s3 = 0;
        for (let p = 0; p < k; p++) {
          const av = A[aRow + p];
          s0 += av * B[b0 + p];
          s1 += av * B[b1 + p];
          s2 += av * B[b2 + p];
          s3 += av * B[b3 + p];
        }
        C[cRow + j] += s0;
        C[cRow + j + 1] += s1;
        C[cRow + j + 2] += s2;
        C[cRow + j + 3] += s3;
      }
      for (; j < n; j++) {
        const bRow = bOff + j * k;
        let s = 0;
        for (let p = 0; p < k; p++) s += A[aRow + p] * B[bRow + p];
        C[cRow + j] += s;
      }
    }
    return;
  }
  if (transA && !transB) {
    // A stored [k, m]
    for (let p = 0; p < k; p++) {
      const aRow = aOff + p * m;
      const bRow = bOff + p * n;
      for (let i = 0; i < m; i++) {
        const av = A[aRow + i];
        if (av === 0) continue;
        const cRow = cOff + i * n;
        for (let j = 0; j < n; j++) C[cRow + j] += av * B[bRow + j];
      }
    }
    return;
  }
  // A^T @ B^T: A stored [k, m], B stored [n, k]
  for (let i = 0; i < m; i++) {
    const cRow = cOff + i * n;
    for (let j = 0; j < n; j++) {
      let s = 0;
      const bRow = bOff + j * k;
      for (let p = 0; p < k; p++) s += A[aOff + p * m + i] * B[bRow + p];
      C[cRow + j] += s;
    }
  }
}

/** Below this many multiply-adds per matrix, packing costs more than the SIMD kernel saves. */
const WASM_MIN_WORK = 4096;

/** Whether an `[m, k] @ [k, n]` product runs on the WebAssembly kernel (when the backend has it). */
export function usesWasmGemm(m: number, k: number, n: number): boolean {
  return m * n * k >= WASM_MIN_WORK;
}

/**
 * Up to this many multiply-adds per matrix, a batch of products runs as one group in the
 * WebAssembly memory (wasmGemmBatch: one thread, no per-product staging); larger ones go
 * product by product, each free to use the worker threads.
 */
const BATCH_MAX_WORK = 1 << 18;

/**
 * The batched matrix product of the Backend interface. `simd` is the WebAssembly
 * kernel to use for large enough products, or null for the plain TypeScript loops.
 */
export function matmul(
  a: TypedArray,
  b: TypedArray,
  batchA: number,
  batchB: number,
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
  simd: WasmRuntime | null = null,
): Float32Array {
  const batch = Math.max(batchA, batchB);
  const useSimd = simd !== null && k > 0 && usesWasmGemm(m, k, n);
  // The WebAssembly paths write every element; the TypeScript loops add into zeros.
  const out = newF32(batch * m * n, !useSimd);
  if (k === 0 || m === 0 || n === 0) return out;
  if (useSimd && batch > 1 && m * n * k <= BATCH_MAX_WORK) {
    wasmGemmBatch(simd, a, b, batchA, batchB, out, m, k, n, transA, transB);
    return out;
  }
  for (let t = 0; t < batch; t++) {
    const aOff = batchA === 1 ? 0 : t * m * k;
    const bOff = batchB === 1 ? 0 : t * k * n;
    if (useSimd) wasmGemm(simd, a, aOff, b, bOff, out, t * m * n, m, k, n, transA, transB);
    else gemm(a, aOff, b, bOff, out, t * m * n, m, k, n, transA, transB);
  }
  return out;
}
