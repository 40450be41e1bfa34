import { ArgumentError, type Tensor, flatten } from '@bp/tensor';
import { checkOptions, shownValue } from '@bp/tensor/internal';
import { Module } from '../module.js';

/** Options of {@link Flatten}. */
export interface FlattenOptions {
  /** First axis to collapse (default 1: keep the batch axis). */
  startDim?: number;
  /** Last axis to collapse, inclusive (default -1). */
  endDim?: number;
  /** Keras-style per-sample input shape, e.g. `[28, 28]`: lets a `Sequential` build at construction. */
  inputShape?: number[];
}

/**
 * Collapses axes `startDim..endDim` into one (PyTorch's `nn.Flatten`):
 * `[n, 8, 7, 7]` becomes `[n, 392]` with the defaults. Also
 * `new Flatten(startDim, endDim)`, as in PyTorch.
 *
 * As the first layer of a `Sequential`, `inputShape` (per sample, without the
 * batch axis, as Keras' `Flatten(input_shape=...)`) sizes every layer after it
 * at construction, so `model.parameters()` is complete before `compile`.
 *
 * @example
 * const model = new Sequential([
 *   new Flatten({ inputShape: [1, 28, 28] }),
 *   new Dense(128, { activation: 'relu' }),
 *   new Dense(10),
 * ]);
 * model.parameters().length; // 4: both Dense layers are built
 */
export class Flatten extends Module {
  /** First collapsed axis. */
  readonly startDim: number;
  /** Last collapsed axis (inclusive). */
  readonly endDim: number;

  constructor(opts: FlattenOptions | number = {}, endDim = -1) {
    super();
    checkOptions(this.layerType, opts, ['startDim', 'endDim', 'inputShape']);
    if (typeof opts !== 'number' && (opts === null || typeof opts !== 'object' || Array.isArray(opts))) {
      throw new ArgumentError('Flatten', `expected startDim (a number) or an options object, got ${shownValue(opts)}`);
    }
    const o: FlattenOptions = typeof opts === 'number' ? { startDim: opts, endDim } : opts;
    this.startDim = o.startDim ?? 1;
    this.endDim = o.endDim ?? -1;
    for (const [name, v] of [
      ['startDim', this.startDim],
      ['endDim', this.endDim],
    ] as const) {
      if (!Number.isInteger(v)) throw new ArgumentError('Flatten', `${name} must be an integer, got ${v}`);
    }
    if (o.inputShape !== undefined) this.inputShape = checkInputShape('Flatten', o.inputShape);
  }

  override get layerType(): string {
    return 'Flatten';
  }

  override forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }

  override getConfig(): Record<string, unknown> {
    return { startDim: this.startDim, endDim: this.endDim, ...(this.inputShape ? { inputShape: this.inputShape } : {}) };
  }

  protected override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

/** Validates a Keras-style per-sample `inputShape` (positive integers, no batch axis). */
export function checkInputShape(layer: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new ArgumentError(layer, `inputShape must be a non-empty array of positive integers (no batch axis), got ${shownValue(shape)}`);
  }
  return shape.slice();
}
