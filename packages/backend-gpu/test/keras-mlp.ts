/**
 * The Keras MNIST MLP (Flatten, Dense 128 relu, Dense 10 softmax; Adam 1e-3,
 * sparse categorical cross-entropy, batch 32), trained with the public API on
 * whichever backend is passed. Used by the browser test (a subset, CPU and
 * WebGL2 side by side), by `bench/mnist-mlp.ts` (the full set) and by the
 * benchmark (an epoch's worth of steps per gpu.js mode).
 *
 * The data arrive as raw bytes so the same code runs in Node and in a page.
 */
import '@bp/autograd';
import { MNIST_MEAN, MNIST_STD } from '@bp/datasets';
import { presets } from '@bp/layers';
import { Adam } from '@bp/optim';
import '@bp/losses';
import { getBackend, manualSeed, setBackend, tensor, type Backend, type Tensor } from '@bp/tensor';

/** MNIST examples as bytes: `images` holds `n * 784` pixels (0-255), `labels` holds `n` class ids. */
export interface MnistBytes {
  images: Uint8Array;
  labels: Uint8Array;
}

/** A training split and a test split. */
export interface MnistSubset {
  train: MnistBytes;
  test: MnistBytes;
}

/** What one training run produced. */
export interface KerasMlpRun {
  backend: string;
  /** Training images seen per epoch. */
  examples: number;
  /** Mean training loss of the last epoch. */
  trainLoss: number;
  /** Seconds spent in `fit` (all epochs). */
  fitSeconds: number;
  /** Test accuracy in [0, 1]; absent when no test split was given. */
  testAccuracy?: number;
}

/** Options of {@link trainKerasMlp}. */
export interface KerasMlpOptions {
  epochs?: number;
  batchSize?: number;
  seed?: number;
  /** Skip evaluation on the test split (the benchmark times `fit` alone). */
  skipTest?: boolean;
}

function toTensors(data: MnistBytes): { x: Tensor; y: Tensor } {
  const n = data.labels.length;
  if (data.images.length !== n * 784) {
    throw new Error(`keras-mlp: ${data.images.length} pixel bytes for ${n} labels; expected ${n * 784}`);
  }
  const x = new Float32Array(n * 784);
  for (let i = 0; i < x.length; i++) x[i] = (data.images[i] / 255 - MNIST_MEAN) / MNIST_STD;
  return { x: tensor(x).reshape([n, 1, 28, 28]), y: tensor(Int32Array.from(data.labels), { dtype: 'int32' }) };
}

/** Trains the Keras MNIST MLP on `backend` from `seed`; the previous backend is restored afterwards. */
export async function trainKerasMlp(backend: Backend | 'cpu', data: MnistSubset, opts: KerasMlpOptions = {}): Promise<KerasMlpRun> {
  const previous = getBackend();
  await setBackend(backend);
  try {
    manualSeed(opts.seed ?? 0);
    const train = toTensors(data.train);
    const model = presets.kerasMnistMlp();
    model.compile({ optimizer: new Adam(model.parameters(), { lr: 1e-3 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const t = performance.now();
    const history = await model.fit(train.x, train.y, {
      epochs: opts.epochs ?? 1,
      batchSize: opts.batchSize ?? 32,
      shuffle: true,
      verbose: 0,
    });
    const fitSeconds = (performance.now() - t) / 1000;
    const run: KerasMlpRun = {
      backend: getBackend().name,
      examples: data.train.labels.length,
      trainLoss: history.loss[history.loss.length - 1],
      fitSeconds,
    };
    if (!opts.skipTest) {
      const test = toTensors(data.test);
      run.testAccuracy = (await model.evaluate(test.x, test.y)).accuracy;
    }
    return run;
  } finally {
    await setBackend(previous);
  }
}

/** The CPU backend's run and `backend`'s, from the same seed and data. */
export interface KerasMlpComparison {
  cpu: KerasMlpRun;
  other: KerasMlpRun;
}

/**
 * Trains on the CPU backend, then on `backend`, and throws when their test
 * accuracies differ by more than `tolerance` (a fraction: 0.01 is one point).
 * Same seed, same data and same shuffling, so only float32 rounding differs.
 */
export async function compareKerasMlp(
  backend: Backend,
  data: MnistSubset,
  opts: KerasMlpOptions & { tolerance?: number } = {},
): Promise<KerasMlpComparison> {
  const cpu = await trainKerasMlp('cpu', data, opts);
  const other = await trainKerasMlp(backend, data, opts);
  const tolerance = opts.tolerance ?? 0.01;
  const gap = Math.abs(other.testAccuracy! - cpu.testAccuracy!);
  if (!(gap <= tolerance)) {
    throw new Error(
      `keras-mlp: test accuracy ${other.testAccuracy} on ${other.backend} vs ${cpu.testAccuracy} on cpu ` +
        `differs by ${gap.toFixed(4)} (> ${tolerance})`,
    );
  }
  return { cpu, other };
}
