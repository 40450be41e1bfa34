import '@bp/autograd';
import { ArgumentError, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { CosineAnnealingLR, ExponentialLR, LinearWarmupCosineLR, ReduceLROnPlateau, SGD, StepLR, type LRScheduler } from './index.js';
import { refs } from './__fixtures__/problem.js';

function sgd(): SGD {
  return new SGD([tensor([0], { requiresGrad: true })], { lr: 0.1 });
}

function makeScheduler(name: string, opt: SGD, opts: Record<string, unknown>): LRScheduler | ReduceLROnPlateau {
  switch (name) {
    case 'StepLR':
      return new StepLR(opt, opts as never);
    case 'ExponentialLR':
      return new ExponentialLR(opt, opts as never);
    case 'CosineAnnealingLR':
      return new CosineAnnealingLR(opt, opts as never);
    case 'ReduceLROnPlateau':
      return new ReduceLROnPlateau(opt, opts as never);
    case 'LinearWarmupCosineLR':
      return new LinearWarmupCosineLR(opt, opts as never);
    default:
      throw new Error(name);
  }
}

function expectLrs(actual: number[], expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    if (!(Math.abs(a - expected[i]) <= 1e-12 + 1e-9 * Math.abs(expected[i])))
      expect.fail(`epoch ${i + 1}: got ${a}, PyTorch ${expected[i]}`);
  });
}

describe('learning-rate sequences match PyTorch', () => {
  for (const ref of refs.schedulers) {
    const metrics = (ref as { metrics?: number[] }).metrics;
    it(`${ref.scheduler} ${JSON.stringify(ref.opts)}`, () => {
      const opt = sgd();
      const sched = makeScheduler(ref.scheduler, opt, ref.opts);
      // Warmup schedules start below the base rate (PyTorch's LinearLR does too).
      if (ref.scheduler !== 'LinearWarmupCosineLR') expect(opt.lr).toBe(0.1);
      const lrs = ref.lrs.map((_, e) => {
        opt.step();
        if (metrics) (sched as ReduceLROnPlateau).step(metrics[e]);
        else (sched as LRScheduler).step();
        expect(sched.getLastLr()).toEqual([opt.lr]);
        return opt.lr;
      });
      expectLrs(lrs, ref.lrs);
    });
  }
});

describe('scheduler state dicts', () => {
  it('an epoch-based schedule resumes where it was saved', () => {
    const a = sgd();
    const sa = new CosineAnnealingLR(a, { tMax: 7, etaMin: 0.001 });
    for (let i = 0; i < 4; i++) sa.step();
    const saved = JSON.parse(JSON.stringify({ opt: a.stateDict(), sched: sa.stateDict() }));
    const b = sgd();
    const sb = new CosineAnnealingLR(b, { tMax: 7, etaMin: 0.001 });
    b.loadStateDict(saved.opt);
    sb.loadStateDict(saved.sched);
    for (let i = 0; i < 10; i++) {
      sa.step();
      sb.step();
      expect(b.lr).toBe(a.lr);
    }
  });

  it('ReduceLROnPlateau resumes its counters', () => {
    const a = sgd();
    const ra = new ReduceLROnPlateau(a, { patience: 1 });
    [1, 1, 0.5].forEach((m) => ra.step(m));
    const saved = JSON.parse(JSON.stringify(ra.stateDict()));
    const b = sgd();
    b.lr = a.lr;
    const rb = new ReduceLROnPlateau(b, { patience: 1 });
    rb.loadStateDict(saved);
    expect(rb.best).toBe(0.5);
    [0.6, 0.6, 0.6].forEach((m) => {
      ra.step(m);
      rb.step(tensor(m));
      expect(b.lr).toBe(a.lr);
    });
    // 0.5 then two non-improving epochs (> patience 1): one reduction
    expect(a.lr).toBeCloseTo(0.01, 12);
  });

  it('a fresh ReduceLROnPlateau state survives JSON (no Infinity)', () => {
    const r = new ReduceLROnPlateau(sgd(), { mode: 'max' });
    const back = new ReduceLROnPlateau(sgd(), { mode: 'max' });
    back.loadStateDict(JSON.parse(JSON.stringify(r.stateDict())));
    expect(back.best).toBe(-Infinity);
  });
});

