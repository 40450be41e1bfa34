/**
 * The training loop behind `bp train`, written out (rather than `fit`) for
 * the control a command line needs: a checkpoint after every epoch, stopping
 * cleanly after the current step on Ctrl-C, refusing a non-finite loss before
 * it reaches the weights, and resuming so exactly that the final weights are
 * byte-identical to an uninterrupted run. For that, everything random is
 * drawn from bp's one seeded generator in a fixed order (the epoch's
 * permutation at its start, then dropout inside the steps), and a checkpoint
 * holds the generator's state, the permutation and the running sums of the
 * epoch in progress.
 */
import { noGrad } from '@bp/autograd';
import type { TensorPair } from '@bp/datasets';
import type { Module } from '@bp/layers';
import type { Optimizer } from '@bp/optim';
import { BpError, gather, narrow, randomPermutation, tensor, type Tensor } from '@bp/tensor';
import type { ProgressReporter } from './progress.js';
import type { EpochRecord } from './report.js';

/** A loss on logits and int32 labels, reduced by the mean. */
export type LossFn = (logits: Tensor, labels: Tensor) => Tensor;

/** Sums over the steps of an epoch so far. */
export interface EpochSums {
  /** Sum of per-example losses. */
  loss: number;
  correct: number;
  examples: number;
  /** Training seconds spent in this epoch (across resumptions). */
  seconds: number;
}

/** Where a run stands; what a checkpoint stores besides weights, optimizer and generator state. */
export interface Progress {
  /** Epochs completed. */
  epoch: number;
  /** Steps completed in the epoch after `epoch` (0 at an epoch boundary). */
  step: number;
  /** The permutation of the epoch in progress (null at an epoch boundary). */
  order: Int32Array | null;
  sums: EpochSums;
  history: EpochRecord[];
}

/** A fresh run's progress. */
export function startProgress(): Progress {
  return { epoch: 0, step: 0, order: null, sums: { loss: 0, correct: 0, examples: 0, seconds: 0 }, history: [] };
}

/** The loss became NaN or infinite: training stops before the bad gradient reaches the weights. */
export class NonFiniteLossError extends BpError {
  constructor(
    readonly epoch: number,
    readonly step: number,
    readonly value: number,
    detail: string,
  ) {
    super('train', `the loss is ${value} at epoch ${epoch}, step ${step}; stopped before updating the weights. ${detail}`);
  }
}

/** Everything {@link trainLoop} works with. */
export interface TrainContext {
  model: Module;
  optimizer: Optimizer;
  loss: LossFn;
  train: TensorPair;
  validation: TensorPair | null;
  epochs: number;
  batchSize: number;
  progress: Progress;
  reporter: ProgressReporter;
  /** Called after every completed epoch (write the checkpoint, the report). */
  onEpochEnd(progress: Progress): Promise<void>;
  /** Polled after every step; true stops the loop there (Ctrl-C). */
  shouldStop(): boolean;
  /** What to tell the user when the loss turns non-finite (where the last good checkpoint is). */
  nonFiniteAdvice(): string;
}

/**
 * Examples per forward pass when measuring validation and test figures: large enough to keep the
 * kernels busy, small enough that a CNN's activations for one pass stay near 50 MB (with 1,000,
 * the MNIST CNN's training run peaked at 673 MB instead of 572 MB).
 */
export const EVAL_BATCH_SIZE = 256;

