import { ArgumentError } from '@bp/tensor';
import { checkOptions } from '@bp/tensor/internal';
import { LRScheduler, checkPositive } from './lr-scheduler.js';

/** Options of {@link StepLR}. */
export interface StepLROptions {
  /** Epochs between decays. */
  stepSize: number;
  /** Factor applied at each decay; 0.1 by default. */
  gamma?: number;
}

/**
 * Multiplies the learning rate by `gamma` every `stepSize` epochs
 * (`torch.optim.lr_scheduler.StepLR`): `lr = base * gamma^floor(epoch / stepSize)`.
 *
 * @example
 * const sched = new StepLR(opt, { stepSize: 10, gamma: 0.5 });
 * for (let epoch = 0; epoch < 30; epoch++) { train(); sched.step(); }
 */
export class StepLR extends LRScheduler {
  /** Epochs between decays. */
  readonly stepSize: number;
  /** Factor applied at each decay. */
  readonly gamma: number;

  constructor(optimizer: unknown, opts: StepLROptions) {
    checkOptions('StepLR', opts, ['stepSize', 'gamma']);
    const stepSize = opts?.stepSize;
    if (typeof stepSize !== 'number' || !Number.isInteger(stepSize) || stepSize < 1) {
      throw new ArgumentError('StepLR', `stepSize must be an integer >= 1, got ${String(stepSize)}`);
    }
    const gamma = opts.gamma ?? 0.1;
    checkPositive('StepLR', 'gamma', gamma);
    super('StepLR', optimizer);
    this.stepSize = stepSize;
    this.gamma = gamma;
  }

  protected computeLr(current: number): number {
    // The base constructor's initial step runs before the fields are set; epoch 0 never decays.
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return current;
    return current * this.gamma;
  }
}
