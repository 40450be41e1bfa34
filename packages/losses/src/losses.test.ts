import '@bp/autograd';
import { ArgumentError, DTypeError, IndexError, ShapeError, setDebugChecks, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import {
  bceLoss,
  bceWithLogitsLoss,
  categoricalCrossentropy,
  crossEntropyLoss,
  huberLoss,
  klDivLoss,
  l1Loss,
  mseLoss,
  nllLoss,
  sparseCategoricalCrossentropy,
} from './index.js';

const labels = (v: number[]) => tensor(v, { dtype: 'int32' });

describe('seed numbers', () => {
  it('MSE(0.8, 1.0) = 0.04', () => {
    expect(mseLoss(tensor([0.8]), tensor([1])).item()).toBeCloseTo(0.04, 6);
  });
  it('BCE(0.8, 1) = 0.2231', () => {
    expect(bceLoss(tensor([0.8]), tensor([1])).item()).toBeCloseTo(0.2231, 4);
  });
  it('categorical cross-entropy of p = 0.8 on the true class = 0.223', () => {
    expect(categoricalCrossentropy(tensor([[0.8, 0.2]]), tensor([[1, 0]])).item()).toBeCloseTo(0.223, 3);
    expect(sparseCategoricalCrossentropy(tensor([[0.8, 0.2]]), labels([0])).item()).toBeCloseTo(0.223, 3);
  });
  it('hand-derived: cross-entropy of equal logits is log(C)', () => {
    expect(crossEntropyLoss(tensor([[3, 3, 3, 3]]), labels([2])).item()).toBeCloseTo(Math.log(4), 6);
  });
  it('hand-derived: Huber is quadratic inside delta and linear outside', () => {
    // d = 0.5 -> 0.125; d = -3 -> 1 * (3 - 0.5) = 2.5
    expect(huberLoss(tensor([0.5, -3]), tensor([0, 0]), { reduction: 'none' }).toArray()).toEqual([0.125, 2.5]);
    expect(l1Loss(tensor([0.5, -3]), tensor([0, 0]), { reduction: 'sum' }).item()).toBe(3.5);
  });
});

describe('numerical stability for logits of +-1e4', () => {
  const finite = (v: ArrayLike<number>) => Array.from(v).every(Number.isFinite);

  it('crossEntropyLoss: finite value and gradient', () => {
    const x = tensor(
      [
        [1e4, -1e4, 0],
        [-1e4, 1e4, -1e4],
      ],
      { requiresGrad: true },
    );
    const loss = crossEntropyLoss(x, labels([1, 0]), { labelSmoothing: 0.1 });
    loss.backward();
    expect(finite(loss.dataSync())).toBe(true);
    expect(finite(x.grad!.dataSync())).toBe(true);
    // the confident right answer costs nothing, the confident wrong one 2e4
    expect(crossEntropyLoss(tensor([[-1e4, 1e4]]), labels([1])).item()).toBe(0);
    expect(crossEntropyLoss(tensor([[1e4, -1e4]]), labels([1])).item()).toBe(2e4);
  });

  it('bceWithLogitsLoss: finite value and gradient sigmoid(x) - y', () => {
    const x = tensor([1e4, -1e4, 1e4, -1e4], { requiresGrad: true });
    const loss = bceWithLogitsLoss(x, tensor([1, 0, 0, 1]), { reduction: 'sum' });
    loss.backward();
    expect(loss.item()).toBe(2e4);
    expect(Array.from(x.grad!.dataSync())).toEqual([0, 0, 1, -1]);
  });

  it("bceLoss at probabilities 0 and 1: clamped at 100 per term, PyTorch's gradient", () => {
    const p = tensor([0, 1, 0, 1], { requiresGrad: true });
    const loss = bceLoss(p, tensor([1, 0, 0, 1]), { reduction: 'none' });
    expect(Array.from(loss.dataSync(), (v) => v + 0)).toEqual([100, 100, 0, 0]);
    loss.sum().backward();
    // (p - y) / max(p (1 - p), 1e-12): -1e12 and 1e12 where the target is the other end, 0 where they agree
    expect(Array.from(p.grad!.dataSync(), (v) => v + 0)).toEqual([Math.fround(-1e12), Math.fround(1e12), 0, 0]);
  });

  it('Keras probability losses clip at 1e-7: a zero probability costs -log(1e-7)', () => {
    const p = tensor([[0, 1]], { requiresGrad: true });
    const loss = sparseCategoricalCrossentropy(p, labels([0]));
    expect(loss.item()).toBeCloseTo(-Math.log(1e-7), 4);
    loss.backward();
    expect(finite(p.grad!.dataSync())).toBe(true);
  });
});

describe('input validation', () => {
  it('shape mismatch names the loss and both shapes', () => {
    expect(() => mseLoss(tensor([[1], [2]]), tensor([1, 2]))).toThrow(ShapeError);
    expect(() => mseLoss(tensor([[1], [2]]), tensor([1, 2]))).toThrow('mseLoss: input [2,1] and target [2] must have the same shape');
    expect(() => categoricalCrossentropy(tensor([[0.5, 0.5]]), tensor([[1, 0, 0]]))).toThrow(ShapeError);
    expect(() =>
      crossEntropyLoss(
        tensor([
          [1, 2],
          [3, 4],
        ]),
        labels([0, 1, 1]),
      ),
    ).toThrow('crossEntropyLoss: labels [3] do not match input [2,2]');
    expect(() => crossEntropyLoss(tensor([1, 2]), labels([0]))).toThrow(ShapeError);
  });

  it('labels must be int32', () => {
    expect(() => crossEntropyLoss(tensor([[1, 2]]), tensor([1]))).toThrow(DTypeError);
    expect(() => nllLoss(tensor([[1, 2]]), tensor([1]))).toThrow(/nllLoss: labels must be int32 class ids, got float32/);
    expect(() => sparseCategoricalCrossentropy(tensor([[0.5, 0.5]]), tensor([0.0]))).toThrow(DTypeError);
  });

  it('labels out of range name the label, its position and the class count', () => {
    expect(() => crossEntropyLoss(tensor([[1, 2, 3]]), labels([3]))).toThrow(IndexError);
    expect(() =>
      crossEntropyLoss(
        tensor([
          [1, 2, 3],
          [1, 2, 3],
        ]),
        labels([0, -1]),
      ),
    ).toThrow('crossEntropyLoss: label -1 at position 1 is out of range for 3 classes');
  });

  it('Keras [N, 1] label columns are accepted', () => {
    const a = sparseCategoricalCrossentropy(
      tensor([
        [0.8, 0.2],
        [0.3, 0.7],
      ]),
      tensor([[0], [1]], { dtype: 'int32' }),
    );
    const b = sparseCategoricalCrossentropy(
      tensor([
        [0.8, 0.2],
        [0.3, 0.7],
      ]),
      labels([0, 1]),
    );
    expect(a.item()).toBe(b.item());
  });

  it('probabilities outside [0, 1] are rejected, pointing to the logits loss', () => {
    expect(() => bceLoss(tensor([1.5]), tensor([1]))).toThrow(ArgumentError);
    expect(() => bceLoss(tensor([-0.1]), tensor([1]))).toThrow('bceLoss: input must be probabilities in [0, 1], got');
    expect(() => bceLoss(tensor([0.5]), tensor([2]))).toThrow(/bceLoss: target must be probabilities/);
    expect(() => bceLoss(tensor([NaN]), tensor([1]))).toThrow(ArgumentError);
    expect(() => sparseCategoricalCrossentropy(tensor([[2, -1]]), labels([0]))).toThrow(/use crossEntropyLoss/);
  });

  it('bad options', () => {
    expect(() => mseLoss(tensor([1]), tensor([1]), { reduction: 'avg' as never })).toThrow(
      `mseLoss: reduction must be 'mean', 'sum' or 'none', got "avg"`,
    );
    expect(() => huberLoss(tensor([1]), tensor([1]), { delta: -1 })).toThrow(ArgumentError);
    expect(() => crossEntropyLoss(tensor([[1, 2]]), labels([0]), { labelSmoothing: 1.5 })).toThrow(ArgumentError);
    expect(() => mseLoss([1] as never, tensor([1]))).toThrow('mseLoss: input must be a Tensor');
  });
});

describe('reductions', () => {
  it("'none' keeps one loss per sample for the class losses", () => {
    expect(
      crossEntropyLoss(
        tensor([
          [1, 2],
          [3, 4],
          [5, 6],
        ]),
        labels([0, 1, 0]),
        { reduction: 'none' },
      ).shape,
    ).toEqual([3]);
    expect(categoricalCrossentropy(tensor([[0.5, 0.5]]), tensor([[1, 0]]), { reduction: 'none' }).shape).toEqual([1]);
  });
  it("'sum' is 'mean' times the count", () => {
    const x = tensor([
      [0.1, 0.9],
      [0.4, 0.6],
    ]);
    const y = tensor([
      [0, 1],
      [1, 0],
    ]);
    expect(bceLoss(x, y, { reduction: 'sum' }).item()).toBeCloseTo(4 * bceLoss(x, y).item(), 5);
  });
  it('integer regression targets are accepted', () => {
    expect(mseLoss(tensor([1.5, 2]), tensor([1, 2], { dtype: 'int32' })).item()).toBeCloseTo(0.125, 6);
  });
});

describe('class weights, ignoreIndex, probability targets and KL divergence: bad input', () => {
  it('names the loss and the offending shapes or values', () => {
    const x = tensor([
      [1, 2, 3],
      [0, 1, 0],
    ]);
    expect(() => crossEntropyLoss(x, labels([0, 1]), { weight: tensor([1, 2]) })).toThrow(
      'crossEntropyLoss: weight must be [3] (one per class), got [2]',
    );
    expect(() => crossEntropyLoss(x, labels([0, 5]), { ignoreIndex: 4 })).toThrow(
      /label 5 at position 1 is out of range for 3 classes \(valid: 0..2, or ignoreIndex 4\)/,
    );
    expect(() =>
      crossEntropyLoss(
        x,
        tensor([
          [0.5, 0.5],
          [1, 0],
        ]),
      ),
    ).toThrow("crossEntropyLoss: probability targets must have the input's shape [2,3], got [2,2]");
    expect(() => crossEntropyLoss(tensor([[[1, 2]], [[3, 4]]]), labels([0, 1]))).toThrow(
      'crossEntropyLoss: labels [2] do not match input [2,1,2]: expected [2,2]',
    );
    // One-hot rows given as int32: the error says how to write either form the loss takes.
    const oneHotInt = tensor(
      [
        [0, 1],
        [1, 0],
      ],
      { dtype: 'int32' },
    );
    expect(() =>
      crossEntropyLoss(
        tensor([
          [1, 2],
          [3, 4],
        ]),
        oneHotInt,
      ),
    ).toThrow(
      "crossEntropyLoss: labels [2,2] do not match input [2,2]: expected [2]; for one-hot labels pass the class ids (labels.argmax(1)) as int32 [2], or the one-hot rows as float32 probabilities (labels.cast('float32'))",
    );
    expect(() =>
      nllLoss(
        tensor([
          [1, 2],
          [3, 4],
        ]),
        oneHotInt,
      ),
    ).toThrow(
      'nllLoss: labels [2,2] do not match input [2,2]: expected [2]; for one-hot labels pass the class ids (labels.argmax(1)) as int32 [2]',
    );
    expect(() =>
      nllLoss(
        tensor([
          [1, 2],
          [3, 4],
        ]),
        tensor([0, 1]),
      ),
    ).toThrow("nllLoss: labels must be int32 class ids, got float32 [2]; use tensor(ids, { dtype: 'int32' })");
    expect(() => nllLoss(x, labels([0, 1]), { ignoreIndex: 0.5 })).toThrow(/nllLoss: ignoreIndex must be an integer/);
    expect(() => klDivLoss(x, x, { reduction: 'avg' as never })).toThrow(
      /klDivLoss: reduction must be 'mean', 'batchmean', 'sum' or 'none'/,
    );
    expect(() => klDivLoss(x, tensor([[1, 2]]))).toThrow(/klDivLoss: input \[2,3\] and target \[1,2\] must have the same shape/);
    expect(() => bceLoss(tensor([0.5, 0.5]), tensor([1, 0]), { weight: tensor([1, 2, 3]) })).toThrow(/bceLoss: .*\[3\]/);
  });
  it('a batch whose every label is ignored has a NaN mean and a zero sum, as PyTorch', () => {
    const x = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { requiresGrad: true },
    );
    expect(crossEntropyLoss(x, labels([-100, -100])).item()).toBeNaN();
    const s = crossEntropyLoss(x, labels([-100, -100]), { reduction: 'sum' });
    expect(s.item()).toBe(0);
    s.backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([0, 0, 0, 0]);
  });
});

