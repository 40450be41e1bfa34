/**
 * The one training loop of bp: `fit` and the `bp train` command both run
 * their epochs through {@link trainSteps}, each adding its own bookkeeping
 * (Keras callbacks and metrics; checkpoints, signals and a progress bar)
 * around the events it yields.
 */
import {
  ArgumentError,
  BpError,
  NotAvailableError,
  ShapeError,
  type Tensor,
  fmtShape,
  gather,
  getBackend,
  isTensor,
  keep,
  randomPermutation,
  tensor,
  tidy,
  valueChecksOn,
} from '@bp/tensor';
import { autogradHooks } from '@bp/tensor/internal';
import type { Module } from '../module.js';
import { flagOption } from './options.js';

const DEFAULT_ADVICE =
  'A lower learning rate usually helps; check the inputs and targets for NaN or infinite values, ' +
  'or pass { terminateOnNaN: false } to train on regardless';

/**
 * Training met a NaN or infinite loss and stopped before the batch that
 * produced it updated the weights (see `FitOptions.terminateOnNaN` and
 * {@link TrainStepsOptions.terminateOnNaN}). `epoch` and `step` count from 1,
 * as the message prints them.
 */
export class NonFiniteLossError extends BpError {
  constructor(
    /** The epoch, counting from 1 (as `verbose` prints `Epoch 3/10`). */
    readonly epoch: number,
    /** The batch within the epoch, counting from 1. */
    readonly step: number,
    /** The loss: NaN, Infinity or -Infinity. */
    readonly value: number,
    /** What stopped: `fit` (the default), or the name the training loop was given. */
    op = 'fit',
    /** What to tell the user after the figures (default: lower the learning rate, check the data, or turn the check off). */
    advice = DEFAULT_ADVICE,
  ) {
    super(op, `the loss is ${value} at epoch ${epoch}, step ${step}; stopped before updating the weights. ${advice}`);
  }
}

/**
 * Where a training run stands, as a checkpoint stores it. {@link trainSteps}
 * advances it in place before each `batchEnd` and `epochEnd` event, so at
 * every event it says exactly where a run restarted from it would continue.
 */
export interface TrainPosition {
  /** Epochs completed. */
  epoch: number;
  /** Batches completed in the epoch after `epoch` (0 at an epoch boundary). */
  step: number;
  /**
   * The sample order of the epoch in progress: a permutation of the sample
   * indices when shuffling, drawn from bp's seeded generator after the
   * `epochBegin` event when it is null; null at an epoch boundary and without
   * shuffling (the samples are then taken in order).
   */
  order: Int32Array | null;
}

/** The two sides of a model's training step, as {@link trainSteps} needs them. */
export interface StepOptimizer {
  /** Clears the gradients of the parameters. */
  zeroGrad(): void;
  /** Updates the parameters from their gradients. */
  step(): unknown;
}

/** Options of {@link trainSteps}. */
export interface TrainStepsOptions<V = unknown> {
  /** `(output, target) => loss`: one number per batch (a mean reduction). */
  loss: (output: Tensor, target: Tensor) => Tensor;
  /** Updates the model's parameters (`Adam`, `SGD`... of @bp/optim). */
  optimizer: StepOptimizer;
  /** The training samples, `x` and `y` with the samples along axis 0. */
  data: { x: Tensor; y: Tensor };
  /** Samples per step; the last batch of an epoch holds what is left. */
  batchSize: number;
  /** The epoch to finish at, counting the epochs `position` says are done (as Keras' `epochs` with `initial_epoch`). */
  epochs: number;
  /** Visit the samples in a fresh random order every epoch, drawn with bp's seeded generator (default true). */
  shuffle?: boolean;
  /** Throw a {@link NonFiniteLossError} at a NaN or infinite loss, before that batch updates the weights (default true). */
  terminateOnNaN?: boolean;
  /** The name errors start with (default `trainSteps`; `fit` passes `fit`). */
  op?: string;
  /** The advice a {@link NonFiniteLossError} ends with, asked for when one is thrown. */
  nonFiniteAdvice?: () => string;
  /**
   * Measures the model after every epoch (loss and accuracy on held-out
   * data). It runs in eval mode (Dropout off, BatchNorm on its running
   * statistics); each module's previous mode is put back afterwards. The
   * result comes with the `epochEnd` event.
   */
  validate?: () => V;
  /**
   * Polled after every `batchEnd` and `epochEnd` event has been handled:
   * true after a batch ends the epoch there (its `epochEnd` event follows,
   * with validation) and then the run; true after an epoch ends the run.
   * Keras' `model.stopTraining`. To stop at once instead, at a point the
   * position can resume from exactly, leave the loop with `break`.
   */
  stop?: () => boolean;
}

