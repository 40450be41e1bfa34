/**
 * @bp/layers: PyTorch-style modules (`Linear`, `Conv2d`, `BatchNorm1d`...)
 * and a Keras-style `Sequential` with `compile`, `fit`, `evaluate`,
 * `predict` and `summary`; models save as JSON plus safetensors, which
 * PyTorch reads.
 *
 * Models load, run and save with @bp/tensor alone; training needs
 * @bp/autograd, and `compile` by name finds optimizers and losses once
 * @bp/optim and @bp/losses are imported (they register their names).
 *
 * @example
 * import { Sequential, Dense } from '@bp/layers';
 * import '@bp/optim'; // 'adam' (and @bp/autograd, which it imports)
 * import '@bp/losses'; // 'sparseCategoricalCrossentropy'
 * const model = new Sequential([
 *   new Dense(128, { activation: 'relu', inputShape: [784] }),
 *   new Dense(10, { activation: 'softmax' }),
 * ]);
 * model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
 * const history = await model.fit(x, y, { epochs: 5, validationSplit: 0.1 });
 *
 * @packageDocumentation
 */
export { Module } from './module.js';
export type { LayerConfig, LoadStateDictOptions, LoadStateDictResult } from './module.js';
export { kaimingUniform, kaimingUniformBound, fanInUniform } from './init.js';
export { Linear } from './layers/linear.js';
export type { LinearOptions } from './layers/linear.js';
export { Dense } from './layers/dense.js';
export type { DenseOptions } from './layers/dense.js';
export { Conv2d } from './layers/conv2d.js';
export type { Conv2dOptions } from './layers/conv2d.js';
export { Conv1d } from './layers/conv1d.js';
export type { Conv1dOptions } from './layers/conv1d.js';
export { ConvTranspose2d } from './layers/conv-transpose2d.js';
export type { ConvTranspose2dOptions } from './layers/conv-transpose2d.js';
export { AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d } from './layers/pooling.js';
export type { AvgPool2dOptions } from './layers/pooling.js';
export { Unflatten } from './layers/unflatten.js';
export { MaxPool2d } from './layers/max-pool2d.js';
export type { MaxPool2dOptions } from './layers/max-pool2d.js';
export { Flatten } from './layers/flatten.js';
export type { FlattenOptions } from './layers/flatten.js';
export { Dropout } from './layers/dropout.js';
export { BatchNorm1d } from './layers/batch-norm1d.js';
export type { BatchNorm1dOptions } from './layers/batch-norm1d.js';
export { ReLU, Sigmoid, Tanh, Softmax, LogSoftmax, LeakyReLU, activationByName } from './layers/activations.js';
export {
  GELU,
  SiLU,
  ELU,
  CELU,
  SELU,
  Softplus,
  Mish,
  ReLU6,
  Hardtanh,
  Hardswish,
  Hardsigmoid,
  LogSigmoid,
  Softsign,
} from './layers/activations.js';
export type { ActivationName } from './layers/activations.js';
export { Embedding } from './layers/embedding.js';
export type { EmbeddingOptions } from './layers/embedding.js';
export { LayerNorm } from './layers/layer-norm.js';
export type { LayerNormOptions } from './layers/layer-norm.js';
export { MultiheadAttention } from './layers/multihead-attention.js';
export type { MultiheadAttentionOptions, MultiheadAttentionCallOptions } from './layers/multihead-attention.js';
export { GroupNorm } from './layers/group-norm.js';
export type { GroupNormOptions } from './layers/group-norm.js';
export { BatchNorm2d } from './layers/batch-norm2d.js';
export type { BatchNorm2dOptions } from './layers/batch-norm2d.js';
export { ModuleList, ModuleDict } from './layers/containers.js';
export * as init from './initializers.js';
export type { Nonlinearity, FanMode, KaimingOptions } from './initializers.js';
export { GPT, GPTBlock, GPTMlp } from './models/gpt.js';
export type { GPTConfig, GenerateOptions } from './models/gpt.js';
export * as presets from './models/presets.js';
export type { PresetOptions } from './models/presets.js';
export { Sequential } from './sequential.js';
export { History } from './training/history.js';
export type { Callback, CallbackModel, Logs } from './training/callbacks.js';
export { EarlyStopping } from './training/early-stopping.js';
export type { EarlyStoppingOptions } from './training/early-stopping.js';
export {
  accuracy,
  binaryAccuracy,
  categoricalAccuracy,
  sparseCategoricalAccuracy,
  correctCount,
  meanSquaredError,
  meanAbsoluteError,
  getMetric,
} from './training/metrics.js';
export type { Metric, MetricFn } from './training/metrics.js';
export { DEFAULT_LEARNING_RATES, optimizerByName, resolveLoss } from './training/compile.js';
export type { CompileArgs, Loss, OptimizerLike, OptimizerName, Compiled } from './training/compile.js';
export { NonFiniteLossError, trainSteps, inEvalMode } from './training/train-steps.js';
export type {
  TrainStepsOptions,
  TrainPosition,
  TrainEvent,
  EpochBeginEvent,
  BatchBeginEvent,
  BatchEndEvent,
  EpochEndEvent,
  StepOptimizer,
} from './training/train-steps.js';
export type { FitOptions, EvaluateOptions } from './training/fit.js';
export { outputKind } from './training/output-kind.js';
export type { OutputKind } from './training/output-kind.js';
export { trainingRegistry, TRAINING_REGISTRY_KEY } from './training/registry.js';
export type { TrainingRegistry, RegisteredLoss, LossInput, OptimizerFactory } from './training/registry.js';
export { encodeSafetensors, decodeSafetensors, readSafetensorsHeader } from './io/safetensors.js';
export type {
  SafetensorsDType,
  SafetensorsEntry,
  SafetensorsContents,
  EncodeSafetensorsOptions,
  DecodeSafetensorsOptions,
} from './io/safetensors.js';
export { registerLayer, layerToConfig, layerFromConfig } from './io/architecture.js';
export { disguisedBuiltin } from './io/layer-type.js';
export type { LayerFactory } from './io/architecture.js';
export { toMemory, fromMemory, checkArchitectureSize, weightValuesProblem, MAX_WINDOW_SETTING, MODEL_FORMAT_VERSION } from './io/memory.js';
export { withParameterBudget } from './parameter-budget.js';
export type { ModelJson, ModelArtifacts } from './io/memory.js';
export { save, load, writeFileAtomic, readRegularFile } from './io/save.js';
export type { ReadRegularFileOptions } from './io/save.js';
