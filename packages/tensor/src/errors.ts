/**
 * Every error bp throws for bad input is a {@link BpError}. Subclasses say what
 * kind of input was wrong; the message always names the op and the offending
 * shapes or values, e.g. `matmul: inner dimensions differ: [32,784] @ [128,10] (784 != 128)`.
 */
export class BpError extends Error {
  /** The op, layer or file the error is about (`matmul`, `Linear`, `train-images-idx3-ubyte`). */
  readonly op: string;
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.op = op;
    this.name = new.target.name;
  }
}

/** Shapes that cannot be combined (broadcasting, matmul, reshape, concat...). */
export class ShapeError extends BpError {}
/** An axis outside `[-rank, rank)`, or repeated. */
export class AxisError extends BpError {}
/** A tensor of the wrong dtype for the op (e.g. float labels where int32 class ids are needed). */
export class DTypeError extends BpError {}
/** Any other invalid argument: a non-finite scale, a negative size, an unknown option. */
export class ArgumentError extends BpError {}
/** An index outside the bounds of the axis it indexes. */
export class IndexError extends BpError {}
/** A file that cannot be parsed (IDX, safetensors, model JSON): the message names the file and what was expected. */
export class FormatError extends BpError {}
/** A feature used without the package that provides it (e.g. `backward()` without `@bp/autograd`). */
export class NotAvailableError extends BpError {}

/** `[2,3]` the way error messages print shapes. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * A value the way error messages print it, short and never throwing: numbers as JavaScript writes
 * them (`NaN`, `Infinity`), strings quoted (so `'0.1'` does not read as the number 0.1), other values
 * as JSON cut at 60 characters, and what JSON cannot show (a function, a symbol, a cycle) by kind.
 */
export function shownValue(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'symbol' || typeof v === 'bigint' || v === undefined) return String(v);
  if (typeof v === 'function') return 'a function';
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = Object.prototype.toString.call(v);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Refuses an options object with a key that is not among `known`, naming `op`, the key and the
 * closest known name: `{ weight_decay: 0.1 }` (PyTorch's spelling) or `{ pading: 1 }` would
 * otherwise be ignored without a word and the default used instead. Anything but a plain object
 * is left to the caller's own checks. `what` names what the object is in the message.
 */
export function checkOptions(op: string, opts: unknown, known: readonly string[], what = 'option'): void {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) return;
  for (const key of Object.keys(opts)) {
    if (known.includes(key)) continue;
    const near = closest(key, known);
    throw new ArgumentError(
      op,
      `unknown ${what} ${JSON.stringify(key)}${near === null ? '' : ` (did you mean '${near}'?)`}; the options are ${known.join(', ')}`,
    );
  }
}

/** The name in `names` that `key` most likely misspells: the same letters up to case, `_` and `-`, or at most two edits away. */
export function closest(key: string, names: readonly string[]): string | null {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  const same = names.find((n) => norm(n) === norm(key));
  if (same !== undefined) return same;
  let best: string | null = null;
  let bestD = 3;
  for (const n of names) {
    const d = editDistance(norm(key), norm(n));
    if (d < bestD) [best, bestD] = [n, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}
