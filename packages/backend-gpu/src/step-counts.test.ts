// No host round trip inside a training step: on the GPU backend, a `fit` epoch reads nothing
// back between progress updates (labels, probabilities and the loss stay on the device; the
// loss sum and the metric totals are read once, at the end of the epoch). Also reports the
// kernel launches per step, and holds them to the figures measured with the fused kernels
// (linear, reluBackward, adamUpdate, conv2d, softmax cross-entropy): a change that adds launches to a step fails here.
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '@bp/layers';
import { crossEntropyLoss } from '@bp/losses';
import { Adam } from '@bp/optim';
import { manualSeed, randint, randn } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { gpu } from './index.js';
import { classification, countFitSteps, mlp } from '../test/step-counts.js';

describe('launches and readbacks per fit step on the gpu backend', () => {
  // maxLaunches: measured (without the fused kernels the same steps took 189, 181 and 139; with
  // all but the fused cross-entropy, 82, 111 and 69; before leaf gradients were adopted without a
  // copy, 46, 111 and 33).
  const cases = [
    { name: '2-64-64-3 MLP, crossEntropyLoss', sizes: [2, 64, 64, 3], loss: 'crossEntropyLoss', metrics: [] as string[], maxLaunches: 40 },
    {
      name: '2-16-3 MLP, sparseCategoricalCrossentropy + accuracy',
      sizes: [2, 16, 3],
      loss: 'sparseCategoricalCrossentropy',
      metrics: ['accuracy'],
      maxLaunches: 107,
    },
    {
      name: 'MNIST 784-128-10 MLP, crossEntropyLoss',
      sizes: [784, 128, 10],
      loss: 'crossEntropyLoss',
      metrics: [] as string[],
      maxLaunches: 29,
    },
  ];
  it.each(cases)(
    '$name',
    async ({ sizes, loss, metrics, maxLaunches }) => {
      const backend = gpu({ mode: 'cpu' });
      try {
        const model = mlp(sizes, loss, metrics);
        if (loss === 'sparseCategoricalCrossentropy') model.add(new (await import('@bp/layers')).Softmax());
        const { x, y } = classification(8 * 16, sizes[0], sizes[sizes.length - 1]);
        const c = await countFitSteps(backend, model, x, y, 16);
        console.log(
          `${loss}: ${c.launchesPerStep[0]} kernel launches and ${c.uploadsPerStep[0]} uploads per step, ${c.readbacksAtEpochEnd} readbacks at the epoch's end`,
        );
        expect(c.steps).toBe(8);
        expect(c.readbacksPerStep).toEqual(Array(7).fill(0));
        // Uploads (the batch's row indices, scalar constants) go to the device without waiting for it.
        expect(new Set(c.uploadsPerStep).size).toBe(1);
        expect(new Set(c.launchesPerStep).size).toBe(1);
        expect(c.launchesPerStep[0]).toBeGreaterThan(20);
        expect(c.launchesPerStep[0]).toBeLessThanOrEqual(maxLaunches);
        // The loss sum, and one total per metric.
        expect(c.readbacksAtEpochEnd).toBe(1 + metrics.length);
        expect(Number.isFinite(c.loss)).toBe(true);
      } finally {
        backend.destroy();
      }
    },
    60_000,
  );

  it('the CNN of bench:gpu (conv 1-8 3x3, relu, max pool, dense), crossEntropyLoss', async () => {
    const backend = gpu({ mode: 'cpu' });
    try {
      manualSeed(5);
      const model = new Sequential([new Conv2d(1, 8, 3), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(8 * 13 * 13, 10)]);
      model.compile({ optimizer: new Adam(model.parameters()), loss: crossEntropyLoss });
      const c = await countFitSteps(backend, model, randn([4 * 8, 1, 28, 28]), randint(0, 10, [4 * 8]), 8);
      console.log(`CNN: ${c.launchesPerStep[0]} kernel launches per step`);
      expect(c.readbacksPerStep).toEqual([0, 0, 0]);
      expect(new Set(c.launchesPerStep).size).toBe(1);
      // Measured: 38 (152 without the fused kernels, 78 without the fused cross-entropy, 42 with a
      // copy of every leaf gradient).
      expect(c.launchesPerStep[0]).toBeLessThanOrEqual(38);
      expect(c.launchesPerStep[0]).toBeGreaterThan(20);
    } finally {
      backend.destroy();
    }
  }, 60_000);
});
