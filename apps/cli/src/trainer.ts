/**
 * The training loop behind `bp train`: @bp/layers' `trainSteps` (the loop
 * `fit` runs too) with the control a command line needs around its events:
 * a checkpoint after every epoch, stopping cleanly after the current step on
 * Ctrl-C, refusing a non-finite loss before it reaches the weights, and
 * resuming so exactly that the final weights are byte-identical to an
 * uninterrupted run. For that, everything random is drawn from bp's one
 * seeded generator in a fixed order (the epoch's permutation at its start,
 * then dropout inside the steps), and a checkpoint holds the generator's
 * state, the position `trainSteps` keeps (epoch, step and the epoch's
 * permutation) and the running sums of the epoch in progress.
 */
import { noGrad } from '@bp/autograd';
import type { TensorPair } from '@bp/datasets';
import { NonFiniteLossError, inEvalMode, trainSteps, type Module, type TrainPosition } from '@bp/layers';
import type { Optimizer } from '@bp/optim';
import { narrow, tidy, type Tensor } from '@bp/tensor';
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

/**
 * Where a run stands; what a checkpoint stores besides weights, optimizer and generator state.
 * `epoch`, `step` and `order` are the position `trainSteps` advances.
 */
export interface Progress extends TrainPosition {
  sums: EpochSums;
  history: EpochRecord[];
}

/** A fresh run's progress. */
export function startProgress(): Progress {
  return { epoch: 0, step: 0, order: null, sums: { loss: 0, correct: 0, examples: 0, seconds: 0 }, history: [] };
}

/** The loss became NaN or infinite: training stops before the bad gradient reaches the weights (op `train`). */
export { NonFiniteLossError };

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
  inEvalMode(model, () =>
    noGrad(() => {
      for (let start = 0; start < n; start += batchSize) {
        const size = Math.min(batchSize, n - start);
        // Each batch's tensors are released at its end.
        tidy(() => {
          const x = narrow(data.x, 0, start, size);
          const y = narrow(data.y, 0, start, size);
          const logits = model.forward(x);
          lossSum += loss(logits, y).item() * size;
          correct += countCorrect(logits, y);
        });
      }
    }),
  );
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

const freshSums = (): EpochSums => ({ loss: 0, correct: 0, examples: 0, seconds: 0 });

/**
 * Runs epochs `progress.epoch + 1 .. epochs`, continuing a partly done epoch
 * where `progress.step` says. Returns `'interrupted'` when `shouldStop` asked
 * for a stop (progress then describes the exact point reached).
 */
export async function trainLoop(ctx: TrainContext): Promise<'done' | 'interrupted'> {
  const { model, train, progress, reporter } = ctx;
  const n = train.x.shape[0];
  let segmentStart = 0;
  let secondsBefore = 0;
  let examplesBefore = 0;
  const steps = trainSteps(
    model,
    {
      loss: ctx.loss,
      optimizer: ctx.optimizer,
      data: train,
      batchSize: ctx.batchSize,
      epochs: ctx.epochs,
      op: 'train',
      nonFiniteAdvice: ctx.nonFiniteAdvice,
      validate: ctx.validation ? () => evaluate(model, ctx.loss, ctx.validation!) : undefined,
    },
    progress,
  );
  try {
    for (const ev of steps) {
      if (ev.type === 'epochBegin') {
        if (ev.startBatch === 0) progress.sums = freshSums();
        reporter.startEpoch(ev.epoch + 1, ctx.epochs, ev.batches, ev.startBatch);
        segmentStart = performance.now();
        secondsBefore = progress.sums.seconds;
        examplesBefore = progress.sums.examples;
      } else if (ev.type === 'batchEnd') {
        const sums = progress.sums;
        sums.loss += ev.lossValue * ev.size;
        sums.correct += tidy(() => countCorrect(ev.output, ev.target));
        sums.examples += ev.size;
        const elapsed = (performance.now() - segmentStart) / 1000;
        sums.seconds = secondsBefore + elapsed;
        reporter.step(progress.step, {
          loss: sums.loss / sums.examples,
          accuracy: sums.correct / sums.examples,
          examplesPerSecond: elapsed > 0 ? (sums.examples - examplesBefore) / elapsed : 0,
        });
        // Let signals (Ctrl-C) and the progress bar's timer run between steps.
        await yieldToEventLoop();
        // Stopping here leaves `progress` at this exact step, which a checkpoint resumes from.
        if (ctx.shouldStop() && progress.step < ev.batches) {
          reporter.close();
          return 'interrupted';
        }
      } else if (ev.type === 'epochEnd') {
        const sums = progress.sums;
        const trainSeconds = sums.seconds;
        const record: EpochRecord = {
          epoch: ev.epoch + 1,
          loss: sums.loss / sums.examples,
          accuracy: sums.correct / sums.examples,
          seconds: trainSeconds + ev.validationSeconds,
        };
        if (ev.validation) {
          record.valLoss = ev.validation.loss;
          record.valAccuracy = ev.validation.accuracy;
        }
        progress.history.push(record);
        progress.sums = freshSums();
        reporter.endEpoch(record, ctx.epochs, trainSeconds > 0 ? n / trainSeconds : 0);
        await ctx.onEpochEnd(progress);
        if (ctx.shouldStop() && progress.epoch < ctx.epochs) return 'interrupted';
      }
    }
  } catch (e) {
    if (e instanceof NonFiniteLossError) reporter.close();
    throw e;
  }
  return 'done';
}
