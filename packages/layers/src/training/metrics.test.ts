import { ShapeError, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { correctCount, getMetric, meanAbsoluteError, meanSquaredError } from './metrics.js';

describe('accuracy', () => {
  const probs = tensor([
    [0.1, 0.7, 0.2],
    [0.5, 0.3, 0.2],
    [0.2, 0.2, 0.6],
    [0.3, 0.4, 0.3],
  ]);

  it('compares the arg-max with int32 labels', () => {
    expect(correctCount(probs, tensor([1, 0, 1, 1], { dtype: 'int32' })).item()).toBe(3);
  });

  it('compares the arg-max with one-hot rows', () => {
    const oneHot = tensor([
      [0, 1, 0],
      [0, 0, 1],
      [0, 0, 1],
      [0, 1, 0],
    ]);
    expect(correctCount(probs, oneHot).item()).toBe(3);
  });

  it('thresholds a single output column at 0.5', () => {
    const p = tensor([[0.9], [0.2], [0.51], [0.49]]);
    expect(correctCount(p, tensor([[1], [0], [0], [0]])).item()).toBe(3);
    expect(correctCount(p.reshape([4]), tensor([1, 0, 1, 0], { dtype: 'int32' })).item()).toBe(4);
  });

  it('refuses targets that fit neither reading', () => {
    expect(() => correctCount(probs, tensor([1, 0], { dtype: 'int32' }))).toThrow(ShapeError);
  });
});

describe('regression metrics', () => {
  it('sum the per-sample means over the batch', () => {
    const pred = tensor([
      [1, 2],
      [3, 4],
    ]);
    const target = tensor([
      [1, 0],
      [0, 4],
    ]);
    expect(meanSquaredError.batchTotal(pred, target).item()).toBeCloseTo((0 + 4) / 2 + (9 + 0) / 2, 6);
    expect(meanAbsoluteError.batchTotal(pred, target).item()).toBeCloseTo((0 + 2) / 2 + (3 + 0) / 2, 6);
  });

  it('are found by name, and functions are named after themselves', () => {
    expect(getMetric('acc').name).toBe('accuracy');
    expect(getMetric('mse')).toBe(meanSquaredError);
    function maxError(p: ReturnType<typeof tensor>, t: ReturnType<typeof tensor>) {
      return p.sub(t).abs().max();
    }
    expect(getMetric(maxError).name).toBe('maxError');
    expect(() => getMetric('f1')).toThrow(/compile: unknown metric "f1"/);
  });
});
