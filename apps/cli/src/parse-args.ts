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

/** A plain decimal number (`0.01`, `1e-3`, `.5`): not hex (`0x10`), binary, `Infinity` or an empty string, all of which `Number()` accepts. */
const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

/**
 * The first long option given more than once in `argv` (before a `--`
 * terminator), with both values, or null. A repeated flag is refused rather
 * than silently keeping the last value.
 */
export function repeatedOption(argv: readonly string[]): { name: string; first: string; second: string } | null {
  const seen = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') break;
    if (!token.startsWith('--') || token.length < 3) continue;
    const eq = token.indexOf('=');
    const name = eq > 0 ? token.slice(0, eq) : token;
    const value = eq > 0 ? token.slice(eq + 1) : argv[i + 1] !== undefined && !argv[i + 1].startsWith('-') ? argv[i + 1] : '';
    const before = seen.get(name);
    if (before !== undefined) return { name, first: before, second: value };
    seen.set(name, value);
  }
  return null;
}

/** A finite number > 0 (`--lr`). Huge values are allowed on purpose: they are how one provokes divergence. */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!DECIMAL.test(value) || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError(`Expected a number > 0 (such as 0.01 or 1e-3), got '${value}'.`);
  }
  return n;
}

/** A fraction in [0, 1) (`--validation-split`). */
export function fraction(value: string): number {
  const n = Number(value);
  if (!DECIMAL.test(value) || !Number.isFinite(n) || n < 0 || n >= 1) {
    throw new InvalidArgumentError(`Expected a fraction in [0, 1) such as 0.1, got '${value}'.`);
  }
  return n;
}
