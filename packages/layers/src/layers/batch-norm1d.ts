import { withoutGraph } from '../no-grad.js';
import { ArgumentError, ShapeError, type Tensor, fmtShape, isTensor, ones, zeros } from '@bp/tensor';
import { checkOptions, shownValue } from '@bp/tensor/internal';
import { Module } from '../module.js';

/** Options of {@link BatchNorm1d} (PyTorch's defaults). */
export interface BatchNorm1dOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Weight of the new batch in the running statistics (default 0.1); null for a cumulative average. */
  momentum?: number | null;
  /** Learn a per-feature scale `weight` and shift `bias` (default true). */
  affine?: boolean;
  /** Keep running statistics for eval mode (default true). */
  trackRunningStats?: boolean;
}

/**
 * Batch normalisation over `[n, c]` or `[n, c, l]` inputs (PyTorch's
 * `nn.BatchNorm1d`). In training mode each feature is normalised with the
 * batch mean and the biased batch variance, and the running statistics move
 * towards the batch mean and the *unbiased* variance by `momentum`; in eval
 * mode the running statistics are used. Buffers are named as PyTorch's:
 * `running_mean`, `running_var`, `num_batches_tracked`.
 */
export class BatchNorm1d extends Module {
  /** Features (channels) normalised separately. */
  readonly numFeatures: number;
  /** Added to the variance before the square root. */
  readonly eps: number;
  /** Weight of each batch in the running statistics; null for a cumulative average. */
  readonly momentum: number | null;
  /** Whether there is a learnt scale and shift. */
  readonly affine: boolean;
  /** Whether running statistics are kept for eval mode. */
  readonly trackRunningStats: boolean;
  /** Per-feature scale (ones at start), or null without `affine`. */
  readonly weight: Tensor | null;
  /** Per-feature shift (zeros at start), or null without `affine`. */
  readonly bias: Tensor | null;
  /** Running mean `[c]`, or null without `trackRunningStats`. */
  readonly runningMean: Tensor | null;
  /** Running unbiased variance `[c]`, or null without `trackRunningStats`. */
  readonly runningVar: Tensor | null;
  /** How many training batches updated the running statistics (int32 scalar). */
  readonly numBatchesTracked: Tensor | null;

  constructor(numFeatures: number, opts: BatchNorm1dOptions = {}) {
    super();
    checkOptions(this.layerType, opts, ['eps', 'momentum', 'affine', 'trackRunningStats']);
    if (!Number.isInteger(numFeatures) || numFeatures <= 0) {
      throw new ArgumentError('BatchNorm1d', `numFeatures must be a positive integer, got ${numFeatures}`);
    }
    this.numFeatures = numFeatures;
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    if (typeof this.eps !== 'number' || !(this.eps >= 0 && this.eps < Infinity)) {
      throw new ArgumentError('BatchNorm1d', `eps must be a finite number >= 0, got ${shownValue(this.eps)}`);
    }
    if (this.momentum !== null && (typeof this.momentum !== 'number' || !(this.momentum >= 0 && this.momentum <= 1))) {
      throw new ArgumentError('BatchNorm1d', `momentum must be in [0, 1] or null, got ${shownValue(this.momentum)}`);
    }
    for (const k of ['affine', 'trackRunningStats'] as const) {
      if (typeof this[k] !== 'boolean') throw new ArgumentError('BatchNorm1d', `${k} must be true or false, got ${shownValue(this[k])}`);
    }
    this.weight = this.registerParameter('weight', this.affine ? ones([numFeatures]) : null);
    this.bias = this.registerParameter('bias', this.affine ? zeros([numFeatures]) : null);
    if (this.trackRunningStats) {
      this.runningMean = this.registerBuffer('running_mean', zeros([numFeatures]));
      this.runningVar = this.registerBuffer('running_var', ones([numFeatures]));
      this.numBatchesTracked = this.registerBuffer('num_batches_tracked', zeros([], { dtype: 'int32' }));
    } else {
      this.runningMean = this.runningVar = this.numBatchesTracked = null;
    }
  }

  override get layerType(): string {
    return 'BatchNorm1d';
  }

  override forward(x: Tensor): Tensor {
    if (!isTensor(x)) throw new ArgumentError(this.layerType, `input must be a Tensor, got ${x === null ? 'null' : typeof x}`);
    if ((x.rank !== 2 && x.rank !== 3) || x.shape[1] !== this.numFeatures) {
      throw new ShapeError(
        this.layerType,
        `expects input [n, ${this.numFeatures}] or [n, ${this.numFeatures}, l], got ${fmtShape(x.shape)}`,
      );
    }
    const axes = x.rank === 2 ? [0] : [0, 2];
    // Per-feature tensors broadcast against [n, c] as [c] and against [n, c, l] as [c, 1].
    const perFeature = (t: Tensor): Tensor => (x.rank === 2 ? t : t.reshape([this.numFeatures, 1]));
    const useBatchStats = this.training || !this.trackRunningStats;
    let y: Tensor;
    if (useBatchStats) {
      const count = x.size / this.numFeatures;
      if (this.training && count <= 1) {
        throw new ShapeError(this.layerType, `expected more than 1 value per channel when training, got input ${fmtShape(x.shape)}`);
      }
      const mean = x.mean(axes, true);
      const centred = x.sub(mean);
      const variance = centred.square().mean(axes, true);
      y = centred.div(variance.add(this.eps).sqrt());
      if (this.training && this.trackRunningStats) this.updateRunningStats(mean, variance, count);
    } else {
      y = x.sub(perFeature(this.runningMean!)).div(perFeature(this.runningVar!).add(this.eps).sqrt());
    }
    if (this.affine) y = y.mul(perFeature(this.weight!)).add(perFeature(this.bias!));
    return y;
  }

  private updateRunningStats(mean: Tensor, biasedVar: Tensor, count: number): void {
    withoutGraph(() => {
      const nbt = this.numBatchesTracked!;
      nbt.assign(nbt.add(1));
      const m = this.momentum ?? 1 / nbt.item();
      const c = this.numFeatures;
      const unbiased = biasedVar
        .detach()
        .reshape([c])
        .mul(count / (count - 1));
      const rm = this.runningMean!;
      const rv = this.runningVar!;
      rm.assign(rm.mul(1 - m).add(mean.detach().reshape([c]).mul(m)));
      rv.assign(rv.mul(1 - m).add(unbiased.mul(m)));
    });
  }

  override getConfig(): Record<string, unknown> {
    return {
      numFeatures: this.numFeatures,
      eps: this.eps,
      momentum: this.momentum,
      affine: this.affine,
      trackRunningStats: this.trackRunningStats,
    };
  }

  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, track_running_stats=${this.trackRunningStats}`;
  }
}
