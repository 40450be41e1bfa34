import { ArgumentError, ShapeError, type Tensor, conv1d, fmtShape, isTensor } from '@bp/tensor';
import { checkOptions, windowOutputSize } from '@bp/tensor/internal';
import { fanInUniform, kaimingUniform } from '../init.js';
import { Module } from '../module.js';
import { spendOutput } from '../parameter-budget.js';
import { boolArg, checkChannels, intArg } from './conv-args.js';

/** Options of {@link Conv1d}, as PyTorch's `nn.Conv1d`. */
export interface Conv1dOptions {
  /** Step between windows (default 1). */
  stride?: number;
  /** Zeros added on each side (default 0), or `'same'` / `'valid'`. */
  padding?: number | 'same' | 'valid';
  /** Spacing between kernel taps (default 1). */
  dilation?: number;
  /** Channel groups (default 1). */
  groups?: number;
  /** Learn a per-channel bias (default true). */
  bias?: boolean;
}

/**
 * 1-D convolution over `[n, channels, length]` (PyTorch's `nn.Conv1d`): `weight` is
 * `[outChannels, inChannels / groups, kernelSize]`, `bias` `[outChannels]`, initialised as
 * PyTorch does (U(-1/sqrt(fanIn), 1/sqrt(fanIn)), `fanIn = inChannels / groups * kernelSize`).
 *
 * @example
 * const conv = new Conv1d(16, 32, 3, { padding: 1 });
 * conv.forward(randn([2, 16, 50])).shape; // [2, 32, 50]
 */
export class Conv1d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  readonly padding: number | 'same' | 'valid';
  readonly dilation: number;
  readonly groups: number;
  /** Whether the layer has a bias. */
  readonly useBias: boolean;
  /** `[outChannels, inChannels / groups, kernelSize]`. */
  readonly weight: Tensor;
  /** `[outChannels]`, or null without bias. */
  readonly bias: Tensor | null;

  constructor(inChannels: number, outChannels: number, kernelSize: number, opts: Conv1dOptions = {}) {
    super();
    checkOptions(this.layerType, opts, ['stride', 'padding', 'dilation', 'groups', 'bias']);
    this.groups = opts.groups ?? 1;
    checkChannels('Conv1d', inChannels, outChannels, this.groups);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = intArg('Conv1d', 'kernelSize', kernelSize, 1);
    this.stride = intArg('Conv1d', 'stride', opts.stride ?? 1, 1);
    const p = opts.padding ?? 0;
    this.padding = p === 'same' || p === 'valid' ? p : intArg('Conv1d', 'padding', p, 0);
    if (this.padding === 'same' && this.stride !== 1)
      throw new ArgumentError('Conv1d', `padding 'same' needs stride 1, got ${this.stride}`);
    this.dilation = intArg('Conv1d', 'dilation', opts.dilation ?? 1, 1);
    this.useBias = boolArg('Conv1d', 'bias', opts.bias, true);
    const fanIn = (inChannels / this.groups) * this.kernelSize;
    this.weight = this.registerParameter('weight', kaimingUniform([outChannels, inChannels / this.groups, this.kernelSize], fanIn));
    this.bias = this.registerParameter('bias', this.useBias ? fanInUniform([outChannels], fanIn) : null);
  }

  override get layerType(): string {
    return 'Conv1d';
  }

  override forward(x: Tensor): Tensor {
    if (!isTensor(x)) throw new ArgumentError(this.layerType, `input must be a Tensor, got ${x === null ? 'null' : typeof x}`);
    if (x.rank !== 3 || x.shape[1] !== this.inChannels) {
      throw new ShapeError(
        this.layerType,
        `expects input [n, ${this.inChannels}, L], got ${fmtShape(x.shape)} (weight ${fmtShape(this.weight.shape)})`,
      );
    }
    spendOutput(this.layerType, () => {
      const len = x.shape[2];
      const p = this.padding === 'valid' ? 0 : this.padding;
      return [this.outChannels, p === 'same' ? len : windowOutputSize(len, this.kernelSize, this.stride, p, this.dilation)];
    });
    return conv1d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
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
    return `${this.inChannels}, ${this.outChannels}, kernel_size=(${this.kernelSize},), stride=(${this.stride},), padding=${typeof this.padding === 'string' ? this.padding : `(${this.padding},)`}`;
  }
}
