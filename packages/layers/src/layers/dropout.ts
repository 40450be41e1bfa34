import { ArgumentError, type Tensor, random, tensor } from '@bp/tensor';
import { Module, checkNoMoreArgs } from '../module.js';

/**
 * Inverted dropout (PyTorch's `nn.Dropout`): in training mode each element is
 * zeroed with probability `p` and the survivors are scaled by `1 / (1 - p)`,
 * so eval mode is the identity. The mask comes from the generator seeded by
 * `manualSeed`.
 */
export class Dropout extends Module {
  /** Probability of zeroing an element. */
  readonly p: number;

  constructor(p = 0.5, ...more: never[]) {
    super();
    checkNoMoreArgs('Dropout', more, 'one argument (p)');
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
      throw new ArgumentError('Dropout', `p must be a probability in [0, 1], got ${p}`);
    }
    this.p = p;
  }

  override get layerType(): string {
    return 'Dropout';
  }

  override forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    if (this.p === 1) return x.mul(0);
    const keep = 1 - this.p;
    const scale = 1 / keep;
    // One pass over the generator builds the scaled mask directly: cheaper than rand + compare + cast + scale.
    const m = new Float32Array(x.size);
    for (let i = 0; i < m.length; i++) m[i] = random() < keep ? scale : 0;
    return x.mul(tensor(m, { shape: x.shape }));
  }

  override getConfig(): Record<string, unknown> {
    return { p: this.p };
  }

  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}