/** Loss and accuracy of `model` on `data`, in eval mode without recording gradients. */
export function evaluate(model: Module, loss: LossFn, data: TensorPair, batchSize = EVAL_BATCH_SIZE): { loss: number; accuracy: number } {
  const n = data.x.shape[0];
  let lossSum = 0;
  let correct = 0;
  const wasTraining = model.training;
  model.eval();
  try {
    noGrad(() => {
      for (let start = 0; start < n; start += batchSize) {
        const size = Math.min(batchSize, n - start);
        const x = narrow(data.x, 0, start, size);
        const y = narrow(data.y, 0, start, size);
        const logits = model.forward(x);
        lossSum += loss(logits, y).item() * size;
        correct += countCorrect(logits, y);
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return { loss: lossSum / n, accuracy: correct / n };
}

/**
 * How many rows of `logits` have their largest value at the label. For a
 * sequence model's `[batch, time, classes]` logits and `[batch, time]`
 * labels, each row counts the share of its positions that are right.
 */
export function countCorrect(logits: Tensor, labels: Tensor): number {
  if (logits.rank === 3) return noGrad(() => logits.argmax(2).eq(labels).sum().item()) / logits.shape[1];
  return noGrad(() => logits.argmax(1).eq(labels).sum().item());
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs epochs `progress.epoch + 1 .. epochs`, continuing a partly done epoch
 * where `progress.step` says. Returns `'interrupted'` when `shouldStop` asked
 * for a stop (progress then describes the exact point reached).
 */
export async function trainLoop(ctx: TrainContext): Promise<'done' | 'interrupted'> {
  const { model, optimizer, train, progress, reporter } = ctx;
  const n = train.x.shape[0];
  const steps = Math.ceil(n / ctx.batchSize);
  model.train();
  while (progress.epoch < ctx.epochs) {
    const epoch = progress.epoch + 1;
    if (progress.order === null) {
      progress.order = randomPermutation(n);
      progress.step = 0;
      progress.sums = { loss: 0, correct: 0, examples: 0, seconds: 0 };
    }
    const order = progress.order;
    reporter.startEpoch(epoch, ctx.epochs, steps, progress.step);
    const segmentStart = performance.now();
    const secondsBefore = progress.sums.seconds;
    const examplesBefore = progress.sums.examples;
    while (progress.step < steps) {
      const start = progress.step * ctx.batchSize;
      const size = Math.min(ctx.batchSize, n - start);
      const idx = tensor(order.subarray(start, start + size), { shape: [size], dtype: 'int32' });
      const x = gather(train.x, idx, 0);
      const y = gather(train.y, idx, 0);
      optimizer.zeroGrad();
      const logits = model.forward(x);
      const loss = ctx.loss(logits, y);
      const value = loss.item();
      if (!Number.isFinite(value)) {
        reporter.close();
        throw new NonFiniteLossError(epoch, progress.step + 1, value, ctx.nonFiniteAdvice());
      }
      loss.backward();
      optimizer.step();
      const sums = progress.sums;
      sums.loss += value * size;
      sums.correct += countCorrect(logits, y);
      sums.examples += size;
      progress.step++;
      const elapsed = (performance.now() - segmentStart) / 1000;
      sums.seconds = secondsBefore + elapsed;
      reporter.step(progress.step, {
        loss: sums.loss / sums.examples,
        accuracy: sums.correct / sums.examples,
        examplesPerSecond: elapsed > 0 ? (sums.examples - examplesBefore) / elapsed : 0,
      });
      // Let signals (Ctrl-C) and the progress bar's timer run between steps.
      await yieldToEventLoop();
      if (ctx.shouldStop() && progress.step < steps) {
        reporter.close();
        return 'interrupted';
      }
    }
    const record: EpochRecord = {
      epoch,
      loss: progress.sums.loss / progress.sums.examples,
      accuracy: progress.sums.correct / progress.sums.examples,
      seconds: 0,
    };
    const trainSeconds = progress.sums.seconds;
    const validationStart = performance.now();
    if (ctx.validation) {
      const v = evaluate(model, ctx.loss, ctx.validation);
      record.valLoss = v.loss;
      record.valAccuracy = v.accuracy;
    }
    record.seconds = trainSeconds + (performance.now() - validationStart) / 1000;
    progress.history.push(record);
    progress.epoch = epoch;
    progress.step = 0;
    progress.order = null;
    progress.sums = { loss: 0, correct: 0, examples: 0, seconds: 0 };
    reporter.endEpoch(record, ctx.epochs, trainSeconds > 0 ? n / trainSeconds : 0);
    await ctx.onEpochEnd(progress);
    if (ctx.shouldStop() && progress.epoch < ctx.epochs) return 'interrupted';
  }
  return 'done';
}
