import '@bp/autograd';
import { ShapeError, tensor, zeros } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { expectClose, indexed, refs, t } from '../__fixtures__/refs.js';
import { Conv2d } from './conv2d.js';

describe('Conv2d', () => {
  it.each(indexed(refs.conv2d))('matches PyTorch forward and gradients (case %i)', (_i, c) => {
    const [outC, inC, kh, kw] = c.weightShape;
    const conv = new Conv2d(inC, outC, [kh, kw], { stride: c.stride, padding: c.padding, bias: c.bias !== null });
    expect(conv.weight.shape).toEqual(c.weightShape);
    conv.weight.assign(Float32Array.from(c.weight));
    if (c.bias !== null) conv.bias!.assign(Float32Array.from(c.bias));
    const x = t(c.x, c.xShape, true);
    const out = conv.forward(x);
    expect(out.shape).toEqual(c.outShape);
    expectClose(out, c.out);
    out.mul(t(c.upstream, c.outShape)).sum().backward();
    expectClose(x.grad!, c.dx);
    expectClose(conv.weight.grad!, c.dweight);
    if (c.bias !== null) expectClose(conv.bias!.grad!, c.dbias);
    else expect(conv.bias).toBeNull();
  });

  it('keeps the size with padding 1 and a 3x3 kernel, halves it with stride 2', () => {
    expect(new Conv2d(1, 8, 3, { padding: 1 }).forward(zeros([2, 1, 28, 28])).shape).toEqual([2, 8, 28, 28]);
    expect(new Conv2d(1, 8, 3, { padding: 1, stride: 2 }).forward(zeros([2, 1, 28, 28])).shape).toEqual([2, 8, 14, 14]);
  });

  it('names the expected channels when the input does not fit', () => {
    const conv = new Conv2d(3, 4, 3);
    expect(() => conv.forward(zeros([1, 1, 8, 8]))).toThrow(ShapeError);
    expect(() => conv.forward(zeros([1, 1, 8, 8]))).toThrow(
      /Conv2d: expects NCHW input \[n, 3, H, W\], got \[1,1,8,8\] \(weight \[4,3,3,3\]\)/,
    );
    expect(() => conv.forward(tensor([1, 2, 3]))).toThrow(/Conv2d/);
  });

  it('refuses bad geometry', () => {
    expect(() => new Conv2d(1, 2, 0)).toThrow(/Conv2d: kernelSize must be an integer >= 1/);
    expect(() => new Conv2d(1, 2, 3, { padding: -1 })).toThrow(/padding/);
  });
});
