import { ArgumentError, BpError, ShapeError, tensor, type Tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { customOp, gradcheck, registerGradient } from './index.js';

function close(t: Tensor, want: number[], tol = 1e-6): void {
  const got = Array.from(t.dataSync());
  expect(got.length).toBe(want.length);
  got.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(tol));
}

describe('customOp: a new differentiable op from a forward and a gradient rule', () => {
  it("softplus with the rule sigmoid(x): the README's example", () => {
    const softplus = customOp('testSoftplus', {
      forward: (x) => x.exp().add(1).log(),
      backward: (dy, { inputs: [x] }) => [dy.mul(x.sigmoid())],
    });
    const x = tensor([0, 2, -3], { requiresGrad: true });
    const y = softplus(x);
    // log(1 + e^x) and the logistic function, by hand.
    close(y, [Math.log(2), Math.log(1 + Math.exp(2)), Math.log(1 + Math.exp(-3))]);
    expect(y.requiresGrad).toBe(true);
    y.sum().backward();
    close(x.grad!, [0.5, 1 / (1 + Math.exp(-2)), 1 / (1 + Math.exp(3))]);
    expect(softplus.name).toBe('testSoftplus');
  });

  it('two inputs, checked against finite differences by gradcheck', () => {
    // hypot(a, b) = sqrt(a^2 + b^2): d/da = a / hypot, d/db = b / hypot.
    const hypot = customOp('testHypot', {
      forward: (a, b) => a.square().add(b.square()).sqrt(),
      backward: (dy, { inputs: [a, b], output }) => [dy.mul(a).div(output), dy.mul(b).div(output)],
    });
    const a = tensor([3, -1, 0.5], { requiresGrad: true });
    const b = tensor([4, 2, -1.5], { requiresGrad: true });
    close(hypot(a, b), [5, Math.sqrt(5), Math.sqrt(2.5)]);
    const report = gradcheck(hypot, [a, b]);
    expect(report.ok).toBe(true);
    expect(report.maxAbsError).toBeLessThan(1e-3);
  });

  it('the rule decides the gradient, not the ops of forward (a straight-through estimator)', () => {
    // round() has a zero gradient almost everywhere; the straight-through estimator passes dy on.
    const roundSte = customOp('testRoundSte', { forward: (x) => x.round(), backward: (dy) => [dy] });
    const x = tensor([0.4, 1.6, -2.7], { requiresGrad: true });
    const y = roundSte(x);
    close(y, [0, 2, -3]);
    y.mul(tensor([1, 2, 3]))
      .sum()
      .backward();
    close(x.grad!, [1, 2, 3]);
  });

  it('null for an input that gets no gradient; the op is recorded only when an input needs one', () => {
    const scaleBy = customOp('testScaleBy', {
      forward: (x, s) => x.mul(s),
      backward: (dy, { inputs: [, s] }) => [dy.mul(s), null],
    });
    const x = tensor([1, 2], { requiresGrad: true });
    const s = tensor([3, 4], { requiresGrad: true });
    scaleBy(x, s).sum().backward();
    close(x.grad!, [3, 4]);
    expect(s.grad).toBeNull();
    const plain = scaleBy(tensor([1, 2]), tensor([3, 4]));
    expect(plain.requiresGrad).toBe(false);
    expect(plain.isLeaf).toBe(true);
  });

  it('a forward that hands an input back leaves that input a leaf', () => {
    const id = customOp('testIdentity', { forward: (x) => x, backward: (dy) => [dy.mul(2)] });
    const x = tensor([1, 2], { requiresGrad: true });
    const y = id(x);
    expect(y).not.toBe(x);
    expect(x.isLeaf).toBe(true);
    y.sum().backward();
    close(x.grad!, [2, 2]);
  });

  it('what the rule returns is checked against the inputs, naming the op', () => {
    const wrongShape = customOp('testWrongShape', { forward: (x) => x.sum(), backward: (dy) => [dy] });
    const x = tensor([1, 2, 3], { requiresGrad: true });
    expect(() => wrongShape(x).backward()).toThrow(ShapeError);
    expect(() => wrongShape(x).backward()).toThrow('testWrongShape: the gradient rule returned [] for input 0, whose shape is [3]');
    const tooFew = customOp('testTooFew', { forward: (a, b) => a.add(b), backward: (dy) => [dy] });
    expect(() => tooFew(x, x).sum().backward()).toThrow(
      /^testTooFew: the gradient rule must return an array of 2 gradient\(s\), one per input/,
    );
  });

  it('refuses a name of @bp/tensor, a bad name or definition, and bad inputs or outputs', () => {
    const rule = (dy: Tensor) => [dy];
    expect(() => customOp('exp', { forward: (x) => x, backward: rule })).toThrow(ArgumentError);
    expect(() => customOp('exp', { forward: (x) => x, backward: rule })).toThrow(/^customOp: 'exp' is an op of @bp\/tensor/);
    expect(() => customOp('my op', { forward: (x) => x, backward: rule })).toThrow(/^customOp: name must be/);
    expect(() => customOp('testNoBackward', { forward: (x: Tensor) => x } as never)).toThrow(/must be \{ forward, backward \}/);
    const f = customOp('testOutputs', { forward: (_x: Tensor) => 3 as unknown as Tensor, backward: rule });
    expect(() => f(tensor([1]))).toThrow('testOutputs: forward must return a Tensor, got number');
    const g = customOp('testInputs', { forward: (x) => x, backward: rule });
    expect(() => g([1, 2] as unknown as Tensor)).toThrow('testInputs: input 0 must be a Tensor, got an array');
  });
});

