import {
  ArgumentError,
  NotAvailableError,
  ShapeError,
  type Tensor,
  concat,
  fmtShape,
  getBackend,
  isTensor,
  keep,
  tidy,
  valueChecksOn,
} from '@bp/tensor';
import { autogradHooks, shownValue } from '@bp/tensor/internal';
import type { Module } from '../module.js';
import { withoutGraph } from '../no-grad.js';
import { flagOption, optionsOf } from './options.js';
import type { Callback, Logs } from './callbacks.js';
import { type Compiled, optimizerByName } from './compile.js';
import { History } from './history.js';
import type { Metric } from './metrics.js';
import { warnIfActivatedTwice } from './output-kind.js';
import { type TrainPosition, inEvalMode, rows, trainSteps } from './train-steps.js';

import { NonFiniteLossError } from './train-steps.js';

export { NonFiniteLossError };

/**
 * Options of `fit` (Keras' names and defaults). A name not listed here is refused with the closest
 * one (`epoch` for `epochs`), and Keras' `classWeight` and `sampleWeight` as not supported; `null`
 * is the same as no options.
 */
export interface FitOptions {
  /**
   * Passes over the training data (default 1). As in Keras, it is the index of the last epoch,
   * not a count added to {@link initialEpoch}: `{ epochs: 7, initialEpoch: 5 }` trains two epochs.
   */
  epochs?: number;
  /** Samples per gradient step (default 32). */
  batchSize?: number;
  /** `[xVal, yVal]` evaluated after every epoch (logged as `val_loss`, `val_accuracy`...). */
  validationData?: [Tensor, Tensor];
  /** Fraction of the samples, taken from the end before shuffling, held out for validation. */
  validationSplit?: number;
  /** Shuffle the samples every epoch, with the generator seeded by `manualSeed` (default true). */
  shuffle?: boolean;
  /** Hooks called during training, e.g. `EarlyStopping`. */
  callbacks?: Callback[];
  /** 0: silent (default); 1 or 2: one line per epoch with the loss, metrics and time. */
  verbose?: 0 | 1 | 2;
  /**
   * Epochs already done, to resume an earlier run (default 0): training runs epochs
   * `initialEpoch + 1` to `epochs` (none when `initialEpoch >= epochs`), as Keras' `initial_epoch`.
   */
  initialEpoch?: number;
  /**
   * Stop with a {@link NonFiniteLossError} when a batch's loss is NaN or
   * infinite (default true, Keras' `TerminateOnNaN`); false trains on. On the
   * CPU backend, where reading a value costs nothing, every batch's loss is
   * checked before that batch updates the weights. On GPU backends the losses
   * are summed on the device and read only at progress updates (the end of an
   * epoch, or an `onBatchEnd` callback reading `logs.loss`), so a step never
   * waits for the host: the stop then comes at the first such read, and the
   * batches before it have updated the weights.
   */
  terminateOnNaN?: boolean;
}

/** Options of `evaluate` and `predict`; other names are refused, and `null` is the same as none. */
export interface EvaluateOptions {
  /** Samples per forward pass (default 32). */
  batchSize?: number;
}

/** The option names `evaluate` and `predict` take. */
const EVALUATE_OPTIONS = ['batchSize'] as const;

/** The model side of the training loop (a `Sequential`). @internal */
export interface TrainableModel extends Module {
  /** Set to true to stop `fit` after the current batch. */
  stopTraining: boolean;
  /** The compile settings, or null before `compile`. */
  readonly compiled: Compiled | null;
  /** Makes sure every parameter exists for per-sample inputs of `inputShape`. */
  build(inputShape: number[]): void;
}

/** The option names `fit` takes. */
const FIT_OPTIONS = [
  'epochs',
  'batchSize',
  'validationData',
  'validationSplit',
  'shuffle',
  'callbacks',
  'verbose',
  'initialEpoch',
  'terminateOnNaN',
] as const;

