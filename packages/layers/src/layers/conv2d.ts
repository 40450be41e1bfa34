import { ArgumentError, ShapeError, type Tensor, conv2d, fmtShape, isTensor } from '@bp/tensor';
import { checkOptions, conv2dReluMaxPool2d, windowOutputSize, shownValue } from '@bp/tensor/internal';
import { fanInUniform, kaimingUniform } from '../init.js';
import { Module } from '../module.js';
import { spendOutput } from '../parameter-budget.js';
import { checkChannels } from './conv-args.js';
import type { MaxPool2d } from './max-pool2d.js';

/** Options of {@link Conv2d}. Numbers apply to both height and width. */
export interface Conv2dOptions {
  /** Step between windows (default 1). */
  stride?: number | [number, number];
  /** Zeros added on each side of the image (default 0), or `'same'` / `'valid'` as PyTorch. */
  padding?: number | [number, number] | 'same' | 'valid';
  /** Spacing between kernel taps (default 1). */
  dilation?: number | [number, number];
  /** Channel groups (default 1): both channel counts divide by it. */
  groups?: number;
  /** Learn a per-channel bias (default true). */
  bias?: boolean;
}

function pair(layer: string, name: string, v: number | [number, number], min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || p.some((d) => !Number.isInteger(d) || d < min)) {
    throw new ArgumentError(layer, `${name} must be an integer >= ${min} or a pair of them, got ${shownValue(v)}`);
  }
  return [p[0], p[1]];
}

/**
 * 2-D convolution over NCHW images (PyTorch's `nn.Conv2d`): `weight` is
 * `[outChannels, inChannels / groups, kH, kW]`, `bias` is `[outChannels]`, both
 * initialised as PyTorch does: U(-1/sqrt(fanIn), 1/sqrt(fanIn)) with
 * `fanIn = inChannels / groups * kH * kW`.
 *
 * @example
 * const conv = new Conv2d(1, 8, 3, { padding: 1 });
 * conv.forward(randn([2, 1, 28, 28])).shape; // [2, 8, 28, 28]
 */
export class Conv2d extends Module {
  /** Channels of the input images. */
  readonly inChannels: number;
  /** Channels of the output (the number of filters). */
  readonly outChannels: number;
  /** `[kH, kW]`. */
  readonly kernelSize: [number, number];
  /** `[strideH, strideW]`. */
  readonly stride: [number, number];
  /** Zeros added on each side, `[padH, padW]`, or `'same'` / `'valid'`. */
  readonly padding: [number, number] | 'same' | 'valid';
  /** `[dilationH, dilationW]`. */
  readonly dilation: [number, number];
  /** Channel groups. */
  readonly groups: number;
  /** Whether the layer has a bias. */
  readonly useBias: boolean;
  /** `[outChannels, inChannels / groups, kH, kW]`. */
  readonly weight: Tensor;
  /** `[outChannels]`, or null without bias. */
  readonly bias: Tensor | null;

  constructor(inChannels: number, outChannels: number, kernelSize: number | [number, number], opts: Conv2dOptions = {}) {
    super();
    checkOptions(this.layerType, opts, ['stride', 'padding', 'dilation', 'groups', 'bias']);
    for (const [name, v] of [
      ['inChannels', inChannels],
      ['outChannels', outChannels],
    ] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new ArgumentError(this.layerType, `${name} must be a positive integer, got ${v}`);
    }
    this.groups = opts.groups ?? 1;
    checkChannels(this.layerType, inChannels, outChannels, this.groups);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pair(this.layerType, 'kernelSize', kernelSize, 1);
    this.stride = pair(this.layerType, 'stride', opts.stride ?? 1, 1);
    const p = opts.padding ?? 0;
    this.padding = p === 'same' || p === 'valid' ? p : pair(this.layerType, 'padding', p, 0);
    this.dilation = pair(this.layerType, 'dilation', opts.dilation ?? 1, 1);
    if (this.padding === 'same' && (this.stride[0] !== 1 || this.stride[1] !== 1)) {
      throw new ArgumentError(this.layerType, `padding 'same' needs stride 1, got ${shownValue(this.stride)}`);
    }
    this.useBias = opts.bias ?? true;
    if (typeof this.useBias !== 'boolean')
      throw new ArgumentError(this.layerType, `bias must be true or false, got ${shownValue(opts.bias)}`);
    const [kh, kw] = this.kernelSize;
    const fanIn = (inChannels / this.groups) * kh * kw;
    this.weight = this.registerParameter('weight', kaimingUniform([outChannels, inChannels / this.groups, kh, kw], fanIn));
    this.bias = this.registerParameter('bias', this.useBias ? fanInUniform([outChannels], fanIn) : null);
  }

  override get layerType(): string {
    return 'Conv2d';
  }

  override forward(x: Tensor): Tensor {
    this.checkInput(x);
    this.spendOutput(x);
    return conv2d(x, this.weight, this.bias, this.convOptions());
  }

  /** Counts this layer's output against a loader's build bound ({@link spendOutput}). */
  private spendOutput(x: Tensor): void {
    spendOutput(this.layerType, () => {
      const [h, w] = x.shape.slice(-2);
      const p = this.padding === 'valid' ? [0, 0] : this.padding;
      const size = (n: number, i: 0 | 1) =>
        p === 'same' ? n : windowOutputSize(n, this.kernelSize[i], this.stride[i], p[i], this.dilation[i]);
      return [this.outChannels, size(h, 0), size(w, 1)];
    });
  }

  /**
   * @internal `pool.forward(relu(this.forward(x)))` as one fused op where the backend has the
   * kernel (the same values and gradients): `Sequential` calls it for a `Conv2d`, a `ReLU` and a
   * `MaxPool2d` in a row.
   */
  forwardReluPool(x: Tensor, pool: MaxPool2d): Tensor {
    this.checkInput(x);
    return conv2dReluMaxPool2d(x, this.weight, this.bias, this.convOptions(), pool.kernelSize, {
      stride: pool.stride,
      padding: pool.padding,
      dilation: pool.dilation,
      ceilMode: pool.ceilMode,
    });
  }

  private convOptions() {
    return { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups };
  }

  private checkInput(x: Tensor): void {
    if (!isTensor(x)) throw new ArgumentError(this.layerType, `input must be a Tensor, got ${x === null ? 'null' : typeof x}`);
    // A batch [n, C, H, W], or one image [C, H, W] as PyTorch takes it (conv2d adds and drops the batch axis).
    if (!(x.rank === 4 && x.shape[1] === this.inChannels) && !(x.rank === 3 && x.shape[0] === this.inChannels)) {
      throw new ShapeError(
        this.layerType,
        `expects NCHW input [n, ${this.inChannels}, H, W] or one image [${this.inChannels}, H, W], got ${fmtShape(x.shape)} (weight ${fmtShape(this.weight.shape)})`,
      );
    }
  }

  override getConfig(): Record<string, unknown> {
    return {
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
      bias: this.useBias,
    };
  }

  protected override extraRepr(): string {
    const pad = typeof this.padding === 'string' ? this.padding : `(${this.padding})`;
    const extra = `${this.dilation[0] !== 1 || this.dilation[1] !== 1 ? `, dilation=(${this.dilation})` : ''}${this.groups !== 1 ? `, groups=${this.groups}` : ''}`;
    return `${this.inChannels}, ${this.outChannels}, kernel_size=(${this.kernelSize}), stride=(${this.stride}), padding=${pad}${extra}`;
  }
}
