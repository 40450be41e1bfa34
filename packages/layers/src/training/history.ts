/**
 * What `fit` returns: one value per epoch for the loss and every metric,
 * keyed as Keras keys them (`loss`, `accuracy`, `val_loss`, `val_accuracy`),
 * with camel-case getters for the common ones.
 *
 * @example
 * const history = await model.fit(x, y, { epochs: 10, validationData: [xv, yv] });
 * history.loss;          // [0.69, 0.41, ...]
 * history.valAccuracy;   // [0.81, 0.90, ...]
 * history.history.val_loss;
 */
export class History {
  /** The epoch index of each entry. */
  readonly epoch: number[] = [];
  /** Every logged quantity per epoch, Keras' `history.history`. */
  readonly history: Record<string, number[]> = {};

  /** Appends one epoch's logs. @internal */
  record(epoch: number, logs: Readonly<Record<string, number>>): void {
    const row = this.epoch.length;
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) {
      // A key first seen late (a metric that starts mid-training) is padded with NaN so rows stay aligned.
      const series = (this.history[k] ??= new Array<number>(row).fill(Number.NaN));
      series.push(v);
    }
    for (const series of Object.values(this.history)) if (series.length < row + 1) series.push(Number.NaN);
  }

  /** The series for `key` (either `val_loss` or `valLoss` spelling); empty if never logged. */
  get(key: string): number[] {
    return this.history[key] ?? this.history[snakeCase(key)] ?? [];
  }

  /** Training loss per epoch. */
  get loss(): number[] {
    return this.get('loss');
  }
  /** Training accuracy per epoch (when compiled with `metrics: ['accuracy']`). */
  get accuracy(): number[] {
    return this.get('accuracy');
  }
  /** Validation loss per epoch (with `validationData` or `validationSplit`). */
  get valLoss(): number[] {
    return this.get('val_loss');
  }
  /** Validation accuracy per epoch. */
  get valAccuracy(): number[] {
    return this.get('val_accuracy');
  }
}

/** `valLoss` -> `val_loss`: logs use Keras' keys, users may write either. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
