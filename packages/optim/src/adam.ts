import { ArgumentError, maximum, zeros, type Tensor } from '@bp/tensor';
import { adamUpdateInPlace, hasFusedAdam } from '@bp/tensor/internal';
import {
  Optimizer,
  checkNonNegative,
  checkUnitInterval,
  type BaseOptions,
  type ParamGroup,
  type ParamState,
  type Params,
} from './optimizer.js';

/** Hyperparameters of {@link Adam} and {@link AdamW}. */
export interface AdamOptions {
  /** Learning rate; 1e-3 by default. */
  lr?: number;
  /** Decay rates of the first and second moment estimates; `[0.9, 0.999]` by default. */
  betas?: [number, number];
  /** Added to the denominator for stability; 1e-8 by default. */
  eps?: number;
  /** Adam: L2 penalty added to the gradient (0 by default). AdamW: decoupled decay rate (1e-2 by default). */
  weightDecay?: number;
  /** Use the running maximum of the second moment (AMSGrad); false by default. */
  amsgrad?: boolean;
}

/** The hyperparameters of an Adam or AdamW parameter group, every option resolved. */
export interface AdamHyper extends BaseOptions {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

/** Shared by Adam and AdamW: they differ only in how weight decay is applied. */
export abstract class AdamBase extends Optimizer<AdamHyper> {
  /** True for AdamW: weight decay shrinks the parameter instead of entering the gradient. */
  protected abstract readonly decoupled: boolean;

  protected constructor(name: string, params: Params<AdamHyper>, opts: AdamOptions | undefined, defaultDecay: number) {
    super(
      name,
      params,
      {
        lr: opts?.lr ?? 1e-3,
        betas: opts?.betas ?? [0.9, 0.999],
        eps: opts?.eps ?? 1e-8,
        weightDecay: opts?.weightDecay ?? defaultDecay,
        amsgrad: opts?.amsgrad ?? false,
      },
      opts,
    );
  }

  protected validate(h: Readonly<AdamHyper>): void {
    const name = this.name;
    checkNonNegative(name, 'lr', h.lr);
    if (!Array.isArray(h.betas) || h.betas.length !== 2) {
      throw new ArgumentError(name, `betas must be a pair [beta1, beta2], got ${JSON.stringify(h.betas)}`);
    }
    checkUnitInterval(name, 'betas[0]', h.betas[0]);
    checkUnitInterval(name, 'betas[1]', h.betas[1]);
    checkNonNegative(name, 'eps', h.eps);
    checkNonNegative(name, 'weightDecay', h.weightDecay);
  }

  // One pass over the parameter on the backend's fused kernel, when it has one. It rounds
  // every intermediate as the ops of update() below do, so both give the same bits.
  protected override updateInPlace(p: Tensor, grad: Tensor, h: ParamGroup<AdamHyper>, s: ParamState): boolean {
    if (!hasFusedAdam()) return false;
    const m0 = s.expAvg as Tensor | undefined;
    const v0 = s.expAvgSq as Tensor | undefined;
    const vmax0 = s.maxExpAvgSq as Tensor | undefined;
    const first = m0 === undefined;
    // A partial state (say AMSGrad switched on mid-run) takes the composite path.
    if (!first && (v0 === undefined || (h.amsgrad && vmax0 === undefined))) return false;
    const [b1, b2] = h.betas;
    const t = ((s.step as number | undefined) ?? 0) + 1;
    const m = m0 ?? zeros(p.shape);
    const v = v0 ?? zeros(p.shape);
    const vmax = h.amsgrad ? (vmax0 ?? zeros(p.shape)) : null;
    const bc2Sqrt = Math.sqrt(1 - b2 ** t);
    const ok = adamUpdateInPlace(p, grad, m, v, vmax, {
      beta1: b1,
      beta2: b2,
      stepSize: (h.lr * bc2Sqrt) / (1 - b1 ** t),
      epsScaled: h.eps * bc2Sqrt,
      weightDecay: h.weightDecay,
      decoupled: this.decoupled,
      lr: h.lr,
      first,
    });
    if (!ok) return false;
    s.step = t;
    s.expAvg = m;
    s.expAvgSq = v;
    if (vmax !== null) s.maxExpAvgSq = vmax;
    return true;
  }

  // torch.optim.Adam (1.13, single-tensor path):
  //   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
  //   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
  protected update(p: Tensor, grad: Tensor, h: ParamGroup<AdamHyper>, s: ParamState): Tensor {
    const [b1, b2] = h.betas;
    const t = ((s.step as number | undefined) ?? 0) + 1;
    s.step = t;
    let g = grad;
    let param = p;
    if (h.weightDecay !== 0) {
      if (this.decoupled) param = p.mul(1 - h.lr * h.weightDecay);
      else g = grad.add(p.mul(h.weightDecay));
    }
    // On the first step the zero-initialised moments reduce to (1 - b) g exactly.
    const m0 = s.expAvg as Tensor | undefined;
    const v0 = s.expAvgSq as Tensor | undefined;
    const m = m0 === undefined ? g.mul(1 - b1) : m0.mul(b1).add(g.mul(1 - b1));
    const v = v0 === undefined ? g.square().mul(1 - b2) : v0.mul(b2).add(g.square().mul(1 - b2));
    s.expAvg = m;
    s.expAvgSq = v;
    let second = v;
    if (h.amsgrad) {
      const vmax = s.maxExpAvgSq as Tensor | undefined;
      second = vmax === undefined ? v : maximum(vmax, v);
      s.maxExpAvgSq = second;
    }
    // lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps) == (lr sqrt(bc2)/bc1) * m / (sqrt(v) + eps sqrt(bc2)):
    // the same value with the bias corrections folded into two scalars, one op fewer.
    const bc2Sqrt = Math.sqrt(1 - b2 ** t);
    const stepSize = (h.lr * bc2Sqrt) / (1 - b1 ** t);
    return param.sub(m.div(second.sqrt().add(h.eps * bc2Sqrt)).mul(stepSize));
  }
}

/**
 * Adam (Kingma & Ba), exactly as `torch.optim.Adam` including its bias
 * correction and the optional AMSGrad variant. `weightDecay` is an L2 penalty
 * added to the gradient; for decoupled decay use {@link AdamW}.
 *
 * @example
 * const opt = new Adam(model.parameters(), { lr: 1e-3 });
 */
export class Adam extends AdamBase {
  protected readonly decoupled = false;
  constructor(params: Params<AdamHyper>, opts?: AdamOptions) {
    super('Adam', params, opts, 0);
  }
}

/**
 * AdamW (Loshchilov & Hutter), exactly as `torch.optim.AdamW`: before the
 * Adam step each parameter shrinks by `lr * weightDecay` (1e-2 by default),
 * independently of the gradient's scale.
 */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;
  constructor(params: Params<AdamHyper>, opts?: AdamOptions) {
    super('AdamW', params, opts, 1e-2);
  }
}
