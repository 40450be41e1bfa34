import { ArgumentError, DTypeError, ShapeError, type Tensor, ones, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { enableGrad, grad, gradcheck, noGrad, valueAndGrad } from './index.js';

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

describe('hostile arguments to backward, grad and gradcheck get errors naming them', () => {
  it('backward: a disposed tensor, an array for the gradient, an int32 gradient (cast to float32 as PyTorch does)', () => {
    const a = tensor([1, 2, 3], { requiresGrad: true });
    const s = a.mul(3).sum();
    s.dispose();
    expect(() => s.backward()).toThrow(/backward: called on a disposed tensor/);
    expect(() => a.mul(2).backward([1, 1, 1] as never)).toThrow(/backward: expected a gradient Tensor .*an array/);
    a.mul(2).backward(tensor([1, 2, 3], { dtype: 'int32' }));
    expect(a.grad!.dtype).toBe('float32');
    expect(values(a.grad)).toEqual([2, 4, 6]);
  });

  it('grad, valueAndGrad, noGrad and enableGrad refuse what is not a function; grad refuses an int32 result', () => {
    for (const [name, call] of [
      ['grad', () => grad(5 as never)],
      ['valueAndGrad', () => valueAndGrad('f' as never)],
      ['noGrad', () => noGrad(null as never)],
      ['enableGrad', () => enableGrad(5 as never)],
    ] as const) {
      expect(call, name).toThrow(ArgumentError);
      expect(call, name).toThrow(new RegExp(`^${name}: expected a function`));
    }
    expect(() => grad((a) => a.argmax())(tensor([1, 3, 2]))).toThrow(DTypeError);
    expect(() => grad((a) => a.sum().cast('int32'))(tensor([1, 3, 2]))).toThrow(/valueAndGrad: the function returned int32/);
  });

  it('gradcheck refuses a check that cannot fail, nothing to check, and a function that returns no Tensor', () => {
    const x = tensor([1, 2]);
    const f = (t: Tensor) => t.mul(t).sum();
    expect(() => gradcheck(f, [x], { eps: -1 })).toThrow(/gradcheck: eps must be a finite number > 0, got -1/);
    expect(() => gradcheck(f, [x], { eps: '0.01' as never })).toThrow(/eps .* got "0.01"/);
    expect(() => gradcheck(f, [x], { atol: Infinity })).toThrow(/atol must be a finite number >= 0/);
    expect(() => gradcheck(f, [])).toThrow(/gradcheck: needs at least one float32 input/);
    expect(() => gradcheck(f, [tensor([1], { dtype: 'int32' })])).toThrow(/float32 input/);
    expect(() => gradcheck((() => 5) as never, [x])).toThrow(/gradcheck: the function must return a Tensor, got number/);
    expect(() => gradcheck(5 as never, [x])).toThrow(/gradcheck: expected a function/);
    expect(gradcheck(f, [x]).ok).toBe(true);
  });
});
