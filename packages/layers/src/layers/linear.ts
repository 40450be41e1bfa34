import { ArgumentError, ShapeError, type Tensor, fmtShape, isTensor, linear } from '@bp/tensor';
import { checkOptions, shownValue } from '@bp/tensor/internal';
import { fanInUniform, kaimingUniform } from '../init.js';
import { Module } from '../module.js';
import { spendParameters } from '../parameter-budget.js';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

function checkSize(layer: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new ArgumentError(layer, `${name} must be a positive integer, got ${v}`);
}

/**
 * A fully connected layer, `y = x W^T + b` (PyTorch's `nn.Linear`), applied
 * to the last axis of `x: [..., inFeatures]`. `weight` is `[outFeatures,
 * inFeatures]` and `bias` is `[outFeatures]`, both initialised as PyTorch
 * does: U(-1/sqrt(inFeatures), 1/sqrt(inFeatures)).
 *
 * Passing `null` for `inFeatures` defers creating the parameters to the
 * first input (PyTorch's `LazyLinear`).
 *
 * @example
 * const fc = new Linear(784, 128);
 * fc.forward(randn([32, 784])).shape; // [32, 128]
 */
export class Linear extends Module {
  /** Input size (null until built for a lazy layer). */
  inFeatures: number | null;
  /** Output size. */
  readonly outFeatures: number;
  /** Whether the layer has a bias. */
  readonly useBias: boolean;
  /** `[outFeatures, inFeatures]`. */
  weight!: Tensor;
  /** `[outFeatures]`, or null without bias. */
  bias: Tensor | null = null;

  constructor(inFeatures: number | null, outFeatures: number, opts: LinearOptions = {}) {
    super();
    checkOptions(this.layerType, opts, ['bias']);
    if (inFeatures !== null) checkSize(this.layerType, 'inFeatures', inFeatures);
    checkSize(this.layerType, 'outFeatures', outFeatures);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.useBias = opts.bias ?? true;
    if (typeof this.useBias !== 'boolean')
      throw new ArgumentError(this.layerType, `bias must be true or false, got ${shownValue(opts.bias)}`);
    if (inFeatures !== null) this.createParameters(inFeatures);
  }

  override get layerType(): string {
    return 'Linear';
  }

  override get built(): boolean {
    return this.inFeatures !== null && this.weight !== undefined;
  }

  private createParameters(inFeatures: number): void {
    // Within a loader's bound (a size that came from no description): checked before allocating.
    spendParameters(this.layerType, this.outFeatures * inFeatures + (this.useBias ? this.outFeatures : 0));
    // Weight first, then bias: the order PyTorch draws them in.
    this.weight = this.registerParameter('weight', kaimingUniform([this.outFeatures, inFeatures], inFeatures));
    this.bias = this.registerParameter('bias', this.useBias ? fanInUniform([this.outFeatures], inFeatures) : null);
  }

  /**
   * Creates the parameters for `inFeatures` inputs if the layer is still
   * lazy, or checks that it matches the existing weight.
   */
  build(inFeatures: number): void {
    if (!this.built) {
      checkSize(this.layerType, 'inFeatures', inFeatures);
      this.inFeatures = inFeatures;
      this.createParameters(inFeatures);
    } else if (inFeatures !== this.inFeatures) {
      throw new ShapeError(
        this.layerType,
        `input has ${inFeatures} features but the layer expects ${this.inFeatures} (weight ${fmtShape(this.weight.shape)})`,
      );
    }
  }

  override forward(x: Tensor): Tensor {
    return this.apply(x, null);
  }

  /**
   * @internal `relu(forward(x))` as one fused op where the backend has the kernel: `Sequential`
   * calls it for a `Linear` (or a `Dense` without its own activation) followed by a `ReLU`.
   */
  forwardRelu(x: Tensor): Tensor {
    return this.apply(x, 'relu');
  }

  private apply(x: Tensor, activation: 'relu' | null): Tensor {
    if (!isTensor(x)) throw new ArgumentError(this.layerType, `input must be a Tensor, got ${x === null ? 'null' : typeof x}`);
    if (x.rank === 0) throw new ShapeError(this.layerType, 'input must have a feature axis, got a scalar');
    const n = x.shape[x.rank - 1];
    if (!this.built) this.build(n);
    if (n !== this.inFeatures) {
      throw new ShapeError(
        this.layerType,
        `input ${fmtShape(x.shape)} has ${n} features but the layer expects ${this.inFeatures} (weight ${fmtShape(this.weight.shape)})`,
      );
    }
    // One fused kernel and one recorded op where the backend has it (the product, the bias, the ReLU).
    return linear(x, this.weight, this.bias, { activation });
  }

  override getConfig(): Record<string, unknown> {
    return { inFeatures: this.inFeatures, outFeatures: this.outFeatures, bias: this.useBias };
  }

  protected override extraRepr(): string {
    return `in_features=${this.inFeatures ?? '?'}, out_features=${this.outFeatures}, bias=${this.useBias}`;
  }
}
