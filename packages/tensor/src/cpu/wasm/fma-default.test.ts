import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../cpu-backend.js';
import { kernelModule } from './wasm-runtime.js';

function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

/** C = A @ B in float64, for [m, k] @ [k, n]. */
function reference(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) c[i * n + j] += a[i * k + p] * b[p * n + j];
  return c;
}

describe('the CPU backend picks fused multiply-adds by default', () => {
  // The default backend asks for the fused kernel, which (in Node 20) turns relaxed SIMD on first.
  const fused = cpuBackend({ threads: 1 });
  const relaxed = kernelModule(false, true) !== null;

  it.skipIf(!relaxed)('uses them where the engine has relaxed SIMD, and keeps the plain kernel with fma: false or BP_CPU_FMA=0', () => {
    expect(fused.info!().fma).toBe(true);
    expect(cpuBackend({ threads: 1, fma: false }).info!().fma).toBe(false);
    const saved = process.env.BP_CPU_FMA;
    process.env.BP_CPU_FMA = '0';
    try {
      expect(cpuBackend({ threads: 1 }).info!().fma).toBe(false);
      // An explicit option wins over the environment.
      expect(cpuBackend({ threads: 1, fma: true }).info!().fma).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.BP_CPU_FMA;
      else process.env.BP_CPU_FMA = saved;
    }
  });

  const plain = cpuBackend({ threads: 1, fma: false });
  // Every output is (-1) * 1 + (1 + 2^-12)^2 = 2^-11 + 2^-24 exactly, summed over depth in order:
  // rounding the product first (plain) drops the 2^-24, a fused multiply-add keeps it. Relaxed
  // SIMD may also run unfused (a CPU without FMA), which gives the plain value.
  const [m, k, n] = [64, 300, 200];
  const a = new Float32Array(m * k);
  const b = new Float32Array(k * n);
  for (let i = 0; i < m; i++) [a[i * k], a[i * k + 1]] = [-1, 1 + 2 ** -12];
  for (let j = 0; j < n; j++) [b[j], b[n + j]] = [1, 1 + 2 ** -12];
  const fusedValue = relaxed ? fused.matmul(a, b, 1, 1, m, k, n, false, false)[0] : NaN;
  const fuses = fusedValue === 2 ** -11 + 2 ** -24;

  it.skipIf(!relaxed)('rounds a product once where the CPU fuses (hand-derived values), twice with the plain kernel', () => {
    // Where the CPU says it has FMA (Linux), the engine must use it.
    if (existsSync('/proc/cpuinfo') && /^flags\s*:.* fma( |$)/m.test(readFileSync('/proc/cpuinfo', 'utf8'))) expect(fuses).toBe(true);
    expect(Array.from(plain.matmul(a, b, 1, 1, m, k, n, false, false) as Float32Array).every((v) => v === 2 ** -11)).toBe(true);
    const f = fused.matmul(a, b, 1, 1, m, k, n, false, false) as Float32Array;
    expect(Array.from(f).every((v) => v === (fuses ? 2 ** -11 + 2 ** -24 : 2 ** -11))).toBe(true);
  });

  it.skipIf(!relaxed || !fuses)(
    'rounds once per multiply-add: other last bits than the plain kernel, and no further from the exact product',
    () => {
      const a = values(m * k, 1);
      const b = values(k * n, 2);
      const f = fused.matmul(a, b, 1, 1, m, k, n, false, false) as Float32Array;
      const p = plain.matmul(a, b, 1, 1, m, k, n, false, false) as Float32Array;
      const exact = reference(a, b, m, k, n);
      let differing = 0;
      let errFused = 0;
      let errPlain = 0;
      for (let i = 0; i < exact.length; i++) {
        if (f[i] !== p[i]) differing++;
        errFused += Math.abs(f[i] - exact[i]);
        errPlain += Math.abs(p[i] - exact[i]);
        expect(Math.abs(f[i] - exact[i])).toBeLessThan(1e-5);
      }
      expect(differing).toBeGreaterThan(exact.length / 4);
      expect(errFused).toBeLessThan(errPlain);
    },
  );
});
