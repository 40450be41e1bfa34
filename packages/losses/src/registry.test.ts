import { ArgumentError, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import {
  LOSSES,
  LOSS_INPUTS,
  bceLoss,
  binaryCrossentropy,
  categoricalCrossentropy,
  crossEntropyLoss,
  getLoss,
  l1Loss,
  mseLoss,
  sparseCategoricalCrossentropy,
} from './index.js';

describe('getLoss', () => {
  it('knows the function names and the Keras strings', () => {
    expect(getLoss('sparseCategoricalCrossentropy')).toBe(sparseCategoricalCrossentropy);
    expect(getLoss('sparse_categorical_crossentropy')).toBe(sparseCategoricalCrossentropy);
    expect(getLoss('categorical_crossentropy')).toBe(categoricalCrossentropy);
    expect(getLoss('binary_crossentropy')).toBe(binaryCrossentropy);
    expect(getLoss('binaryCrossentropy')).toBe(binaryCrossentropy);
    expect(getLoss('bce')).toBe(bceLoss);
    expect(getLoss('mse')).toBe(mseLoss);
    expect(getLoss('mean_squared_error')).toBe(mseLoss);
    expect(getLoss('mae')).toBe(l1Loss);
    expect(getLoss('crossEntropyLoss')).toBe(crossEntropyLoss);
  });

  it('returns a function unchanged', () => {
    const custom = (a: typeof tensor.prototype, _b: unknown) => a;
    expect(getLoss(custom as never)).toBe(custom);
  });

  it('an unknown name lists the valid ones', () => {
    expect(() => getLoss('msee')).toThrow(ArgumentError);
    expect(() => getLoss('msee')).toThrow(/getLoss: unknown loss "msee"; valid names: mseLoss, .*sparse_categorical_crossentropy/);
    expect(() => getLoss('toString')).toThrow(ArgumentError);
  });

  it('the looked-up function computes the loss', () => {
    expect(getLoss('mse')(tensor([0.8]), tensor([1])).item()).toBeCloseTo(0.04, 6);
  });
});

describe('Keras spellings and the compile registry', () => {
  it('getLoss ignores case, underscores and dashes', () => {
    expect(getLoss('SparseCategoricalCrossentropy')).toBe(sparseCategoricalCrossentropy);
    expect(getLoss('MEAN_SQUARED_ERROR')).toBe(mseLoss);
    expect(getLoss('binary-crossentropy')).toBe(binaryCrossentropy);
    expect(getLoss('crossEntropy')).toBe(crossEntropyLoss);
  });

  it('importing @bp/losses registers every name with what the loss expects', () => {
    const table = (globalThis as unknown as Record<symbol, { losses: Map<string, { fn: unknown; input: string }> }>)[
      Symbol.for('@bp/training-registry')
    ];
    expect(table.losses.get('sparse_categorical_crossentropy')).toEqual({ fn: sparseCategoricalCrossentropy, input: 'probabilities' });
    expect(table.losses.get('crossEntropyLoss')).toEqual({ fn: crossEntropyLoss, input: 'logits' });
    expect(table.losses.get('mse')?.input).toBe('values');
    expect(table.losses.size).toBe(Object.keys(LOSSES).length);
    for (const fn of new Set(Object.values(LOSSES))) expect(LOSS_INPUTS.has(fn)).toBe(true);
  });
});
