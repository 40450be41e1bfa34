import { ArgumentError } from '@bp/tensor';
import { checkOptions } from '@bp/tensor/internal';
import { LRScheduler } from './lr-scheduler.js';

/** Options of {@link LinearWarmupCosineLR}. */
export interface LinearWarmupCosineLROptions {
  /** Steps of linear warmup from `startFactor * base` up to the base rate (0 for none). */
  warmupSteps: number;
  /** Steps of the whole schedule: the cosine runs from `warmupSteps` to `totalSteps`, then stays at `etaMin`. */
  totalSteps: number;
  /** The first step's rate as a fraction of the base rate; `1 / warmupSteps` by default, rising linearly to 1 at step `warmupSteps` (nanoGPT's current recipe starts at `1 / (warmup + 1)`). */
  startFactor?: number;
  /** The rate the cosine ends at; 0 by default. */
  etaMin?: number;
}

/**
 * Linear warmup then cosine decay, the usual transformer schedule. It equals
 * PyTorch's `SequentialLR([LinearLR(opt, startFactor, 1, warmupSteps),
 * CosineAnnealingLR(opt, totalSteps - warmupSteps, etaMin)], [warmupSteps])`
 * (written in closed form, so it stays exact over long runs and holds `etaMin`
 * after `totalSteps` instead of rising again):
 *
 * - step `e < warmupSteps`: `base * (startFactor + (1 - startFactor) * e / warmupSteps)`
 * - after: `etaMin + (base - etaMin) * (1 + cos(pi * min(e - warmupSteps, T) / T)) / 2`, `T = totalSteps - warmupSteps`
 *
 * Call `step()` once per optimizer step.
 *
 * @example
 * const sched = new LinearWarmupCosineLR(opt, { warmupSteps: 100, totalSteps: 2000, etaMin: 1e-4 });
 * for (...) { opt.step(); sched.step(); }
 */
export class LinearWarmupCosineLR extends LRScheduler {
  /** Warmup steps. */
  readonly warmupSteps: number;
  /** Total steps. */
  readonly totalSteps: number;
  /** Fraction of the base rate at step 0. */
  readonly startFactor: number;
  /** Final rate. */
  readonly etaMin: number;
  private ready = false;

  constructor(optimizer: unknown, opts: LinearWarmupCosineLROptions) {
    const name = 'LinearWarmupCosineLR';
    checkOptions('LinearWarmupCosineLR', opts, ['warmupSteps', 'totalSteps', 'startFactor', 'etaMin']);
    const { warmupSteps, totalSteps } = opts ?? ({} as LinearWarmupCosineLROptions);
    if (!Number.isInteger(warmupSteps) || warmupSteps < 0)
      throw new ArgumentError(name, `warmupSteps must be an integer >= 0, got ${String(warmupSteps)}`);
    if (!Number.isInteger(totalSteps) || totalSteps <= warmupSteps) {
      throw new ArgumentError(name, `totalSteps must be an integer > warmupSteps (${warmupSteps}), got ${String(totalSteps)}`);
    }
    const startFactor = opts.startFactor ?? (warmupSteps > 0 ? 1 / warmupSteps : 1);
    if (typeof startFactor !== 'number' || !(startFactor > 0 && startFactor <= 1)) {
      throw new ArgumentError(name, `startFactor must be in (0, 1], got ${String(startFactor)}`);
    }
    const etaMin = opts.etaMin ?? 0;
    if (typeof etaMin !== 'number' || !Number.isFinite(etaMin) || etaMin < 0) {
      throw new ArgumentError(name, `etaMin must be a finite number >= 0, got ${String(etaMin)}`);
    }
    super(name, optimizer);
    this.warmupSteps = warmupSteps;
    this.totalSteps = totalSteps;
    this.startFactor = startFactor;
    this.etaMin = etaMin;
    // The base constructor stepped to epoch 0 before the fields existed: redo it with them.
    this.ready = true;
    this.lastEpoch = -1;
    this.step();
  }

  /** The rate at step `e` for a group whose base rate is `base`. */
  lrAt(e: number, base: number): number {
    const W = this.warmupSteps;
    if (e < W) return base * (this.startFactor + ((1 - this.startFactor) * e) / W);
    const T = this.totalSteps - W;
    const t = Math.min(e - W, T);
    return this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * t) / T))) / 2;
  }

  protected computeLr(current: number, base: number): number {
    return this.ready ? this.lrAt(this.lastEpoch, base) : current;
  }
}
