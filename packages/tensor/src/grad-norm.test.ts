import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ArgumentError,
  DTypeError,
  ShapeError,
  cpuBackend,
  getBackend,
  mul,
  randn,
  scalar,
  setBackend,
  tensor,
  type Backend,
} from './index.js';
import { scaleInPlace, sumOfSquares } from './internal.js';

/** The CPU backend without the two fused kernels: the ops then run as composites of primitives. */
function compositeCpu(): Backend {
  const cpu = cpuBackend() as Backend;
  const fused = { ...cpu.fused };
  delete fused.sumOfSquares;
  delete fused.scaleInPlace;
  return { ...cpu, name: 'cpu-without-grad-norm', fused };
}

const cpu = getBackend();
const composite = compositeCpu();

/** Runs `fn` on the CPU backend and on the composite one. */
function both(name: string, fn: (path: 'fused' | 'composite') => Promise<void> | void): void {
  it(`${name} (fused kernel)`, async () => {
    await setBackend(cpu);
    await fn('fused');
  });
  it(`${name} (composite)`, async () => {
    await setBackend(composite);
    try {
      await fn('composite');
    } finally {
      await setBackend(cpu);
    }
  });
}

beforeAll(async () => {
  await setBackend(cpu);
});
afterAll(async () => {
  await setBackend(cpu);
});

describe('sumOfSquares', () => {
  both('hand-derived: [3, 4] and [[1, 2], [2, 0]] give 9 + 16 + 1 + 4 + 4 = 34, as a 0-d float32 tensor', () => {
    const s = sumOfSquares([
      tensor([3, 4]),
      tensor([
        [1, 2],
        [2, 0],
      ]),
    ]);
    expect(s.shape).toEqual([]);
    expect(s.dtype).toBe('float32');
    expect(s.item()).toBe(34);
  });

  both('0 for an empty list and for empty tensors; NaN and Infinity carry through', () => {
    expect(sumOfSquares([]).item()).toBe(0);
    expect(sumOfSquares([tensor([], { shape: [0, 3] })]).item()).toBe(0);
    expect(sumOfSquares([tensor([1, NaN])]).item()).toBeNaN();
    expect(sumOfSquares([tensor([2]), tensor([-Infinity])]).item()).toBe(Infinity);
    // 1e20 squared is past float32's range: Infinity, as PyTorch's clip_grad_norm_ reports.
    expect(sumOfSquares([tensor([1e20, 0])]).item()).toBe(Infinity);
  });

  it('the fused kernel squares and sums in float64 and rounds once; the composite rounds each square', async () => {
    // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24: a float32 square drops the 2^-24, three of them summed
    // exactly round up by one ulp at 3.
    const x = 1 + 2 ** -12;
    const xs = () => [tensor([x, x]), tensor([x])];
    await setBackend(cpu);
    expect(sumOfSquares(xs()).item()).toBe(Math.fround(3 * x * x));
    await setBackend(composite);
    try {
      expect(sumOfSquares(xs()).item()).toBe(3 * Math.fround(x * x));
    } finally {
      await setBackend(cpu);
    }
    expect(Math.fround(3 * x * x)).not.toBe(3 * Math.fround(x * x));
  });

  both('agrees with sum(square(x)) over many random tensors within float32 rounding', () => {
    const xs = [randn([64, 33]), randn([1000]), randn([7])];
    const want = xs.reduce((a, t) => a + Array.from(t.dataSync()).reduce((s, v) => s + v * v, 0), 0);
    expect(sumOfSquares(xs).item()).toBeCloseTo(want, 2);
    expect(Math.abs(sumOfSquares(xs).item() - want) / want).toBeLessThan(1e-6);
  });

  both('records no gradient', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(sumOfSquares([x]).requiresGrad).toBe(false);
  });

  it('rejects what is not a list of float32 tensors, naming the op and the entry', () => {
    expect(() => sumOfSquares(tensor([1]) as never)).toThrow(ArgumentError);
    expect(() => sumOfSquares([tensor([1]), 3 as never])).toThrow(/sumOfSquares: xs\[1\] must be a Tensor/);
    expect(() => sumOfSquares([tensor([1], { dtype: 'int32' })])).toThrow(DTypeError);
    expect(() => sumOfSquares([tensor([1], { dtype: 'int32' })])).toThrow(/xs\[0\] must be float32, got int32 \[1\]/);
  });
});

describe('scaleInPlace', () => {
  both('gives the bits of mul(x, factor), small and large (the SIMD kernel from 256 values), in place', () => {
    for (const n of [5, 300, 40_000]) {
      const values = Array.from(randn([n]).dataSync());
      values[0] = NaN;
      values[1] = -0;
      values[2] = Infinity;
      values[3] = 3.4e38;
      const x = tensor(values);
      const f = scalar(0.3);
      const want = mul(tensor(values), f).dataSync();
      const v0 = x.version;
      scaleInPlace([x], f);
      expect(x.dataSync()).toEqual(want);
      expect(Object.is(x.dataSync()[1], -0)).toBe(true);
      expect(x.version).toBeGreaterThan(v0);
    }
  });

  both('scales every tensor of the list; views of one see the change', () => {
    const a = tensor([1, 2, 3, 4]);
    const view = a.reshape([2, 2]);
    const b = tensor([[10], [20]]);
    scaleInPlace([a, b], scalar(0.5));
    expect(Array.from(a.dataSync())).toEqual([0.5, 1, 1.5, 2]);
    expect(Array.from(view.dataSync())).toEqual([0.5, 1, 1.5, 2]);
    expect(Array.from(b.dataSync())).toEqual([5, 10]);
  });

  it('rejects a factor that is not one float32 value, and non-float32 tensors', () => {
    expect(() => scaleInPlace([tensor([1])], tensor([1, 2]))).toThrow(ShapeError);
    expect(() => scaleInPlace([tensor([1])], tensor([1, 2]))).toThrow(/scaleInPlace: factor must be one float32 value, got float32 \[2\]/);
    expect(() => scaleInPlace([tensor([1])], scalar(1, { dtype: 'int32' }))).toThrow(ShapeError);
    expect(() => scaleInPlace([tensor([1], { dtype: 'int32' })], scalar(1))).toThrow(DTypeError);
  });
});
