import '@bp/autograd';
import { ShapeError, manualSeed, randn, tensor, zeros } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { expectClose, indexed, refs, t } from '../__fixtures__/refs.js';
import { Sequential } from '../sequential.js';
import { ReLU } from './activations.js';
import { Conv2d } from './conv2d.js';
import { MaxPool2d } from './max-pool2d.js';
import { AvgPool2d } from './pooling.js';

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

  it('takes one image [C, H, W] as PyTorch does: a batch of one without its batch axis', () => {
    manualSeed(5);
    const conv = new Conv2d(2, 3, 3, { padding: 1 });
    const pool = new MaxPool2d(2);
    const avg = new AvgPool2d(2);
    const x = randn([2, 6, 6]);
    const one = pool.forward(conv.forward(x));
    expect(one.shape).toEqual([3, 3, 3]);
    expect(one.toArray()).toEqual(
      pool
        .forward(conv.forward(x.unsqueeze(0)))
        .squeeze(0)
        .toArray(),
    );
    expect(avg.forward(x).toArray()).toEqual(avg.forward(x.unsqueeze(0)).squeeze(0).toArray());
    // Through Sequential's fused convolution, ReLU and pooling too.
    const seq = new Sequential([conv, new ReLU(), pool]);
    seq.forward(x.unsqueeze(0));
    expect(seq.forward(x).toArray()).toEqual(seq.forward(x.unsqueeze(0)).squeeze(0).toArray());
    expect(() => conv.forward(zeros([3, 6, 6]))).toThrow(/or one image \[2, H, W\], got \[3,6,6\]/);
  });

  it('names the expected channels when the input does not fit', () => {
    const conv = new Conv2d(3, 4, 3);
    expect(() => conv.forward(zeros([1, 1, 8, 8]))).toThrow(ShapeError);
    expect(() => conv.forward(zeros([1, 1, 8, 8]))).toThrow(
      /Conv2d: expects NCHW input \[n, 3, H, W\] or one image \[3, H, W\], got \[1,1,8,8\] \(weight \[4,3,3,3\]\)/,
    );
    expect(() => conv.forward(tensor([1, 2, 3]))).toThrow(/Conv2d/);
  });

  it('refuses bad geometry', () => {
    expect(() => new Conv2d(1, 2, 0)).toThrow(/Conv2d: kernelSize must be an integer >= 1/);
    expect(() => new Conv2d(1, 2, 3, { padding: -1 })).toThrow(/padding/);
  });
});
