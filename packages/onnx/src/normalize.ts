import { ArgumentError, ShapeError, type Tensor, fmtShape, tensor } from '@bp/tensor';
import { Module } from '@bp/layers';

function checkStats(name: string, v: number | number[]): number[] {
  const arr = typeof v === 'number' ? [v] : v;
  if (!Array.isArray(arr) || arr.length === 0 || arr.some((s) => typeof s !== 'number' || !Number.isFinite(s))) {
    throw new ArgumentError('Normalize', `${name} must be a finite number or a non-empty array of them, got ${JSON.stringify(v)}`);
  }
  return arr.slice();
}

/**
 * `(x - mean) / std` as a layer (torchvision's `Normalize` transform), with
 * one value for every element or one per channel (axis 1). `exportOnnx`'s
 * `normalize` option puts one in front of the model, so the ONNX graph takes
 * raw pixels in [0, 1]; `importOnnx` reads it back as this layer. It has no
 * parameters and adds no state-dict entries.
 *
 * @example
 * const model = new Sequential([new Normalize(0.1307, 0.3081), new Flatten(), new Linear(784, 10)]);
 */
export class Normalize extends Module {
  /** Mean subtracted: one value, or one per channel. */
  readonly mean: number[];
  /** Divisor: one value, or one per channel (never zero). */
  readonly std: number[];

  constructor(mean: number | number[], std: number | number[]) {
    super();
    this.mean = checkStats('mean', mean);
    this.std = checkStats('std', std);
    if (this.std.some((s) => s === 0)) throw new ArgumentError('Normalize', `std must not be zero, got ${JSON.stringify(std)}`);
    if (this.mean.length > 1 && this.std.length > 1 && this.mean.length !== this.std.length) {
      throw new ArgumentError('Normalize', `mean has ${this.mean.length} per-channel values and std ${this.std.length}`);
    }
  }

  override get layerType(): string {
    return 'Normalize';
  }

  /** The channel count the statistics fix (null when both are single values). */
  get channels(): number | null {
    const n = Math.max(this.mean.length, this.std.length);
    return n === 1 ? null : n;
  }

  /** A statistic shaped to broadcast along axis 1 of an input of rank `rank`. */
  statTensor(v: number[], rank: number): Tensor {
    const c = this.channels;
    if (c === null) return tensor(v[0]);
    const values = v.length === 1 ? new Array<number>(c).fill(v[0]) : v;
    return tensor(values, { shape: [c, ...new Array<number>(Math.max(0, rank - 2)).fill(1)] });
  }

  override forward(x: Tensor): Tensor {
    const c = this.channels;
    if (c !== null && (x.rank < 2 || x.shape[1] !== c)) {
      throw new ShapeError(
        'Normalize',
        `has ${c} per-channel values but axis 1 of the input ${fmtShape(x.shape)} is ${x.rank < 2 ? 'missing' : x.shape[1]}`,
      );
    }
    return x.sub(this.statTensor(this.mean, x.rank)).div(this.statTensor(this.std, x.rank));
  }

  override getConfig(): Record<string, unknown> {
    return { mean: this.mean, std: this.std };
  }

  protected override extraRepr(): string {
    return `mean=${JSON.stringify(this.mean)}, std=${JSON.stringify(this.std)}`;
  }
}
