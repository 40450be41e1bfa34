import { ArgumentError, ShapeError, type Tensor, fmtShape, maxPool2d } from '@bp/tensor';
import { checkOptions, reluMaxPool2d, windowOutputSize, shownValue } from '@bp/tensor/internal';
import { Module } from '../module.js';
import { spendOutput } from '../parameter-budget.js';
import { boolArg } from './conv-args.js';

/** Options of {@link MaxPool2d}. */
export interface MaxPool2dOptions {
  /** Implicit `-Infinity` border (at most half the kernel, as PyTorch). Default 0. */
  padding?: number | [number, number];
  /** Spacing between window taps (default 1). */
  dilation?: number | [number, number];
  /** Round the output size up so a partial window at the end counts (default false). */
  ceilMode?: boolean;
}

function pair(name: string, v: number | [number, number], min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || p.some((d) => !Number.isInteger(d) || d < min)) {
    throw new ArgumentError('MaxPool2d', `${name} must be an integer >= ${min} or a pair of them, got ${shownValue(v)}`);
  }
  return [p[0], p[1]];
}

/**
 * 2-D max pooling over NCHW images (PyTorch's `nn.MaxPool2d`); `stride`
 * defaults to the kernel size, so `new MaxPool2d(2)` halves height and width.
 */
export class MaxPool2d extends Module {
  /** `[kH, kW]`. */
  readonly kernelSize: [number, number];
  /** `[strideH, strideW]` (the kernel size unless given). */
  readonly stride: [number, number];
  /** `[padH, padW]` of implicit `-Infinity`. */
  readonly padding: [number, number];
  /** `[dilationH, dilationW]`. */
  readonly dilation: [number, number];
  /** Whether the output size rounds up. */
  readonly ceilMode: boolean;

  constructor(kernelSize: number | [number, number], stride?: number | [number, number] | null, opts: MaxPool2dOptions = {}) {
    super();
    checkOptions(this.layerType, opts, ['padding', 'dilation', 'ceilMode']);
    this.kernelSize = pair('kernelSize', kernelSize, 1);
    this.stride = pair('stride', stride ?? this.kernelSize, 1);
    this.padding = pair('padding', opts.padding ?? 0, 0);
    this.dilation = pair('dilation', opts.dilation ?? 1, 1);
    this.ceilMode = boolArg('MaxPool2d', 'ceilMode', opts.ceilMode, false);
    // As PyTorch: half the kernel itself, whatever the dilation.
    if (this.padding[0] * 2 > this.kernelSize[0] || this.padding[1] * 2 > this.kernelSize[1]) {
      throw new ArgumentError('MaxPool2d', `padding (${this.padding}) must be at most half the kernel (${this.kernelSize})`);
    }
  }

  override get layerType(): string {
    return 'MaxPool2d';
  }

  override forward(x: Tensor): Tensor {
    if (x.rank !== 4 && x.rank !== 3)
      throw new ShapeError(this.layerType, `expects NCHW input [n, C, H, W] or one image [C, H, W], got ${fmtShape(x.shape)}`);
    this.spendOutput(x);
    return maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, dilation: this.dilation, ceilMode: this.ceilMode });
  }

  /** Counts this layer's output against a loader's build bound ({@link spendOutput}). */
  private spendOutput(x: Tensor): void {
    spendOutput(this.layerType, () => {
      const [c, h, w] = x.shape.slice(-3);
      const size = (n: number, i: 0 | 1) =>
        windowOutputSize(n, this.kernelSize[i], this.stride[i], this.padding[i], this.dilation[i], this.ceilMode);
      return [c, size(h, 0), size(w, 1)];
    });
  }

  /**
   * @internal `forward(relu(x))` as one fused op where the backend has the kernel (the same values
   * and gradient): `Sequential` calls it for a `ReLU` followed by a `MaxPool2d`.
   */
  forwardRelu(x: Tensor): Tensor {
    if (x.rank !== 4 && x.rank !== 3)
      throw new ShapeError(this.layerType, `expects NCHW input [n, C, H, W] or one image [C, H, W], got ${fmtShape(x.shape)}`);
    this.spendOutput(x);
    return reluMaxPool2d(x, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      ceilMode: this.ceilMode,
    });
  }

  override getConfig(): Record<string, unknown> {
    return { kernelSize: this.kernelSize, stride: this.stride, padding: this.padding, dilation: this.dilation, ceilMode: this.ceilMode };
  }

  protected override extraRepr(): string {
    return `kernel_size=(${this.kernelSize}), stride=(${this.stride}), padding=(${this.padding}), dilation=(${this.dilation}), ceil_mode=${this.ceilMode ? 'True' : 'False'}`;
  }
}
