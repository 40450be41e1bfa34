import { ArgumentError, type Tensor } from '@bp/tensor';
import { Optimizer, checkNonNegative, type ParamGroup, type ParamGroupInput, type ParamState, type Params } from './optimizer.js';

/** Hyperparameters of {@link SGD}. */
export interface SGDOptions {
  /** Learning rate (required, as in PyTorch 1.13; may be left out when every parameter group sets its own). */
  lr: number;
  /** Momentum factor; 0 (plain SGD) by default. */
  momentum?: number;
  /** Dampening of the momentum; 0 by default. */
  dampening?: number;
  /** Nesterov momentum; needs `momentum > 0` and `dampening = 0`. */
  nesterov?: boolean;
  /** L2 penalty added to the gradient (`g + weightDecay * p`); 0 by default. */
  weightDecay?: number;
}

type SGDHyper = Required<SGDOptions>;

/**
 * Stochastic gradient descent with optional momentum, Nesterov momentum and
 * weight decay, exactly as `torch.optim.SGD`:
 * `b = momentum b + (1 - dampening) g` (`b = g` on the first step), then
 * `p -= lr (nesterov ? g + momentum b : b)`.
 *
 * @example
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 * // Parameter groups that each set lr need no default one, as in PyTorch:
 * new SGD([{ params: body, lr: 0.01 }, { params: head, lr: 0.1 }], { momentum: 0.9 });
 */
export class SGD extends Optimizer<SGDHyper> {
  constructor(params: Params<SGDHyper>, opts: SGDOptions);
  constructor(params: ParamGroupInput<SGDHyper>[], opts?: Partial<SGDOptions>);
  constructor(params: Params<SGDHyper>, opts?: Partial<SGDOptions>) {
    super(
      'SGD',
      params,
      {
        lr: opts?.lr as number,
        momentum: opts?.momentum ?? 0,
        dampening: opts?.dampening ?? 0,
        nesterov: opts?.nesterov ?? false,
        weightDecay: opts?.weightDecay ?? 0,
      },
      opts,
    );
  }

  protected validate(h: Readonly<SGDHyper>): void {
    if (h.lr === undefined) {
      // The defaults may leave lr out when every parameter group sets its own (PyTorch's `required`);
      // a group without one, from itself or from the defaults, cannot step.
      if (h !== this.defaults) {
        throw new ArgumentError(
          'SGD',
          'lr is required, e.g. new SGD(params, { lr: 0.01 }), or in every parameter group: new SGD([{ params, lr: 0.01 }])',
        );
      }
    } else checkNonNegative('SGD', 'lr', h.lr);
    checkNonNegative('SGD', 'momentum', h.momentum);
    checkNonNegative('SGD', 'weightDecay', h.weightDecay);
    if (typeof h.dampening !== 'number' || !Number.isFinite(h.dampening)) {
      throw new ArgumentError('SGD', `dampening must be a finite number, got ${String(h.dampening)}`);
    }
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) {
      throw new ArgumentError(
        'SGD',
        `nesterov needs momentum > 0 and dampening = 0, got momentum ${h.momentum} and dampening ${h.dampening}`,
      );
    }
  }

  protected update(p: Tensor, grad: Tensor, h: ParamGroup<SGDHyper>, s: ParamState): Tensor {
    let d = h.weightDecay !== 0 ? grad.add(p.mul(h.weightDecay)) : grad;
    if (h.momentum !== 0) {
      const prev = s.momentumBuffer as Tensor | undefined;
      // The buffer must not be the gradient tensor itself: clipGradNorm rewrites .grad in place.
      let buf: Tensor;
      if (prev === undefined) buf = d.clone();
      else {
        const scaled = h.dampening !== 0 ? d.mul(1 - h.dampening) : d;
        buf = prev.mul(h.momentum).add(scaled);
      }
      s.momentumBuffer = buf;
      d = h.nesterov ? d.add(buf.mul(h.momentum)) : buf;
    }
    return p.sub(d.mul(h.lr));
  }
}
