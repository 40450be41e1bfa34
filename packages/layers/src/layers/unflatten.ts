import { ArgumentError, type Tensor, unflatten } from '@bp/tensor';
import { Module, checkNoMoreArgs } from '../module.js';
import { shownValue } from '@bp/tensor/internal';

/** Splits axis `dim` into `sizes` (PyTorch's `nn.Unflatten`; one size may be -1): `[n, 784]` to `[n, 1, 28, 28]`. */
export class Unflatten extends Module {
  /** The axis split. */
  readonly dim: number;
  /** The sizes it becomes. */
  readonly sizes: number[];

  constructor(dim: number, sizes: number[], ...more: never[]) {
    super();
    checkNoMoreArgs('Unflatten', more, 'two arguments (dim, sizes)');
    if (!Number.isInteger(dim)) throw new ArgumentError('Unflatten', `dim must be an integer, got ${shownValue(dim)}`);
    if (!Array.isArray(sizes) || sizes.length === 0 || sizes.some((d) => !Number.isInteger(d) || d < -1)) {
      throw new ArgumentError('Unflatten', `sizes must be a non-empty array of integers (one may be -1), got ${shownValue(sizes)}`);
    }
    this.dim = dim;
    this.sizes = sizes.slice();
  }

  override get layerType(): string {
    return 'Unflatten';
  }

  override forward(x: Tensor): Tensor {
    return unflatten(x, this.dim, this.sizes);
  }

  override getConfig(): Record<string, unknown> {
    return { dim: this.dim, sizes: this.sizes };
  }

  protected override extraRepr(): string {
    return `dim=${this.dim}, unflattened_size=(${this.sizes.join(', ')})`;
  }
}
