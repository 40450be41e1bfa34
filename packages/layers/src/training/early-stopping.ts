import { ArgumentError, type Tensor } from '@bp/tensor';
import { shownValue } from '@bp/tensor/internal';
import type { Callback, CallbackModel, Logs } from './callbacks.js';
import { snakeCase } from './history.js';
import { flagOption, optionsOf } from './options.js';

/** Options of {@link EarlyStopping} (Keras' names and defaults). */
export interface EarlyStoppingOptions {
  /**
   * The logged quantity to watch (default `'val_loss'`; `'valLoss'` works too): the key as given,
   * else its snake case, so a custom metric logged as `myMetric` is found under its own name.
   */
  monitor?: string;
  /** An improvement must beat the best value by more than this (default 0). */
  minDelta?: number;
  /** Epochs without improvement before stopping (default 0). */
  patience?: number;
  /** `'min'`, `'max'`, or `'auto'` (default: max for accuracies, min otherwise). */
  mode?: 'auto' | 'min' | 'max';
  /** A value the monitored quantity must beat before any epoch counts as an improvement: a finite number (null: none). */
  baseline?: number;
  /** When stopping early, put back the weights of the best epoch (default false; training that runs all its epochs keeps the last epoch's weights, as in Keras 2). */
  restoreBestWeights?: boolean;
  /** Print a line when stopping (default false). */
  verbose?: boolean;
}

/**
 * Stops training when a monitored quantity has stopped improving (Keras'
 * `EarlyStopping`): after `patience` epochs without an improvement larger than
 * `minDelta` it sets `model.stopTraining`, optionally restoring the best weights.
 *
 * @example
 * await model.fit(x, y, {
 *   epochs: 100, validationSplit: 0.2,
 *   callbacks: [new EarlyStopping({ monitor: 'val_loss', patience: 3, restoreBestWeights: true })],
 * });
 */
export class EarlyStopping implements Callback {
  /** The watched log key, in Keras' snake case (`val_loss`). */
  readonly monitor: string;
  /** The margin an improvement must exceed. */
  readonly minDelta: number;
  /** Epochs without improvement tolerated. */
  readonly patience: number;
  /** Whether smaller (`min`) or larger (`max`) is better. */
  readonly mode: 'min' | 'max';
  /** The value to beat before improvements count, if any. */
  readonly baseline: number | null;
  /** Whether stopping restores the best epoch's weights. */
  readonly restoreBestWeights: boolean;
  /** Whether stopping prints a line. */
  readonly verbose: boolean;
  /** Epochs since the last improvement. */
  wait = 0;
  /** The epoch at which training was stopped (-1 while it was not). */
  stoppedEpoch = -1;
  /** The best monitored value so far. */
  best = Number.POSITIVE_INFINITY;
  /** The epoch of {@link best}. */
  bestEpoch = -1;
  /** The monitored key as the options gave it, looked up before {@link monitor}. */
  private readonly monitorAsGiven: string;
  private model: CallbackModel | null = null;
  private bestWeights: Record<string, Tensor> | null = null;

