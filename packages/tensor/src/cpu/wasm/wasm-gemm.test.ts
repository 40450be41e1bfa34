import { describe, expect, it } from 'vitest';
import { matmul } from '../matmul.js';
import { biasRows, setPacking, setPackingA, wasmGemm, wasmGemmBatch } from './wasm-gemm.js';
import { WasmRuntime, kernelModule } from './wasm-runtime.js';
import { values } from './__fixtures__/values.js';

/** op(A) @ op(B) in float64, straight from the definition. */
function reference(a: Float32Array, b: Float32Array, m: number, k: number, n: number, tA: boolean, tB: boolean): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (tA ? a[p * m + i] : a[i * k + p]) * (tB ? b[j * k + p] : b[p * n + j]);
      out[i * n + j] = s;
    }
  }
  return out;
}

const module = kernelModule();

describe.skipIf(module === null)('WebAssembly SIMD matmul', () => {
  const simd = new WasmRuntime(module!);
  // Sizes straddle the 4-row and 8-column tiles and the KC=256 / MC=128 blocks.
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [3, 5, 7],
    [4, 8, 8],
    [5, 9, 17],
    [32, 784, 128],
    [33, 257, 130],
    [130, 300, 9],
    [7, 513, 1],
  ];
  for (const [m, k, n] of shapes) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        it(`[${m}x${k}] @ [${k}x${n}] transA=${tA} transB=${tB}`, () => {
          const a = values(m * k, m * 31 + k);
          const b = values(k * n, n * 17 + k);
          const got = new Float32Array(m * n);
          wasmGemm(simd, a, 0, b, 0, got, 0, m, k, n, tA, tB);
          const want = reference(a, b, m, k, n, tA, tB);
          const tol = 1e-5 * Math.sqrt(k) * 4;
          for (let i = 0; i < m * n; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(tol);
        });
      }
    }
  }

  // A short A times B^T (a batch through a linear layer's weight) is computed as C^T = B @ A^T and
  // transposed back inside the module, where the epilogue then runs; the others take the direct way.
  for (const [m, k, n, tB] of [
    [32, 784, 128, true],
    [5, 300, 130, true],
    [3, 40, 9, true],
    [130, 9, 33, true],
    [33, 257, 130, false],
  ] as const) {
    for (const [bias, relu] of [
      [true, true],
      [true, false],
      [false, true],
      [false, false],
    ] as const) {
      it(`[${m}x${k}] @ [${k}x${n}]${tB ? '^T' : ''}${bias ? ' + bias' : ''}${relu ? ', relu' : ''}: the bits of the product then biasRows`, () => {
        const a = values(m * k, m + k);
        const b = values(k * n, n + 3 * k);
        a[k] = NaN; // row 1 of the output: NaN, which the ReLU turns into 0
        const bv = bias ? values(n, 5) : null;
        const got = new Float32Array(m * n + 3).fill(7);
        wasmGemm(simd, a, 0, b, 0, got, 3, m, k, n, false, tB, { bias: bv, relu });
        const want = new Float32Array(m * n + 3).fill(7);
        wasmGemm(simd, a, 0, b, 0, want, 3, m, k, n, false, tB);
        biasRows(want, 3, bv, m, n, relu);
        expect(Array.from(got).map((x) => (Object.is(x, -0) ? '-0' : x))).toEqual(
          Array.from(want).map((x) => (Object.is(x, -0) ? '-0' : x)),
        );
      });
    }
  }

  it('handles batches, broadcast operands and offsets like the TypeScript loops', () => {
    const [batch, m, k, n] = [3, 20, 40, 24];
    const a = values(batch * m * k, 1);
    const b = values(k * n, 2);
    const got = matmul(a, b, batch, 1, m, k, n, false, false, simd);
    const want = matmul(a, b, batch, 1, m, k, n, false, false, null);
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(want[i], 4);
  });

  it('runs a batch of small products in one group with the bits of one product at a time', () => {
    // Ragged tiles (m, n not multiples of 4 and 8), every transpose, shared operands on either side.
    for (const [batch, m, k, n] of [
      [128, 16, 16, 16],
      [9, 5, 3, 7],
      [6, 17, 33, 9],
    ]) {
      for (const [batchA, batchB] of [
        [batch, batch],
        [batch, 1],
        [1, batch],
      ]) {
        for (const tA of [false, true]) {
          for (const tB of [false, true]) {
            const a = values(batchA * m * k, m + k + batchA);
            const b = values(batchB * k * n, n + k + batchB);
            const got = new Float32Array(batch * m * n).fill(NaN);
            wasmGemmBatch(simd, a, b, batchA, batchB, got, m, k, n, tA, tB);
            const want = new Float32Array(batch * m * n);
            for (let t = 0; t < batch; t++) {
              wasmGemm(simd, a, batchA === 1 ? 0 : t * m * k, b, batchB === 1 ? 0 : t * k * n, want, t * m * n, m, k, n, tA, tB);
            }
            expect(got).toEqual(want);
            const one = reference(a.subarray(0, m * k), b.subarray(0, k * n), m, k, n, tA, tB);
            for (let i = 0; i < m * n; i++) expect(Math.abs(got[i] - one[i])).toBeLessThan(1e-4);
          }
        }
      }
    }
  });

  it('grows its memory for large operands and stays correct afterwards', () => {
    const small = new WasmRuntime(module!, new WebAssembly.Memory({ initial: 1, maximum: 65536 }));
    for (const [m, k, n] of [
      [8, 8, 8],
      [300, 200, 400],
      [9, 9, 9],
    ]) {
      const a = values(m * k, m);
      const b = values(k * n, n);
      const got = new Float32Array(m * n);
      wasmGemm(small, a, 0, b, 0, got, 0, m, k, n, false, false);
      const want = reference(a, b, m, k, n, false, false);
      for (let i = 0; i < m * n; i += 7) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-3);
    }
  });

  it('transposes exactly, in 4x4 blocks (sixteen rows at a time) and the ragged edges, into a wider destination', () => {
    for (const [rows, cols, ldd] of [
      [1, 1, 1],
      [3, 5, 4],
      [4, 4, 4],
      [16, 784, 16],
      [7, 13, 9],
      [32, 196, 40],
      [5, 8, 5],
      // Sixteen rows at a time, then a last group of 4 or 8 rows and a ragged edge.
      [512, 64, 512],
      [44, 20, 48],
      [23, 9, 25],
    ]) {
      const mem = simd.heap(64 + rows * cols + cols * ldd + 64);
      const src = 16;
      const dst = src + rows * cols + 16;
      // NaNs with payloads and -0 must come through bit for bit.
      const bits = new Uint32Array(mem.buffer, 0, mem.length);
      for (let i = 0; i < rows * cols; i++)
        bits[src + i] = i % 11 === 0 ? 0x7fc00000 + i : i % 13 === 0 ? 0x80000000 : 0x3f800000 + i * 977;
      mem.fill(-5, dst, dst + cols * ldd);
      simd.exports.transpose(src * 4, rows, cols, dst * 4, ldd);
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) expect(bits[dst + j * ldd + i]).toBe(bits[src + i * cols + j]);
      }
      // Columns past `rows` in each destination row are left alone.
      for (let j = 0; j < cols; j++) for (let i = rows; i < ldd; i++) expect(mem[dst + j * ldd + i]).toBe(-5);
    }
  });
});