/** Keras `fit` arguments bp does not implement: refused by name, since ignoring them would train differently than asked. */
const UNSUPPORTED_FIT_OPTIONS: Readonly<Record<string, string>> = {
  classWeight: 'weight the classes in a loss function passed to compile instead',
  class_weight: 'weight the classes in a loss function passed to compile instead',
  sampleWeight: 'weight the samples in a loss function passed to compile instead',
  sample_weight: 'weight the samples in a loss function passed to compile instead',
};

/** The hooks `fit` calls on a callback, each optional. */
const CALLBACK_HOOKS = ['setModel', 'onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd'] as const;

/** Refuses Keras' `fit` arguments bp does not implement, before the name check would call them unknown. */
function refuseUnsupported(opts: unknown): void {
  if (opts === null || typeof opts !== 'object') return;
  for (const key of Object.keys(opts)) {
    const instead = Object.hasOwn(UNSUPPORTED_FIT_OPTIONS, key) ? UNSUPPORTED_FIT_OPTIONS[key] : undefined;
    if (instead !== undefined) throw new ArgumentError('fit', `${key} is not supported; ${instead}`);
  }
}

/** Refuses a callback that is not an object, or whose hook is there but is not a function, before training starts. */
function checkCallbacks(callbacks: unknown): Callback[] {
  if (!Array.isArray(callbacks)) throw new ArgumentError('fit', `callbacks must be an array, got ${shownValue(callbacks)}`);
  callbacks.forEach((cb: unknown, i) => {
    if (cb === null || typeof cb !== 'object')
      throw new ArgumentError('fit', `callbacks[${i}] must be a callback object (e.g. new EarlyStopping()), got ${shownValue(cb)}`);
    for (const hook of CALLBACK_HOOKS) {
      // Read through the prototype: a class's hooks are methods, not own keys.
      const fn = (cb as Record<string, unknown>)[hook];
      if (fn !== undefined && typeof fn !== 'function') {
        throw new ArgumentError('fit', `callbacks[${i}].${hook} must be a function, got ${shownValue(fn)}`);
      }
    }
  });
  return callbacks as Callback[];
}

/**
 * `compile`'s loss, checked to return a Tensor: a loss function returning a number or nothing
 * would otherwise fail deep inside the step with a TypeError that names neither.
 */
function checkedLoss(op: string, c: Compiled): (pred: Tensor, target: Tensor) => Tensor {
  return (pred, target) => {
    const loss: unknown = c.loss(pred, target);
    if (!isTensor(loss)) {
      throw new ArgumentError(
        op,
        `the loss ${c.lossLabel} returned ${shownValue(loss)}, not a Tensor; a loss (pred, target) => Tensor must return the batch's loss as a one-element Tensor`,
      );
    }
    return loss;
  };
}

function positiveInt(op: string, name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new ArgumentError(op, `${name} must be a positive integer, got ${v}`);
  return v;
}

function checkXY(op: string, x: Tensor, y: Tensor): void {
  if (!isTensor(x) || !isTensor(y)) throw new ArgumentError(op, 'x and y must be Tensors');
  if (x.rank === 0 || y.rank === 0) throw new ShapeError(op, `x ${fmtShape(x.shape)} and y ${fmtShape(y.shape)} need a batch axis`);
  if (x.shape[0] !== y.shape[0]) {
    throw new ShapeError(
      op,
      `x ${fmtShape(x.shape)} and y ${fmtShape(y.shape)} have different numbers of samples (${x.shape[0]} != ${y.shape[0]})`,
    );
  }
  if (x.shape[0] === 0) throw new ShapeError(op, `no samples: x is ${fmtShape(x.shape)}`);
}

function requireCompiled(op: string, model: TrainableModel): Compiled {
  if (!model.compiled)
    throw new ArgumentError(op, op === 'fit' ? 'call compile({ optimizer, loss }) first' : 'call compile({ loss }) first');
  return model.compiled;
}