  constructor(options: EarlyStoppingOptions | null = {}) {
    const opts = optionsOf<EarlyStoppingOptions>(
      'EarlyStopping',
      options,
      ['monitor', 'minDelta', 'patience', 'mode', 'baseline', 'restoreBestWeights', 'verbose'],
      "{ monitor: 'val_loss', patience: 3 }",
    );
    const monitor: unknown = opts.monitor ?? 'val_loss';
    if (typeof monitor !== 'string' || monitor === '') {
      throw new ArgumentError(
        'EarlyStopping',
        `monitor must be the name of a logged quantity such as 'val_loss', got ${shownValue(monitor)}`,
      );
    }
    this.monitorAsGiven = monitor;
    this.monitor = snakeCase(monitor);
    const minDelta: unknown = opts.minDelta ?? 0;
    // typeof first: Math.abs('0.1') would turn a string into a number without a word.
    if (typeof minDelta !== 'number' || !Number.isFinite(minDelta)) {
      throw new ArgumentError('EarlyStopping', `minDelta must be a finite number, got ${shownValue(opts.minDelta)}`);
    }
    this.minDelta = Math.abs(minDelta);
    this.patience = opts.patience ?? 0;
    if (!Number.isInteger(this.patience) || this.patience < 0) {
      throw new ArgumentError('EarlyStopping', `patience must be a non-negative integer, got ${shownValue(opts.patience)}`);
    }
    const mode = opts.mode ?? 'auto';
    if (mode !== 'auto' && mode !== 'min' && mode !== 'max') {
      throw new ArgumentError('EarlyStopping', `mode must be 'auto', 'min' or 'max', got ${JSON.stringify(mode)}`);
    }
    this.mode = mode === 'auto' ? (this.monitor.includes('acc') ? 'max' : 'min') : mode;
    const baseline: unknown = opts.baseline ?? null;
    // A NaN baseline could never be beaten, so the wait would never reset: refused, as any non-number.
    if (baseline !== null && (typeof baseline !== 'number' || !Number.isFinite(baseline))) {
      throw new ArgumentError('EarlyStopping', `baseline must be a finite number (or undefined), got ${shownValue(baseline)}`);
    }
    this.baseline = baseline;
    this.restoreBestWeights = flagOption('EarlyStopping', 'restoreBestWeights', opts.restoreBestWeights, false);
    this.verbose = flagOption('EarlyStopping', 'verbose', opts.verbose, false);
  }

  /** Receives the model being trained (called by `fit`). */
  setModel(model: CallbackModel): void {
    this.model = model;
  }

  /** Resets the counters, so one instance can serve several `fit` calls. */
  onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = -1;
    this.best = this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    this.bestEpoch = -1;
    this.bestWeights = null;
  }

  private isImprovement(value: number, reference: number): boolean {
    return this.mode === 'min' ? value + this.minDelta < reference : value - this.minDelta > reference;
  }

  /** Compares the epoch's monitored value with the best so far and stops training when patience runs out. */
  onEpochEnd(epoch: number, logs: Logs | null | undefined): void {
    // Called by hand (or by another loop) without logs: nothing to monitor, so the warning below.
    const entries: Logs = logs !== null && typeof logs === 'object' ? logs : {};
    // Own keys only: a monitor named 'constructor' must not find Object.prototype's.
    const own = (key: string): number | undefined => (Object.hasOwn(entries, key) ? entries[key] : undefined);
    const current = own(this.monitorAsGiven) ?? own(this.monitor);
    if (current === undefined) {
      console.warn(
        `EarlyStopping: '${this.monitorAsGiven}' is not in the logs (available: ${Object.keys(entries).join(', ') || 'none'}); not stopping`,
      );
      return;
    }
    // A NaN is never an improvement (every comparison with it is false), so it counts against
    // patience and training stops, as in Keras.
    if (this.restoreBestWeights && this.bestWeights === null) this.bestWeights = this.snapshot();
    this.wait += 1;
    if (this.isImprovement(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.bestWeights = this.snapshot();
      if (this.baseline === null || this.isImprovement(current, this.baseline)) this.wait = 0;
      // As Keras: an epoch that improves never stops training (patience 0 included).
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      const model = this.requireModel();
      model.stopTraining = true;
      if (this.restoreBestWeights && this.bestWeights !== null) {
        model.loadStateDict(this.bestWeights);
        if (this.verbose) console.log(`EarlyStopping: restoring the weights of epoch ${this.bestEpoch + 1}`);
      }
      if (this.verbose) console.log(`EarlyStopping: stopped at epoch ${epoch + 1}`);
    }
  }

  private requireModel(): CallbackModel {
    if (this.model === null) throw new ArgumentError('EarlyStopping', 'used outside fit(): no model was set');
    return this.model;
  }

  /** Copies of the current weights: later updates must not change the snapshot. */
  private snapshot(): Record<string, Tensor> {
    const sd = this.requireModel().stateDict();
    const out: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(sd)) out[k] = v.clone();
    return out;
  }
}
