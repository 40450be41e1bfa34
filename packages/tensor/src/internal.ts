/**
 * `@bp/tensor/internal`: the seams that bp's own packages build on — the autograd
 * hooks, op recording, storage helpers and the kernels that gradient rules and
 * optimizers call directly. **Unstable**: these change between minor versions
 * without notice. Applications should need only `@bp/tensor`.
 *
 * @packageDocumentation
 */
export { checkOptions, closest, shownValue } from './errors.js';
export { installAutograd, autogradHooks, setOpObserver, record } from './engine.js';
export type { AutogradHooks, OpObserver, RecordArgs } from './engine.js';
export { reluBackward } from './ops/relu-backward.js';
export { geluBackward, geluGrad } from './ops/activation.js';
export { layerNormBackward } from './ops/layer-norm.js';
export {
  attentionBackward,
  attentionHeads,
  attentionPackedBackward,
  selfAttentionHeads,
  setSelfAttentionPacking,
} from './ops/attention.js';
export {
  conv2dBackward,
  conv2dReluMaxPool2d,
  conv2dReluPoolBackward,
  im2colWide,
  col2imWide,
  linearBackward,
  maxPool2dBackward,
  reluMaxPool2d,
  softmaxBackward,
  windowOutputSize,
} from './ops/nn.js';
export { adamUpdateInPlace, hasFusedAdam } from './ops/adam-update.js';
export { scaleInPlace, sumOfSquares } from './ops/grad-norm.js';
export {
  meanOverKept,
  nllTerms,
  probabilityNll,
  probabilityNllBackward,
  softmaxCrossEntropy,
  softmaxCrossEntropyBackward,
} from './ops/cross-entropy.js';
export type { CrossEntropyReduction, NllTerms, ProbabilityNllOptions, SoftmaxCrossEntropyOptions } from './ops/cross-entropy.js';
import { installMethods } from './tensor.js';
export { wrap, view, bumpVersion, ensureExclusive, markShared, ownsStorage } from './tensor.js';
export type { GradNodeLike } from './tensor.js';
export { StorageRef } from './memory.js';
export { WARMUP as THREAD_POLICY_WARMUP, setThreadPolicy } from './cpu/wasm/thread-pool.js';
export { WasmRuntime, kernelModule, DATA_AT } from './cpu/wasm/wasm-runtime.js';
export { KC, MC, packA, packB } from './cpu/wasm/wasm-gemm.js';
export { addAlong } from './ops/movement.js';
export { UNARY_OPS } from './backend/unary-ops.js';
export type { UnaryDef } from './backend/unary-ops.js';
export { make, toTensor, checkTensor, composite } from './ops/util.js';
export { shapesEqual } from './shape.js';
export { REQUIRED_METHODS } from './backend/registry.js';

// Every op module is loaded by now: complete the Tensor methods.
installMethods();
