import {
  ArgumentError,
  type Tensor,
  leakyRelu,
  gelu,
  silu,
  elu,
  celu,
  selu,
  softplus,
  mish,
  relu6,
  hardtanh,
  hardswish,
  hardsigmoid,
  logsigmoid,
  softsign,
} from '@bp/tensor';
import { checkOptions, shownValue } from '@bp/tensor/internal';
import { Module, checkNoMoreArgs } from '../module.js';

/** `max(x, 0)` (PyTorch's `nn.ReLU`). */
export class ReLU extends Module {
  constructor(...args: never[]) {
    super();
    checkNoMoreArgs('ReLU', args, 'no arguments');
  }

  override get layerType(): string {
    return 'ReLU';
  }
  override forward(x: Tensor): Tensor {
    return x.relu();
  }
}

/** `1 / (1 + e^-x)` (PyTorch's `nn.Sigmoid`). */
export class Sigmoid extends Module {
  constructor(...args: never[]) {
    super();
    checkNoMoreArgs('Sigmoid', args, 'no arguments');
  }

  override get layerType(): string {
    return 'Sigmoid';
  }
  override forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}

/** Hyperbolic tangent (PyTorch's `nn.Tanh`). */
export class Tanh extends Module {
  constructor(...args: never[]) {
    super();
    checkNoMoreArgs('Tanh', args, 'no arguments');
  }

  override get layerType(): string {
    return 'Tanh';
  }
  override forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

function checkAxis(layer: string, axis: number): number {
  if (!Number.isInteger(axis)) throw new ArgumentError(layer, `axis must be an integer, got ${axis}`);
  return axis;
}

/** Softmax along `axis` (default -1, the class axis of `[n, classes]`), as PyTorch's `nn.Softmax(dim)`. */
export class Softmax extends Module {
  /** The axis whose entries sum to 1. */
  readonly axis: number;
  constructor(axis = -1, ...more: never[]) {
    super();
    checkNoMoreArgs('Softmax', more, 'an axis');
    this.axis = checkAxis('Softmax', axis);
  }
  override get layerType(): string {
    return 'Softmax';
  }
  override forward(x: Tensor): Tensor {
    return x.softmax(this.axis);
  }
  override getConfig(): Record<string, unknown> {
    return { axis: this.axis };
  }
  protected override extraRepr(): string {
    return `dim=${this.axis}`;
  }
}

/** Log-softmax along `axis` (default -1), as PyTorch's `nn.LogSoftmax(dim)`; pairs with `nllLoss`. */
export class LogSoftmax extends Module {
  /** The axis normalised over. */
  readonly axis: number;
  constructor(axis = -1, ...more: never[]) {
    super();
    checkNoMoreArgs('LogSoftmax', more, 'an axis');
    this.axis = checkAxis('LogSoftmax', axis);
  }
  override get layerType(): string {
    return 'LogSoftmax';
  }
  override forward(x: Tensor): Tensor {
    return x.logSoftmax(this.axis);
  }
  override getConfig(): Record<string, unknown> {
    return { axis: this.axis };
  }
  protected override extraRepr(): string {
    return `dim=${this.axis}`;
  }
}

/** `x` where positive, `negativeSlope * x` elsewhere (PyTorch's `nn.LeakyReLU`, default slope 0.01). */
export class LeakyReLU extends Module {
  /** Slope for negative inputs. */
  readonly negativeSlope: number;
  constructor(negativeSlope = 0.01, ...more: never[]) {
    super();
    checkNoMoreArgs('LeakyReLU', more, 'one argument (negativeSlope)');
    if (!Number.isFinite(negativeSlope))
      throw new ArgumentError('LeakyReLU', `negativeSlope must be a finite number, got ${negativeSlope}`);
    this.negativeSlope = negativeSlope;
  }
  override get layerType(): string {
    return 'LeakyReLU';
  }
  override forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }
  override getConfig(): Record<string, unknown> {
    return { negativeSlope: this.negativeSlope };
  }
  protected override extraRepr(): string {
    return `negative_slope=${this.negativeSlope}`;
  }
}

function finiteOption(layer: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ArgumentError(layer, `${name} must be a finite number, got ${typeof v === 'number' ? v : typeof v}`);
  }
  return v;
}

