import { crossEntropyLoss } from '@bp/losses';
import { SGD } from '@bp/optim';
import { ShapeError, type Tensor, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { Linear } from '../layers/linear.js';
import { Sequential } from '../sequential.js';
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
    // int32 one-hot rows read the same way (Keras reads a [n, classes] target as categorical).
    expect(correctCount(probs, oneHot.cast('int32')).item()).toBe(3);
  });

  it('thresholds a single output column at 0.5', () => {
    const p = tensor([[0.9], [0.2], [0.51], [0.49]]);
    expect(correctCount(p, tensor([[1], [0], [0], [0]])).item()).toBe(3);
    expect(correctCount(p.reshape([4]), tensor([1, 0, 1, 0], { dtype: 'int32' })).item()).toBe(4);
  });

  it("counts a sequence's positions as Keras does: the share of correct positions, not hits per sample", () => {
    // 2 sequences of 3 positions, 2 classes: 4 of 6 positions right (the first sequence all, the second one of 3).
    const seq = tensor([
      [
        [0.9, 0.1],
        [0.2, 0.8],
        [0.7, 0.3],
      ],
      [
        [0.9, 0.1],
        [0.9, 0.1],
        [0.9, 0.1],
      ],
    ]);
    const ids = tensor(
      [
        [0, 1, 0],
        [0, 1, 1],
      ],
      { dtype: 'int32' },
    );
    // Summed over the batch of 2: 2 * 4/6; fit divides by the 2 samples, giving 4/6.
    expect(correctCount(seq, ids).item()).toBeCloseTo((2 * 4) / 6, 6);
    expect(getMetric('sparse_categorical_accuracy').batchTotal(seq, ids).item()).toBeCloseTo((2 * 4) / 6, 6);
    const oneHot = tensor([
      [
        [1, 0],
        [0, 1],
        [1, 0],
      ],
      [
        [1, 0],
        [0, 1],
        [0, 1],
      ],
    ]);
    expect(getMetric('categorical_accuracy').batchTotal(seq, oneHot).item()).toBeCloseTo((2 * 4) / 6, 6);
  });

  it('gives a sequence model its share of correct positions in evaluate and fit', async () => {
    const m = new Sequential([new Linear(2, 2)]);
    // The identity: each position's arg-max is its larger input.
    m.loadStateDict({
      '0.weight': tensor([
        [1, 0],
        [0, 1],
      ]),
      '0.bias': tensor([0, 0]),
    });
    const seqLoss = (p: Tensor, y: Tensor) => crossEntropyLoss(p.reshape([-1, 2]), y.reshape([-1]));
    m.compile({ optimizer: new SGD(m.parameters(), { lr: 0 }), loss: seqLoss, metrics: ['accuracy', 'sparse_categorical_accuracy'] });
    const x = tensor([
      [
        [1, 0],
        [0, 1],
        [1, 0],
      ],
      [
        [1, 0],
        [1, 0],
        [1, 0],
      ],
    ]);
    const y = tensor(
      [
        [0, 1, 0],
        [0, 1, 1],
      ],
      { dtype: 'int32' },
    );
    const logs = await m.evaluate(x, y);
    expect(logs.accuracy).toBeCloseTo(4 / 6, 6);
    expect(logs.sparse_categorical_accuracy).toBeCloseTo(4 / 6, 6);
    const h = await m.fit(x, y, { epochs: 1, batchSize: 1, shuffle: false, verbose: 0 });
    expect(h.history.accuracy[0]).toBeCloseTo(4 / 6, 6);
  });

  it('thresholds one output column at 0 with a loss that takes logits', async () => {
    const m = new Sequential([new Linear(1, 1)]);
    m.loadStateDict({ '0.weight': tensor([[1]]), '0.bias': tensor([0]) });
    m.compile({ optimizer: new SGD(m.parameters(), { lr: 0 }), loss: 'bceWithLogitsLoss', metrics: ['accuracy', 'binary_accuracy'] });
    // Logits 0.3 and 0.2 are probabilities above 0.5: every prediction is right.
    const logs = await m.evaluate(tensor([[0.3], [0.2], [-0.3], [-0.2]]), tensor([[1], [1], [0], [0]]));
    expect(logs.accuracy).toBe(1);
    expect(logs.binary_accuracy).toBe(1);
    // With a loss on probabilities, 0.5 stays the threshold.
    const p = new Sequential([new Linear(1, 1)]);
    p.loadStateDict({ '0.weight': tensor([[1]]), '0.bias': tensor([0]) });
    p.compile({ optimizer: new SGD(p.parameters(), { lr: 0 }), loss: 'mse', metrics: ['accuracy'] });
    expect((await p.evaluate(tensor([[0.3], [0.2], [-0.3], [-0.2]]), tensor([[1], [1], [0], [0]]))).accuracy).toBe(0.5);
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
