import { ArgumentError } from '@bp/tensor';
import { Optimizer, type BaseOptions } from './optimizer.js';

/** A scheduler's snapshot: plain numbers, JSON-serialisable. */
export type SchedulerStateDict = Record<string, number | number[] | string | null>;

/** Throws unless `opt` is an optimizer (schedulers change its groups' `lr`). */
export function checkOptimizer(name: string, opt: unknown): Optimizer<BaseOptions> {
  if (!(opt instanceof Optimizer)) {
    throw new ArgumentError(name, `expected an optimizer (SGD, Adam, ...), got ${opt === null ? 'null' : typeof opt}`);
  }
  return opt as Optimizer<BaseOptions>;
}

/**
 * The base of epoch-indexed learning-rate schedules (PyTorch's `LRScheduler`).
 * Constructing one counts as epoch 0 and leaves the learning rate at its
 * starting value; each `step()` (usually once per epoch, after
 * `optimizer.step()`) advances one epoch and writes the new rate into every
 * parameter group. Rates follow PyTorch's recursive ("chainable") formulas,
 * so another change to `lr` between steps carries forward as it does there.
 */
export abstract class LRScheduler {
  /** The scheduler's name, used in error messages. */
  readonly name: string;
  /** The optimizer whose learning rates this schedule sets. */
  readonly optimizer: Optimizer<BaseOptions>;
  /** Each group's learning rate when the scheduler was created. */
  baseLrs: number[];
  /** The epoch index; 0 right after construction. */
  lastEpoch = -1;
  private lastLrs: number[] = [];

  protected constructor(name: string, optimizer: unknown) {
    this.name = name;
    this.optimizer = checkOptimizer(name, optimizer);
    this.baseLrs = this.optimizer.paramGroups.map((g) => g.lr);
    this.step();
  }

  /** The learning rate of each group for epoch `lastEpoch`, given each group's current rate. */
  protected abstract computeLr(current: number, base: number): number;

  /** Advances one epoch and sets the new learning rates. */
  step(): void {
    this.lastEpoch++;
    const groups = this.optimizer.paramGroups;
    this.lastLrs = groups.map((g, i) => {
      g.lr = this.computeLr(g.lr, this.baseLrs[i]);
      return g.lr;
    });
  }

  /** The learning rate of each group as set by the last `step()`. */
  getLastLr(): number[] {
    return this.lastLrs.slice();
  }

  /** A JSON-serialisable snapshot; restore it with {@link loadStateDict}. */
  stateDict(): SchedulerStateDict {
    return { lastEpoch: this.lastEpoch, baseLrs: this.baseLrs.slice(), lastLrs: this.lastLrs.slice() };
  }

  /** Restores a snapshot from {@link stateDict}, so the schedule resumes where it was saved. */
  loadStateDict(sd: SchedulerStateDict): void {
    const { lastEpoch, baseLrs, lastLrs } = sd as { lastEpoch: number; baseLrs: number[]; lastLrs: number[] };
    if (typeof lastEpoch !== 'number' || !Array.isArray(baseLrs) || baseLrs.length !== this.optimizer.paramGroups.length) {
      throw new ArgumentError(
        this.name,
        'loadStateDict: expected { lastEpoch, baseLrs, lastLrs } from stateDict() for the same number of parameter groups',
      );
    }
    this.lastEpoch = lastEpoch;
    this.baseLrs = baseLrs.slice();
    this.lastLrs = Array.isArray(lastLrs) ? lastLrs.slice() : [];
  }
}

/** Throws unless `v` is a finite number greater than 0. */
export function checkPositive(name: string, option: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new ArgumentError(name, `${option} must be a finite number > 0, got ${String(v)}`);
  }
}