/** GELU, `x Φ(x)` (PyTorch's `nn.GELU(approximate='none'|'tanh')`); see `gelu` in @bp/tensor. */
export class GELU extends Module {
  /** `'none'` for the exact normal CDF, `'tanh'` for the tanh approximation. */
  readonly approximate: 'none' | 'tanh';
  constructor(opts: { approximate?: 'none' | 'tanh' } = {}, ...more: never[]) {
    super();
    checkNoMoreArgs('GELU', more, 'one argument (the options)');
    checkOptions('GELU', opts, ['approximate']);
    const a = opts.approximate ?? 'none';
    if (a !== 'none' && a !== 'tanh') throw new ArgumentError('GELU', `approximate must be 'none' or 'tanh', got ${shownValue(a)}`);
    this.approximate = a;
  }
  override get layerType(): string {
    return 'GELU';
  }
  override forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }
  override getConfig(): Record<string, unknown> {
    return { approximate: this.approximate };
  }
  protected override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** SiLU (swish), `x * sigmoid(x)` (PyTorch's `nn.SiLU`). */
export class SiLU extends Module {
  constructor(...args: never[]) {
    super();
    checkNoMoreArgs('SiLU', args, 'no arguments');
  }

  override get layerType(): string {
    return 'SiLU';
  }
  override forward(x: Tensor): Tensor {
    return silu(x);
  }
}

/** ELU, `x` for x > 0 else `alpha (e^x - 1)` (PyTorch's `nn.ELU(alpha=1)`). */
export class ELU extends Module {
  /** Scale of the negative part. */
  readonly alpha: number;
  constructor(alpha = 1, ...more: never[]) {
    super();
    checkNoMoreArgs('ELU', more, 'one argument (alpha)');
    this.alpha = finiteOption('ELU', 'alpha', alpha);
  }
  override get layerType(): string {
    return 'ELU';
  }
  override forward(x: Tensor): Tensor {
    return elu(x, this.alpha);
  }
  override getConfig(): Record<string, unknown> {
    return { alpha: this.alpha };
  }
  protected override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/** CELU, `max(0, x) + min(0, alpha (e^(x/alpha) - 1))` (PyTorch's `nn.CELU(alpha=1)`). */
export class CELU extends Module {
  /** Scale of the negative part (not 0). */
  readonly alpha: number;
  constructor(alpha = 1, ...more: never[]) {
    super();
    checkNoMoreArgs('CELU', more, 'one argument (alpha)');
    this.alpha = finiteOption('CELU', 'alpha', alpha);
    if (this.alpha === 0) throw new ArgumentError('CELU', 'alpha must not be 0');
  }
  override get layerType(): string {
    return 'CELU';
  }
  override forward(x: Tensor): Tensor {
    return celu(x, this.alpha);
  }
  override getConfig(): Record<string, unknown> {
    return { alpha: this.alpha };
  }
  protected override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/** SELU with PyTorch's constants (PyTorch's `nn.SELU`). */
export class SELU extends Module {
  constructor(...args: never[]) {
    super();
    checkNoMoreArgs('SELU', args, 'no arguments');
  }

  override get layerType(): string {
    return 'SELU';
  }
  override forward(x: Tensor): Tensor {
    return selu(x);
  }
}

/** Softplus, `log(1 + e^(beta x)) / beta`, linear above `beta x > threshold` (PyTorch's `nn.Softplus(beta=1, threshold=20)`). */
export class Softplus extends Module {
  /** Sharpness (not 0). */
  readonly beta: number;
  /** Where the result becomes `x`. */
  readonly threshold: number;
  constructor(opts: { beta?: number; threshold?: number } = {}, ...more: never[]) {
    super();
    checkNoMoreArgs('Softplus', more, 'one argument (the options)');
    checkOptions('Softplus', opts, ['beta', 'threshold']);
    this.beta = finiteOption('Softplus', 'beta', opts.beta ?? 1);
    this.threshold = finiteOption('Softplus', 'threshold', opts.threshold ?? 20);
    if (this.beta === 0) throw new ArgumentError('Softplus', 'beta must not be 0');
  }
  override get layerType(): string {
    return 'Softplus';
  }
  override forward(x: Tensor): Tensor {
    return softplus(x, { beta: this.beta, threshold: this.threshold });
  }
  override getConfig(): Record<string, unknown> {
    return { beta: this.beta, threshold: this.threshold };
  }
  protected override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
}

/** Mish, `x * tanh(softplus(x))` (PyTorch's `nn.Mish`). */
export class Mish extends Module {
  constructor(...args: never[]) {
    super();
    checkNoMoreArgs('Mish', args, 'no arguments');
  }

  override get layerType(): string {
    return 'Mish';
  }
  override forward(x: Tensor): Tensor {
    return mish(x);
  }
}

/** `min(max(x, 0), 6)` (PyTorch's `nn.ReLU6`). */
export class ReLU6 extends Module {
  constructor(...args: never[]) {
    super();
    checkNoMoreArgs('ReLU6', args, 'no arguments');
  }

  override get layerType(): string {
    return 'ReLU6';
  }
  override forward(x: Tensor): Tensor {
    return relu6(x);
  }
}

/** `x` clamped to `[minVal, maxVal]` (PyTorch's `nn.Hardtanh(min_val=-1, max_val=1)`). */
export class Hardtanh extends Module {
  /** Lower bound. */
  readonly minVal: number;
  /** Upper bound (not below `minVal`). */
  readonly maxVal: number;
  constructor(minVal = -1, maxVal = 1, ...more: never[]) {
    super();
    checkNoMoreArgs('Hardtanh', more, 'two arguments (minVal, maxVal)');
    this.minVal = finiteOption('Hardtanh', 'minVal', minVal);
    this.maxVal = finiteOption('Hardtanh', 'maxVal', maxVal);
    if (this.minVal > this.maxVal) throw new ArgumentError('Hardtanh', `minVal (${minVal}) is greater than maxVal (${maxVal})`);
  }
  override get layerType(): string {
    return 'Hardtanh';
  }
  override forward(x: Tensor): Tensor {
    return hardtanh(x, this.minVal, this.maxVal);
  }
  override getConfig(): Record<string, unknown> {
    return { minVal: this.minVal, maxVal: this.maxVal };
  }
  protected override extraRepr(): string {
    return `min_val=${this.minVal}, max_val=${this.maxVal}`;
  }
}

/** `x * relu6(x + 3) / 6` (PyTorch's `nn.Hardswish`). */
export class Hardswish extends Module {
  constructor(...args: never[]) {
    super();
    checkNoMoreArgs('Hardswish', args, 'no arguments');
  }

  override get layerType(): string {
    return 'Hardswish';
  }
  override forward(x: Tensor): Tensor {
    return hardswish(x);
  }
}

/** `relu6(x + 3) / 6` (PyTorch's `nn.Hardsigmoid`). */
export class Hardsigmoid extends Module {
  constructor(...args: never[]) {
    super();
    checkNoMoreArgs('Hardsigmoid', args, 'no arguments');
  }

  override get layerType(): string {
    return 'Hardsigmoid';
  }
  override forward(x: Tensor): Tensor {
    return hardsigmoid(x);
  }
}

/** `log(sigmoid(x))`, stable (PyTorch's `nn.LogSigmoid`). */
export class LogSigmoid extends Module {
  constructor(...args: never[]) {
    super();
    checkNoMoreArgs('LogSigmoid', args, 'no arguments');
  }

  override get layerType(): string {
    return 'LogSigmoid';
  }
  override forward(x: Tensor): Tensor {
    return logsigmoid(x);
  }
}

/** `x / (1 + |x|)` (PyTorch's `nn.Softsign`). */
export class Softsign extends Module {
  constructor(...args: never[]) {
    super();
    checkNoMoreArgs('Softsign', args, 'no arguments');
  }

  override get layerType(): string {
    return 'Softsign';
  }
  override forward(x: Tensor): Tensor {
    return softsign(x);
  }
}

/** The activation names Keras-style layers accept (`Dense(10, { activation: 'softmax' })`). */
export type ActivationName = 'relu' | 'sigmoid' | 'tanh' | 'softmax' | 'logSoftmax' | 'leakyRelu' | 'linear';

/**
 * The activation module for a Keras name (`'relu'`, `'softmax'`, ...; the
 * snake-case spellings `'log_softmax'` and `'leaky_relu'` work too), or null
 * for `'linear'`/`null` (no activation).
 */
export function activationByName(name: string | null | undefined): Module | null {
  if (name === null || name === undefined || name === 'linear') return null;
  switch (name) {
    case 'relu':
      return new ReLU();
    case 'sigmoid':
      return new Sigmoid();
    case 'tanh':
      return new Tanh();
    case 'softmax':
      return new Softmax(-1);
    case 'logSoftmax':
    case 'log_softmax':
      return new LogSoftmax(-1);
    case 'leakyRelu':
    case 'leaky_relu':
      return new LeakyReLU();
    default:
      throw new ArgumentError(
        'activation',
        `unknown activation '${name}'; use one of relu, sigmoid, tanh, softmax, logSoftmax, leakyRelu, linear`,
      );
  }
}