describe('the fused multiply-add (relaxed SIMD) matrix kernel', () => {
  // Node 20 has relaxed SIMD behind a flag, set here before the variant is compiled; newer engines have it on.
  it('compiles where the engine has relaxed SIMD, and multiplies within float32 rounding', async () => {
    const { setFlagsFromString } = await import('node:v8');
    setFlagsFromString('--experimental-wasm-relaxed-simd');
    const fused = kernelModule(false, true);
    expect(fused).not.toBeNull();
    const rt = new WasmRuntime(fused!, undefined, true);
    for (const [m, k, n] of [
      [33, 257, 130],
      [130, 300, 9],
      [64, 784, 128],
    ] as const) {
      const a = values(m * k, m + 3);
      const b = values(k * n, n + 5);
      const got = new Float32Array(m * n);
      wasmGemm(rt, a, 0, b, 0, got, 0, m, k, n, false, false);
      const want = reference(a, b, m, k, n, false, false);
      const tol = 1e-5 * Math.sqrt(k) * 4;
      for (let i = 0; i < m * n; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(tol);
    }
  });
});

describe.skipIf(module === null)('the matrix kernel on packed panels of B', () => {
  const simd = new WasmRuntime(module!);
  it('gives the same bits as on the row-major B, for every transpose and ragged sizes', () => {
    for (const [m, k, n] of [
      [5, 9, 17],
      [33, 257, 130],
      [64, 300, 513],
      [8, 1, 7],
      [17, 600, 1030],
    ] as const) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          const a = values(m * k, m + 2 * k);
          const b = values(k * n, n + 3 * k);
          const rowMajor = new Float32Array(m * n);
          const packed = new Float32Array(m * n);
          try {
            setPacking('never');
            wasmGemm(simd, a, 0, b, 0, rowMajor, 0, m, k, n, tA, tB);
            setPacking('always');
            wasmGemm(simd, a, 0, b, 0, packed, 0, m, k, n, tA, tB);
          } finally {
            setPacking('auto');
          }
          const want = reference(a, b, m, k, n, tA, tB);
          expect(Math.abs(packed[0] - want[0])).toBeLessThan(1e-4 * Math.sqrt(k));
          let diff = -1;
          for (let i = 0; i < m * n && diff < 0; i++) if (!Object.is(packed[i], rowMajor[i])) diff = i;
          expect(diff, `[${m}x${k}] @ [${k}x${n}] transA=${tA} transB=${tB}`).toBe(-1);
        }
      }
    }
  });

  // 11 columns: one whole panel and a ragged one; 107: thirteen whole panels (a run of eight, a run
  // of four and one alone, as pack_b walks them) and a ragged one.
  it.each([
    [3, 11],
    [5, 107],
  ])('packs B [%i, %i] into [ceil(n/8), k, 8] panels padded with zeros, from either layout', (k, n) => {
    const nb = Math.ceil(n / 8);
    const b = Float32Array.from({ length: k * n }, (_, i) => i + 1);
    const bt = Float32Array.from({ length: k * n }, (_, i) => b[(i % k) * n + Math.floor(i / k)]);
    const want = new Float32Array(nb * k * 8);
    for (let jb = 0; jb < nb; jb++)
      for (let p = 0; p < k; p++)
        for (let j = 0; j < 8; j++) {
          const col = jb * 8 + j;
          want[(jb * k + p) * 8 + j] = col < n ? b[p * n + col] : 0;
        }
    const at = 64 + k * n + 64;
    const mem = simd.heap(at + want.length + 64);
    for (const [src, pack] of [
      [b, 'pack_b'],
      [bt, 'pack_bt'],
    ] as const) {
      mem.fill(-1, 0, at + want.length + 64);
      mem.set(src, 64);
      if (pack === 'pack_b') simd.exports.pack_b(64 * 4, k, n, at * 4);
      else simd.exports.pack_bt(64 * 4, n, k, at * 4);
      expect(Array.from(mem.subarray(at, at + want.length)), pack).toEqual(Array.from(want));
      // Nothing past the panels is written.
      expect(mem[at + want.length], pack).toBe(-1);
    }
  });
});

