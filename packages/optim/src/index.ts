/**
 * @bp/optim: optimizers with PyTorch's update rules (SGD, Adam, AdamW,
 * RMSprop, Adagrad), learning-rate schedulers and gradient clipping.
 *
 * @example
 * import '@bp/autograd';
 * import { Adam } from '@bp/optim';
 * const opt = new Adam(model.parameters(), { lr: 1e-3 });
 * for (const [x, y] of batches) {
 *   opt.zeroGrad();
 *   crossEntropyLoss(model.forward(x), y).backward();
 *   opt.step();
 * }
 *
 * @packageDocumentation
 */
export { Optimizer, checkNonNegative, checkUnitInterval } from './optimizer.js';
export type { BaseOptions, ParamGroup, ParamGroupInput, Params, ParamState, OptimizerStateDict } from './optimizer.js';
export { SGD } from './sgd.js';
export type { SGDOptions } from './sgd.js';
export { Adam, AdamW, AdamBase } from './adam.js';
export type { AdamOptions, AdamHyper } from './adam.js';
export { RMSprop } from './rmsprop.js';
export type { RMSpropOptions } from './rmsprop.js';
export { Adagrad } from './adagrad.js';
export type { AdagradOptions } from './adagrad.js';
export { LRScheduler } from './lr-scheduler.js';
export type { SchedulerStateDict } from './lr-scheduler.js';
export { StepLR } from './step-lr.js';
export type { StepLROptions } from './step-lr.js';
export { ExponentialLR } from './exponential-lr.js';
export type { ExponentialLROptions } from './exponential-lr.js';
export { CosineAnnealingLR } from './cosine-annealing-lr.js';
export type { CosineAnnealingLROptions } from './cosine-annealing-lr.js';
export { LinearWarmupCosineLR } from './warmup-cosine.js';
export type { LinearWarmupCosineLROptions } from './warmup-cosine.js';
export { ReduceLROnPlateau } from './reduce-lr-on-plateau.js';
export type { ReduceLROnPlateauOptions } from './reduce-lr-on-plateau.js';
export { clipGradNorm, clipGradValue } from './clip-grad.js';
export type { ClipGradNormOptions } from './clip-grad.js';
export { getOptimizer, OPTIMIZER_DEFAULTS } from './registry.js';
// Makes every optimizer available by name to `compile` in @bp/layers.
import './register.js';
