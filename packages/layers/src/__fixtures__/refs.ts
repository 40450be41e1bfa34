import { readFileSync } from 'node:fs';
import { type Tensor, tensor } from '@bp/tensor';
import { expect } from 'vitest';

/** The PyTorch references written by scripts/gen_torch_refs.py. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const refs: any = JSON.parse(readFileSync(new URL('./torch_refs.json', import.meta.url), 'utf8'));

/** A float32 tensor from a fixture's flat values and shape. */
export function t(values: number[], shape: number[], requiresGrad = false): Tensor {
  return tensor(Float32Array.from(values), { shape, requiresGrad });
}

/** Elementwise |actual - expected| <= rtol * |expected| + atol, reporting the worst element. */
export function expectClose(actual: Tensor | ArrayLike<number>, expected: number[], rtol = 1e-4, atol = 1e-5): void {
  const a = 'dataSync' in actual ? (actual as Tensor).dataSync() : actual;
  expect(a.length).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const excess = Math.abs(a[i] - expected[i]) - (rtol * Math.abs(expected[i]) + atol);
    if (!(excess <= worstExcess) || Number.isNaN(a[i])) {
      worst = i;
      worstExcess = Number.isNaN(a[i]) ? Infinity : excess;
    }
  }
  if (worst >= 0) {
    expect.fail(`element ${worst}: got ${a[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

/** `[index, case]` rows for `it.each`, so test names carry the case number. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function indexed(list: any[]): [number, any][] {
  return list.map((c, i) => [i, c]);
}
