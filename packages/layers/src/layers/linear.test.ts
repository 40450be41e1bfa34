import '@bp/autograd';
import { ShapeError, manualSeed, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { expectClose, indexed, refs, t } from '../__fixtures__/refs.js';
import { Linear } from './linear.js';

describe('Linear', () => {
  it.each(indexed(refs.linear))('matches PyTorch forward and gradients (case %i)', (_i, c) => {
    const [outF, inF] = c.weightShape;
    const layer = new Linear(inF, outF, { bias: c.bias !== null });
    layer.weight.assign(Float32Array.from(c.weight));
    if (c.bias !== null) layer.bias!.assign(Float32Array.from(c.bias));
    const x = t(c.x, c.xShape, true);
    const out = layer.forward(x);
    expect(out.shape).toEqual(c.outShape);
    expectClose(out, c.out);
    out.mul(t(c.upstream, c.outShape)).sum().backward();
    expectClose(x.grad!, c.dx);
    expectClose(layer.weight.grad!, c.dweight);
    if (c.bias !== null) expectClose(layer.bias!.grad!, c.dbias);
    else expect(layer.bias).toBeNull();
  });

  it('has PyTorch weight layout and parameter names', () => {
    const layer = new Linear(784, 128);
    expect(layer.weight.shape).toEqual([128, 784]);
    expect(layer.bias!.shape).toEqual([128]);
    expect(layer.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
    expect(new Linear(3, 2, { bias: false }).namedParameters().map(([n]) => n)).toEqual(['weight']);
  });

  it('applies to the last axis of batched inputs', () => {
    const layer = new Linear(3, 2);
    const x = tensor([
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      [
        [7, 8, 9],
        [0, 1, 0],
      ],
    ]);
    const y = layer.forward(x);
    expect(y.shape).toEqual([2, 2, 2]);
    const flat = layer.forward(x.reshape([4, 3]));
    expectClose(y, Array.from(flat.dataSync()));
  });

  it('builds lazily from the first input when inFeatures is null', () => {
    manualSeed(3);
    const layer = new Linear(null, 4);
    expect(layer.built).toBe(false);
    expect(layer.parameters()).toHaveLength(0);
    layer.forward(tensor([[1, 2, 3]]));
    expect(layer.built).toBe(true);
    expect(layer.weight.shape).toEqual([4, 3]);
  });

  it('names the layer and both shapes when the input does not fit', () => {
    const layer = new Linear(784, 128);
    expect(() => layer.forward(tensor([[1, 2, 3]]))).toThrow(ShapeError);
    expect(() => layer.forward(tensor([[1, 2, 3]]))).toThrow(
      /Linear: input \[1,3\] has 3 features but the layer expects 784 \(weight \[128,784\]\)/,
    );
  });

  it('refuses invalid sizes', () => {
    expect(() => new Linear(0, 3)).toThrow(/Linear: inFeatures must be a positive integer, got 0/);
    expect(() => new Linear(2, 1.5)).toThrow(/outFeatures/);
  });
});
