import { ArgumentError } from '@bp/tensor';
import { checkOptions } from '@bp/tensor/internal';
import { LRScheduler } from './lr-scheduler.js';

/** Options of {@link CosineAnnealingLR}. */
export interface CosineAnnealingLROptions {
  /** Epochs from the base rate down to `etaMin` (half a cosine period). */
  tMax: number;
  /** The lowest learning rate; 0 by default. */
  etaMin?: number;
}

/**
 * Anneals the learning rate from its base value to `etaMin` along half a
 * cosine over `tMax` epochs, then back up (`torch.optim.lr_scheduler.CosineAnnealingLR`,
 * with its recursive formula): `lr = etaMin + (base - etaMin) (1 + cos(pi epoch / tMax)) / 2`.
 */
export class CosineAnnealingLR extends LRScheduler {
  /** Epochs from the base rate down to `etaMin`. */
  readonly tMax: number;
  /** The lowest learning rate. */
  readonly etaMin: number;

  constructor(optimizer: unknown, opts: CosineAnnealingLROptions) {
    checkOptions('CosineAnnealingLR', opts, ['tMax', 'etaMin']);
    const tMax = opts?.tMax;
    if (typeof tMax !== 'number' || !Number.isInteger(tMax) || tMax < 1) {
      throw new ArgumentError('CosineAnnealingLR', `tMax must be an integer >= 1, got ${String(tMax)}`);
    }
    const etaMin = opts.etaMin ?? 0;
    if (typeof etaMin !== 'number' || !Number.isFinite(etaMin) || etaMin < 0) {
      throw new ArgumentError('CosineAnnealingLR', `etaMin must be a finite number >= 0, got ${String(etaMin)}`);
    }
    super('CosineAnnealingLR', optimizer);
    this.tMax = tMax;
    this.etaMin = etaMin;
  }

  protected computeLr(current: number, base: number): number {
    const e = this.lastEpoch;
    if (e === 0) return current;
    const { tMax: T, etaMin } = this;
    if ((e - 1 - T) % (2 * T) === 0) {
      return current + ((base - etaMin) * (1 - Math.cos(Math.PI / T))) / 2;
    }
    return ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (current - etaMin) + etaMin;
  }
}