describe('ignored rows holding -Infinity or NaN', () => {
  // PyTorch 1.13: F.nll_loss / F.cross_entropy skip an ignored row whatever it holds
  // (a -Infinity log-probability times a weight of 0 would be NaN).
  const y = labels([0, -100, 2]);
  for (const checks of [true, false] as const) {
    const mode = checks ? 'value checks on' : 'value checks off';
    it(`nllLoss: 0.75 and the gradient of the kept rows (${mode})`, () => {
      setDebugChecks(checks);
      try {
        const x = tensor(
          [
            [-0.5, -1, -2],
            [-Infinity, -0.1, -3],
            [-1, -1, -1],
          ],
          { requiresGrad: true },
        );
        const loss = nllLoss(x, y);
        expect(loss.item()).toBeCloseTo(0.75, 6);
        loss.backward();
        expect(x.grad!.toArray()).toEqual([
          [-0.5, 0, 0],
          [0, 0, 0],
          [0, 0, -0.5],
        ]);
        expect(nllLoss(x, y, { reduction: 'none' }).toArray()).toEqual([0.5, 0, 1]);
      } finally {
        setDebugChecks('auto');
      }
    });
    for (const [name, opts, value, grad0, grad2] of [
      ['plain', {}, 1.753109097480774, [-0.454984724, 0.122364245, 0.332620502], [0.166666657, 0.166666657, -0.333333343]],
      [
        'labelSmoothing 0.1',
        { labelSmoothing: 0.1 },
        1.7031090259552002,
        [-0.421651363, 0.10569758, 0.315953821],
        [0.149999991, 0.149999991, -0.300000012],
      ],
      [
        'weights and labelSmoothing 0.1',
        { weight: tensor([1, 2, 3]), labelSmoothing: 0.1 },
        1.3919187784194946,
        [-0.208574921, 0.050633669, 0.157941282],
        [0.23333329, 0.224999949, -0.458333313],
      ],
    ] as const)
      it(`crossEntropyLoss, ${name}: PyTorch's value, and no gradient to the ignored row (${mode})`, () => {
        setDebugChecks(checks);
        try {
          const z = tensor(
            [
              [1, 2, 3],
              [-Infinity, 0, 1],
              [0, 0, 0],
            ],
            { requiresGrad: true },
          );
          const loss = crossEntropyLoss(z, y, opts);
          expect(loss.item()).toBeCloseTo(value, 5);
          loss.backward();
          const g = z.grad!.toArray() as number[][];
          g[0].forEach((v, i) => expect(v).toBeCloseTo(grad0[i], 6));
          expect(g[1]).toEqual([0, 0, 0]);
          g[2].forEach((v, i) => expect(v).toBeCloseTo(grad2[i], 6));
        } finally {
          setDebugChecks('auto');
        }
      });
  }
});