/** An epoch is about to run (or to continue, after `startBatch` batches done before). */
export interface EpochBeginEvent {
  type: 'epochBegin';
  /** The epoch, counting from 0. */
  epoch: number;
  /** Batches in a whole epoch. */
  batches: number;
  /** Batches of this epoch already done (non-zero when resuming inside an epoch). */
  startBatch: number;
}

/** A batch is about to run. */
export interface BatchBeginEvent {
  type: 'batchBegin';
  /** The epoch, counting from 0. */
  epoch: number;
  /** The batch within the epoch, counting from 0. */
  batch: number;
  /** Samples in the batch. */
  size: number;
}

/** A batch ran: forward, loss, backward and the optimizer step. */
export interface BatchEndEvent {
  type: 'batchEnd';
  /** The epoch, counting from 0. */
  epoch: number;
  /** The batch within the epoch, counting from 0. */
  batch: number;
  /** Batches in a whole epoch. */
  batches: number;
  /** Samples in the batch. */
  size: number;
  /** The batch's inputs. */
  input: Tensor;
  /** The batch's targets. */
  target: Tensor;
  /** The model's outputs for the batch (computed before the update). */
  output: Tensor;
  /** The batch's loss, a one-element tensor. */
  loss: Tensor;
  /**
   * The batch's loss as a number. On a backend where reading is free (the CPU)
   * it was read before the update; elsewhere reading it is the one readback
   * of the step, made only when something reads this property.
   */
  readonly lossValue: number;
}

/**
 * What a batch's tensors are released into once its `batchEnd` event has been
 * handled: read them there, or `clone()` one to keep it.
 */

/** An epoch ended, and the validation ran. */
export interface EpochEndEvent<V = unknown> {
  type: 'epochEnd';
  /** The epoch, counting from 0. */
  epoch: number;
  /** Batches run in this epoch, counting any done before a resume. */
  batches: number;
  /** False when `stop` ended the epoch before its last batch. */
  complete: boolean;
  /** What `validate` returned, or undefined without `validate`. */
  validation: V | undefined;
  /** Seconds `validate` took (0 without it). */
  validationSeconds: number;
}

/** What {@link trainSteps} yields, in this order: per epoch `epochBegin`, then `batchBegin`/`batchEnd` per batch, then `epochEnd`. */
export type TrainEvent<V = unknown> = EpochBeginEvent | BatchBeginEvent | BatchEndEvent | EpochEndEvent<V>;

/**
 * Runs `fn` with `model` and every module in it in eval mode, then puts each
 * module's own mode back (also when `fn` throws).
 */
export function inEvalMode<T>(model: Module, fn: () => T): T {
  const modes = model.namedModules().map(([, m]) => [m, m.training] as const);
  model.eval();
  try {
    return fn();
  } finally {
    for (const [m, t] of modes) m.training = t;
  }
}

/** Rows `start..end` of `x`, in `order` when shuffling. @internal */
export function rows(x: Tensor, order: Int32Array | null, start: number, end: number): Tensor {
  if (order === null) return start === 0 && end === x.shape[0] ? x : x.narrow(0, start, end - start);
  return gather(x, tensor(order.subarray(start, end), { shape: [end - start], dtype: 'int32' }), 0);
}

/** Releases a batch's tensors, never the dataset itself (a batch of every sample is the dataset). */
function release(batch: { input: Tensor; target: Tensor; output: Tensor; loss: Tensor }, x: Tensor, y: Tensor): void {
  for (const t of [batch.input, batch.target, batch.output, batch.loss]) if (t !== x && t !== y) t.dispose();
}

