import { ArgumentError, DTypeError, ShapeError, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { MNIST_MEAN, MNIST_STD } from './mnist.js';
import { normalize } from './normalize.js';

describe('normalize', () => {
  it('subtracts a scalar mean and divides by a scalar std', () => {
    const y = normalize(tensor([0, 0.1307, 1]), MNIST_MEAN, MNIST_STD).dataSync();
    expect(y[0]).toBeCloseTo(-0.1307 / 0.3081, 6);
    expect(y[1]).toBeCloseTo(0, 6);
    expect(y[2]).toBeCloseTo((1 - 0.1307) / 0.3081, 6);
  });

  it('applies per-channel statistics along axis 1 of NCHW images', () => {
    // [1, 2, 1, 2]: channel 0 holds 1, 3; channel 1 holds 5, 7.
    const x = tensor([1, 3, 5, 7], { shape: [1, 2, 1, 2] });
    expect(normalize(x, [1, 5], [2, 4]).toArray()).toEqual([[[[0, 1]], [[0, 0.5]]]]);
  });

  it('applies per-feature statistics to [N, F] tables', () => {
    expect(
      normalize(
        tensor([
          [1, 10],
          [3, 30],
        ]),
        [2, 20],
        [1, 10],
      ).toArray(),
    ).toEqual([
      [-1, -1],
      [1, 1],
    ]);
  });

  it('rejects mismatched channel counts, zero std and int tensors', () => {
    expect(() => normalize(tensor([[1, 2, 3]]), [0, 0], 1)).toThrow(ShapeError);
    expect(() => normalize(tensor([[1, 2, 3]]), [0, 0], 1)).toThrow('normalize: mean has 2 values but axis 1 of x [1,3] is 3');
    expect(() => normalize(tensor([1]), 0, 0)).toThrow(ArgumentError);
    expect(() => normalize(tensor([1], { dtype: 'int32' }), 0, 1)).toThrow(DTypeError);
  });
});
