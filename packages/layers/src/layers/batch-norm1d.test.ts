import '@bp/autograd';
import { ShapeError, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { expectClose, indexed, refs, t } from '../__fixtures__/refs.js';
import { BatchNorm1d } from './batch-norm1d.js';

describe('BatchNorm1d', () => {
  it.each(indexed(refs.batchNorm1d))('matches PyTorch in training (output, gradients, running stats) and eval (case %i)', (_i, c) => {
    const bn = new BatchNorm1d(c.xShape[1]);
    bn.weight!.assign(Float32Array.from(c.weight));
    bn.bias!.assign(Float32Array.from(c.bias));
    const x1 = t(c.x1, c.xShape, true);
    const out1 = bn.forward(x1);
    expectClose(out1, c.out1);
    out1.mul(t(c.upstream, c.xShape)).sum().backward();
    expectClose(x1.grad!, c.dx1);
    expectClose(bn.weight!.grad!, c.dweight);
    expectClose(bn.bias!.grad!, c.dbias);
    bn.forward(t(c.x2, c.xShape));
    expectClose(bn.runningMean!, c.runningMean);
    expectClose(bn.runningVar!, c.runningVar);
    expect(bn.numBatchesTracked!.item()).toBe(c.numBatchesTracked);
    bn.eval();
    expectClose(bn.forward(t(c.x3, c.xShape)), c.out3);
    // Eval mode leaves the running statistics alone.
    expectClose(bn.runningMean!, c.runningMean);
    expect(bn.numBatchesTracked!.item()).toBe(c.numBatchesTracked);
  });

  it('keeps PyTorch names for parameters and buffers', () => {
    const bn = new BatchNorm1d(3);
    expect(Object.keys(bn.stateDict())).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    expect(bn.parameters()).toHaveLength(2);
    expect(bn.stateDict().num_batches_tracked.dtype).toBe('int32');
  });

  it('uses a cumulative average when momentum is null', () => {
    const bn = new BatchNorm1d(1, { momentum: null, affine: false });
    bn.forward(tensor([[1], [3]])); // mean 2, unbiased var 2
    bn.forward(tensor([[5], [9]])); // mean 7, unbiased var 8
    expectClose(bn.runningMean!, [4.5]);
    expectClose(bn.runningVar!, [5]);
  });

  it('refuses a single value per channel in training, like PyTorch', () => {
    expect(() => new BatchNorm1d(2).forward(tensor([[1, 2]]))).toThrow(/BatchNorm1d: expected more than 1 value per channel when training/);
    expect(() => new BatchNorm1d(2).eval().forward(tensor([[1, 2]]))).not.toThrow();
    expect(() => new BatchNorm1d(3).forward(tensor([[1, 2]]))).toThrow(ShapeError);
  });
});
