/**
 * Which backend primitives spend the kernel launches of one training step on the gpu
 * backend: the MNIST MLP and the CNN of `pnpm bench:gpu` (Adam, `crossEntropyLoss`) and
 * `presets.mnistMlp()` trained with `fit`, on gpu.js' JavaScript
 * mode (the counts are the same on every mode). Prints JSON: launches per step, split by
 * phase (forward, backward, optimizer) and by backend primitive.
 *
 *   node packages/backend-gpu/bench/bench.mjs packages/backend-gpu/bench/launch-profile.ts
 */
import '@bp/autograd';
import { Conv2d, Dense, Flatten, Linear, MaxPool2d, ReLU, Sequential, presets, type Module } from '@bp/layers';
import { crossEntropyLoss } from '@bp/losses';
import { Adam } from '@bp/optim';
import { manualSeed, randint, randn, setBackend, tidy, type Tensor } from '@bp/tensor';
import { gpu, type GpuBackend } from '../src/index.js';
import { countFitSteps } from '../test/step-counts.js';

type Tally = Map<string, number>;

/**
 * Wraps every primitive of `b` (and of `b.fused`) so that the launches it makes are added
 * to `tally` under its name (with the elementwise or reduction op where there is one).
 * Nested calls count toward the outermost primitive.
 */
function instrument(b: GpuBackend, tally: { current: Tally }): void {
  let depth = 0;
  const wrap = (obj: Record<string, unknown>, prefix: string) => {
    for (const [name, fn] of Object.entries(obj)) {
      if (
        typeof fn !== 'function' ||
        ['counters', 'info', 'liveTensors', 'destroy', 'flush', 'dispose', 'read', 'readAsync'].includes(name)
      )
        continue;
      obj[name] = function (this: unknown, ...args: unknown[]) {
        const before = b.counters().launches;
        depth++;
        try {
          return (fn as (...a: unknown[]) => unknown).apply(this, args);
        } finally {
          depth--;
          const n = b.counters().launches - before;
          if (depth === 0 && n > 0) {
            const op = typeof args[0] === 'string' ? `:${args[0]}` : '';
            const key = `${prefix}${name}${op}`;
            tally.current.set(key, (tally.current.get(key) ?? 0) + n);
          }
        }
      };
    }
  };
  wrap(b as unknown as Record<string, unknown>, '');
  if (b.fused) wrap(b.fused as unknown as Record<string, unknown>, 'fused.');
}

const sorted = (t: Tally) => Object.fromEntries([...t].sort((a, c) => c[1] - a[1]));
const total = (t: Tally) => [...t.values()].reduce((a, c) => a + c, 0);

const backend = gpu({ mode: 'cpu' });
const tally = { current: new Map() as Tally };
instrument(backend, tally);
await setBackend(backend);

/** Launches of the second training step of `model` (as in `pnpm bench:gpu`), by phase and primitive. */
function profile(model: Module, x: Tensor, y: Tensor) {
  const opt = new Adam(model.parameters());
  const phases = { forward: new Map() as Tally, backward: new Map() as Tally, optimizer: new Map() as Tally };
  for (let step = 0; step < 2; step++) {
    for (const p of Object.values(phases)) p.clear();
    tidy(() => {
      tally.current = phases.forward;
      const loss = crossEntropyLoss(model.forward(x), y);
      opt.zeroGrad();
      tally.current = phases.backward;
      loss.backward();
      tally.current = phases.optimizer;
      opt.step();
      return loss.detach();
    }).dispose();
  }
  tally.current = new Map();
  const all: Tally = new Map();
  for (const p of Object.values(phases)) for (const [k, v] of p) all.set(k, (all.get(k) ?? 0) + v);
  return {
    launchesPerStep: total(all),
    byPhase: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, { launches: total(v), byPrimitive: sorted(v) }])),
    byPrimitive: sorted(all),
  };
}

manualSeed(1);
const mlp = new Sequential([new Dense(128, { activation: 'relu', inputShape: [784] }), new Dense(10)]);
mlp.build([784]);
const mlpProfile = profile(mlp, randn([128, 784]), randint(0, 10, [128]));
const cnn = new Sequential([new Conv2d(1, 8, 3), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(8 * 13 * 13, 10)]);
const cnnProfile = profile(cnn, randn([32, 1, 28, 28]), randint(0, 10, [32]));

// presets.mnistMlp() with fit, counted per step as src/step-counts.test.ts does.
manualSeed(2);
const preset = presets.mnistMlp();
preset.build([1, 28, 28]);
preset.compile({ optimizer: new Adam(preset.parameters()), loss: crossEntropyLoss });
const fitCounts = await countFitSteps(backend, preset as Sequential, randn([4 * 32, 1, 28, 28]), randint(0, 10, [4 * 32]), 32);

console.log(
  JSON.stringify(
    {
      mlp: { workload: 'MNIST MLP 784-128-10, batch 128, Adam, crossEntropyLoss (second step)', ...mlpProfile },
      cnn: { workload: 'CNN conv(1-8,3x3) relu maxpool(2) dense(10), batch 32 of 28x28, Adam (second step)', ...cnnProfile },
      fit: {
        workload: 'presets.mnistMlp() (Flatten, Linear 784-128, ReLU, Linear 128-10), batch 32, Adam, fit',
        launchesPerStep: fitCounts.launchesPerStep,
        readbacksPerStep: fitCounts.readbacksPerStep,
      },
    },
    null,
    1,
  ),
);
backend.destroy();