/** Sums metric totals on the backend; values are read once, in {@link MetricTotals.means}. */
class MetricTotals {
  private readonly totals: (Tensor | null)[];
  constructor(private readonly metrics: Metric[]) {
    this.totals = metrics.map(() => null);
  }
  add(pred: Tensor, target: Tensor): void {
    if (this.metrics.length === 0) return;
    withoutGraph(() => {
      const p = pred.detach();
      this.metrics.forEach((m, i) => {
        const t = m.batchTotal(p, target);
        const prev = this.totals[i];
        // Totals outlive the step's tidy scope; the one replaced is released at once.
        this.totals[i] = keep(prev === null ? t : prev.add(t));
        prev?.dispose();
      });
    });
  }
  /** The means (one read per metric, through `await`, which works on every backend), releasing the totals. */
  async meansAsync(count: number, prefix = ''): Promise<Logs> {
    const out: Logs = {};
    for (let i = 0; i < this.metrics.length; i++) {
      const t = this.totals[i];
      out[prefix + this.metrics[i].name] = t === null ? Number.NaN : (await t.data())[0] / count;
      t?.dispose();
      this.totals[i] = null;
    }
    return out;
  }
}

/** A running sum of `loss * size` kept on the backend, read only when asked. */
class LossSum {
  private total: Tensor | null = null;
  /** Adds one batch's mean loss weighted by its size. */
  add(loss: Tensor, size: number): void {
    const prev = this.total;
    this.total = keep(
      tidy(() => {
        const weighted = loss.detach().mul(size);
        return prev === null ? weighted : prev.add(weighted);
      }),
    );
    prev?.dispose();
  }
  /** Reads the sum (one readback, through `await`, which works on every backend) and releases it. */
  async takeAsync(): Promise<number> {
    const v = this.total === null ? 0 : (await this.total.data())[0];
    this.total?.dispose();
    this.total = null;
    return v;
  }
}

function formatLogs(logs: Logs): string {
  return Object.entries(logs)
    .map(([k, v]) => `${k}: ${Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(3)}`)
    .join(' - ');
}

/**
 * Gives the event loop a turn when more than `sliceMs` of work ran since the
 * last one, so timers, I/O and a browser page stay responsive during long
 * epochs, without paying for a yield after every small batch.
 */
