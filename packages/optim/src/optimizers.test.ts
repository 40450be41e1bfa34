import '@bp/autograd';
import { ArgumentError, Tensor, cast, randn, tensor } from '@bp/tensor';
import { setOpObserver } from '@bp/tensor/internal';
import { describe, expect, it, vi } from 'vitest';
import { Adagrad, Adam, AdamW, RMSprop, SGD, type BaseOptions, type Optimizer, type OptimizerStateDict } from './index.js';
import { closeTo, problemLoss, refs, startParams } from './__fixtures__/problem.js';

type Ctor = new (params: never, opts: never) => Optimizer<BaseOptions>;
const CLASSES: Record<string, Ctor> = { SGD, Adam, AdamW, RMSprop, Adagrad } as unknown as Record<string, Ctor>;

function make(name: string, params: unknown, opts: object): Optimizer<BaseOptions> {
  return new CLASSES[name](params as never, opts as never);
}

function train(opt: Optimizer<BaseOptions>, w: Tensor, b: Tensor, steps: number): void {
  for (let i = 0; i < steps; i++) {
    opt.zeroGrad();
    problemLoss(w, b).backward();
    opt.step();
  }
}

describe('trajectories match PyTorch over 6 steps', () => {
  for (const ref of refs.optimizers) {
    const groups = (ref as { groups?: ({ param: number } & Record<string, unknown>)[] }).groups;
    it(`${ref.optimizer} ${JSON.stringify(ref.opts)}${groups ? ' with parameter groups' : ''}`, () => {
      const { w, b } = startParams();
      const params = groups ? groups.map(({ param, ...h }) => ({ ...h, params: [[w, b][param]] })) : [w, b];
      const opt = make(ref.optimizer, params, ref.opts);
      ref.steps.forEach((expected, i) => {
        train(opt, w, b, 1);
        const ew = closeTo(w.dataSync(), expected.w);
        const eb = closeTo(b.dataSync(), expected.b);
        if (ew) expect.fail(`step ${i + 1}, W${ew}`);
        if (eb) expect.fail(`step ${i + 1}, b${eb}`);
      });
    });
  }
});

function serialise(sd: OptimizerStateDict): string {
  return JSON.stringify(sd, (_k, v: unknown) =>
    v instanceof Object && 'dtype' in v && 'shape' in v ? { tensor: Array.from((v as Tensor).dataSync()), shape: (v as Tensor).shape } : v,
  );
}

function deserialise(json: string): OptimizerStateDict {
  return JSON.parse(json, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && 'tensor' in v
      ? tensor((v as { tensor: number[] }).tensor, { shape: (v as unknown as { shape: number[] }).shape })
      : v,
  ) as OptimizerStateDict;
}

