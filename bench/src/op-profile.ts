// Where a training step's time goes, op by op: runs one of the benchmark jobs with an op observer
// (`setOpObserver` of @bp/tensor/internal) and prints, per recorded op and shape, how often it ran
// per step and the wall time since the op recorded before it. That time includes whatever ran in
// between: the op's own kernel, but also work no op records (the fused backward kernels of
// linear, layerNorm and conv2d, the optimizer step, the training loop), which lands on the next
// recorded op. Prints a table, not JSON; meant for finding hot spots, not for figures.
//
//   pnpm --filter @bp/bench exec tsx --conditions=@bp/source src/op-profile.ts [gpt|mlp|cnn] [--steps N] [--top N] [--batch N]
import '@bp/autograd';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainGPT } from '@bp/gpt';
import { presets } from '@bp/layers';
import { crossEntropyLoss } from '@bp/losses';
import { Adam } from '@bp/optim';
import { arange, manualSeed } from '@bp/tensor';
import { setOpObserver } from '@bp/tensor/internal';
import { kerasMlp, mnistTensors } from './bp-models.js';
import { HYPER, prepare } from './gpt-setup.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const job = process.argv[2] ?? 'gpt';
const jobs = ['gpt', 'mlp', 'cnn'];
if (!jobs.includes(job)) throw new Error(`op-profile: the job must be one of ${jobs.join(', ')}, got ${JSON.stringify(job)}`);
const steps = arg('steps', job === 'cnn' ? 20 : job === 'mlp' ? 600 : 40);
const top = arg('top', 30);
const batch = arg('batch', job === 'cnn' ? 64 : 32);
if (!(Number.isInteger(steps) && steps > 0)) throw new Error(`op-profile: --steps must be a positive integer, got ${steps}`);
if (!(Number.isInteger(batch) && batch > 0)) throw new Error(`op-profile: --batch must be a positive integer, got ${batch}`);

const ops = new Map<string, { calls: number; ms: number }>();
let on = false;
let last = performance.now();
setOpObserver((op, inputs, output) => {
  const now = performance.now();
  if (on) {
    const key = `${op} ${inputs.map((t) => `[${t.shape.join(',')}]`).join(' ')} -> [${output.shape.join(',')}]`;
    const e = ops.get(key) ?? { calls: 0, ms: 0 };
    e.calls++;
    e.ms += now - last;
    ops.set(key, e);
  }
  last = now;
});

// Each job's first step warms the kernels up and is left out: the observer counts from the end of it.
function start(): number {
  on = true;
  last = performance.now();
  return last;
}

let msPerStep: number;
if (job === 'gpt') {
  const dir = mkdtempSync(join(tmpdir(), 'bp-op-profile-'));
  try {
    const { ds, gpt } = prepare(dir);
    let t0 = 0;
    trainGPT(gpt, ds.train, null, {
      steps: steps + 1,
      ...HYPER,
      onStep: (s) => {
        if (s.step === 0) t0 = start();
      },
    });
    msPerStep = (performance.now() - t0) / steps;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else if (job === 'mlp') {
  // The Keras MLP of `pnpm bench` (bp-models.ts), batch 32 unless --batch: fit one batch past the steps profiled.
  manualSeed(0);
  const { x, y } = mnistTensors((steps + 1) * batch);
  const model = kerasMlp();
  let t0 = 0;
  let t1 = 0;
  await model.fit(x, y, {
    epochs: 1,
    batchSize: batch,
    shuffle: true,
    callbacks: [
      {
        onBatchEnd: (batch) => {
          if (batch === 0) t0 = start();
          t1 = performance.now();
        },
      },
    ],
  });
  msPerStep = (t1 - t0) / steps;
} else {
  // The MNIST CNN of `pnpm bench` (bp-models.ts) in its PyTorch-style loop, batch 64 unless --batch.
  manualSeed(0);
  const { x, y } = mnistTensors((steps + 1) * batch);
  const model = presets.mnistCnn();
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  let t0 = 0;
  for (let s = 0; s <= steps; s++) {
    if (s === 1) t0 = start();
    const idx = arange(s * batch, (s + 1) * batch, 1, { dtype: 'int32' });
    opt.zeroGrad();
    const loss = crossEntropyLoss(model.forward(x.gather(idx, 0)), y.gather(idx, 0));
    loss.backward();
    opt.step();
  }
  msPerStep = (performance.now() - t0) / steps;
}

const rows = [...ops].sort((a, b) => b[1].ms - a[1].ms);
const calls = rows.reduce((s, [, e]) => s + e.calls, 0);
console.log(`${job}: ${msPerStep.toFixed(2)} ms per step, ${(calls / steps).toFixed(0)} recorded ops per step`);
console.log('ms/step  calls/step  op');
for (const [key, e] of rows.slice(0, top)) {
  console.log(`${(e.ms / steps).toFixed(3).padStart(7)}  ${(e.calls / steps).toFixed(1).padStart(10)}  ${key}`);
}