class Yielder {
  private last = performance.now();
  constructor(private readonly sliceMs = 30) {}
  async maybeYield(): Promise<void> {
    const now = performance.now();
    if (now - this.last < this.sliceMs) return;
    await new Promise<void>((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
    this.last = performance.now();
  }
}

/**
 * Loss and metrics of the model on `(x, y)` in eval mode without a graph,
 * batch by batch; the loss is averaged over samples. Every batch runs in a
 * `tidy` scope, and the sums stay on the backend until they are read, once, at
 * the end (through `await`, so it works on every backend). @internal
 */
export async function evaluateModelAsync(
  model: TrainableModel,
  x: Tensor,
  y: Tensor,
  opts: EvaluateOptions | null = {},
  prefix = '',
): Promise<Logs> {
  const { n, lossSum, totals } = evaluateSums(model, x, y, optionsOf<EvaluateOptions>('evaluate', opts, EVALUATE_OPTIONS));
  return { [`${prefix}loss`]: (await lossSum.takeAsync()) / n, ...(await totals.meansAsync(n, prefix)) };
}

function evaluateSums(
  model: TrainableModel,
  x: Tensor,
  y: Tensor,
  opts: EvaluateOptions,
): { n: number; lossSum: LossSum; totals: MetricTotals } {
  const c = requireCompiled('evaluate', model);
  checkXY('evaluate', x, y);
  const batchSize = positiveInt('evaluate', 'batchSize', opts.batchSize ?? 32);
  const n = x.shape[0];
  const loss = checkedLoss('evaluate', c);
  if (!model.built) model.build(x.shape.slice(1));
  return inEvalMode(model, () =>
    withoutGraph(() => {
      const lossSum = new LossSum();
      const totals = new MetricTotals(c.metrics);
      for (let start = 0; start < n; start += batchSize) {
        const end = Math.min(n, start + batchSize);
        // Each batch's tensors are released at its end; the sums stay on the backend until read.
        tidy(() => {
          const xb = rows(x, null, start, end);
          const yb = rows(y, null, start, end);
          const pred = model.forward(xb);
          lossSum.add(loss(pred, yb), end - start);
          totals.add(pred, yb);
        });
      }
      return { n, lossSum, totals };
    }),
  );
}

/** The model's outputs for every sample of `x`, in eval mode without a graph, batch by batch. */
export function predictModel(
  model: Module & { built: boolean; build(s: number[]): void },
  x: Tensor,
  options: EvaluateOptions | null = {},
): Tensor {
  const opts = optionsOf<EvaluateOptions>('predict', options, EVALUATE_OPTIONS);
  if (!isTensor(x) || x.rank === 0) throw new ArgumentError('predict', 'x must be a Tensor with a batch axis');
  const batchSize = positiveInt('predict', 'batchSize', opts.batchSize ?? 32);
  const n = x.shape[0];
  if (!model.built) model.build(x.shape.slice(1));
  return inEvalMode(model, () =>
    withoutGraph(() =>
      // Every batch's slices, activations and outputs are released when the result is made.
      tidy(() => {
        if (n <= batchSize) return model.forward(x);
        const outs: Tensor[] = [];
        for (let start = 0; start < n; start += batchSize) outs.push(model.forward(rows(x, null, start, Math.min(n, start + batchSize))));
        return concat(outs, 0);
      }),
    ),
  );
}

/** Keras' `fit` loop. @internal Called by `Sequential.fit`. */
export async function fitModel(model: TrainableModel, x: Tensor, y: Tensor, options: FitOptions | null = {}): Promise<History> {
  refuseUnsupported(options);
  const opts = optionsOf<FitOptions>('fit', options, FIT_OPTIONS);
  const c = requireCompiled('fit', model);
  checkXY('fit', x, y);
  const epochs = opts.epochs ?? 1;
  if (!Number.isInteger(epochs) || epochs < 0) throw new ArgumentError('fit', `epochs must be a non-negative integer, got ${epochs}`);
  const batchSize = positiveInt('fit', 'batchSize', opts.batchSize ?? 32);
  const initialEpoch = opts.initialEpoch ?? 0;
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0) {
    throw new ArgumentError('fit', `initialEpoch must be a non-negative integer, got ${initialEpoch}`);
  }
  const shuffle = flagOption('fit', 'shuffle', opts.shuffle, true);
  const terminateOnNaN = flagOption('fit', 'terminateOnNaN', opts.terminateOnNaN, true);
  const verbose = opts.verbose ?? 0;
  if (verbose !== 0 && verbose !== 1 && verbose !== 2)
    throw new ArgumentError('fit', `verbose must be 0, 1 or 2, got ${shownValue(verbose)}`);
  const callbacks = checkCallbacks(opts.callbacks ?? []);
  if (autogradHooks() === null) {
    throw new NotAvailableError(
      'fit',
      "training needs @bp/autograd: add `import '@bp/autograd'` (npm i @bp/autograd) before building the model",
    );
  }

  let xTrain = x;
  let yTrain = y;
  let validation: [Tensor, Tensor] | null = null;
  if (opts.validationData !== undefined) {
    const vd = opts.validationData;
    if (!Array.isArray(vd) || vd.length !== 2) throw new ArgumentError('fit', 'validationData must be [xVal, yVal]');
    checkXY('fit (validationData)', vd[0], vd[1]);
    validation = [vd[0], vd[1]];
  } else if (opts.validationSplit !== undefined && opts.validationSplit !== 0) {
    const split = opts.validationSplit;
    if (typeof split !== 'number' || !(split > 0 && split < 1))
      throw new ArgumentError('fit', `validationSplit must be a number in (0, 1), got ${shownValue(split)}`);
    const n = x.shape[0];
    // Keras' count: the first floor(n * (1 - split)) samples train, the rest validate.
    const nVal = n - Math.floor(n * (1 - split));
    if (nVal < 1 || nVal >= n) {
      throw new ArgumentError('fit', `validationSplit ${split} of ${n} samples leaves ${nVal} for validation and ${n - nVal} for training`);
    }
    // Keras takes the last samples, before any shuffling.
    xTrain = x.narrow(0, 0, n - nVal);
    yTrain = y.narrow(0, 0, n - nVal);
    validation = [x.narrow(0, n - nVal, nVal), y.narrow(0, n - nVal, nVal)];
  }

  if (!model.built) model.build(x.shape.slice(1));
  warnIfActivatedTwice(model, c);
  if (c.optimizer === null && c.optimizerName === null) {
    throw new ArgumentError(
      'fit',
      'the model was compiled without an optimizer (for evaluate alone): call compile({ optimizer, loss }) to train it',
    );
  }
  if (c.optimizer === null) c.optimizer = optimizerByName(c.optimizerName!, model.parameters());
  const optimizer = c.optimizer;

  const history = new History();
  model.stopTraining = false;
  for (const cb of callbacks) cb.setModel?.(model);
  for (const cb of callbacks) await cb.onTrainBegin?.({});

  let epochLogs: Logs = {};
  const yielder = new Yielder();
  let t0 = 0;
  let totals = new MetricTotals(c.metrics);
  let lossSum = new LossSum();
  let seen = 0;
  const position: TrainPosition = { epoch: initialEpoch, step: 0, order: null };
  const steps = trainSteps(
    model,
    {
      loss: checkedLoss('fit', c),
      optimizer,
      data: { x: xTrain, y: yTrain },
      batchSize,
      // Keras: `epochs` is the last epoch's index, so a resumed run stops where a whole one would.
      epochs: Math.max(epochs, initialEpoch),
      shuffle,
      // Where reading is not free, fit checks its own on-device loss sum when the epoch ends.
      terminateOnNaN: terminateOnNaN && valueChecksOn(getBackend()),
      op: 'fit',
      stop: () => model.stopTraining,
    },
    position,
  );
  for (const ev of steps) {
    switch (ev.type) {
      case 'epochBegin':
        t0 = performance.now();
        for (const cb of callbacks) await cb.onEpochBegin?.(ev.epoch, {});
        totals = new MetricTotals(c.metrics);
        lossSum = new LossSum();
        seen = 0;
        break;
      case 'batchBegin':
        for (const cb of callbacks) {
          const r = cb.onBatchBegin?.(ev.batch, { batch: ev.batch, size: ev.size });
          if (r) await r;
        }
        break;
      case 'batchEnd': {
        // The sums stay on the backend: nothing is read here unless a callback reads `logs.loss`.
        lossSum.add(ev.loss, ev.size);
        seen += ev.size;
        tidy(() => totals.add(ev.output, ev.target));
        const ending = callbacks.filter((cb) => cb.onBatchEnd);
        if (ending.length > 0) {
          const logs = { batch: ev.batch, size: ev.size } as Logs;
          Object.defineProperty(logs, 'loss', { get: () => ev.lossValue, enumerable: true, configurable: true });
          for (const cb of ending) {
            const r = cb.onBatchEnd!(ev.batch, logs);
            if (r) await r;
          }
        }
        if (!model.stopTraining) await yielder.maybeYield();
        break;
      }
      case 'epochEnd': {
        const lossTotal = await lossSum.takeAsync();
        if (terminateOnNaN && !Number.isFinite(lossTotal)) throw new NonFiniteLossError(ev.epoch + 1, ev.batches, lossTotal / seen);
        epochLogs = { loss: lossTotal / seen, ...(await totals.meansAsync(seen)) };
        if (validation) Object.assign(epochLogs, await evaluateModelAsync(model, validation[0], validation[1], { batchSize }, 'val_'));
        history.record(ev.epoch, epochLogs);
        if (verbose) {
          const secs = (performance.now() - t0) / 1000;
          console.log(`Epoch ${ev.epoch + 1}/${epochs} - ${secs.toFixed(2)}s - ${formatLogs(epochLogs)}`);
        }
        for (const cb of callbacks) await cb.onEpochEnd?.(ev.epoch, epochLogs);
        break;
      }
    }
  }
  for (const cb of callbacks) await cb.onTrainEnd?.(epochLogs);
  return history;
}