describe('stateDict / loadStateDict resume exactly', () => {
  const cases: [string, object][] = [
    ['SGD', { lr: 0.1, momentum: 0.9, nesterov: true }],
    ['Adam', { lr: 0.1, amsgrad: true, weightDecay: 0.01 }],
    ['AdamW', { lr: 0.1 }],
    ['RMSprop', { lr: 0.01, centered: true, momentum: 0.5 }],
    ['Adagrad', { lr: 0.1, lrDecay: 0.1 }],
  ];
  for (const [name, opts] of cases) {
    it(`${name}: 3 steps, save through JSON, load into a fresh optimizer, 3 more == 6 uninterrupted`, () => {
      const ref = startParams();
      train(make(name, [ref.w, ref.b], opts), ref.w, ref.b, 6);

      const { w, b } = startParams();
      const first = make(name, [w, b], opts);
      train(first, w, b, 3);
      const json = serialise(first.stateDict());
      const second = make(name, [w, b], { ...opts, lr: 123 });
      second.loadStateDict(deserialise(json));
      expect(second.lr).toBe((opts as { lr: number }).lr);
      train(second, w, b, 3);
      expect(Array.from(w.dataSync())).toEqual(Array.from(ref.w.dataSync()));
      expect(Array.from(b.dataSync())).toEqual(Array.from(ref.b.dataSync()));
    });
  }

  it('the snapshot does not change as training continues', () => {
    const { w, b } = startParams();
    const opt = new Adam([w, b], { lr: 0.1 });
    train(opt, w, b, 2);
    const sd = opt.stateDict();
    const before = serialise(sd);
    train(opt, w, b, 2);
    expect(serialise(sd)).toBe(before);
    expect(sd.state['0'].step).toBe(2);
    expect(sd.paramGroups).toEqual([{ lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, params: [0, 1] }]);
  });

  it('rejects a corrupted step count or a non-finite number in the state', () => {
    const { w, b } = startParams();
    const opt = new Adam([w, b], { lr: 0.1 });
    problemLoss(w, b).backward();
    opt.step();
    for (const bad of [NaN, -3, 1.5, Infinity]) {
      const sd = opt.stateDict();
      (sd.state['0'] as Record<string, unknown>).step = bad;
      expect(() => new Adam([w, b], { lr: 0.1 }).loadStateDict(sd)).toThrow(
        new RegExp(`^Adam: loadStateDict: state 'step' of parameter 0 is ${bad}, not a whole number >= 0`),
      );
    }
  });

  it('rejects a step that is not a number, a number or a wrong shape where a buffer belongs, and a state that is not an object', () => {
    const { w, b } = startParams();
    const opt = new Adam([w, b], { lr: 0.1 });
    problemLoss(w, b).backward();
    opt.step();
    const corrupt = (edit: (s: Record<string, unknown>) => void) => {
      const sd = opt.stateDict();
      edit(sd.state['0'] as Record<string, unknown>);
      return () => new Adam([w, b], { lr: 0.1 }).loadStateDict(sd);
    };
    expect(corrupt((s) => (s.step = 'x'))).toThrow(`Adam: loadStateDict: state 'step' of parameter 0 is "x", not a whole number >= 0`);
    expect(corrupt((s) => (s.step = null))).toThrow(/state 'step' of parameter 0 is null/);
    expect(corrupt((s) => (s.expAvg = 0.5))).toThrow(`state 'expAvg' of parameter 0 is 0.5, not a tensor of the parameter's shape [2,3]`);
    // Same size, another shape ([3,2] for a [2,3] weight).
    expect(corrupt((s) => (s.expAvgSq = (s.expAvgSq as Tensor).reshape([3, 2])))).toThrow(
      /state 'expAvgSq' of parameter 0 is \[3,2\], the parameter is \[2,3\]/,
    );
    const sd = opt.stateDict();
    (sd.state as Record<string, unknown>)['1'] = 'junk';
    expect(() => new Adam([w, b], { lr: 0.1 }).loadStateDict(sd)).toThrow(/the state of parameter 1 is "junk", not an object/);
  });

  it("rejects another optimizer's state dict, and a key such as '__proto__' among the hyperparameters", () => {
    const { w, b } = startParams();
    const sgd = new SGD([w, b], { lr: 0.1, momentum: 0.9 });
    train(sgd, w, b, 2);
    const adam = new Adam([w, b], { lr: 0.1 });
    expect(() => adam.loadStateDict(sgd.stateDict())).toThrow(
      `Adam: loadStateDict: group 0 has hyperparameter "momentum", which Adam does not take (it takes lr, betas, eps, weightDecay, amsgrad); is this the state dict of another optimizer?`,
    );
    train(adam, w, b, 1);
    expect(() => new SGD([w, b], { lr: 0.1 }).loadStateDict(adam.stateDict())).toThrow(
      /SGD: loadStateDict: group 0 has hyperparameter "betas"/,
    );
    const polluted = JSON.parse(`{"state":{},"paramGroups":[{"__proto__":{"nesterov":true},"lr":0.1,"params":[0,1]}]}`);
    const target = new SGD([w, b], { lr: 0.1 });
    expect(() => target.loadStateDict(polluted)).toThrow(/group 0 has hyperparameter "__proto__"/);
    expect(Object.getPrototypeOf(target.paramGroups[0])).toBe(Object.prototype);
  });

  it('rejects a buffer holding NaN or infinity, a negative sum of squares, or int32 values', () => {
    const { w, b } = startParams();
    const opt = new Adam([w, b], { lr: 0.1, amsgrad: true });
    train(opt, w, b, 1);
    const corrupt = (key: string, edit: (t: Tensor) => Tensor) => {
      const sd = opt.stateDict();
      const s = sd.state['0'] as Record<string, unknown>;
      s[key] = edit(s[key] as Tensor);
      const fresh = new Adam([w, b], { lr: 0.1, amsgrad: true });
      return () => fresh.loadStateDict(sd);
    };
    const at =
      (value: number, i = 4) =>
      (t: Tensor) =>
        tensor(
          Array.from(t.dataSync(), (v, j) => (j === i ? value : v)),
          { shape: t.shape },
        );
    expect(corrupt('expAvg', at(NaN))).toThrow(
      "Adam: loadStateDict: state 'expAvg' of parameter 0 holds NaN at index 4: the next step would make the parameter NaN",
    );
    expect(corrupt('expAvg', at(-Infinity, 0))).toThrow(/state 'expAvg' of parameter 0 holds -Infinity at index 0/);
    expect(corrupt('expAvgSq', at(-0.5, 2))).toThrow(
      "state 'expAvgSq' of parameter 0 holds -0.5 at index 2: a sum of squares cannot be negative (the next step takes its square root)",
    );
    expect(corrupt('maxExpAvgSq', at(-1))).toThrow(/state 'maxExpAvgSq' of parameter 0 holds -1 at index 4/);
    // A first moment may well be negative.
    expect(corrupt('expAvg', at(-0.5))).not.toThrow();
    expect(corrupt('expAvg', (t) => cast(t, 'int32'))).toThrow("state 'expAvg' of parameter 0 is int32, not float32 as its parameter");
    // Nothing was loaded by a refused state dict: the next step is the one a fresh optimizer takes.
    const fresh = new Adam([w, b], { lr: 0.1 });
    expect(() =>
      fresh.loadStateDict({ ...opt.stateDict(), paramGroups: [{ ...opt.stateDict().paramGroups[0], momentum: 0.9 }] }),
    ).toThrow();
    expect(fresh.stateDict().state).toEqual({});
  });

  it('rejects a state dict for different parameters', () => {
    const { w, b } = startParams();
    const opt = new SGD([w, b], { lr: 0.1, momentum: 0.9 });
    train(opt, w, b, 1);
    const sd = opt.stateDict();
    expect(() => new SGD([w], { lr: 0.1 }).loadStateDict(sd)).toThrow(/SGD: loadStateDict: group 0 has 2 parameters/);
    const other = new SGD([b, w], { lr: 0.1 });
    expect(() => other.loadStateDict(sd)).toThrow(/state 'momentumBuffer' of parameter 0 is \[2,3\], the parameter is \[2\]/);
  });
});

