import { ArgumentError, ShapeError, ones, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { grad, gradcheck, valueAndGrad } from './index.js';

const values = (t: { dataSync(): ArrayLike<number> } | null | undefined) => Array.from(t!.dataSync());

describe('grad and valueAndGrad differentiate toward their arguments only (torch.autograd.grad)', () => {
  it('leave the .grad of tensors the function closes over alone', () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const g = grad((x) => x.mul(w).sum())(tensor([10, 20]));
    expect(values(g)).toEqual([1, 2]);
    expect(w.grad).toBeNull();
    grad((x) => x.mul(w).sum())(tensor([10, 20]));
    expect(w.grad).toBeNull();
  });

  it('nest: an inner gradient does not add into the outer one', () => {
    // d/dw sum(w * w) = 2w, whatever the inner grad of x * w computed on the way (PyTorch: [2, 4]).
    const { value, grad: g } = valueAndGrad((w) => {
      grad((x) => x.mul(w).sum())(tensor([10, 20]));
      return w.mul(w).sum();
    })(tensor([1, 2]));
    expect(value.item()).toBe(5);
    expect(values(g)).toEqual([2, 4]);
  });

  it('walk and release only the part of the graph that leads to the arguments', () => {
    const w = tensor([0, 1], { requiresGrad: true });
    const h = w.exp();
    grad((x) => x.mul(h).sum())(tensor([1, 1]));
    // The exp node was not on the way to x: a backward through it still works.
    h.sum().backward();
    const got = values(w.grad);
    expect(got[0]).toBeCloseTo(1, 6);
    expect(got[1]).toBeCloseTo(Math.E, 5);
  });

  it('gradcheck leaves the .grad of closed-over tensors alone too', () => {
    const w = tensor([0.5, -1], { requiresGrad: true });
    expect(gradcheck((x) => x.mul(w).sum(), [tensor([1, 2])]).ok).toBe(true);
    expect(w.grad).toBeNull();
  });
});

describe('backward(grad) and requiresGrad as PyTorch checks them', () => {
  it('refuses a gradient whose shape is not the output shape, even with as many elements', () => {
    const x = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { requiresGrad: true },
    );
    expect(() => x.mul(2).backward(ones([3, 2]))).toThrow(ShapeError);
    expect(() => x.mul(2).backward(ones([6]))).toThrow(/grad \[6\] does not match the output \[2,3\]/);
    expect(() => x.sum().backward(ones([1]))).toThrow(ShapeError);
    x.mul(2).backward(ones([2, 3]));
    expect(values(x.grad)).toEqual([2, 2, 2, 2, 2, 2]);
  });

  it("refuses to turn off a computed tensor's requiresGrad (the graph would be cut silently), naming the op", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.mul(2);
    expect(() => (y.requiresGrad = false)).toThrow(ArgumentError);
    expect(() => (y.requiresGrad = false)).toThrow(/computed by 'mul'.*detach\(\)/);
    // A leaf's can be turned off and on again.
    x.requiresGrad = false;
    x.requiresGrad = true;
    y.mul(x).sum().backward();
    expect(values(x.grad)).toEqual([4, 8]);
  });
});
