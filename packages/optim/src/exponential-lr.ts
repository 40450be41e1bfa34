import { checkOptions } from '@bp/tensor/internal';
import { LRScheduler, checkPositive } from './lr-scheduler.js';

/** Options of {@link ExponentialLR}. */
export interface ExponentialLROptions {
  /** Factor applied every epoch. */
  gamma: number;
}

/** Multiplies the learning rate by `gamma` every epoch (`torch.optim.lr_scheduler.ExponentialLR`). */
export class ExponentialLR extends LRScheduler {
  /** Factor applied every epoch. */
  readonly gamma: number;

  constructor(optimizer: unknown, opts: ExponentialLROptions) {
    checkOptions('ExponentialLR', opts, ['gamma']);
    const gamma = opts?.gamma;
    checkPositive('ExponentialLR', 'gamma', gamma);
    super('ExponentialLR', optimizer);
    this.gamma = gamma;
  }

  protected computeLr(current: number): number {
    return this.lastEpoch === 0 ? current : current * this.gamma;
  }
}
