import { ArgumentError, ShapeError, type Tensor, fmtShape, isTensor, ones, zeros } from '@bp/tensor';
import { checkOptions, shownValue } from '@bp/tensor/internal';
import { Module } from '../module.js';

/** Options of {@link GroupNorm} (PyTorch's defaults). */
export interface GroupNormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Learn a per-channel `weight` (ones) and `bias` (zeros) (default true). */
  affine?: boolean;
}

/**
 * Group normalisation (PyTorch's `nn.GroupNorm`): the channels of each
 * sample in `[n, c, ...]` are split into `numGroups` groups, and each group
 * is normalised by its own mean and biased variance, then scaled and shifted
 * per channel. The same in training and eval mode.
 */
export class GroupNorm extends Module {
  /** Groups the channels are split into. */
  readonly numGroups: number;
  /** Channels expected on axis 1. */
  readonly numChannels: number;
  /** Added to the variance. */
  readonly eps: number;
  /** Whether there is a learnt scale and shift. */
  readonly affine: boolean;
  /** `[numChannels]`, or null without `affine`. */
  readonly weight: Tensor | null;
  /** `[numChannels]`, or null without `affine`. */
  readonly bias: Tensor | null;

  constructor(numGroups: number, numChannels: number, opts: GroupNormOptions = {}) {
    super();
    checkOptions(this.layerType, opts, ['eps', 'affine']);
    for (const [k, v] of [
      ['numGroups', numGroups],
      ['numChannels', numChannels],
    ] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new ArgumentError('GroupNorm', `${k} must be a positive integer, got ${v}`);
    }
    if (numChannels % numGroups !== 0) {
      throw new ArgumentError('GroupNorm', `numChannels ${numChannels} must be divisible by numGroups ${numGroups}`);
    }
    this.numGroups = numGroups;
    this.numChannels = numChannels;
    this.eps = opts.eps ?? 1e-5;
    if (typeof this.eps !== 'number' || !(this.eps >= 0 && this.eps < Infinity)) {
      throw new ArgumentError('GroupNorm', `eps must be a finite number >= 0, got ${String(this.eps)}`);
    }
    this.affine = opts.affine ?? true;
    if (typeof this.affine !== 'boolean')
      throw new ArgumentError('GroupNorm', `affine must be true or false, got ${shownValue(this.affine)}`);
    this.weight = this.registerParameter('weight', this.affine ? ones([numChannels]) : null);
    this.bias = this.registerParameter('bias', this.affine ? zeros([numChannels]) : null);
  }

  override get layerType(): string {
    return 'GroupNorm';
  }

  override forward(x: Tensor): Tensor {
    if (!isTensor(x)) throw new ArgumentError(this.layerType, `input must be a Tensor, got ${x === null ? 'null' : typeof x}`);
    if (x.rank < 2 || x.shape[1] !== this.numChannels) {
      throw new ShapeError(this.layerType, `expects input [n, ${this.numChannels}, ...], got ${fmtShape(x.shape)}`);
    }
    const n = x.shape[0];
    const g = x.reshape([n, this.numGroups, -1]);
    const centred = g.sub(g.mean(2, true));
    const variance = centred.square().mean(2, true);
    let y = centred.div(variance.add(this.eps).sqrt()).reshape(x.shape);
    if (this.affine) {
      const perChannel = [this.numChannels, ...x.shape.slice(2).map(() => 1)];
      y = y.mul(this.weight!.reshape(perChannel)).add(this.bias!.reshape(perChannel));
    }
    return y;
  }

  override getConfig(): Record<string, unknown> {
    return { numGroups: this.numGroups, numChannels: this.numChannels, eps: this.eps, affine: this.affine };
  }

  protected override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${this.affine}`;
  }
}
