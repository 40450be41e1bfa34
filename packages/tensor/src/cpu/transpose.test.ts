// Swapping two axes that keep the last one (attention's heads), or the last two (matrices), on the
// WebAssembly kernels gives the TypeScript transpose's values, bit for bit, for float32 and int32.
import { describe, expect, it } from 'vitest';
import { transpose, transposeWith } from './movement.js';
import { WasmRuntime, kernelModule } from './wasm/wasm-runtime.js';

const module = kernelModule();

describe('transpose: swapped axes on the SIMD kernels', () => {
  const cases: [number[], number[]][] = [
    [
      [32, 16, 4, 16],
      [0, 2, 1, 3],
    ],
    [
      [32, 4, 16, 16],
      [0, 2, 1, 3],
    ],
    [
      [3, 7, 5, 9, 3],
      [0, 3, 2, 1, 4],
    ],
    [
      [50, 90, 3],
      [1, 0, 2],
    ],
    [
      [2, 3, 40, 7, 5],
      [0, 1, 3, 2, 4],
    ],
    // The last two axes swapped: matrices transposed on the kernel's 4x4 blocks, ragged edges included.
    [
      [512, 64],
      [1, 0],
    ],
    [
      [37, 150],
      [1, 0],
    ],
    [
      [3, 2, 45, 23],
      [0, 1, 3, 2],
    ],
  ];
  for (const [shape, perm] of cases) {
    for (const dtype of ['float32', 'int32'] as const) {
      it(`[${shape}] by [${perm}], ${dtype}`, () => {
        if (module === null) return; // no WebAssembly SIMD in this engine
        const n = shape.reduce((a, b) => a * b, 1);
        const x = dtype === 'float32' ? new Float32Array(n) : new Int32Array(n);
        for (let i = 0; i < n; i++) x[i] = dtype === 'float32' ? Math.sin(i) * 1e3 : (i * 7919) % 100003;
        if (dtype === 'float32') x.set([NaN, -0, Infinity], 0);
        const want = transpose(x, shape, perm, dtype);
        const got = transposeWith(new WasmRuntime(module), x, shape, perm, dtype);
        expect(got.constructor).toBe(want.constructor);
        expect(new Int32Array(got.buffer)).toEqual(new Int32Array(want.buffer));
      });
    }
  }

  it('leaves other permutations and small tensors to the TypeScript loop (same values)', () => {
    if (module === null) return;
    const rt = new WasmRuntime(module);
    const x = Float32Array.from({ length: 6000 }, (_, i) => i);
    for (const [shape, perm] of [
      [
        [10, 20, 30],
        [2, 1, 0],
      ],
      [
        [10, 20, 30],
        [1, 2, 0],
      ],
      [
        [2, 3, 4],
        [1, 0, 2],
      ],
    ] as [number[], number[]][]) {
      const n = shape.reduce((a, b) => a * b, 1);
      expect(transposeWith(rt, x.subarray(0, n), shape, perm, 'float32')).toEqual(transpose(x.subarray(0, n), shape, perm, 'float32'));
    }
  });
});
