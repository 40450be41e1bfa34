// This file must never import @bp/autograd (directly or through another package): vitest runs
// each test file in its own module graph, so here @bp/tensor is exactly what a user gets alone.
import { describe, expect, it } from 'vitest';
import { NotAvailableError, tensor } from './index.js';
import { autogradHooks } from './internal.js';

describe('@bp/tensor without @bp/autograd', () => {
  it('has no autograd installed', () => {
    expect(autogradHooks()).toBeNull();
  });

  it('computes forward values but records no graph', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const y = x.mul(x).sum();
    expect(y.item()).toBe(14);
    expect(y.requiresGrad).toBe(false);
    expect(y.isLeaf).toBe(true);
  });

  it('throws a NotAvailableError from backward() that says what to import', () => {
    const x = tensor(2, { requiresGrad: true });
    const y = x.pow(2);
    expect(() => y.backward()).toThrow(NotAvailableError);
    expect(() => y.backward()).toThrow(/^backward: gradients need @bp\/autograd/);
    expect(() => y.backward()).toThrow("import '@bp/autograd'");
    expect(x.grad).toBeNull();
  });
});
