import '@bp/autograd';
import { ShapeError, maxPool2d, zeros } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { expectClose, indexed, refs, t } from '../__fixtures__/refs.js';
import { MaxPool2d } from './max-pool2d.js';

describe('MaxPool2d', () => {
  it.each(indexed(refs.maxPool2d))('matches PyTorch forward and gradients (case %i)', (_i, c) => {
    const pool = new MaxPool2d(c.kernel, c.stride, { padding: c.padding });
    const x = t(c.x, c.xShape, true);
    const out = pool.forward(x);
    expect(out.shape).toEqual(c.outShape);
    expectClose(out, c.out);
    out.mul(t(c.upstream, c.outShape)).sum().backward();
    expectClose(x.grad!, c.dx);
  });

  it('defaults the stride to the kernel size', () => {
    const pool = new MaxPool2d(2);
    expect(pool.stride).toEqual([2, 2]);
    expect(pool.forward(zeros([3, 4, 28, 28])).shape).toEqual([3, 4, 14, 14]);
  });

  it('refuses non-image input and oversized padding', () => {
    expect(() => new MaxPool2d(2).forward(zeros([4, 4]))).toThrow(ShapeError);
    expect(() => new MaxPool2d(2, 2, { padding: 2 })).toThrow(/MaxPool2d: padding \(2,2\) must be at most half the kernel/);
    // As PyTorch: half the kernel itself, a dilation does not widen the limit.
    expect(() => new MaxPool2d(2, 1, { padding: 2, dilation: 3 })).toThrow(/MaxPool2d: padding \(2,2\) must be at most half the kernel/);
    expect(() => maxPool2d(zeros([1, 1, 5, 5]), 2, { stride: 1, padding: 2, dilation: 3 })).toThrow(
      /maxPool2d: padding 2 must be at most half the kernel 2/,
    );
    expect(new MaxPool2d(3, 1, { padding: 1, dilation: 2 }).forward(zeros([1, 1, 5, 5])).shape).toEqual([1, 1, 3, 3]);
  });
});
