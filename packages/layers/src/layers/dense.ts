import type { Tensor } from '@bp/tensor';
import { checkOptions } from '@bp/tensor/internal';
import { Module } from '../module.js';
import { activationByName } from './activations.js';
import { checkInputShape } from './flatten.js';
import { Linear } from './linear.js';

/** Options of {@link Dense} (Keras' names). */
export interface DenseOptions {
  /** Activation applied after the affine map: `'relu'`, `'softmax'`, ... (default none). */
  activation?: string | null;
  /** Per-sample input shape (no batch axis), e.g. `[784]`; without it the layer builds on its first input. */
  inputShape?: number[];
  /** Learn a bias (default true). */
  useBias?: boolean;
}

/**
 * Keras' `Dense(units)`: the same layer as `new Linear(inFeatures, units)`
 * (PyTorch weight layout `[units, inFeatures]` and initialisation), with the
 * input size taken from `inputShape` or from the first input.
 *
 * Inside a `Sequential`, the activation becomes its own layer right after
 * this one, so `[Dense(128, { activation: 'relu' }), Dense(10)]` has exactly
 * the layers and state-dict names of PyTorch's
 * `nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))`.
 * Used on its own, the layer applies its activation itself.
 *
 * @example
 * const model = new Sequential([
 *   new Dense(128, { activation: 'relu', inputShape: [784] }),
 *   new Dense(10, { activation: 'softmax' }),
 * ]);
 * model.forward(zeros([2, 784])).shape; // [2, 10]
 */
export class Dense extends Linear {
  /** The activation's Keras name, while this layer still applies it (null once a Sequential took it over). */
  activation: string | null;
  private activationModule: Module | null;

  constructor(units: number, opts: DenseOptions = {}) {
    checkOptions('Dense', opts, ['activation', 'inputShape', 'useBias']);
    const inputShape = opts.inputShape === undefined ? null : checkInputShape('Dense', opts.inputShape);
    super(inputShape ? inputShape[inputShape.length - 1] : null, units, { bias: opts.useBias ?? true });
    this.inputShape = inputShape;
    this.activationModule = activationByName(opts.activation);
    this.activation = this.activationModule ? (opts.activation as string) : null;
  }

  override get layerType(): string {
    return 'Dense';
  }

  /** Number of outputs (Keras' name for `outFeatures`). */
  get units(): number {
    return this.outFeatures;
  }

  /**
   * Hands the activation over to the caller (a `Sequential` makes it the
   * next layer) and stops applying it here.
   */
  takeActivation(): Module | null {
    const a = this.activationModule;
    this.activationModule = null;
    this.activation = null;
    return a;
  }

  override forward(x: Tensor): Tensor {
    const y = super.forward(x);
    return this.activationModule ? this.activationModule.forward(y) : y;
  }

  override getConfig(): Record<string, unknown> {
    return {
      units: this.outFeatures,
      inFeatures: this.inFeatures,
      useBias: this.useBias,
      activation: this.activation,
      ...(this.inputShape ? { inputShape: this.inputShape } : {}),
    };
  }
}
