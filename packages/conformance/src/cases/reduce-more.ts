import { argmax, argmin, max, mean, min, prod, sum, tensor, type Tensor } from '@bp/tensor';
import { check, expectClose, expectExact, expectMeta } from '../assert.js';
import { group, type CaseBuilder } from '../context.js';

const c = group('reduce');

/** `f(x)` summed and differentiated: the gradient of `x`. */
function gradOf(x: Tensor, f: (t: Tensor) => Tensor): Tensor {
  const t = x.detach();
  t.requiresGrad = true;
  f(t).sum().backward();
  check(t.grad !== null, 'no gradient reached the input');
  return t.grad!;
}

/** Reductions beyond the basics: 0-d inputs, zero factors, ties (hand-derived, as PyTorch). */
export const reduceMoreCases: CaseBuilder = ({ tol }) => [
  c('sum mean max min prod argmax of a 0-d tensor over axis 0 or -1 keep its value, gradient 1 (regression)', () => {
    const reducers: [string, (x: Tensor, axis: number, keep?: boolean) => Tensor][] = [
      ['sum', sum], ['mean', mean], ['max', max], ['min', min], ['prod', prod],
    ];
    for (const [name, f] of reducers) {
      for (const axis of [0, -1]) {
        const y = f(tensor(2.5), axis);
        expectMeta(y, [], 'float32', `${name}(tensor(2.5), ${axis})`);
        expectClose(y, 2.5, tol, `${name}(tensor(2.5), ${axis})`);
        expectMeta(f(tensor(2.5), axis, true), [], 'float32', `${name}(tensor(2.5), ${axis}, keepDims)`);
        expectClose(gradOf(tensor(2.5), (t) => f(t, axis)), 1, tol, `${name}(tensor(2.5), ${axis}) gradient`);
      }
    }
    expectClose(sum(tensor(2.5), [0]), 2.5, tol, 'sum(tensor(2.5), [0])');
    expectExact(argmax(tensor(2.5), 0), 0, 'int32', 'argmax(tensor(2.5), 0)');
    expectExact(argmin(tensor(2.5), -1), 0, 'int32', 'argmin(tensor(2.5), -1)');
    expectExact(sum(tensor(4, { dtype: 'int32' }), 0), 4, 'int32', 'int32 sum(0-d, 0)');
  }),
  c('prod gradient where factors are 0: one zero, several, along an axis (regression)', () => {
    expectClose(gradOf(tensor([2, 0, 3]), (t) => prod(t)), [0, 6, 0], tol, 'prod([2,0,3])');
    expectClose(gradOf(tensor([2, 0, 3, 0]), (t) => prod(t)), [0, 0, 0, 0], tol, 'prod([2,0,3,0])');
    expectClose(gradOf(tensor([2, 5, 3]), (t) => prod(t)), [15, 6, 10], tol, 'prod([2,5,3])');
    expectClose(gradOf(tensor([[2, 0], [3, 4], [0, 0]]), (t) => prod(t, 1)), [[0, 2], [4, 3], [0, 0]], tol, 'prod(axis 1)');
    expectClose(gradOf(tensor([[0, 2], [3, 4]]), (t) => prod(t, 0, true)), [[3, 4], [0, 2]], tol, 'prod(axis 0, keepDims)');
  }),
  c('max min: ties split the gradient over the full reduction and axis lists, the first gets it with one axis (regression)', () => {
    expectClose(gradOf(tensor([1, 3, 3]), (t) => max(t)), [0, 0.5, 0.5], tol, 'max() of 1-D');
    expectClose(gradOf(tensor([1, 3, 3]), (t) => max(t, [0])), [0, 0.5, 0.5], tol, 'max([0]) of 1-D');
    expectClose(gradOf(tensor([1, 3, 3]), (t) => max(t, 0)), [0, 1, 0], tol, 'max(0) of 1-D');
    expectClose(gradOf(tensor([2, 1, 1, 1]), (t) => min(t)), [0, 1 / 3, 1 / 3, 1 / 3], tol, 'min() of 1-D');
    expectClose(gradOf(tensor([[4, 1], [4, 0]]), (t) => max(t)), [[0.5, 0], [0.5, 0]], tol, 'max() of 2-D');
    expectClose(gradOf(tensor([[4, 1, 4], [0, 2, 2]]), (t) => max(t, 1)), [[1, 0, 0], [0, 1, 0]], tol, 'max(1)');
  }),
  c('argmax argmin: the first index on ties and NaN counts as the extreme (as PyTorch)', () => {
    expectExact(argmin(tensor([2, 1, 1, 3])), 1, 'int32', 'argmin ties');
    expectExact(argmax(tensor([2, 3, 3, 1])), 1, 'int32', 'argmax ties');
    expectExact(argmin(tensor([2, 1, 1, NaN])), 3, 'int32', 'argmin with NaN');
    expectExact(argmax(tensor([[5, NaN, 5], [1, 1, 0]]), 1), [1, 0], 'int32', 'argmax(1) with NaN and ties');
    expectExact(argmin(tensor([[5, 4], [4, 5]]), 0), [1, 0], 'int32', 'argmin(0)');
  }),
];
