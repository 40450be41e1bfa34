// Junk where a layer size, an option, an input or a fit setting belongs: every layer
// constructor, forward pass, compile and fit either works or throws a BpError naming the
// layer (or `fit`/`compile`), never a TypeError or RangeError from inside.
import '@bp/losses';
import '@bp/optim';
import fc from 'fast-check';
import { BpError, manualSeed, tensor, zeros } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { LeakyReLU, Softmax } from './layers/activations.js';
import { BatchNorm1d } from './layers/batch-norm1d.js';
import { Conv2d } from './layers/conv2d.js';
import { Dense } from './layers/dense.js';
import { Dropout } from './layers/dropout.js';
import { Flatten } from './layers/flatten.js';
import { Linear } from './layers/linear.js';
import { MaxPool2d } from './layers/max-pool2d.js';
import { Sequential } from './sequential.js';
import { EarlyStopping } from './training/early-stopping.js';
import { fromMemory, toMemory } from './io/memory.js';

/** Wrong types, non-finite and fractional numbers, absurd sizes (refused before allocating), and anything else. */
const junk = fc.oneof(
  fc.constantFrom(null, NaN, Infinity, -Infinity, -1, 0, 1.5, 2 ** 33, 1e12, '', '3', 'relu6', true, {}, [], [0], [2, -1], [1.5], () => 1),
  fc.integer({ min: -3, max: 6 }),
  // Plain keys: an object whose own `toString` is not a function breaks even String(value).
  fc.anything({ maxDepth: 2, withBigInt: false, key: fc.constantFrom('a', 'lr', 'shape', 'type', 'config') }),
);

const j = <T>(v: unknown) => v as T;

const sync: [string, (v: unknown) => unknown][] = [
  ['Linear(in)', (v) => new Linear(j(v), 2)],
  ['Linear(out)', (v) => new Linear(2, j(v))],
  ['Linear({bias})', (v) => new Linear(2, 2, { bias: j(v) })],
  ['Linear.forward', (v) => new Linear(2, 2).forward(j(v))],
  ['Dense(units)', (v) => new Dense(j(v))],
  ['Dense({activation})', (v) => new Dense(2, { activation: j(v) })],
  ['Dense({inputShape})', (v) => new Dense(2, { inputShape: j(v) })],
  ['Conv2d(inC)', (v) => new Conv2d(j(v), 2, 3)],
  ['Conv2d(kernelSize)', (v) => new Conv2d(1, 2, j(v))],
  ['Conv2d({stride})', (v) => new Conv2d(1, 2, 3, { stride: j(v) })],
  ['Conv2d({padding})', (v) => new Conv2d(1, 2, 3, { padding: j(v) })],
  ['Conv2d.forward', (v) => new Conv2d(1, 2, 3).forward(j(v))],
  ['MaxPool2d(kernel)', (v) => new MaxPool2d(j(v))],
  ['MaxPool2d(stride)', (v) => new MaxPool2d(2, j(v))],
  ['Flatten(startDim)', (v) => new Flatten(j(v))],
  ['Flatten({endDim})', (v) => new Flatten({ endDim: j(v) })],
  ['Dropout(p)', (v) => new Dropout(j(v))],
  ['BatchNorm1d(n)', (v) => new BatchNorm1d(j(v))],
  ['BatchNorm1d({eps})', (v) => new BatchNorm1d(2, { eps: j(v) })],
  ['BatchNorm1d({momentum})', (v) => new BatchNorm1d(2, { momentum: j(v) })],
  ['BatchNorm1d.forward', (v) => new BatchNorm1d(2).forward(j(v))],
  ['LeakyReLU(slope)', (v) => new LeakyReLU(j(v))],
  ['Softmax(axis)', (v) => new Softmax(j(v)).forward(zeros([2, 3]))],
  ['Sequential(layers)', (v) => new Sequential(j(v))],
  ['Sequential.build', (v) => new Sequential([new Dense(2)]).build(j(v))],
  ['Sequential.predict', (v) => new Sequential([new Linear(2, 1)]).predict(j(v))],
  ['loadStateDict', (v) => new Linear(2, 1).loadStateDict(j(v))],
  ['compile({optimizer})', (v) => new Sequential([new Linear(2, 1)]).compile({ optimizer: j(v), loss: 'mse' })],
  ['compile({loss})', (v) => new Sequential([new Linear(2, 1)]).compile({ optimizer: 'sgd', loss: j(v) })],
  ['compile({metrics})', (v) => new Sequential([new Linear(2, 1)]).compile({ optimizer: 'sgd', loss: 'mse', metrics: j(v) })],
  ['compile(args)', (v) => new Sequential([new Linear(2, 1)]).compile(j(v))],
  ['Sequential.predict(x, opts)', (v) => new Sequential([new Linear(2, 1)]).predict(zeros([3, 2]), j(v))],
  ['EarlyStopping(opts)', (v) => new EarlyStopping(j(v))],
  ['EarlyStopping({monitor})', (v) => new EarlyStopping({ monitor: j(v) })],
  ['EarlyStopping({patience})', (v) => new EarlyStopping({ patience: j(v) })],
  ['EarlyStopping({mode})', (v) => new EarlyStopping({ mode: j(v) })],
  ['EarlyStopping({baseline})', (v) => new EarlyStopping({ baseline: j(v) })],
  ['EarlyStopping({minDelta})', (v) => new EarlyStopping({ minDelta: j(v) })],
  ['EarlyStopping({restoreBestWeights})', (v) => new EarlyStopping({ restoreBestWeights: j(v) })],
  ['toMemory', (v) => toMemory(j(v))],
  ['fromMemory', (v) => fromMemory(j(v))],
];

