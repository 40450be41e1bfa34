// Gradients at NaN and of inputs that only steer an op, checked against torch 1.13, with a
// numeric gradient check of each rule away from NaN.
import { describe, expect, it } from 'vitest';
import { clamp, copysign, hardtanh, max, min, relu6, tensor, type Tensor } from '@bp/tensor';
import { gradcheck } from './index.js';

function gradOf(f: (x: Tensor) => Tensor, values: number[] | Float32Array): number[] {
  const x = tensor(values, { requiresGrad: true });
  f(x).sum().backward();
  return Array.from(x.grad!.dataSync());
}

describe('max() and min() of a tensor holding NaN', () => {
  it('send the gradient to the NaN, split among several, as PyTorch', () => {
    // x = torch.tensor([1., nan, 3], requires_grad=True); x.max().backward() -> [0, 1, 0] (x.min() too)
    expect(gradOf((x) => max(x), [1, NaN, 3])).toEqual([0, 1, 0]);
    expect(gradOf((x) => min(x), [1, NaN, 3])).toEqual([0, 1, 0]);
    // torch.tensor([nan, 1., nan]).max() -> [0.5, 0, 0.5]; ties still split: [3, 1, 3] -> [0.5, 0, 0.5]
    expect(gradOf((x) => max(x), [NaN, 1, NaN])).toEqual([0.5, 0, 0.5]);
    expect(gradOf((x) => min(x), [1, 4, 1])).toEqual([0.5, 0, 0.5]);
  });

  it('pass a numeric gradient check without NaN', () => {
    const x = tensor([0.3, -1.2, 2.5, 0.7, -0.4, 1.9]);
    expect(gradcheck((t) => max(t), [x]).ok).toBe(true);
    expect(gradcheck((t) => min(t.reshape([2, 3]), [0, 1]), [x]).ok).toBe(true);
  });
});

describe('clamp, hardtanh and relu6 at NaN', () => {
  it('give NaN a zero gradient on short and long inputs', () => {
    // x = torch.tensor([nan, 1.], requires_grad=True); x.clamp(0, 0.5).sum().backward() -> [0, 0]
    expect(gradOf((x) => clamp(x, 0, 0.5), [NaN, 1])).toEqual([0, 0]);
    expect(gradOf((x) => hardtanh(x), [NaN, 0.5, 2])).toEqual([0, 1, 0]);
    expect(gradOf((x) => relu6(x), [NaN, 0.5, 7])).toEqual([0, 1, 0]);
    const long = new Float32Array(4099).fill(0.25);
    long[0] = long[2048] = long[4098] = NaN;
    const expected = Array.from(long, (v) => (Number.isNaN(v) ? 0 : 1));
    expect(gradOf((x) => clamp(x, 0, 0.5), long)).toEqual(expected);
    expect(gradOf((x) => clamp(x, 0), long)).toEqual(expected);
    expect(gradOf((x) => relu6(x), long)).toEqual(expected);
    expect(Number.isNaN(relu6(tensor(long)).dataSync()[2048])).toBe(true);
  });

  it('pass a numeric gradient check without NaN', () => {
    const x = tensor([-2.1, -0.7, 0.2, 0.6, 1.3, 6.8, 3.1]);
    expect(gradcheck((t) => clamp(t, -0.5, 1), [x]).ok).toBe(true);
    expect(gradcheck((t) => clamp(t, null, 1), [x]).ok).toBe(true);
    expect(gradcheck((t) => hardtanh(t), [x]).ok).toBe(true);
    expect(gradcheck((t) => relu6(t), [x]).ok).toBe(true);
  });
});

describe('copysign with only b requiring a gradient', () => {
  it('records the op and gives b zeros, as PyTorch', () => {
    // b = torch.tensor([-1., 1.], requires_grad=True); torch.copysign(torch.tensor([1., -2.]), b).sum().backward() -> [0, 0]
    const b = tensor([-1, 1], { requiresGrad: true });
    const y = copysign(tensor([1, -2]), b);
    expect(Array.from(y.dataSync())).toEqual([-1, 2]);
    y.sum().backward();
    expect(Array.from(b.grad!.dataSync())).toEqual([0, 0]);
    expect(Object.is(copysign(tensor([0]), tensor([-1], { requiresGrad: true })).dataSync()[0], -0)).toBe(true);
  });

  it('passes a numeric gradient check', () => {
    const b = tensor([-1.5, 0.5, 2]);
    expect(gradcheck((t) => copysign(tensor([1, -2, 3]), t), [b]).ok).toBe(true);
  });
});
