// Times one optimizer step over the parameters of the MNIST MLP (784-128-10)
// on the active backend and prints JSON: ops per step and milliseconds per
// step (the minimum over rounds, so a busy machine inflates it less).
//
//   npx tsx --conditions=@bp/source scripts/bench-step.ts
import '@bp/autograd';
import { getBackend, manualSeed, randn } from '@bp/tensor';
import { setOpObserver } from '@bp/tensor/internal';
import { Adagrad, Adam, AdamW, RMSprop, SGD, type BaseOptions, type Optimizer } from '../src/index.js';

manualSeed(0);
const shapes = [[128, 784], [128], [10, 128], [10]];
const params = shapes.map((s) => {
  const t = randn(s);
  t.requiresGrad = true;
  t.grad = randn(s);
  return t;
});
const makers: [string, () => Optimizer<BaseOptions>][] = [
  ['SGD', () => new SGD(params, { lr: 0.01 })],
  ['SGD momentum', () => new SGD(params, { lr: 0.01, momentum: 0.9 })],
  ['Adam', () => new Adam(params)],
  ['AdamW', () => new AdamW(params)],
  ['RMSprop', () => new RMSprop(params)],
  ['Adagrad', () => new Adagrad(params)],
];
const ROUNDS = 10;
const STEPS = 20;
const results = makers.map(([name, make]) => {
  const opt = make();
  for (let i = 0; i < 10; i++) opt.step();
  let ops = 0;
  setOpObserver(() => {
    ops++;
  });
  opt.step();
  setOpObserver(null);
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < STEPS; i++) opt.step();
    best = Math.min(best, (performance.now() - t0) / STEPS);
  }
  return { optimizer: name, opsPerStep: ops, msPerStep: +best.toFixed(3) };
});
console.log(
  JSON.stringify({ backend: getBackend().name, params: params.reduce((n, p) => n + p.size, 0), tensors: params.length, results }),
);