const okError = (e: unknown) => e instanceof BpError && /^[A-Za-z0-9]+: /.test(e.message);

function show(v: unknown): string {
  try {
    return typeof v === 'function' ? String(v) : (JSON.stringify(v) ?? String(v));
  } catch {
    return Object.prototype.toString.call(v);
  }
}

describe('junk options and inputs to every layer', () => {
  it.each(sync)('%s: works or throws a BpError naming the layer', (name, call) => {
    manualSeed(0);
    fc.assert(
      fc.property(junk, (v) => {
        try {
          call(v);
        } catch (e) {
          if (!okError(e)) throw new Error(`${name}(${show(v)}) threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
        }
      }),
      { numRuns: 80, seed: 17, endOnFailure: true },
    );
  });

  const fitOptions = [
    'epochs',
    'batchSize',
    'validationSplit',
    'validationData',
    'shuffle',
    'callbacks',
    'verbose',
    'initialEpoch',
    'terminateOnNaN',
  ] as const;
  it.each(fitOptions)('fit({%s}) works or rejects with a BpError naming fit', async (option) => {
    const x = tensor([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
    const y = tensor([[0], [1], [1], [0]]);
    const values = fc.sample(junk, { numRuns: 40, seed: 23 });
    for (const v of values) {
      const model = new Sequential([new Linear(2, 1)]);
      model.compile({ optimizer: 'sgd', loss: 'mse' });
      // Huge epoch counts are valid; cap the work by keeping them out of the loop.
      if ((option === 'epochs' || option === 'initialEpoch') && typeof v === 'number' && v > 3) continue;
      try {
        await model.fit(x, y, { epochs: 1, verbose: 0, [option]: v });
      } catch (e) {
        if (!okError(e)) throw new Error(`fit({ ${option}: ${show(v)} }) threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
      }
    }
    expect(values.length).toBe(40);
  });

  it('junk as the whole options of fit and evaluate works or rejects with a BpError naming the op', async () => {
    const x = zeros([4, 2]);
    const y = zeros([4, 1]);
    for (const v of fc.sample(junk, { numRuns: 40, seed: 29 })) {
      const model = new Sequential([new Linear(2, 1)]);
      model.compile({ optimizer: 'sgd', loss: 'mse' });
      for (const [op, call] of [
        ['fit', () => model.fit(x, y, j(v))],
        ['evaluate', () => model.evaluate(x, y, j(v))],
      ] as const) {
        try {
          await call();
        } catch (e) {
          if (!okError(e)) throw new Error(`${op}(x, y, ${show(v)}) threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
        }
      }
    }
  });
});

describe('non-finite numbers in option errors', () => {
  it('are shown as JavaScript writes them (Infinity, NaN), not as JSON null', () => {
    expect(() => new BatchNorm1d(2, { eps: Infinity })).toThrow('eps must be a finite number >= 0, got Infinity');
    expect(() => new BatchNorm1d(2, { momentum: NaN })).toThrow('momentum must be in [0, 1] or null, got NaN');
    expect(() => new Conv2d(1, 2, Infinity)).toThrow(/kernelSize .*got Infinity$/);
    expect(() => new MaxPool2d(NaN)).toThrow(/got NaN$/);
  });
});

describe('option names', () => {
  it("refuse what the layer does not take, naming the closest option (PyTorch's snake case, misspellings)", () => {
    expect(() => new Conv2d(1, 1, 3, { pading: 1 } as never)).toThrow(
      /^Conv2d: unknown option "pading" \(did you mean 'padding'\?\); the options are stride, padding, dilation, groups, bias$/,
    );
    expect(() => new BatchNorm1d(3, { track_running_stats: false } as never)).toThrow(
      /^BatchNorm1d: unknown option "track_running_stats" \(did you mean 'trackRunningStats'\?\)/,
    );
    expect(() => new Dense(3, { use_bias: false } as never)).toThrow(/^Dense: unknown option "use_bias" \(did you mean 'useBias'\?\)/);
    expect(() => new Linear(2, 2, { useBias: false } as never)).toThrow(/^Linear: unknown option "useBias"; the options are bias$/);
    expect(() => new MaxPool2d(2, 2, { ceil_mode: true } as never)).toThrow(
      /^MaxPool2d: unknown option "ceil_mode" \(did you mean 'ceilMode'\?\)/,
    );
    expect(() => new EarlyStopping({ min_delta: 0.1 } as never)).toThrow(
      /^EarlyStopping: unknown option "min_delta" \(did you mean 'minDelta'\?\)/,
    );
    expect(() => new Sequential([new Linear(2, 1)]).compile({ optimizer: 'sgd', loss: 'mse', run_eagerly: true } as never)).toThrow(
      /^compile: unknown option "run_eagerly"; the options are optimizer, loss, metrics$/,
    );
    // Every known option still works, and a Dense hands its own to Linear.
    expect(new Conv2d(1, 1, 3, { stride: 1, padding: 1, dilation: 1, groups: 1, bias: false }).bias).toBe(null);
    expect(new Dense(3, { activation: 'relu', inputShape: [2], useBias: false }).bias).toBe(null);
    expect(new Flatten({ startDim: 1, endDim: -1 }).forward(zeros([2, 3, 4])).shape).toEqual([2, 12]);
  });
});

describe('arguments past those a constructor takes are refused, not dropped', () => {
  it('names the layer, what it takes and what was given', async () => {
    const layers = await import('./index.js');
    const cases: [() => unknown, string][] = [
      [
        () => new (layers.ReLU as new (...a: unknown[]) => unknown)({ inputShape: [784] }),
        'ReLU: takes no arguments; got 1 more: {"inputShape":[784]} (inputShape is an option of Dense and Flatten only)',
      ],
      [
        () => new (layers.Sequential as new (...a: unknown[]) => unknown)([], { name: 'mlp' }),
        'Sequential: takes one argument (the list of layers); got 1 more: {"name":"mlp"}',
      ],
      [
        () => new (layers.Dropout as new (...a: unknown[]) => unknown)(0.2, { inputShape: [4] }),
        'Dropout: takes one argument (p); got 1 more',
      ],
      [() => new (layers.Softmax as new (...a: unknown[]) => unknown)(-1, 'x'), 'Softmax: takes an axis; got 1 more: "x"'],
      [
        () => new (layers.AdaptiveAvgPool2d as new (...a: unknown[]) => unknown)(1, { inputShape: [1, 4, 4] }),
        'AdaptiveAvgPool2d: takes one argument (outputSize); got 1 more',
      ],
      [
        () => new (layers.Unflatten as new (...a: unknown[]) => unknown)(1, [2, 2], 3),
        'Unflatten: takes two arguments (dim, sizes); got 1 more: 3',
      ],
      [
        () => new (layers.Hardtanh as new (...a: unknown[]) => unknown)(-2, 2, 0),
        'Hardtanh: takes two arguments (minVal, maxVal); got 1 more: 0',
      ],
      [() => new (layers.GELU as new (...a: unknown[]) => unknown)({}, 1), 'GELU: takes one argument (the options); got 1 more: 1'],
    ];
    for (const [make, message] of cases) {
      expect(make).toThrow(BpError);
      expect(make).toThrow(message);
    }
    // What they do take still works.
    expect(new layers.Sequential([new layers.ReLU(), new layers.Dropout(0.2), new layers.Softmax(1)]).layers.length).toBe(3);
  });
});
