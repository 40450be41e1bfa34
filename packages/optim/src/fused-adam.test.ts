import '@bp/autograd';
import { cpuBackend, getBackend, setBackend, tensor, type Backend, type Tensor } from '@bp/tensor';
import { hasFusedAdam } from '@bp/tensor/internal';
import { afterEach, describe, expect, it } from 'vitest';
import { Adam, AdamW, type AdamOptions } from './index.js';
import { problemLoss, startParams } from './__fixtures__/problem.js';

/** The CPU backend without its fused Adam kernel: the optimizer composes the update from ops. */
function compositeCpu(): Backend {
  const cpu = cpuBackend() as Backend;
  const { adamUpdate: _dropped, ...fused } = cpu.fused ?? {};
  return { ...cpu, name: 'cpu-composite', fused };
}

function trajectory(ctor: typeof Adam | typeof AdamW, opts: AdamOptions, steps: number): { w: number[]; b: number[] }[] {
  const { w, b } = startParams();
  const opt = new ctor([w, b], opts);
  const out: { w: number[]; b: number[] }[] = [];
  for (let i = 0; i < steps; i++) {
    opt.zeroGrad();
    problemLoss(w, b).backward();
    opt.step();
    out.push({ w: Array.from(w.dataSync()), b: Array.from(b.dataSync()) });
  }
  return out;
}

describe('fused Adam kernel', () => {
  const cpu = getBackend();
  afterEach(async () => {
    await setBackend(cpu);
  });

  const cases: [string, typeof Adam | typeof AdamW, AdamOptions][] = [
    ['Adam', Adam, { lr: 0.1 }],
    ['Adam with L2 penalty', Adam, { lr: 0.05, weightDecay: 0.1, betas: [0.8, 0.99], eps: 1e-3 }],
    ['Adam with AMSGrad', Adam, { lr: 0.1, amsgrad: true }],
    ['AdamW', AdamW, { lr: 0.1, weightDecay: 0.3 }],
  ];
  for (const [name, ctor, opts] of cases) {
    it(`${name}: the same bits as the composite update over 8 steps`, async () => {
      expect(hasFusedAdam()).toBe(true);
      const fused = trajectory(ctor, opts, 8);
      await setBackend(compositeCpu());
      expect(hasFusedAdam()).toBe(false);
      const composite = trajectory(ctor, opts, 8);
      expect(fused).toEqual(composite);
    });
  }

  it('never writes into storage it shares with a tensor it does not own', () => {
    const { w, b } = startParams();
    const source = tensor(Array.from(w.dataSync()), { shape: w.shape });
    const kept = Array.from(source.dataSync());
    w.assign(source); // w now shares source's storage
    const opt = new Adam([w, b], { lr: 0.1 });
    for (let i = 0; i < 2; i++) {
      opt.zeroGrad();
      problemLoss(w, b).backward();
      opt.step();
    }
    expect(Array.from(source.dataSync())).toEqual(kept);
    expect(Array.from(w.dataSync())).not.toEqual(kept);
  });

  it('state dicts are copies: loading one and training on leaves it unchanged', () => {
    const { w, b } = startParams();
    const opt = new Adam([w, b], { lr: 0.1 });
    const stepOnce = (): void => {
      opt.zeroGrad();
      problemLoss(w, b).backward();
      opt.step();
    };
    stepOnce();
    const sd = opt.stateDict();
    const m = sd.state['0'].expAvg as Tensor;
    const before = Array.from(m.dataSync());
    stepOnce();
    expect(Array.from(m.dataSync())).toEqual(before);
    opt.loadStateDict(sd);
    stepOnce();
    expect(Array.from(m.dataSync())).toEqual(before);
  });
});

describe('fused Adam on a parameter that shares memory', () => {
  it('leaves the tensor it was sliced from unchanged (row slices share storage on the CPU backend)', () => {
    const base = tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const w = base.narrow(0, 1, 2).detach();
    w.requiresGrad = true;
    const opt = new Adam([w], { lr: 0.5 });
    w.mul(w).sum().backward();
    opt.step();
    expect(Array.from(base.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    // Adam's first step moves each weight by lr against the gradient's sign.
    expect(Array.from(w.dataSync())).toEqual([2.5, 3.5, 4.5, 5.5]);
  });
});

describe('fused Adam on a parameter large enough for the WebAssembly kernel', () => {
  const cpu = getBackend();
  afterEach(async () => {
    await setBackend(cpu);
  });
  // 1031 values: more than one vector pair, a ragged end. On the CPU backend the moments move into
  // a WebAssembly memory of their own on the first step and are updated there in place.
  const n = 1031;
  const x = tensor(Array.from({ length: n }, (_, i) => Math.sin(i) + 1.5));
  const y = tensor(Array.from({ length: n }, (_, i) => Math.cos(i * 0.7)));
  const start = Array.from({ length: n }, (_, i) => ((i * 37) % 101) / 50 - 1);

  /** `steps` steps on sum((w x - y)^2), a new optimizer loading the state dict after `resumeAt` steps. */
  function run(ctor: typeof Adam | typeof AdamW, opts: AdamOptions, steps: number, resumeAt = -1): number[][] {
    const w = tensor(start, { requiresGrad: true });
    let opt = new ctor([w], opts);
    const out: number[][] = [];
    for (let i = 0; i < steps; i++) {
      if (i === resumeAt) {
        const sd = opt.stateDict();
        opt = new ctor([w], opts);
        opt.loadStateDict(sd);
      }
      opt.zeroGrad();
      w.mul(x).sub(y).square().sum().backward();
      opt.step();
      out.push(Array.from(w.dataSync()));
    }
    return out;
  }

  for (const [name, ctor, opts] of [
    ['Adam', Adam, { lr: 0.05 }],
    ['Adam with L2 penalty', Adam, { lr: 0.05, weightDecay: 0.1 }],
    ['AdamW', AdamW, { lr: 0.05, weightDecay: 0.3 }],
  ] as const) {
    it(`${name}: the same bits as the composite update over 6 steps, and after a state dict is loaded mid-run`, async () => {
      const fused = run(ctor, opts, 6);
      const resumed = run(ctor, opts, 6, 3);
      await setBackend(compositeCpu());
      const composite = run(ctor, opts, 6);
      expect(fused).toEqual(composite);
      expect(resumed).toEqual(composite);
    });
  }

  it('state dicts hold the moments as they are after each step', () => {
    const w = tensor(start, { requiresGrad: true });
    const opt = new Adam([w], { lr: 0.05 });
    const moments: number[][] = [];
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      w.mul(x).sub(y).square().sum().backward();
      opt.step();
      const s = opt.stateDict().state['0'];
      moments.push([...(s.expAvg as Tensor).dataSync(), ...(s.expAvgSq as Tensor).dataSync()]);
    }
    // m and v change every step and each saved copy keeps its own values.
    expect(moments[1]).not.toEqual(moments[0]);
    expect(moments[2]).not.toEqual(moments[1]);
    expect(moments[0].every(Number.isFinite)).toBe(true);
  });
});
