import type { BinaryOp, UnaryOp } from '../../backend/backend.js';
import type { WasmRuntime } from './wasm-runtime.js';

/** Below this many elements, copying in and out costs more than the SIMD loop saves. */
export const WASM_MIN_ELEMENTS = 2048;

const SIMD_UNARY: ReadonlySet<UnaryOp> = new Set(['neg', 'abs', 'sqrt', 'square', 'relu', 'step']);
const SIMD_BINARY: ReadonlySet<BinaryOp> = new Set(['add', 'sub', 'mul', 'div']);

/**
 * Elements per pass through the WebAssembly heap. Elementwise work is done in
 * blocks of this size, so the heap (which never shrinks) stays at a few MB even
 * when a whole dataset is normalised at once, instead of growing to twice or
 * three times its size.
 */
export const WASM_BLOCK = 1 << 18;

/** Room for `n` floats rounded up to whole f32x4 vectors, which the kernels read and write. */
function padded(n: number): number {
  return (n + 3) & ~3;
}

/** `out = op(x)` on the SIMD kernels; false when `op` has none (exp, log, tanh... stay in JavaScript). */
export function unarySimd(rt: WasmRuntime, op: UnaryOp, x: Float32Array, out: Float32Array, n: number): boolean {
  if (!SIMD_UNARY.has(op)) return false;
  for (let at = 0; at < n; at += WASM_BLOCK) {
    const m = Math.min(WASM_BLOCK, n - at);
    const p = padded(m);
    const mem = rt.heap(2 * p);
    mem.set(x.subarray(at, at + m), 0);
    rt.exports[op](0, p * 4, m);
    out.set(mem.subarray(p, p + m), at);
  }
  return true;
}

/** `out = a op b` for same-size operands on the SIMD kernels; false when `op` has none. */
export function sameSimd(rt: WasmRuntime, op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array, n: number): boolean {
  if (!SIMD_BINARY.has(op)) return false;
  for (let at = 0; at < n; at += WASM_BLOCK) {
    const m = Math.min(WASM_BLOCK, n - at);
    const p = padded(m);
    const mem = rt.heap(3 * p);
    mem.set(a.subarray(at, at + m), 0);
    mem.set(b.subarray(at, at + m), p);
    rt.exports[op](0, p * 4, 2 * p * 4, m);
    out.set(mem.subarray(2 * p, 2 * p + m), at);
  }
  return true;
}

/** `out = a op s` (or `s op a` when `sFirst`) for a float32 scalar `s` on the SIMD kernels. */
export function scalarSimd(
  rt: WasmRuntime, op: BinaryOp, a: Float32Array, s: number, out: Float32Array, n: number, sFirst: boolean,
): boolean {
  if (!SIMD_BINARY.has(op)) return false;
  const name = sFirst && (op === 'sub' || op === 'div') ? `r${op}_scalar` : `${op}_scalar`;
  for (let at = 0; at < n; at += WASM_BLOCK) {
    const m = Math.min(WASM_BLOCK, n - at);
    const p = padded(m);
    const mem = rt.heap(2 * p);
    mem.set(a.subarray(at, at + m), 0);
    rt.exports[name](0, s, p * 4, m);
    out.set(mem.subarray(p, p + m), at);
  }
  return true;
}
