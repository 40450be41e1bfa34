/**
 * A small convolutional network on MNIST, PyTorch style: an `nn.Sequential`
 * of two Conv2d + ReLU + MaxPool2d blocks and a Linear classifier, trained
 * with Adam and cross-entropy on logits in an explicit loop over a DataLoader,
 * each step in a `tidy` scope.
 *
 * Run: pnpm --filter @bp/examples mnist:cnn [--epochs 3 --limit 60000 --seed 0]
 */
import { DataLoader } from '@bp/datasets';
import { presets } from '@bp/layers';
import { crossEntropyLoss } from '@bp/losses';
import { Adam } from '@bp/optim';
import { manualSeed, tidy } from '@bp/tensor';
import { accuracy } from './accuracy.js';
import { cliOptions, isMain } from './cli.js';
import { loadMnistTensors } from './mnist-data.js';

/**
 * The network: [n,1,28,28] -> 16x14x14 -> 32x7x7 -> 10 logits. `presets.mnistCnn()` is
 *
 *     new Sequential([
 *       new Conv2d(1, 16, 3, { padding: 1 }), new ReLU(), new MaxPool2d(2),
 *       new Conv2d(16, 32, 3, { padding: 1 }), new ReLU(), new MaxPool2d(2),
 *       new Flatten(), new Linear(32 * 7 * 7, 10),
 *     ]);
 */
export const mnistCnn = presets.mnistCnn;

/** Options for {@link trainMnistCnn}. */
export interface MnistCnnOptions {
  /** Passes over the training set (default 3). */
  epochs?: number;
  /** Use only the first `limit` training images (default: all 60,000). */
  limit?: number;
  /** Use only the first `testLimit` test images (default: all 10,000). */
  testLimit?: number;
  /** Batch size (default 64). */
  batchSize?: number;
  /** Adam's learning rate (default 1e-3). */
  lr?: number;
  /** Seed for initialisation and shuffling (default 0). */
  seed?: number;
  /** Where progress lines go (default: nowhere). */
  log?: (line: string) => void;
}

/** What {@link trainMnistCnn} returns. */
export interface MnistCnnResult {
  /** Mean training loss of each epoch. */
  losses: number[];
  /** Test accuracy after each epoch, in [0, 1]. */
  testAccuracy: number[];
  /** Training time of each epoch in seconds (evaluation excluded). */
  epochSeconds: number[];
}

/** Trains {@link mnistCnn} and reports loss, test accuracy and time per epoch. */
export async function trainMnistCnn(opts: MnistCnnOptions = {}): Promise<MnistCnnResult> {
  const epochs = opts.epochs ?? 3;
  const log = opts.log ?? (() => {});
  manualSeed(opts.seed ?? 0);
  const { xTrain, yTrain, xTest, yTest } = await loadMnistTensors(opts.limit, opts.testLimit);
  const model = mnistCnn();
  const optimizer = new Adam(model.parameters(), { lr: opts.lr ?? 1e-3 });
  const loader = new DataLoader({ x: xTrain, y: yTrain }, { batchSize: opts.batchSize ?? 64, shuffle: true });
  log(`training on ${xTrain.shape[0]} images, testing on ${xTest.shape[0]}; ${model.numParameters()} parameters`);

  const result: MnistCnnResult = { losses: [], testAccuracy: [], epochSeconds: [] };
  for (let epoch = 0; epoch < epochs; epoch++) {
    model.train();
    const start = performance.now();
    let total = 0;
    let seen = 0;
    let step = 0;
    for await (const { x, y } of loader) {
      // One tidy scope per step: the step's tensors are released when it ends, and the CPU
      // backend hands their memory to the next step's instead of leaving it to the garbage collector.
      const loss = tidy(() => {
        optimizer.zeroGrad();
        const l = crossEntropyLoss(model.forward(x), y);
        l.backward();
        optimizer.step();
        return l.item();
      });
      total += loss * x.shape[0];
      seen += x.shape[0];
      if (++step % 100 === 0) {
        const s = (performance.now() - start) / 1000;
        log(`  epoch ${epoch + 1} step ${step}/${loader.length} loss ${(total / seen).toFixed(4)} (${s.toFixed(0)} s)`);
      }
    }
    result.epochSeconds.push((performance.now() - start) / 1000);
    result.losses.push(total / seen);
    result.testAccuracy.push(accuracy(model, xTest, yTest));
    log(
      `epoch ${epoch + 1}/${epochs} loss ${result.losses[epoch].toFixed(4)} ` +
        `test accuracy ${(result.testAccuracy[epoch] * 100).toFixed(2)}% (${result.epochSeconds[epoch].toFixed(1)} s)`,
    );
  }
  return result;
}

if (isMain(import.meta.url)) {
  const cli = cliOptions();
  const { testAccuracy } = await trainMnistCnn({ ...cli, log: console.log });
  console.log(`final test accuracy ${(testAccuracy[testAccuracy.length - 1] * 100).toFixed(2)}%`);
}
