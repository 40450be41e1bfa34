// Junk where parameters, a learning rate, betas or a schedule belong: every optimizer,
// scheduler and clipping function works or throws a BpError naming itself, never a
// TypeError from inside. The exact messages are pinned in optimizers.test.ts.
import fc from 'fast-check';
import { BpError, tensor } from '@bp/tensor';
import '@bp/autograd';
import { describe, it } from 'vitest';
import { Adagrad } from './adagrad.js';
import { Adam, AdamW } from './adam.js';
import { clipGradNorm, clipGradValue } from './clip-grad.js';
import { CosineAnnealingLR } from './cosine-annealing-lr.js';
import { ExponentialLR } from './exponential-lr.js';
import { ReduceLROnPlateau } from './reduce-lr-on-plateau.js';
import { RMSprop } from './rmsprop.js';
import { SGD } from './sgd.js';
import { StepLR } from './step-lr.js';

const junk = fc.oneof(
  fc.constantFrom(null, NaN, Infinity, -Infinity, -1, 0, 1.5, 2 ** 33, '', '0.1', true, {}, [], [0.9], [0.9, 2], [NaN, 0.9], () => 1),
  fc.double({ min: -2, max: 2 }),
  fc.anything({ maxDepth: 2, withBigInt: false, key: fc.constantFrom('a', 'lr', 'params', 'betas') }),
);
const j = <T>(v: unknown) => v as T;
const p = () => [tensor([1, 2], { requiresGrad: true })];
const sgd = () => new SGD(p(), { lr: 0.1 });

const optimizers = { SGD, Adam, AdamW, RMSprop, Adagrad } as const;
const options = [
  'lr',
  'momentum',
  'nesterov',
  'weightDecay',
  'betas',
  'eps',
  'alpha',
  'amsgrad',
  'lrDecay',
  'initialAccumulatorValue',
  'dampening',
  'centered',
  'maximize',
];

const calls: [string, (v: unknown) => unknown][] = [
  ...Object.entries(optimizers).flatMap(([name, C]) => [
    [`${name}(params)`, (v: unknown) => new (C as typeof SGD)(j(v), { lr: 0.1 })] as [string, (v: unknown) => unknown],
    ...options.map(
      (o) =>
        [
          `${name}({${o}})`,
          (v: unknown) => {
            const opt = new (C as typeof SGD)(p(), { lr: 0.1, [o]: v } as never);
            opt.step();
          },
        ] as [string, (v: unknown) => unknown],
    ),
  ]),
  ['loadStateDict', (v) => sgd().loadStateDict(j(v))],
  ['StepLR(optimizer)', (v) => new StepLR(v, { stepSize: 1 })],
  ['StepLR({stepSize})', (v) => new StepLR(sgd(), { stepSize: j(v) })],
  ['StepLR({gamma})', (v) => new StepLR(sgd(), { stepSize: 1, gamma: j(v) })],
  ['ExponentialLR({gamma})', (v) => new ExponentialLR(sgd(), { gamma: j(v) })],
  ['CosineAnnealingLR({tMax})', (v) => new CosineAnnealingLR(sgd(), { tMax: j(v) })],
  ['CosineAnnealingLR({etaMin})', (v) => new CosineAnnealingLR(sgd(), { tMax: 3, etaMin: j(v) })],
  ['ReduceLROnPlateau({factor})', (v) => new ReduceLROnPlateau(sgd(), { factor: j(v) })],
  ['ReduceLROnPlateau({patience})', (v) => new ReduceLROnPlateau(sgd(), { patience: j(v) })],
  ['ReduceLROnPlateau({mode})', (v) => new ReduceLROnPlateau(sgd(), { mode: j(v) })],
  ['ReduceLROnPlateau.step(metric)', (v) => new ReduceLROnPlateau(sgd()).step(j(v))],
  ['clipGradNorm(params)', (v) => clipGradNorm(j(v), 1)],
  ['clipGradNorm(maxNorm)', (v) => clipGradNorm(p(), j(v))],
  ['clipGradNorm(normType)', (v) => clipGradNorm(p(), 1, j(v))],
  ['clipGradValue(clipValue)', (v) => clipGradValue(p(), j(v))],
];

function show(v: unknown): string {
  try {
    return typeof v === 'function' ? String(v) : (JSON.stringify(v) ?? String(v));
  } catch {
    return Object.prototype.toString.call(v);
  }
}

describe('junk options to every optimizer, scheduler and clipping function', () => {
  it.each(calls)('%s: works or throws a BpError naming it', (name, call) => {
    fc.assert(
      fc.property(junk, (v) => {
        try {
          call(v);
        } catch (e) {
          if (!(e instanceof BpError) || !/^[A-Za-z0-9]+: /.test(e.message)) {
            throw new Error(`${name}(${show(v)}) threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
          }
        }
      }),
      { numRuns: 60, seed: 5, endOnFailure: true },
    );
  });
});
