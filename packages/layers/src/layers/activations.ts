import { ArgumentError, type Tensor, leakyRelu } from '@bp/tensor';
import { Module } from '../module.js';

/** `max(x, 0)` (PyTorch's `nn.ReLU`). */
export class ReLU extends Module {
  override get layerType(): string {
    return 'ReLU';
  }
  override forward(x: Tensor): Tensor {
    return x.relu();
  }
}

/** `1 / (1 + e^-x)` (PyTorch's `nn.Sigmoid`). */
export class Sigmoid extends Module {
  override get layerType(): string {
    return 'Sigmoid';
  }
  override forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}

/** Hyperbolic tangent (PyTorch's `nn.Tanh`). */
export class Tanh extends Module {
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
  constructor(axis = -1) {
    super();
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
  constructor(axis = -1) {
    super();
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
  constructor(negativeSlope = 0.01) {
    super();
    if (!Number.isFinite(negativeSlope)) throw new ArgumentError('LeakyReLU', `negativeSlope must be a finite number, got ${negativeSlope}`);
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
