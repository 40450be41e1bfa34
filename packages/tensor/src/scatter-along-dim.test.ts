import { afterEach, describe, expect, it } from 'vitest';
import { cpuBackend, getBackend, scatter, setBackend, tensor, type Backend, type TypedArray } from './index.js';

/** The CPU kernels behind a backend that reads only asynchronously (as WebGPU). */
function asyncOnly(): Backend {
  const cpu = cpuBackend();
  return {
    ...cpu,
    name: 'async-test',
    valueChecks: false,
    syncRead: false,
    read() {
      throw new Error('read() must not be called on a backend with syncRead: false');
    },
    readAsync: (x, size, dtype) => Promise.resolve(cpu.read(x as TypedArray, size, dtype)),
  };
}

/** A small deterministic generator, so the cases are the same on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** PyTorch's scatter (out of place) written as a plain loop over `index` in row-major order: the last write wins. */
function reference(
  x: Float32Array,
  xs: number[],
  dim: number,
  idx: Int32Array,
  is: number[],
  src: Float32Array,
  ss: number[],
): Float32Array {
  const out = x.slice();
  const strides = (s: number[]) => s.map((_, i) => s.slice(i + 1).reduce((a, b) => a * b, 1));
  const [xst, ist, sst] = [strides(xs), strides(is), strides(ss)];
  for (let k = 0; k < idx.length; k++) {
    let o = 0;
    let sOff = 0;
    for (let i = 0; i < is.length; i++) {
      const c = Math.floor(k / ist[i]) % is[i];
      o += (i === dim ? idx[k] : c) * xst[i];
      sOff += c * sst[i];
    }
    out[o] = src[sOff];
  }
  return out;
}

const cases: [xs: number[], is: number[], dim: number][] = [
  [[4, 3, 2], [9, 3, 2], 0],
  [[3, 5, 2], [2, 17, 1], 1],
  [[2, 2, 6], [2, 1, 33], 2],
  [[7], [64], 0],
];

describe('scatter along a dim: the last write in row-major order of index wins, positions computed on the device', () => {
  const before = getBackend();
  afterEach(async () => {
    await setBackend(before);
  });

  for (const mode of ['cpu', 'asynchronous reads'] as const) {
    it(`random indices with many repeats (${mode})`, async () => {
      if (mode !== 'cpu') await setBackend(asyncOnly());
      for (const [xs, is, dim] of cases) {
        const rnd = lcg(xs.length * 100 + is[dim]);
        const xn = xs.reduce((a, b) => a * b, 1);
        const inN = is.reduce((a, b) => a * b, 1);
        const xv = Float32Array.from({ length: xn }, () => Math.round(rnd() * 100));
        const iv = Int32Array.from({ length: inN }, () => Math.floor(rnd() * xs[dim]));
        const sv = Float32Array.from({ length: inN }, (_, k) => 1000 + k);
        const want = reference(xv, xs, dim, iv, is, sv, is);
        const got = scatter(tensor(xv, { shape: xs }), dim, tensor(iv, { shape: is, dtype: 'int32' }), tensor(sv, { shape: is }));
        expect(Array.from(await got.data()), `scatter ${JSON.stringify(xs)} dim ${dim} index ${JSON.stringify(is)}`).toEqual(
          Array.from(want),
        );
      }
    });
  }
});
