import { ArgumentError, type Tensor } from '@bp/tensor';
import { Optimizer, checkNonNegative, type BaseOptions, type ParamGroup, type ParamState, type Params } from './optimizer.js';

/** Hyperparameters of {@link RMSprop} (PyTorch's defaults). */
export interface RMSpropOptions {
  /** Learning rate; 1e-2 by default. */
  lr?: number;
  /** Decay rate of the squared-gradient average (Keras calls it `rho`); 0.99 by default. */
  alpha?: number;
  /** Added to the denominator for stability; 1e-8 by default. */
  eps?: number;
  /** Momentum factor; 0 by default. */
  momentum?: number;
  /** Normalise by the estimated variance of the gradient instead of its second moment; false by default. */
  centered?: boolean;
  /** L2 penalty added to the gradient; 0 by default. */
  weightDecay?: number;
}

type RMSpropHyper = BaseOptions & Required<Omit<RMSpropOptions, 'lr'>>;

/**
 * RMSprop, exactly as `torch.optim.RMSprop`: `v = alpha v + (1 - alpha) g^2`,
 * then `p -= lr g / (sqrt(v) + eps)` (centered: `sqrt(v - mean(g)^2)`), with
 * optional momentum on that step.
 */
export class RMSprop extends Optimizer<RMSpropHyper> {
  constructor(params: Params<RMSpropHyper>, opts?: RMSpropOptions) {
    super(
      'RMSprop',
      params,
      {
        lr: opts?.lr ?? 1e-2,
        alpha: opts?.alpha ?? 0.99,
        eps: opts?.eps ?? 1e-8,
        momentum: opts?.momentum ?? 0,
        centered: opts?.centered ?? false,
        weightDecay: opts?.weightDecay ?? 0,
      },
      opts,
    );
  }

  protected validate(h: Readonly<RMSpropHyper>): void {
    checkNonNegative('RMSprop', 'lr', h.lr);
    // Above 1, v = alpha v + (1 - alpha) g^2 turns negative at the first step and its square root NaN.
    checkNonNegative('RMSprop', 'alpha', h.alpha);
    if (h.alpha > 1) throw new ArgumentError('RMSprop', `alpha must be a number in [0, 1], got ${h.alpha}`);
    checkNonNegative('RMSprop', 'eps', h.eps);
    checkNonNegative('RMSprop', 'momentum', h.momentum);
    checkNonNegative('RMSprop', 'weightDecay', h.weightDecay);
  }

  protected update(p: Tensor, grad: Tensor, h: ParamGroup<RMSpropHyper>, s: ParamState): Tensor {
    const g = h.weightDecay !== 0 ? grad.add(p.mul(h.weightDecay)) : grad;
    const sq0 = s.squareAvg as Tensor | undefined;
    const gg = g.square().mul(1 - h.alpha);
    const sq = sq0 === undefined ? gg : sq0.mul(h.alpha).add(gg);
    s.squareAvg = sq;
    let avg: Tensor;
    if (h.centered) {
      const ga0 = s.gradAvg as Tensor | undefined;
      const gs = g.mul(1 - h.alpha);
      const ga = ga0 === undefined ? gs : ga0.mul(h.alpha).add(gs);
      s.gradAvg = ga;
      avg = sq.sub(ga.square()).sqrt().add(h.eps);
    } else {
      avg = sq.sqrt().add(h.eps);
    }
    if (h.momentum > 0) {
      const b0 = s.momentumBuffer as Tensor | undefined;
      const step = g.div(avg);
      const buf = b0 === undefined ? step : b0.mul(h.momentum).add(step);
      s.momentumBuffer = buf;
      return p.sub(buf.mul(h.lr));
    }
    return p.sub(g.div(avg).mul(h.lr));
  }
}
