import { ArgumentError, type Tensor } from '@bp/tensor';
import { Adagrad } from './adagrad.js';
import { Adam, AdamW } from './adam.js';
import { Optimizer, type BaseOptions } from './optimizer.js';
import { RMSprop } from './rmsprop.js';
import { SGD } from './sgd.js';

type Factory = (params: Tensor[], opts: Record<string, unknown>) => Optimizer<BaseOptions>;

/**
 * The optimizers {@link getOptimizer} builds by name, with the defaults Keras
 * uses for the same string in `compile` (the classes themselves keep
 * PyTorch's defaults):
 *
 * | name      | defaults                                                        |
 * |-----------|-----------------------------------------------------------------|
 * | `sgd`     | lr 0.01                                                         |
 * | `adam`    | lr 1e-3, betas [0.9, 0.999], eps 1e-7                           |
 * | `adamw`   | lr 1e-3, betas [0.9, 0.999], eps 1e-7, weightDecay 0.004        |
 * | `rmsprop` | lr 1e-3, alpha (Keras' rho) 0.9, eps 1e-7                       |
 * | `adagrad` | lr 1e-3, initialAccumulatorValue 0.1, eps 1e-7                  |
 *
 * The update formulas are always PyTorch's; only these starting values follow Keras.
 */
export const OPTIMIZER_DEFAULTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = Object.freeze({
  sgd: { lr: 0.01 },
  adam: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-7 },
  adamw: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-7, weightDecay: 0.004 },
  rmsprop: { lr: 1e-3, alpha: 0.9, eps: 1e-7 },
  adagrad: { lr: 1e-3, initialAccumulatorValue: 0.1, eps: 1e-7 },
});

const FACTORIES: Record<string, Factory> = {
  sgd: (p, o) => new SGD(p, o as never),
  adam: (p, o) => new Adam(p, o as never),
  adamw: (p, o) => new AdamW(p, o as never),
  rmsprop: (p, o) => new RMSprop(p, o as never),
  adagrad: (p, o) => new Adagrad(p, o as never),
};

/**
 * The optimizer for `compile({ optimizer })`: an optimizer instance is
 * returned unchanged; a name (`'sgd'`, `'adam'`, `'adamw'`, `'rmsprop'`,
 * `'adagrad'`, any case) builds one over `params` with Keras' defaults
 * (see {@link OPTIMIZER_DEFAULTS}), overridden by `opts`. An unknown name
 * throws an `ArgumentError` listing the valid ones.
 *
 * @example
 * const opt = getOptimizer('adam', model.parameters(), { lr: 3e-4 });
 */
export function getOptimizer(
  nameOrInstance: string | Optimizer<BaseOptions>,
  params: Iterable<Tensor>,
  opts: Record<string, unknown> = {},
): Optimizer<BaseOptions> {
  if (nameOrInstance instanceof Optimizer) return nameOrInstance;
  const key = typeof nameOrInstance === 'string' ? nameOrInstance.toLowerCase() : '';
  const make = Object.hasOwn(FACTORIES, key) ? FACTORIES[key] : undefined;
  if (make === undefined) {
    throw new ArgumentError(
      'getOptimizer',
      `unknown optimizer ${JSON.stringify(nameOrInstance)}; valid names: ${Object.keys(FACTORIES).join(', ')}, or pass an optimizer instance`,
    );
  }
  return make([...params], { ...structuredClone(OPTIMIZER_DEFAULTS[key]), ...opts });
}
