import type { Tensor } from '@bp/tensor';
import { Optimizer, checkNonNegative, type BaseOptions, type ParamGroup, type ParamState, type Params } from './optimizer.js';

/** Hyperparameters of {@link Adagrad} (PyTorch's defaults). */
export interface AdagradOptions {
  /** Learning rate; 1e-2 by default. */
  lr?: number;
  /** The learning rate decays as `lr / (1 + (t - 1) lrDecay)`; 0 by default. */
  lrDecay?: number;
  /** L2 penalty added to the gradient; 0 by default. */
  weightDecay?: number;
  /** Starting value of the sum of squared gradients; 0 by default (Keras uses 0.1). */
  initialAccumulatorValue?: number;
  /** Added to the denominator for stability; 1e-10 by default. */
  eps?: number;
}

type AdagradHyper = BaseOptions & Required<Omit<AdagradOptions, 'lr'>>;

/**
 * Adagrad, exactly as `torch.optim.Adagrad`: `G += g^2`, then
 * `p -= lr / (1 + (t - 1) lrDecay) * g / (sqrt(G) + eps)`.
 */
export class Adagrad extends Optimizer<AdagradHyper> {
  constructor(params: Params<AdagradHyper>, opts?: AdagradOptions) {
    super(
      'Adagrad',
      params,
      {
        lr: opts?.lr ?? 1e-2,
        lrDecay: opts?.lrDecay ?? 0,
        weightDecay: opts?.weightDecay ?? 0,
        initialAccumulatorValue: opts?.initialAccumulatorValue ?? 0,
        eps: opts?.eps ?? 1e-10,
      },
      opts,
    );
  }

  protected validate(h: Readonly<AdagradHyper>): void {
    checkNonNegative('Adagrad', 'lr', h.lr);
    checkNonNegative('Adagrad', 'lrDecay', h.lrDecay);
    checkNonNegative('Adagrad', 'weightDecay', h.weightDecay);
    checkNonNegative('Adagrad', 'initialAccumulatorValue', h.initialAccumulatorValue);
    checkNonNegative('Adagrad', 'eps', h.eps);
  }

  protected update(p: Tensor, grad: Tensor, h: ParamGroup<AdagradHyper>, s: ParamState): Tensor {
    const t = ((s.step as number | undefined) ?? 0) + 1;
    s.step = t;
    const g = h.weightDecay !== 0 ? grad.add(p.mul(h.weightDecay)) : grad;
    const clr = h.lr / (1 + (t - 1) * h.lrDecay);
    const sum0 = s.sum as Tensor | undefined;
    const gg = g.square();
    const sum = sum0 !== undefined ? sum0.add(gg) : h.initialAccumulatorValue !== 0 ? gg.add(h.initialAccumulatorValue) : gg;
    s.sum = sum;
    return p.sub(g.div(sum.sqrt().add(h.eps)).mul(clr));
  }
}