describe.skipIf(module === null)('the matrix kernel on A in 4-row strips', () => {
  const simd = new WasmRuntime(module!);
  it('gives the same bits with A and B packed or not, for every transpose and ragged sizes', () => {
    for (const [m, k, n] of [
      [5, 9, 17],
      [33, 257, 130],
      [64, 300, 513],
      [8, 1, 7],
      [130, 600, 1030],
    ] as const) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          const a = values(m * k, m + 5 * k);
          const b = values(k * n, n + 7 * k);
          const results: Float32Array[] = [];
          try {
            for (const pa of ['never', 'always'] as const) {
              for (const pb of ['never', 'always'] as const) {
                setPackingA(pa);
                setPacking(pb);
                const out = new Float32Array(m * n);
                wasmGemm(simd, a, 0, b, 0, out, 0, m, k, n, tA, tB);
                results.push(out);
              }
            }
          } finally {
            setPackingA('auto');
            setPacking('auto');
          }
          const want = reference(a, b, m, k, n, tA, tB);
          expect(Math.abs(results[3][0] - want[0])).toBeLessThan(1e-4 * Math.sqrt(k));
          for (const r of results.slice(1)) {
            let diff = -1;
            for (let i = 0; i < m * n && diff < 0; i++) if (!Object.is(r[i], results[0][i])) diff = i;
            expect(diff, `[${m}x${k}] @ [${k}x${n}] transA=${tA} transB=${tB}`).toBe(-1);
          }
        }
      }
    }
  });

  it('packs A [m, k] into [m/4, k, 4] strips', () => {
    const [m, k] = [8, 5];
    const a = Float32Array.from({ length: m * k }, (_, i) => i + 1);
    const want = new Float32Array(m * k);
    for (let s = 0; s < m / 4; s++)
      for (let p = 0; p < k; p++) for (let r = 0; r < 4; r++) want[(s * k + p) * 4 + r] = a[(4 * s + r) * k + p];
    const mem = simd.heap(1024);
    mem.fill(-1, 0, 1024);
    mem.set(a, 64);
    simd.exports.pack_a(64 * 4, m, k, 256 * 4);
    expect(Array.from(mem.subarray(256, 256 + m * k))).toEqual(Array.from(want));
    expect(mem[256 + m * k]).toBe(-1);
  });
});
