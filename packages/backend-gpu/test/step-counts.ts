/**
 * Launches and readbacks per `fit` step on the GPU backend: a model trained with `fit`, the
 * backend's counters sampled at every `onBatchEnd` (a callback that does not read the loss,
 * so no progress update happens inside the epoch). Shared by `src/step-counts.test.ts` and
 * `pnpm bench:gpu`.
 */
import '@bp/autograd';
import { Dense, Sequential } from '@bp/layers';
import { getLoss } from '@bp/losses';
import { Adam } from '@bp/optim';
import { getBackend, manualSeed, randn, randint, setBackend, type Tensor } from '@bp/tensor';
import type { GpuBackend, GpuCounters } from '../src/index.js';

/** What one `fit` epoch cost on the device. */
export interface StepCounts {
  steps: number;
  /** Per step, after the first (which compiles kernels and creates optimizer state). */
  launchesPerStep: number[];
  readbacksPerStep: number[];
  uploadsPerStep: number[];
  /** Readbacks at the end of the epoch (the progress update). */
  readbacksAtEpochEnd: number;
  loss: number;
}

/** An MLP `sizes[0]-…-sizes[n]` with relu between layers, compiled with `loss` and Adam. */
export function mlp(sizes: number[], loss: string, metrics: string[] = []): Sequential {
  const layers = sizes
    .slice(1)
    .map((n, i) => new Dense(n, { activation: i < sizes.length - 2 ? 'relu' : undefined, inputShape: i === 0 ? [sizes[0]] : undefined }));
  const m = new Sequential(layers);
  m.build([sizes[0]]);
  // Objects rather than names, so that a bundle keeps @bp/losses and @bp/optim.
  m.compile({ optimizer: new Adam(m.parameters()), loss: getLoss(loss), metrics });
  return m;
}

/** Runs one epoch of `fit` of `model` on `backend` and counts per step. */
export async function countFitSteps(backend: GpuBackend, model: Sequential, x: Tensor, y: Tensor, batchSize: number): Promise<StepCounts> {
  const previous = getBackend();
  await setBackend(backend);
  try {
    const marks: GpuCounters[] = [];
    let beforeEnd: GpuCounters | null = null;
    const h = await model.fit(x, y, {
      epochs: 1,
      batchSize,
      shuffle: true,
      callbacks: [
        {
          onBatchEnd: () => void marks.push(backend.counters()),
          onEpochEnd: () => void (beforeEnd ??= marks[marks.length - 1]),
        },
      ],
    });
    const after = backend.counters();
    const diff = (k: keyof GpuCounters) => marks.slice(1).map((m, i) => m[k] - marks[i][k]);
    return {
      steps: marks.length,
      launchesPerStep: diff('launches'),
      readbacksPerStep: diff('readbacks'),
      uploadsPerStep: diff('uploads'),
      readbacksAtEpochEnd: after.readbacks - marks[marks.length - 1].readbacks,
      loss: h.loss[0],
    };
  } finally {
    await setBackend(previous);
  }
}

/** Synthetic data for a `features`-`classes` classifier. */
export function classification(n: number, features: number, classes: number): { x: Tensor; y: Tensor } {
  manualSeed(3);
  return { x: randn([n, features]), y: randint(0, classes, [n]) };
}
