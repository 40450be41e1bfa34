import { ArgumentError, ShapeError, type Tensor, convTranspose2d, fmtShape, isTensor } from '@bp/tensor';
import { checkOptions } from '@bp/tensor/internal';
import { fanInUniform, kaimingUniform } from '../init.js';
import { Module } from '../module.js';
import { spendOutput } from '../parameter-budget.js';
import { boolArg, checkChannels, pairArg } from './conv-args.js';

/** Options of {@link ConvTranspose2d}, as PyTorch's `nn.ConvTranspose2d`. */
export interface ConvTranspose2dOptions {
  /** Step between input pixels in the output (default 1). */
  stride?: number | [number, number];
  /** Input-side padding: the output shrinks by `2 * padding` (default 0). */
  padding?: number | [number, number];
  /** Rows/columns added after the output, below the stride or the dilation (default 0). */
  outputPadding?: number | [number, number];
  /** Channel groups (default 1). */
  groups?: number;
  /** Learn a per-channel bias (default true). */
  bias?: boolean;
  /** Spacing between kernel taps (default 1). */
  dilation?: number | [number, number];
}

/**
 * Transposed 2-D convolution (PyTorch's `nn.ConvTranspose2d`): `weight` is
 * `[inChannels, outChannels / groups, kH, kW]` (PyTorch's layout), `bias` `[outChannels]`,
 * initialised as PyTorch does with `fanIn = outChannels / groups * kH * kW`. Output height
 * `(h - 1) * stride - 2 * padding + dilation * (kH - 1) + outputPadding + 1`.
 *
 * @example
 * const up = new ConvTranspose2d(16, 8, 4, { stride: 2, padding: 1 });
 * up.forward(randn([2, 16, 7, 7])).shape; // [2, 8, 14, 14]
 */
export class ConvTranspose2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly outputPadding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  /** Whether the layer has a bias. */
  readonly useBias: boolean;
  /** `[inChannels, outChannels / groups, kH, kW]`. */
  readonly weight: Tensor;
  /** `[outChannels]`, or null without bias. */
  readonly bias: Tensor | null;

  constructor(inChannels: number, outChannels: number, kernelSize: number | [number, number], opts: ConvTranspose2dOptions = {}) {
    super();
    checkOptions(this.layerType, opts, ['stride', 'padding', 'outputPadding', 'groups', 'bias', 'dilation']);
    const L = 'ConvTranspose2d';
    this.groups = opts.groups ?? 1;
    checkChannels(L, inChannels, outChannels, this.groups);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pairArg(L, 'kernelSize', kernelSize, 1);
    this.stride = pairArg(L, 'stride', opts.stride ?? 1, 1);
    this.padding = pairArg(L, 'padding', opts.padding ?? 0, 0);
    this.outputPadding = pairArg(L, 'outputPadding', opts.outputPadding ?? 0, 0);
    this.dilation = pairArg(L, 'dilation', opts.dilation ?? 1, 1);
    for (const i of [0, 1]) {
      if (this.outputPadding[i] >= this.stride[i] && this.outputPadding[i] >= this.dilation[i]) {
        throw new ArgumentError(
          L,
          `outputPadding (${this.outputPadding}) must be smaller than the stride (${this.stride}) or the dilation (${this.dilation})`,
        );
      }
    }
    this.useBias = boolArg(L, 'bias', opts.bias, true);
    const [kh, kw] = this.kernelSize;
    const fanIn = (outChannels / this.groups) * kh * kw;
    this.weight = this.registerParameter('weight', kaimingUniform([inChannels, outChannels / this.groups, kh, kw], fanIn));
    this.bias = this.registerParameter('bias', this.useBias ? fanInUniform([outChannels], fanIn) : null);
  }

  override get layerType(): string {
    return 'ConvTranspose2d';
  }

  override forward(x: Tensor): Tensor {
    if (!isTensor(x)) throw new ArgumentError(this.layerType, `input must be a Tensor, got ${x === null ? 'null' : typeof x}`);
    if (!(x.rank === 4 && x.shape[1] === this.inChannels) && !(x.rank === 3 && x.shape[0] === this.inChannels)) {
      throw new ShapeError(
        this.layerType,
        `expects NCHW input [n, ${this.inChannels}, H, W] or one image [${this.inChannels}, H, W], got ${fmtShape(x.shape)} (weight ${fmtShape(this.weight.shape)})`,
      );
    }
    spendOutput(this.layerType, () => {
      const size = (n: number, i: 0 | 1) =>
        (n - 1) * this.stride[i] - 2 * this.padding[i] + this.dilation[i] * (this.kernelSize[i] - 1) + this.outputPadding[i] + 1;
      const [h, w] = x.shape.slice(-2);
      return [this.outChannels, size(h, 0), size(w, 1)];
    });
    return convTranspose2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      outputPadding: this.outputPadding,
      groups: this.groups,
      dilation: this.dilation,
    });
  }

  override getConfig(): Record<string, unknown> {
    return {
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      outputPadding: this.outputPadding,
      groups: this.groups,
      bias: this.useBias,
      dilation: this.dilation,
    };
  }

  protected override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernel_size=(${this.kernelSize}), stride=(${this.stride}), padding=(${this.padding})`;
  }
}