function checkPosition(op: string, p: TrainPosition, n: number): void {
  if (p === null || typeof p !== 'object') throw new ArgumentError(op, 'position must be { epoch, step, order }');
  if (!Number.isInteger(p.epoch) || p.epoch < 0)
    throw new ArgumentError(op, `position.epoch must be a non-negative integer, got ${p.epoch}`);
  if (!Number.isInteger(p.step) || p.step < 0) throw new ArgumentError(op, `position.step must be a non-negative integer, got ${p.step}`);
  if (p.order !== null && !(p.order instanceof Int32Array && p.order.length === n)) {
    throw new ArgumentError(op, `position.order must be null or an Int32Array of the ${n} sample indices`);
  }
}

/**
 * Trains `model` step by step, yielding an event before and after every
 * batch and at both ends of every epoch; the caller adds what it needs
 * between them (logging, metrics, callbacks, checkpoints) and may `await`
 * there. The model is put in training mode as each epoch starts; validation
 * runs in eval mode and restores the previous modes.
 *
 * Each batch runs forward, the loss, the non-finite check, backward and the
 * optimizer step, in that order; everything random (the epoch's order, then
 * Dropout inside the steps) is drawn from bp's one seeded generator in a
 * fixed order. So a run continued from a saved `position` (with the
 * weights, optimizer state and `getRandomState()` saved at the same event)
 * ends with the same weights, bit for bit, as one never stopped.
 *
 * Arguments are checked when it is called; the work happens as the events
 * are taken.
 *
 * @param position Where to start (default: the beginning); advanced in place.
 *
 * @example
 * const position = { epoch: 0, step: 0, order: null };
 * for (const ev of trainSteps(model, { loss: crossEntropyLoss, optimizer, data: { x, y }, batchSize: 64, epochs: 3 }, position)) {
 *   if (ev.type === 'batchEnd' && ev.batch % 100 === 0) console.log(`epoch ${ev.epoch + 1} batch ${ev.batch}: ${ev.lossValue}`);
 *   if (ev.type === 'batchEnd' && stopRequested) break; // position says where to continue
 * }
 */
