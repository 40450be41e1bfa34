import { presets } from '@bp/layers';
import { crossEntropyLoss } from '@bp/losses';
import { Adam } from '@bp/optim';
import { Tensor, manualSeed, randomPermutation, tensor, tidy, zeros } from '@bp/tensor';
import { timeSteps } from './bp-bench.js';
import { cpuClock, syntheticMnist, type MlpResult, type MlpWorkload } from './workload.js';

/** `n` synthetic MNIST-sized images `[n, 1, 28, 28]` and int32 labels `[n]` as tensors. */
export function mnistTensors(n: number): { x: Tensor; y: Tensor } {
  const { images, labels } = syntheticMnist(n);
  return { x: zeros([n, 1, 28, 28]).assign(images), y: zeros([n], { dtype: 'int32' }).assign(labels) };
}

/** The Keras MNIST MLP as users write it, compiled with Adam 1e-3, sparse categorical cross-entropy and accuracy. */
export function kerasMlp(): ReturnType<typeof presets.kerasMnistMlp> {
  const model = presets.kerasMnistMlp();
  model.compile({ optimizer: new Adam(model.parameters(), { lr: 1e-3 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

/**
 * One epoch (or `steps` of it, extrapolated) of the Keras MNIST MLP as users write it:
 * `presets.kerasMnistMlp()` (`Sequential([Flatten, Dense(128, relu), Dense(10, softmax)])`), `compile` with Adam 1e-3,
 * sparse categorical cross-entropy and accuracy, then `fit` with shuffling. The timed
 * `fit` call covers everything an epoch does (batching, forward, loss, backward, Adam, metrics).
 */
export async function bpKerasMlpEpoch(w: MlpWorkload): Promise<MlpResult> {
  manualSeed(0);
  const perEpoch = Math.floor(w.samples / w.batchSize);
  const steps = w.steps <= 0 ? perEpoch : Math.min(w.steps, perEpoch);
  // fit walks every sample it is given: hand it the timed steps' worth (+1 batch for the warm-up).
  const n = (steps + 1) * w.batchSize;
  const { x, y } = mnistTensors(n);
  const model = kerasMlp();
  let t0 = 0;
  let cpu = cpuClock();
  const history = await model.fit(x, y, {
    epochs: 1,
    batchSize: w.batchSize,
    shuffle: true,
    callbacks: [
      {
        // The first batch warms up the kernels and JIT; timing starts when it ends.
        onBatchEnd: (batch) => {
          if (batch === 0) {
            t0 = performance.now();
            cpu = cpuClock();
          }
        },
      },
    ],
  });
  const dt = (performance.now() - t0) / 1000;
  const cpuSeconds = cpu();
  return {
    batchSize: w.batchSize,
    stepsTimed: steps,
    secondsTimed: dt,
    epochSeconds: (dt / steps) * perEpoch,
    finalLoss: history.loss[0],
    cpuSeconds,
  };
}

/**
 * One epoch (or `steps` of it, extrapolated) of the examples' MNIST CNN (`presets.mnistCnn()`) in its PyTorch-style
 * loop: shuffled batches, `crossEntropyLoss` on logits, Adam 1e-3, each step in `tidy`.
 */
export function bpCnnEpoch(w: MlpWorkload): MlpResult {
  manualSeed(0);
  const { x, y } = mnistTensors(w.samples);
  const model = presets.mnistCnn();
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const perm = randomPermutation(w.samples);
  // As examples/src/mnist-cnn.ts: one tidy scope per step (the loss it returns is kept).
  return timeSteps(w, (s) =>
    tidy(() => {
      const idx = tensor(perm.subarray(s * w.batchSize, (s + 1) * w.batchSize), { dtype: 'int32' });
      opt.zeroGrad();
      const loss = crossEntropyLoss(model.forward(x.gather(idx, 0)), y.gather(idx, 0));
      loss.backward();
      opt.step();
      return loss;
    }),
  );
}

/**
 * A full training run of the Keras MLP for the peak-memory figure: one epoch over `samples`
 * MNIST-sized images at batch 32 with accuracy, then `evaluate` on 10,000 more. Meant to run
 * alone in a fresh process, whose peak resident set it reports.
 */
export async function peakRssRun(samples: number): Promise<Record<string, unknown>> {
  manualSeed(0);
  // Built straight from the generated arrays, so the data exists twice only for a moment
  // (as when a loader decodes MNIST), not three times as zeros().assign() would make it.
  const data = (n: number, seed: number): [Tensor, Tensor] => {
    const { images, labels } = syntheticMnist(n, seed);
    return [tensor(images, { shape: [n, 1, 28, 28] }), tensor(labels, { shape: [n], dtype: 'int32' })];
  };
  const [x, y] = data(samples, 1);
  const [xTest, yTest] = data(10000, 2);
  const model = presets.kerasMnistMlp();
  model.compile({ optimizer: new Adam(model.parameters(), { lr: 1e-3 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const t0 = performance.now();
  await model.fit(x, y, { epochs: 1, batchSize: 32, shuffle: true });
  await model.evaluate(xTest, yTest);
  return {
    run: `Keras MLP: fit 1 epoch of ${samples} synthetic images at batch 32, then evaluate 10000`,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}