describe('scheduler options are validated', () => {
  const bad: [() => unknown, RegExp][] = [
    [() => new StepLR(sgd(), { stepSize: 0 }), /^StepLR: stepSize must be an integer >= 1, got 0$/],
    [() => new StepLR(sgd(), { stepSize: 2, gamma: -1 }), /^StepLR: gamma/],
    [() => new ExponentialLR(sgd(), {} as never), /^ExponentialLR: gamma/],
    [() => new CosineAnnealingLR(sgd(), { tMax: 2.5 }), /^CosineAnnealingLR: tMax/],
    [() => new ReduceLROnPlateau(sgd(), { factor: 1 }), /^ReduceLROnPlateau: factor must be a number in \[0, 1\), got 1$/],
    [() => new ReduceLROnPlateau(sgd(), { mode: 'up' as never }), /^ReduceLROnPlateau: mode/],
    [() => new ReduceLROnPlateau(sgd(), { minLr: [0, 0] }), /^ReduceLROnPlateau: minLr has 2 values for 1 parameter groups$/],
    [() => new StepLR({} as never, { stepSize: 1 }), /^StepLR: expected an optimizer/],
    // Options are checked by name, as the optimizers' are: PyTorch's spelling or a typo is refused.
    [
      () => new CosineAnnealingLR(sgd(), { tMax: 4, eta_min: 0.1 } as never),
      /^CosineAnnealingLR: unknown option "eta_min" \(did you mean 'etaMin'\?\); the options are tMax, etaMin$/,
    ],
    [
      () => new ReduceLROnPlateau(sgd(), { patiense: 3 } as never),
      /^ReduceLROnPlateau: unknown option "patiense" \(did you mean 'patience'\?\)/,
    ],
    [() => new StepLR(sgd(), { step_size: 2 } as never), /^StepLR: unknown option "step_size" \(did you mean 'stepSize'\?\)/],
    [
      () => new ExponentialLR(sgd(), { gamma: 0.9, last_epoch: 3 } as never),
      /^ExponentialLR: unknown option "last_epoch"; the options are gamma$/,
    ],
    [
      () => new LinearWarmupCosineLR(sgd(), { warmupSteps: 1, totalSteps: 4, warmup: 2 } as never),
      /^LinearWarmupCosineLR: unknown option "warmup"/,
    ],
  ];
  bad.forEach(([fn, msg], i) => {
    it(`case ${i}: ${msg.source}`, () => {
      expect(fn).toThrow(ArgumentError);
      expect(fn).toThrow(msg);
    });
  });
});

describe('LinearWarmupCosineLR', () => {
  it('starts at startFactor * base, reaches base after the warmup, ends and stays at etaMin', () => {
    const opt = sgd();
    const s = new LinearWarmupCosineLR(opt, { warmupSteps: 10, totalSteps: 30, etaMin: 0.001 });
    expect(opt.lr).toBeCloseTo(0.01, 15);
    const lrs = [opt.lr];
    for (let i = 0; i < 40; i++) {
      s.step();
      lrs.push(opt.lr);
    }
    expect(lrs[10]).toBeCloseTo(0.1, 15);
    expect(lrs[20]).toBeCloseTo(0.001 + 0.099 / 2, 15);
    expect(lrs[30]).toBeCloseTo(0.001, 15);
    expect(lrs[40]).toBeCloseTo(0.001, 15);
  });
  it('scales each parameter group from its own base rate', () => {
    const opt = new SGD([{ params: [tensor([0], { requiresGrad: true })] }, { params: [tensor([0], { requiresGrad: true })], lr: 1 }], {
      lr: 0.1,
    });
    const s = new LinearWarmupCosineLR(opt, { warmupSteps: 2, totalSteps: 4 });
    s.step();
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1 * 0.75, 0.75]);
    s.step();
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1, 1]);
  });
  it('rejects a schedule that ends before its warmup', () => {
    expect(() => new LinearWarmupCosineLR(sgd(), { warmupSteps: 10, totalSteps: 10 })).toThrow(
      /totalSteps must be an integer > warmupSteps \(10\), got 10/,
    );
    expect(() => new LinearWarmupCosineLR(sgd(), { warmupSteps: 2, totalSteps: 5, startFactor: 0 })).toThrow(ArgumentError);
  });
});
