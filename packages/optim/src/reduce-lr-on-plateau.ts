import { ArgumentError, Tensor } from '@bp/tensor';
import { checkOptions } from '@bp/tensor/internal';
import { checkOptimizer, type SchedulerStateDict } from './lr-scheduler.js';
import type { BaseOptions, Optimizer } from './optimizer.js';

/** Options of {@link ReduceLROnPlateau} (PyTorch's defaults). */
export interface ReduceLROnPlateauOptions {
  /** `'min'`: the metric should fall (a loss); `'max'`: it should rise (an accuracy). `'min'` by default. */
  mode?: 'min' | 'max';
  /** Factor applied to the learning rate on a plateau; 0.1 by default. */
  factor?: number;
  /** Epochs without improvement tolerated before reducing; 10 by default. */
  patience?: number;
  /** The smallest change that counts as an improvement; 1e-4 by default. */
  threshold?: number;
  /** `'rel'`: relative to the best value so far; `'abs'`: absolute. `'rel'` by default. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting again; 0 by default. */
  cooldown?: number;
  /** A lower bound on the learning rate: one number for all groups, or one per group; 0 by default. */
  minLr?: number | number[];
  /** Reductions smaller than this are skipped; 1e-8 by default. */
  eps?: number;
}

function checkNumber(option: string, v: unknown, ok: (n: number) => boolean, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) {
    throw new ArgumentError('ReduceLROnPlateau', `${option} must be ${what}, got ${String(v)}`);
  }
  return v;
}

/**
 * Lowers the learning rate by `factor` when a metric has stopped improving
 * for `patience` epochs (`torch.optim.lr_scheduler.ReduceLROnPlateau`). Call
 * `step(metric)` once per epoch with the validation loss (or, in `'max'`
 * mode, a score).
 *
 * @example
 * const sched = new ReduceLROnPlateau(opt, { patience: 2 });
 * sched.step(valLoss);
 */
export class ReduceLROnPlateau {
  /** The optimizer whose learning rates this scheduler lowers. */
  readonly optimizer: Optimizer<BaseOptions>;
  /** Whether the metric should fall (`'min'`) or rise (`'max'`). */
  readonly mode: 'min' | 'max';
  /** Factor applied to the learning rate on a plateau. */
  readonly factor: number;
  /** Epochs without improvement tolerated before reducing. */
  readonly patience: number;
  /** The smallest change that counts as an improvement. */
  readonly threshold: number;
  /** Whether `threshold` is relative to the best value or absolute. */
  readonly thresholdMode: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting again. */
  readonly cooldown: number;
  /** The lower bound on each group's learning rate. */
  readonly minLrs: number[];
  /** Reductions smaller than this are skipped. */
  readonly eps: number;
  /** The best metric seen so far. */
  best: number;
  /** Consecutive epochs without improvement. */
  numBadEpochs = 0;
  /** Epochs of cooldown left. */
  cooldownCounter = 0;
  /** Epochs stepped so far. */
  lastEpoch = 0;
  private lastLrs: number[];

  constructor(optimizer: unknown, opts: ReduceLROnPlateauOptions = {}) {
    checkOptions('ReduceLROnPlateau', opts, ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps']);
    this.optimizer = checkOptimizer('ReduceLROnPlateau', optimizer);
    const mode = opts.mode ?? 'min';
    if (mode !== 'min' && mode !== 'max')
      throw new ArgumentError('ReduceLROnPlateau', `mode must be 'min' or 'max', got ${JSON.stringify(mode)}`);
    const tm = opts.thresholdMode ?? 'rel';
    if (tm !== 'rel' && tm !== 'abs')
      throw new ArgumentError('ReduceLROnPlateau', `thresholdMode must be 'rel' or 'abs', got ${JSON.stringify(tm)}`);
    this.mode = mode;
    this.thresholdMode = tm;
    this.factor = checkNumber('factor', opts.factor ?? 0.1, (f) => f >= 0 && f < 1, 'a number in [0, 1)');
    this.patience = checkNumber('patience', opts.patience ?? 10, (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0');
    this.threshold = checkNumber('threshold', opts.threshold ?? 1e-4, (n) => n >= 0, 'a number >= 0');
    this.cooldown = checkNumber('cooldown', opts.cooldown ?? 0, (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0');
    this.eps = checkNumber('eps', opts.eps ?? 1e-8, (n) => n >= 0, 'a number >= 0');
    const groups = this.optimizer.paramGroups;
    const minLr = opts.minLr ?? 0;
    if (Array.isArray(minLr) && minLr.length !== groups.length) {
      throw new ArgumentError('ReduceLROnPlateau', `minLr has ${minLr.length} values for ${groups.length} parameter groups`);
    }
    this.minLrs = groups.map((_, i) => checkNumber('minLr', Array.isArray(minLr) ? minLr[i] : minLr, (n) => n >= 0, 'a number >= 0'));
    this.best = mode === 'min' ? Infinity : -Infinity;
    this.lastLrs = groups.map((g) => g.lr);
  }

  /** True when `a` improves on the best value by more than the threshold. */
  private isBetter(a: number): boolean {
    const { best, threshold } = this;
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1 - threshold) : a < best - threshold;
    return this.thresholdMode === 'rel' ? a > best * (threshold + 1) : a > best + threshold;
  }

  /** Records one epoch's metric (a number or a one-element tensor) and reduces the learning rate on a plateau. */
  step(metric: number | Tensor): void {
    const current = metric instanceof Tensor ? metric.item() : metric;
    if (typeof current !== 'number') {
      throw new ArgumentError('ReduceLROnPlateau', `step(metric) needs a number or a one-element Tensor, got ${typeof metric}`);
    }
    this.lastEpoch++;
    if (this.isBetter(current)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const next = Math.max(g.lr * this.factor, this.minLrs[i]);
        if (g.lr - next > this.eps) g.lr = next;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLrs = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The learning rate of each group after the last `step()`. */
  getLastLr(): number[] {
    return this.lastLrs.slice();
  }

  /** A JSON-serialisable snapshot of the counters and best value. */
  stateDict(): SchedulerStateDict {
    return {
      best: Number.isFinite(this.best) ? this.best : null,
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
      lastEpoch: this.lastEpoch,
      lastLrs: this.lastLrs.slice(),
    };
  }

  /** Restores a snapshot from {@link stateDict}. */
  loadStateDict(sd: SchedulerStateDict): void {
    const { best, numBadEpochs, cooldownCounter, lastEpoch, lastLrs } = sd as Record<string, unknown>;
    if (typeof numBadEpochs !== 'number' || typeof cooldownCounter !== 'number' || typeof lastEpoch !== 'number') {
      throw new ArgumentError(
        'ReduceLROnPlateau',
        'loadStateDict: expected { best, numBadEpochs, cooldownCounter, lastEpoch } from stateDict()',
      );
    }
    // JSON has no Infinity: a missing best means nothing has been seen yet.
    this.best = typeof best === 'number' ? best : this.mode === 'min' ? Infinity : -Infinity;
    this.numBadEpochs = numBadEpochs;
    this.cooldownCounter = cooldownCounter;
    this.lastEpoch = lastEpoch;
    if (Array.isArray(lastLrs)) this.lastLrs = lastLrs.slice() as number[];
  }
}