describe('Optimizer behaviour', () => {
  it('updates in place: the model keeps the same tensors', () => {
    const { w, b } = startParams();
    const before = w.dataSync();
    train(new SGD([w, b], { lr: 0.1 }), w, b, 1);
    expect(w.requiresGrad).toBe(true);
    expect(w.isLeaf).toBe(true);
    expect(Array.from(w.dataSync())).not.toEqual(Array.from(before));
  });

  it('zeroGrad sets .grad to null; parameters without a gradient are skipped', () => {
    const { w, b } = startParams();
    const unused = tensor([1, 2, 3], { requiresGrad: true });
    const opt = new Adam([w, b, unused], { lr: 0.1 });
    problemLoss(w, b).backward();
    opt.step();
    expect(unused.toArray()).toEqual([1, 2, 3]);
    expect(opt.stateDict().state['2']).toBeUndefined();
    opt.zeroGrad();
    expect(w.grad).toBeNull();
    expect(b.grad).toBeNull();
    const snapshot = w.dataSync();
    opt.step();
    expect(w.dataSync()).toEqual(snapshot);
  });

  it('a gradient of another shape than its parameter is refused, even of the same size (as PyTorch)', () => {
    for (const make of [(p: Tensor[]) => new SGD(p, { lr: 0.1 }), (p: Tensor[]) => new Adam(p, { lr: 0.1 })]) {
      const p = tensor([[1, 2]], { requiresGrad: true });
      // Refused where it is assigned, as PyTorch's "assigned grad has data of a different size".
      expect(() => (p.grad = tensor([3, 4]))).toThrow(/grad: a gradient \[2\] for a tensor \[1,2\]/);
      expect(() => (p.grad = [3, 4] as never)).toThrow(/grad: must be a Tensor or null, got an array/);
      const opt = make([p]);
      opt.step();
      expect(p.toArray()).toEqual([[1, 2]]);
    }
  });

  it('lr is mutable, on the optimizer and per group', () => {
    const { w, b } = startParams();
    const opt = new SGD([{ params: [w] }, { params: [b], lr: 0.5 }], { lr: 0.1 });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.5]);
    opt.lr = 0.01;
    expect(opt.lr).toBe(0.01);
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.01, 0.01]);
    opt.paramGroups[1].lr = 0;
    const bBefore = b.dataSync();
    train(opt, w, b, 1);
    expect(b.dataSync()).toEqual(bBefore);
  });

  it('step(closure) evaluates the loss first and returns it', () => {
    const { w, b } = startParams();
    const opt = new SGD([w, b], { lr: 0.1 });
    const loss = opt.step(() => {
      opt.zeroGrad();
      const l = problemLoss(w, b);
      l.backward();
      return l;
    });
    expect(loss!.item()).toBeGreaterThan(problemLoss(w, b).item());
  });
});

