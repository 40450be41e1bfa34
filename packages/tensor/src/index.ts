/**
 * @bp/tensor: n-d tensors, broadcasting ops, the backend interface and the
 * default CPU backend. Import `@bp/autograd` to make every op differentiable.
 *
 * @packageDocumentation
 */
import { installMethods } from './tensor.js';
export { Tensor, isTensor } from './tensor.js';
export { tidy, keep } from './memory.js';
export { setDebugChecks, getDebugChecks, valueChecksOn } from './debug-checks.js';
export type { DebugChecks } from './debug-checks.js';
export type { TensorLike, NestedArray, NestedData } from './tensor.js';
export type { DType, TypedArray } from './dtype.js';
export {
  BpError,
  ShapeError,
  AxisError,
  DTypeError,
  ArgumentError,
  IndexError,
  FormatError,
  NotAvailableError,
  fmtShape,
} from './errors.js';
export { manualSeed, random, randomNormal, randomInt, randomPermutation, getRandomState, setRandomState } from './random.js';
export type { RandomState } from './random.js';
export {
  tensor,
  scalar,
  zeros,
  ones,
  full,
  zerosLike,
  onesLike,
  rand,
  randn,
  uniform,
  randint,
  arange,
  linspace,
  eye,
} from './ops/creation.js';
export type { TensorOptions, TensorDataOptions } from './ops/creation.js';
// Every elementwise op (the module exports nothing else but its types and method table).
export * from './ops/elementwise.js';
export {
  gelu,
  silu,
  elu,
  celu,
  selu,
  softplus,
  mish,
  hardtanh,
  relu6,
  hardswish,
  hardsigmoid,
  logsigmoid,
  softsign,
} from './ops/activation.js';
export type { GeluOptions, SoftplusOptions } from './ops/activation.js';
export { variance, std, norm, cumsum, cumprod, cummax, cummin, maxWithIndices, minWithIndices, all, any } from './ops/stats.js';
export type { VarianceOptions, NormOrder, ValuesIndices } from './ops/stats.js';
export type { ReduceAttrs } from './ops/reduce.js';
export type { MatmulAttrs } from './ops/matmul.js';
export type { MovementAttrs } from './ops/movement.js';
export type { NnAttrs } from './ops/nn.js';
export type { TensorMethods } from './tensor.js';
export { sum, mean, max, min, prod, argmax, argmin } from './ops/reduce.js';
export { matmul, matmulT } from './ops/matmul.js';
export {
  reshape,
  transpose,
  flatten,
  unsqueeze,
  squeeze,
  broadcastTo,
  slice,
  narrow,
  pad,
  concat,
  stack,
  gather,
  scatterAdd,
  indexSelect,
  scatter,
} from './ops/movement.js';
export type { PadMode, PadOptions } from './ops/movement.js';
export {
  numel,
  view,
  unflatten,
  flip,
  roll,
  repeat,
  repeatInterleave,
  tril,
  triu,
  diagonal,
  diag,
  unfold,
  maskedFill,
  maskedSelect,
  index,
  einsum,
} from './ops/indexing.js';
export type { IndexSpec, RepeatInterleaveOptions } from './ops/indexing.js';
export { softmax, logSoftmax, logSumExp, oneHot, im2col, col2im, conv2d, maxPool2d, avgPool2d, window2d, linear } from './ops/nn.js';
export type { WindowOptions, ConvOptions, MaxPool2dOptions, AvgPool2dOptions, LinearOpOptions } from './ops/nn.js';
export { conv1d, convTranspose2d, adaptiveAvgPool2d, adaptiveMaxPool2d } from './ops/conv.js';
export type { Conv1dOptions, ConvTranspose2dOptions } from './ops/conv.js';
export { layerNorm } from './ops/layer-norm.js';
export { scaledDotProductAttention } from './ops/attention.js';
export type { ScaledDotProductAttentionOptions } from './ops/attention.js';
export { setBackend, getBackend, listBackends, registerBackend } from './backend/registry.js';
export type { BackendFactory } from './backend/registry.js';
export type { Backend, UnaryOp, BinaryOp, ReduceOp, Window2d, FusedKernels, AdamConstants, AttentionShape } from './backend/backend.js';
export { cpuBackend } from './cpu/cpu-backend.js';
export { isGradEnabled, setGradEnabled } from './engine.js';
export type { OpAttrs, OpName, NoAttrs, BackwardOptions } from './engine.js';
export { broadcastShapes, sizeOf, normAxis, normAxes } from './shape.js';

// Every op module is loaded by now: complete the Tensor methods.
installMethods();
