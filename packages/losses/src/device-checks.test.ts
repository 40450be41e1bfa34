import '@bp/autograd';
import { IndexError, Tensor, ArgumentError, oneHot, randn, setDebugChecks, tensor, type Tensor as T } from '@bp/tensor';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bceLoss, bceWithLogitsLoss, categoricalCrossentropy, crossEntropyLoss, nllLoss, sparseCategoricalCrossentropy } from './index.js';

const ids = (v: number[], shape?: number[]) => tensor(v, { dtype: 'int32', shape });

/** The loss and the gradient of its input, with the value checks that read back on or off. */
function run(checks: boolean, f: (x: T) => T, x0: T): { value: number[]; grad: number[] } {
  setDebugChecks(checks);
  const x = x0.detach().clone();
  x.requiresGrad = true;
  const out = f(x);
  const value = Array.from(out.dataSync());
  out.sum().backward();
  return { value, grad: Array.from(x.grad!.dataSync()) };
}

function samePaths(f: (x: T) => T, x0: T): void {
  const host = run(true, f, x0);
  const device = run(false, f, x0);
  expect(device.value.length).toBe(host.value.length);
  device.value.forEach((v, i) => expect(v).toBeCloseTo(host.value[i], 5));
  device.grad.forEach((v, i) => expect(v).toBeCloseTo(host.grad[i], 5));
}

afterEach(() => {
  setDebugChecks('auto');
  vi.restoreAllMocks();
});

describe('losses without host checks (the GPU default) agree with the checked path', () => {
  const logits = randn([6, 4]);
  const y = ids([0, 3, 1, 1, 2, 0]);
  const yIgnored = ids([0, -100, 1, 3, -100, 2]);
  const w = tensor([0.5, 2, 1, 0.25]);
  for (const reduction of ['mean', 'sum', 'none'] as const) {
    it(`crossEntropyLoss (${reduction}), with weights, ignoreIndex and label smoothing`, () => {
      samePaths((x) => crossEntropyLoss(x, y, { reduction }), logits);
      samePaths((x) => crossEntropyLoss(x, y, { reduction, weight: w }), logits);
      samePaths((x) => crossEntropyLoss(x, yIgnored, { reduction }), logits);
      samePaths((x) => crossEntropyLoss(x, yIgnored, { reduction, weight: w, labelSmoothing: 0.1 }), logits);
      samePaths((x) => crossEntropyLoss(x, ids([2, 1, 2, 1, 0, 1], [6, 1]).reshape([6, 1]), { reduction }), logits);
      samePaths((x) => crossEntropyLoss(x, ids([1, 2, 0, 2, 1, 0], [2, 3]), { reduction, labelSmoothing: 0.2 }), randn([2, 4, 3]));
      samePaths((x) => crossEntropyLoss(x, ids([1, 1, 0, 3, 3, 2]), { reduction, ignoreIndex: 3, labelSmoothing: 0.3 }), logits);
    });
    it(`nllLoss and sparseCategoricalCrossentropy (${reduction})`, () => {
      samePaths((x) => nllLoss(x.logSoftmax(-1), yIgnored, { reduction, weight: w }), logits);
      samePaths((x) => sparseCategoricalCrossentropy(x.softmax(-1), y, { reduction }), logits);
    });
  }
  it('bceLoss, bceWithLogitsLoss and categoricalCrossentropy', () => {
    const t = tensor([
      [1, 0, 0.5, 1],
      [0, 0, 1, 0.25],
    ]);
    samePaths((x) => bceLoss(x.sigmoid(), t), randn([2, 4]));
    samePaths((x) => bceWithLogitsLoss(x, t), randn([2, 4]));
    samePaths(
      (x) =>
        categoricalCrossentropy(
          x.softmax(-1),
          tensor([
            [1, 0, 0, 0],
            [0, 0.5, 0.5, 0],
          ]),
        ),
      randn([2, 4]),
    );
  });
});