describe('few ops per step (each one a pass over the parameter and an allocation)', () => {
  const budget: [string, object, number][] = [
    ['SGD', { lr: 0.1 }, 2],
    ['SGD', { lr: 0.1, momentum: 0.9 }, 4],
    ['SGD', { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4 }, 8],
    ['Adam', {}, 12],
    ['AdamW', {}, 13],
    ['RMSprop', {}, 9],
    ['Adagrad', {}, 7],
  ];
  for (const [name, opts, max] of budget) {
    it(`${name} ${JSON.stringify(opts)}: at most ${max} ops per parameter`, () => {
      const p = randn([3, 4]);
      p.requiresGrad = true;
      p.grad = randn([3, 4]);
      const opt = make(name, [p], opts);
      opt.step(); // the first step initialises state with fewer ops
      let ops = 0;
      const prev = setOpObserver(() => {
        ops++;
      });
      try {
        opt.step();
      } finally {
        setOpObserver(prev);
      }
      expect(ops).toBeLessThanOrEqual(max);
    });
  }
});

describe('bad options throw ArgumentError naming the optimizer and the option', () => {
  const { w } = startParams();
  const bad: [() => unknown, RegExp][] = [
    [() => new SGD([w], { lr: -0.1 }), /^SGD: lr must be a finite number >= 0, got -0.1$/],
    [() => new SGD([w], {} as never), /^SGD: lr is required/],
    [() => new SGD([w], { lr: 0.1, momentum: -1 }), /^SGD: momentum/],
    [() => new SGD([w], { lr: 0.1, nesterov: true }), /^SGD: nesterov needs momentum > 0 and dampening = 0/],
    [() => new Adam([w], { lr: -1 }), /^Adam: lr/],
    [() => new Adam([w], { betas: [1, 0.999] }), /^Adam: betas\[0\] must be a number in \[0, 1\), got 1$/],
    [() => new Adam([w], { betas: [0.9, -0.1] }), /^Adam: betas\[1\]/],
    [() => new AdamW([w], { betas: [0.9, 1.5] }), /^AdamW: betas\[1\]/],
    [() => new Adam([w], { eps: -1e-8 }), /^Adam: eps/],
    [() => new AdamW([w], { weightDecay: -0.01 }), /^AdamW: weightDecay/],
    [() => new RMSprop([w], { alpha: -0.5 }), /^RMSprop: alpha/],
    [() => new RMSprop([w], { alpha: 2 }), /^RMSprop: alpha must be a number in \[0, 1\], got 2/],
    [() => new SGD([w], { lr: '0.1' as never }), /^SGD: lr must be a finite number >= 0, got "0.1"/],
    [() => new RMSprop([w], { lr: Number.NaN }), /^RMSprop: lr/],
    [() => new Adagrad([w], { lrDecay: -1 }), /^Adagrad: lrDecay/],
    [() => new Adam([{ params: [w], lr: -1 }]), /^Adam: lr/],
    [() => new Adam([]), /^Adam: got an empty parameter list/],
    [() => new Adam([w, w]), /^Adam: parameter 1 of group 0 appears more than once/],
    // PyTorch: "can't optimize a non-leaf Tensor".
    [() => new SGD([w.mul(2)], { lr: 0.1 }), /^SGD: parameter 0 of group 0 \(\[.*\]\) was computed by an op, not made by you/],
    [() => new Adam([tensor([1], { dtype: 'int32' })]), /^Adam: parameter 0 of group 0 is int32/],
    // PyTorch's spellings and misspellings are refused, not ignored for the default.
    [
      () => new SGD([w], { lr: 0.1, weight_decay: 0.5 } as never),
      /^SGD: unknown option "weight_decay" \(did you mean 'weightDecay'\?\); the options are lr, momentum, dampening, nesterov, weightDecay$/,
    ],
    [() => new AdamW([w], { lr: 0.1, weight_decay: 0 } as never), /^AdamW: unknown option "weight_decay" \(did you mean 'weightDecay'\?\)/],
    [() => new Adam([w], { learningRate: 0.5 } as never), /^Adam: unknown option "learningRate"; the options are lr, betas/],
    [() => new Adam([w], { maximize: true } as never), /^Adam: unknown option "maximize"/],
    [() => new RMSprop([w], { momentun: 0.9 } as never), /^RMSprop: unknown option "momentun" \(did you mean 'momentum'\?\)/],
    [
      () => new Adam([{ params: [w], weight_decay: 0.1 } as never]),
      /^Adam: unknown option in parameter group 0 "weight_decay" \(did you mean 'weightDecay'\?\)/,
    ],
  ];
  bad.forEach(([fn, msg], i) => {
    it(`case ${i}: ${msg.source}`, () => {
      expect(fn).toThrow(ArgumentError);
      expect(fn).toThrow(msg);
    });
  });

  it('setting a negative lr throws', () => {
    const opt = new SGD([w], { lr: 0.1 });
    expect(() => {
      opt.lr = -1;
    }).toThrow(/^SGD: lr/);
  });
});

