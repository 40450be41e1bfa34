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
