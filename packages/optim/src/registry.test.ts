import '@bp/autograd';
import { ArgumentError, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { Adagrad, Adam, AdamW, RMSprop, SGD, getOptimizer } from './index.js';

const params = () => [tensor([1, 2], { requiresGrad: true })];

describe('getOptimizer', () => {
  it('builds each optimizer by name with Keras defaults', () => {
    const sgd = getOptimizer('sgd', params());
    expect(sgd).toBeInstanceOf(SGD);
    expect(sgd.lr).toBe(0.01);
    const adam = getOptimizer('Adam', params());
    expect(adam).toBeInstanceOf(Adam);
    expect(adam.paramGroups[0]).toMatchObject({ lr: 1e-3, eps: 1e-7, betas: [0.9, 0.999] });
    expect(getOptimizer('adamw', params()).paramGroups[0]).toMatchObject({ weightDecay: 0.004 });
    expect(getOptimizer('adamw', params())).toBeInstanceOf(AdamW);
    const rms = getOptimizer('rmsprop', params());
    expect(rms).toBeInstanceOf(RMSprop);
    expect(rms.paramGroups[0]).toMatchObject({ lr: 1e-3, alpha: 0.9, eps: 1e-7 });
    const ada = getOptimizer('adagrad', params());
    expect(ada).toBeInstanceOf(Adagrad);
    expect(ada.paramGroups[0]).toMatchObject({ lr: 1e-3, initialAccumulatorValue: 0.1 });
  });

  it('the classes keep PyTorch defaults', () => {
    expect(new Adam(params()).paramGroups[0]).toMatchObject({ lr: 1e-3, eps: 1e-8 });
    expect(new AdamW(params()).paramGroups[0]).toMatchObject({ weightDecay: 1e-2 });
    expect(new RMSprop(params()).paramGroups[0]).toMatchObject({ lr: 1e-2, alpha: 0.99, eps: 1e-8 });
    expect(new Adagrad(params()).paramGroups[0]).toMatchObject({ lr: 1e-2, initialAccumulatorValue: 0, eps: 1e-10 });
  });

  it('options override the defaults', () => {
    expect(getOptimizer('sgd', params(), { lr: 0.5, momentum: 0.9 }).paramGroups[0]).toMatchObject({ lr: 0.5, momentum: 0.9 });
  });

  it('returns an optimizer instance unchanged', () => {
    const opt = new SGD(params(), { lr: 1 });
    expect(getOptimizer(opt, [])).toBe(opt);
  });

  it('an unknown name lists the valid ones', () => {
    expect(() => getOptimizer('adamax', params())).toThrow(ArgumentError);
    expect(() => getOptimizer('adamax', params())).toThrow(
      'getOptimizer: unknown optimizer "adamax"; valid names: sgd, adam, adamw, rmsprop, adagrad, or pass an optimizer instance',
    );
  });
});

describe('the compile registry', () => {
  it('importing @bp/optim registers a factory per name, with the Keras defaults of getOptimizer', () => {
    const table = (globalThis as unknown as Record<symbol, { optimizers: Map<string, (p: unknown[]) => unknown> }>)[
      Symbol.for('@bp/training-registry')
    ];
    expect([...table.optimizers.keys()]).toEqual(['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad']);
    const adam = table.optimizers.get('adam')!(params()) as Adam;
    expect(adam).toBeInstanceOf(Adam);
    expect(adam.defaults).toMatchObject({ lr: 1e-3, eps: 1e-7 });
    expect(table.optimizers.get('rmsprop')!(params())).toBeInstanceOf(RMSprop);
  });
});
