import { ArgumentError, ShapeError, type Tensor, fmtShape, isTensor } from '@bp/tensor';
import { BatchNorm1d, type BatchNorm1dOptions } from './batch-norm1d.js';

/** Options of {@link BatchNorm2d} (PyTorch's defaults; the same as BatchNorm1d's). */
export type BatchNorm2dOptions = BatchNorm1dOptions;

/**
 * Batch normalisation of images `[n, c, h, w]` per channel (PyTorch's
 * `nn.BatchNorm2d`): statistics over the batch and both spatial axes; the
 * running statistics, buffers and state-dict names are those of
 * {@link BatchNorm1d}.
 */
export class BatchNorm2d extends BatchNorm1d {
  constructor(numFeatures: number, opts: BatchNorm2dOptions = {}) {
    super(numFeatures, opts);
  }

  override get layerType(): string {
    return 'BatchNorm2d';
  }

  override forward(x: Tensor): Tensor {
    if (!isTensor(x)) throw new ArgumentError(this.layerType, `input must be a Tensor, got ${x === null ? 'null' : typeof x}`);
    if (x.rank !== 4 || x.shape[1] !== this.numFeatures) {
      throw new ShapeError(this.layerType, `expects input [n, ${this.numFeatures}, h, w], got ${fmtShape(x.shape)}`);
    }
    const [n, c, h, w] = x.shape;
    return super.forward(x.reshape([n, c, h * w])).reshape([n, c, h, w]);
  }
}