describe('dispose', () => {
  it("releases the optimizer's state now; a later step starts from fresh state, as a new optimizer would", () => {
    const p = tensor([1, 2], { requiresGrad: true });
    const fresh = tensor([1, 2], { requiresGrad: true });
    const opt = new Adam([p], { lr: 0.1 });
    const twin = new Adam([fresh], { lr: 0.1 });
    p.grad = tensor([0.5, -1]);
    opt.step();
    const [m, v] = ['expAvg', 'expAvgSq'].map((k) => opt.stateDict().state['0'][k] as Tensor);
    const spy = vi.spyOn(Tensor.prototype, 'dispose');
    try {
      opt.dispose();
      // Both moment buffers, each of p's shape.
      expect(spy.mock.contexts.map((t) => (t as Tensor).shape)).toEqual([[2], [2]]);
    } finally {
      spy.mockRestore();
    }
    expect(opt.stateDict().state).toEqual({});
    // The moments the state held are gone; stateDict's copies of them are not.
    expect(m.isDisposed).toBe(false);
    expect(v.isDisposed).toBe(false);
    fresh.assign(p);
    p.grad = tensor([0.5, -1]);
    fresh.grad = tensor([0.5, -1]);
    opt.step();
    twin.step();
    expect(Array.from(p.dataSync())).toEqual(Array.from(fresh.dataSync()));
  });
});