export function trainSteps<V = unknown>(
  model: Module,
  opts: TrainStepsOptions<V>,
  position: TrainPosition = { epoch: 0, step: 0, order: null },
): Generator<TrainEvent<V>, void, undefined> {
  const op = opts?.op ?? 'trainSteps';
  if (opts === null || typeof opts !== 'object')
    throw new ArgumentError(op, 'options { loss, optimizer, data, batchSize, epochs } are required');
  const { loss, optimizer, data, batchSize, epochs } = opts;
  if (typeof loss !== 'function') throw new ArgumentError(op, 'loss must be a function (output, target) => Tensor');
  if (
    optimizer === null ||
    typeof optimizer !== 'object' ||
    typeof optimizer.step !== 'function' ||
    typeof optimizer.zeroGrad !== 'function'
  ) {
    throw new ArgumentError(op, 'optimizer must have step() and zeroGrad()');
  }
  if (data === null || typeof data !== 'object' || !isTensor(data.x) || !isTensor(data.y))
    throw new ArgumentError(op, 'data must be { x, y } Tensors');
  const n = data.x.rank === 0 ? 0 : data.x.shape[0];
  if (n === 0 || data.y.rank === 0 || data.y.shape[0] !== n) {
    throw new ShapeError(
      op,
      `x ${fmtShape(data.x.shape)} and y ${fmtShape(data.y.shape)} need the same number of samples, at least one, along axis 0`,
    );
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ArgumentError(op, `batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(epochs) || epochs < 0) throw new ArgumentError(op, `epochs must be a non-negative integer, got ${epochs}`);
  const shuffle = flagOption(op, 'shuffle', opts.shuffle, true);
  const terminateOnNaN = flagOption(op, 'terminateOnNaN', opts.terminateOnNaN, true);
  checkPosition(op, position, n);
  if (autogradHooks() === null) {
    throw new NotAvailableError(
      op,
      "training needs @bp/autograd: add `import '@bp/autograd'` (npm i @bp/autograd) before building the model",
    );
  }
  return run(model, opts, position, { op, n, shuffle, terminateOnNaN });
}

function* run<V>(
  model: Module,
  opts: TrainStepsOptions<V>,
  position: TrainPosition,
  s: { op: string; n: number; shuffle: boolean; terminateOnNaN: boolean },
): Generator<TrainEvent<V>, void, undefined> {
  const { op, n } = s;
  const { x: xAll, y: yAll } = opts.data;
  const { batchSize, optimizer } = opts;
  const batches = Math.ceil(n / batchSize);
  const stop = opts.stop ?? (() => false);
  let epochLoss: Tensor | null = null;
  while (position.epoch < opts.epochs) {
    const epoch = position.epoch;
    yield { type: 'epochBegin', epoch, batches, startBatch: position.step };
    model.train();
    if (s.shuffle && position.order === null) position.order = randomPermutation(n);
    let complete = true;
    while (position.step < batches) {
      const batch = position.step;
      const start = batch * batchSize;
      const end = Math.min(n, start + batchSize);
      const size = end - start;
      yield { type: 'batchBegin', epoch, batch, size };

      // The step: forward, loss, the non-finite check, backward, update, in one tidy scope: what
      // it makes is released at its end but for the batch's tensors, which the batchEnd event
      // hands out and which are released after it. Nothing is read back unless the backend reads
      // for free (the CPU), where the loss is checked before the update.
      let lossValue: number | undefined;
      const fwd = tidy(() => {
        const input = rows(xAll, position.order, start, end);
        const target = rows(yAll, position.order, start, end);
        const output = model.forward(input);
        const loss: unknown = opts.loss(output, target);
        // Checked first: a number or undefined here would fail below with a TypeError naming neither the loss nor the op.
        if (!isTensor(loss)) throw new ArgumentError(op, `the loss function returned ${typeof loss}, not a Tensor`);
        if (loss.size !== 1) {
          throw new ShapeError(op, `the loss must be one number per batch, got ${fmtShape(loss.shape)}; use a mean reduction`);
        }
        if (s.terminateOnNaN && valueChecksOn(getBackend())) {
          lossValue = loss.item();
          if (!Number.isFinite(lossValue)) throw new NonFiniteLossError(epoch + 1, batch + 1, lossValue, op, opts.nonFiniteAdvice?.());
        }
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
        return { input, target, output, loss };
      });
      const { input, target, output, loss } = fwd;
      const readLoss = (): number => {
        if (lossValue === undefined) lossValue = loss.item();
        return lossValue;
      };
      if (s.terminateOnNaN && lossValue === undefined) {
        // Not checked above (reading is not free here): summed on the device and read once, when the epoch ends.
        const prev: Tensor | null = epochLoss;
        epochLoss = keep(tidy((): Tensor => (prev === null ? loss.detach() : prev.add(loss.detach()))));
        prev?.dispose();
      }

      position.step = batch + 1;
      const ev: BatchEndEvent = { type: 'batchEnd', epoch, batch, batches, size, input, target, output, loss, lossValue: 0 };
      Object.defineProperty(ev, 'lossValue', { get: readLoss, enumerable: true, configurable: true });
      try {
        yield ev;
      } finally {
        release(fwd, xAll, yAll);
      }
      if (position.step < batches && stop()) {
        complete = false;
        break;
      }
    }
    const done = position.step;
    if (epochLoss !== null) {
      // Where the backend reads for free every batch was checked already; elsewhere this is the check.
      const total = epochLoss.item();
      epochLoss.dispose();
      epochLoss = null;
      if (!Number.isFinite(total)) throw new NonFiniteLossError(epoch + 1, done, total, op, opts.nonFiniteAdvice?.());
    }
    let validation: V | undefined;
    let validationSeconds = 0;
    if (opts.validate) {
      const t0 = performance.now();
      validation = inEvalMode(model, opts.validate);
      validationSeconds = (performance.now() - t0) / 1000;
    }
    position.epoch = epoch + 1;
    position.step = 0;
    position.order = null;
    yield { type: 'epochEnd', epoch, batches: done, complete, validation, validationSeconds };
    if (!complete || stop()) return;
  }
}