describe('registerGradient', () => {
  it('refuses a name no op has, naming the closest op', () => {
    expect(() => registerGradient('sigmod', (dy) => [dy])).toThrow(ArgumentError);
    expect(() => registerGradient('sigmod', (dy) => [dy])).toThrow(
      /^registerGradient: no op is named "sigmod" \(did you mean 'sigmoid'\?\)/,
    );
    expect(() => registerGradient('exp', 'rule' as never)).toThrow(/^registerGradient: the rule for 'exp' must be a function/);
  });

  it("replaces a customOp's rule, checked as the first one was", () => {
    const cube = customOp('testCube', { forward: (x) => x.pow(3), backward: (dy, { inputs: [x] }) => [dy.mul(x.square()).mul(3)] });
    const x = tensor([2], { requiresGrad: true });
    cube(x).backward();
    close(x.grad!, [12]);
    registerGradient('testCube', (dy) => [dy.mul(tensor([1, 1]))]);
    const y = tensor([2], { requiresGrad: true });
    expect(() => cube(y).backward()).toThrow(BpError);
    expect(() => cube(y).backward()).toThrow(/^testCube: the gradient rule returned \[2\] for input 0, whose shape is \[1\]/);
    // A customOp has no other rule to go back to.
    expect(() => registerGradient('testCube', null)).toThrow(
      /^registerGradient: 'testCube' was made with customOp and has no other rule to restore/,
    );
  });

  it("null restores an op's own rule: after a replacement, and for an op without one", () => {
    const grad = (f: (t: Tensor) => Tensor): number[] => {
      const x = tensor([0.25, 3], { requiresGrad: true });
      f(x).sum().backward();
      return Array.from(x.grad!.dataSync());
    };
    try {
      registerGradient('pow', (dy, { inputs: [x, p] }) => [
        dy
          .mul(p)
          .mul(x.pow(p.sub(1)))
          .clamp(-1, 1),
        null,
      ]);
      expect(grad((x) => x.pow(2))).toEqual([0.5, 1]);
    } finally {
      registerGradient('pow', null);
    }
    expect(grad((x) => x.pow(2))).toEqual([0.5, 6]);
    // round's own gradient is 0 (as PyTorch's): a straight-through rule, then round's again.
    expect(grad((x) => x.round().mul(2))).toEqual([0, 0]);
    try {
      registerGradient('round', (dy) => [dy]);
      expect(grad((x) => x.round().mul(2))).toEqual([2, 2]);
    } finally {
      registerGradient('round', null);
    }
    expect(grad((x) => x.round().mul(2))).toEqual([0, 0]);
  });
});
