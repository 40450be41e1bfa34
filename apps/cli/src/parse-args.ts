/**
 * Value parsers for commander options. Each throws commander's
 * `InvalidArgumentError`, so the message names the flag and the bad value and
 * the process exits with the usage status (2).
 */
import { InvalidArgumentError } from 'commander';

/** An integer >= 1 (`--epochs`, `--batch-size`, `--limit`). */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`Expected a whole number >= 1, got '${value}'.`);
  }
  return n;
}

/** An integer >= 0 (`--seed`, `--index`). */
export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`Expected a whole number >= 0, got '${value}'.`);
  }
  return n;
}

/** A finite number > 0 (`--lr`). Huge values are allowed on purpose: they are how one provokes divergence. */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError(`Expected a number > 0 (such as 0.01 or 1e-3), got '${value}'.`);
  }
  return n;
}

/** A fraction in [0, 1) (`--validation-split`). */
export function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n >= 1) {
    throw new InvalidArgumentError(`Expected a fraction in [0, 1) such as 0.1, got '${value}'.`);
  }
  return n;
}