describe('a mean over labels that are all ignored', () => {
  it('is NaN with a zero gradient (as PyTorch), on both paths, with weights and label smoothing', () => {
    const x0 = randn([3, 4]);
    const none = ids([-100, -100, -100]);
    const cases: [string, (x: T) => T][] = [
      ['crossEntropyLoss', (x) => crossEntropyLoss(x, none)],
      ['with weights', (x) => crossEntropyLoss(x, none, { weight: tensor([1, 2, 3, 4]) })],
      ['with label smoothing', (x) => crossEntropyLoss(x, none, { labelSmoothing: 0.2 })],
      ['with both', (x) => crossEntropyLoss(x, none, { weight: tensor([1, 2, 3, 4]), labelSmoothing: 0.2 })],
      ['nllLoss', (x) => nllLoss(x.logSoftmax(-1), none)],
      ['over [N, C, d]', (x) => crossEntropyLoss(x.reshape([1, 4, 3]), ids([5, 5, 5], [1, 3]), { ignoreIndex: 5 })],
    ];
    for (const checks of [true, false]) {
      for (const [name, f] of cases) {
        const { value, grad } = run(checks, f, x0);
        expect(Number.isNaN(value[0]), `${name} (checks ${checks}): loss ${value[0]}`).toBe(true);
        expect(grad, `${name} (checks ${checks})`).toEqual(new Array(12).fill(0));
      }
    }
  });
});

describe('nothing is read back without host checks', () => {
  it('the losses and oneHot never call dataSync or data', () => {
    setDebugChecks(false);
    const sync = vi.spyOn(Tensor.prototype, 'dataSync');
    const data = vi.spyOn(Tensor.prototype, 'data');
    const x = randn([5, 3]);
    const y = ids([0, 2, 1, 1, 0]);
    crossEntropyLoss(x, y, { weight: tensor([1, 2, 3]), labelSmoothing: 0.1 });
    nllLoss(x.logSoftmax(-1), y);
    sparseCategoricalCrossentropy(x.softmax(-1), y);
    bceLoss(x.sigmoid(), x.sigmoid());
    categoricalCrossentropy(x.softmax(-1), oneHot(y, 3));
    expect(sync).not.toHaveBeenCalled();
    expect(data).not.toHaveBeenCalled();
  });
});

describe('bad values: an error with checks on, NaN on the device with them off', () => {
  const x = tensor([
    [1, 2, 3],
    [0, 0, 0],
  ]);
  it('a label out of range', () => {
    setDebugChecks(true);
    expect(() => crossEntropyLoss(x, ids([0, 3]))).toThrow(IndexError);
    expect(() => crossEntropyLoss(x, ids([0, 3]))).toThrow(/label 3 at position 1 is out of range for 3 classes/);
    expect(() => sparseCategoricalCrossentropy(x.softmax(-1), ids([-1, 0]))).toThrow(/label -1 at position 0/);
    expect(() => oneHot(ids([0, 5]), 3)).toThrow(/label 5 at position 1 is out of range for 3 classes/);
    setDebugChecks(false);
    expect(crossEntropyLoss(x, ids([0, 3])).item()).toBeNaN();
    expect(crossEntropyLoss(x, ids([0, 3]), { reduction: 'none' }).toArray()).toEqual([expect.closeTo(2.4076, 4), NaN]);
    expect(crossEntropyLoss(x, ids([0, 3]), { labelSmoothing: 0.1 }).item()).toBeNaN();
    expect(sparseCategoricalCrossentropy(x.softmax(-1), ids([-1, 0])).item()).toBeNaN();
    expect(nllLoss(x, ids([7, 0])).item()).toBeNaN();
    // oneHot without checks: an out-of-range label matches no class.
    expect(oneHot(ids([0, 5]), 3).toArray()).toEqual([
      [1, 0, 0],
      [0, 0, 0],
    ]);
  });
  it('probabilities outside [0, 1]', () => {
    setDebugChecks(true);
    expect(() => bceLoss(tensor([1.5]), tensor([1]))).toThrow(ArgumentError);
    setDebugChecks(false);
    expect(bceLoss(tensor([1.5]), tensor([1])).item()).toBeNaN();
    expect(bceLoss(tensor([0.5]), tensor([-1])).item()).toBeNaN();
    expect(bceWithLogitsLoss(tensor([0.5]), tensor([2])).item()).toBeNaN();
    expect(categoricalCrossentropy(tensor([[2, -1]]), tensor([[1, 0]])).item()).toBeNaN();
    expect(bceLoss(tensor([0.8]), tensor([1])).item()).toBeCloseTo(0.2231, 4);
  });
  it("'auto' checks on the CPU backend; setDebugChecks refuses other values", () => {
    setDebugChecks('auto');
    expect(() => crossEntropyLoss(x, ids([0, 3]))).toThrow(IndexError);
    expect(() => setDebugChecks('yes' as never)).toThrow(/expected true, false or 'auto', got "yes"/);
  });
});
