/**
 * The PyTorch training loop, step by step: a model written as a Module
 * subclass, a DataLoader, and per batch `zeroGrad`, forward, loss, `backward`,
 * `step`. The data are three interleaved spirals, which no linear model can
 * separate.
 *
 * Run: pnpm --filter @bp/examples pytorch-loop [--epochs 40 --limit 600 --seed 0]
 */
import { noGrad } from '@bp/autograd';
import { DataLoader, spirals } from '@bp/datasets';
import { Linear, Module } from '@bp/layers';
import { crossEntropyLoss } from '@bp/losses';
import { Adam } from '@bp/optim';
import { manualSeed, type Tensor } from '@bp/tensor';
import { cliOptions, isMain } from './cli.js';

/** A two-hidden-layer perceptron, written the way a PyTorch user writes `nn.Module`s. */
export class SpiralNet extends Module {
  fc1: Linear;
  fc2: Linear;
  fc3: Linear;

  constructor(hidden = 64, classes = 3) {
    super();
    this.fc1 = this.registerModule('fc1', new Linear(2, hidden));
    this.fc2 = this.registerModule('fc2', new Linear(hidden, hidden));
    this.fc3 = this.registerModule('fc3', new Linear(hidden, classes));
  }

  forward(x: Tensor): Tensor {
    return this.fc3.forward(this.fc2.forward(this.fc1.forward(x).relu()).relu());
  }
}

/** Options for {@link trainSpirals}. */
export interface PytorchLoopOptions {
  /** Passes over the data (default 40). */
  epochs?: number;
  /** Number of points (default 600). */
  limit?: number;
  /** Batch size (default 32). */
  batchSize?: number;
  /** Seed for data, initialisation and shuffling (default 0). */
  seed?: number;
  /** Where progress lines go (default: nowhere). */
  log?: (line: string) => void;
}

/** What {@link trainSpirals} returns. */
export interface PytorchLoopResult {
  /** Mean training loss of each epoch. */
  losses: number[];
  /** Training-set accuracy of the final model, in [0, 1]. */
  accuracy: number;
}

/** Trains {@link SpiralNet} on three spirals with Adam and cross-entropy. */
export async function trainSpirals(opts: PytorchLoopOptions = {}): Promise<PytorchLoopResult> {
  const epochs = opts.epochs ?? 40;
  const log = opts.log ?? (() => {});
  manualSeed(opts.seed ?? 0);
  const data = spirals({ n: opts.limit ?? 600, classes: 3, noise: 0.2 });
  const loader = new DataLoader(data, { batchSize: opts.batchSize ?? 32, shuffle: true });
  const model = new SpiralNet();
  const optimizer = new Adam(model.parameters(), { lr: 1e-2 });

  const losses: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    model.train();
    let total = 0;
    let count = 0;
    for await (const { x, y } of loader) {
      optimizer.zeroGrad();
      const loss = crossEntropyLoss(model.forward(x), y);
      loss.backward();
      optimizer.step();
      total += loss.item() * x.shape[0];
      count += x.shape[0];
    }
    losses.push(total / count);
    log(`epoch ${epoch + 1}/${epochs} loss ${losses[epoch].toFixed(4)}`);
  }

  model.eval();
  const predicted = noGrad(() => model.forward(data.x).argmax(1)).dataSync();
  const labels = data.y.dataSync();
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) correct++;
  return { losses, accuracy: correct / labels.length };
}

if (isMain(import.meta.url)) {
  const cli = cliOptions();
  const { accuracy } = await trainSpirals({ ...cli, log: console.log });
  console.log(`training accuracy ${(accuracy * 100).toFixed(1)}%`);
}
