import { ArgumentError, DTypeError, ShapeError, Tensor, fmtShape, tensor } from '@bp/tensor';

function checkStats(name: string, v: number | number[]): void {
  const arr = typeof v === 'number' ? [v] : v;
  if (!Array.isArray(arr) || arr.length === 0 || arr.some((s) => typeof s !== 'number' || !Number.isFinite(s))) {
    throw new ArgumentError('normalize', `${name} must be a finite number or a non-empty array of them, got ${JSON.stringify(v)}`);
  }
}

/** A per-channel statistic shaped to broadcast along axis 1 of an `x` of rank `rank`. */
function perChannel(v: number[], rank: number): Tensor {
  return tensor(v, { shape: [v.length, ...new Array<number>(Math.max(0, rank - 2)).fill(1)] });
}

/**
 * `(x - mean) / std`, as torchvision's `Normalize`. `mean` and `std` are
 * numbers, or arrays with one value per channel, applied along axis 1 (the
 * channel axis of NCHW images, the feature axis of `[N, F]` tables).
 *
 * @example
 * const { images } = await loadMnist({ split: 'train' });
 * const x = normalize(images, MNIST_MEAN, MNIST_STD);
 */
export function normalize(x: Tensor, mean: number | number[], std: number | number[]): Tensor {
  if (!(x instanceof Tensor)) throw new ArgumentError('normalize', 'x must be a Tensor');
  if (x.dtype !== 'float32') throw new DTypeError('normalize', `x must be float32, got ${x.dtype} ${fmtShape(x.shape)}`);
  checkStats('mean', mean);
  checkStats('std', std);
  const stds = typeof std === 'number' ? [std] : std;
  if (stds.some((s) => s === 0)) throw new ArgumentError('normalize', `std must not be zero, got ${JSON.stringify(std)}`);
  const toOperand = (name: string, v: number | number[]): Tensor | number => {
    if (typeof v === 'number') return v;
    if (x.rank < 2 || x.shape[1] !== v.length) {
      throw new ShapeError(
        'normalize',
        `${name} has ${v.length} values but axis 1 of x ${fmtShape(x.shape)} is ${x.rank < 2 ? 'missing' : x.shape[1]}`,
      );
    }
    return perChannel(v, x.rank);
  };
  return x.sub(toOperand('mean', mean)).div(toOperand('std', std));
}
