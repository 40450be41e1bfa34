/**
 * The Keras MNIST example in bp: Flatten, Dense(128, relu), Dense(10,
 * softmax); Adam at 1e-3, sparse categorical cross-entropy, accuracy; ten
 * epochs of batches of 32, then the test set.
 *
 * Run: pnpm --filter @bp/examples mnist [--epochs 10 --limit 60000 --seed 0]
 */
import { presets } from '@bp/layers';
import { Adam } from '@bp/optim';
import '@bp/losses'; // 'sparseCategoricalCrossentropy' by name in compile
import { manualSeed } from '@bp/tensor';
import { cliOptions, isMain } from './cli.js';
import { loadMnistTensors } from './mnist-data.js';

/**
 * The model: 784 -> 128 (ReLU) -> 10 (softmax), built at construction from the input shape.
 * `presets.kerasMnistMlp()` is
 *
 *     new Sequential([
 *       new Flatten({ inputShape: [1, 28, 28] }),
 *       new Dense(128, { activation: 'relu' }),
 *       new Dense(10, { activation: 'softmax' }),
 *     ]);
 */
export const mnistMlp = presets.kerasMnistMlp;

/** Options for {@link trainMnistMlp}. */
export interface MnistMlpOptions {
  /** Passes over the training set (default 10). */
  epochs?: number;
  /** Use only the first `limit` training images (default: all 60,000). */
  limit?: number;
  /** Use only the first `testLimit` test images (default: all 10,000). */
  testLimit?: number;
  /** Batch size (default 32, Keras' default). */
  batchSize?: number;
  /** Seed for initialisation and shuffling (default 0). */
  seed?: number;
  /** Where progress lines go (default: nowhere). */
  log?: (line: string) => void;
}

/** What {@link trainMnistMlp} returns. */
export interface MnistMlpResult {
  /** Mean training loss of each epoch (`history.loss`). */
  losses: number[];
  /** Training accuracy of each epoch (`history.accuracy`). */
  accuracies: number[];
  /** Test-set loss and accuracy of the trained model (`evaluate`). */
  test: { loss: number; accuracy: number };
  /** Wall time of each epoch in seconds. */
  epochSeconds: number[];
}

/** Builds, compiles, fits and evaluates {@link mnistMlp}. */
export async function trainMnistMlp(opts: MnistMlpOptions = {}): Promise<MnistMlpResult> {
  const epochs = opts.epochs ?? 10;
  const log = opts.log ?? (() => {});
  manualSeed(opts.seed ?? 0);
  const { xTrain, yTrain, xTest, yTest } = await loadMnistTensors(opts.limit, opts.testLimit);

  const model = mnistMlp();
  model.compile({
    optimizer: new Adam(model.parameters(), { lr: 1e-3 }),
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
  log(`training on ${xTrain.shape[0]} images, testing on ${xTest.shape[0]}; ${model.numParameters()} parameters`);

  const epochSeconds: number[] = [];
  let epochStart = 0;
  const history = await model.fit(xTrain, yTrain, {
    epochs,
    batchSize: opts.batchSize ?? 32,
    shuffle: true,
    verbose: 0,
    callbacks: [
      {
        onEpochBegin: () => {
          epochStart = performance.now();
        },
        onEpochEnd: (epoch, logs) => {
          epochSeconds.push((performance.now() - epochStart) / 1000);
          log(
            `epoch ${epoch + 1}/${epochs} loss ${logs.loss.toFixed(4)} accuracy ${(logs.accuracy * 100).toFixed(2)}% ` +
              `(${epochSeconds[epoch].toFixed(1)} s)`,
          );
        },
      },
    ],
  });
  const test = await model.evaluate(xTest, yTest);
  log(`test loss ${test.loss.toFixed(4)} test accuracy ${(test.accuracy * 100).toFixed(2)}%`);
  return {
    losses: history.loss,
    accuracies: history.accuracy,
    test: { loss: test.loss, accuracy: test.accuracy },
    epochSeconds,
  };
}

if (isMain(import.meta.url)) {
  const cli = cliOptions();
  await trainMnistMlp({ ...cli, log: console.log });
}
