import { ArgumentError, FormatError } from '@bp/tensor';
import { LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh } from '../layers/activations.js';
import {
  CELU,
  ELU,
  GELU,
  Hardsigmoid,
  Hardswish,
  Hardtanh,
  LogSigmoid,
  Mish,
  ReLU6,
  SELU,
  SiLU,
  Softplus,
  Softsign,
} from '../layers/activations.js';
import { BatchNorm1d } from '../layers/batch-norm1d.js';
import { Conv2d } from '../layers/conv2d.js';
import { Dense } from '../layers/dense.js';
import { Dropout } from '../layers/dropout.js';
import { Flatten } from '../layers/flatten.js';
import { Linear } from '../layers/linear.js';
import { MaxPool2d } from '../layers/max-pool2d.js';
import { Conv1d } from '../layers/conv1d.js';
import { ConvTranspose2d } from '../layers/conv-transpose2d.js';
import { AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d } from '../layers/pooling.js';
import { Unflatten } from '../layers/unflatten.js';
import { BatchNorm2d } from '../layers/batch-norm2d.js';
import { Embedding } from '../layers/embedding.js';
import { GroupNorm } from '../layers/group-norm.js';
import { LayerNorm } from '../layers/layer-norm.js';
import { MultiheadAttention } from '../layers/multihead-attention.js';
import { GPT, type GPTConfig } from '../models/gpt.js';
import type { LayerConfig, Module } from '../module.js';
import { Sequential } from '../sequential.js';
import { recordedLayerType } from './layer-type.js';
import { quoteName } from './safetensors.js';

/** Rebuilds a layer from the config its `getConfig()` wrote. */
export type LayerFactory = (config: Record<string, unknown>) => Module;

type Cfg = Record<string, unknown>;
type Pair = number | [number, number];

const num = (c: Cfg, k: string): number => c[k] as number;
/** The options among `keys` that the config has: a layer refuses options it does not take, and the config also holds its positional arguments. */
const pick = <T>(c: Cfg, keys: readonly string[]): T =>
  Object.fromEntries(keys.filter((k) => Object.hasOwn(c, k)).map((k) => [k, c[k]])) as T;

// Listed here (not registered by each layer's module) so that bundlers which drop
// unused modules cannot drop a layer type that a saved file names.
const builtins: Record<string, LayerFactory> = {
  Linear: (c) => new Linear(c.inFeatures as number | null, num(c, 'outFeatures'), { bias: c.bias as boolean }),
  Dense: (c) => {
    const d = new Dense(num(c, 'units'), {
      useBias: c.useBias as boolean,
      activation: (c.activation as string | null) ?? null,
      inputShape: c.inputShape as number[] | undefined,
    });
    if (c.inFeatures != null && !d.built) d.build(c.inFeatures as number);
    return d;
  },
  Conv2d: (c) =>
    new Conv2d(num(c, 'inChannels'), num(c, 'outChannels'), c.kernelSize as Pair, {
      stride: c.stride as Pair,
      padding: c.padding as Pair,
      dilation: c.dilation as Pair | undefined,
      groups: c.groups as number | undefined,
      bias: c.bias as boolean,
    }),
  Conv1d: (c) =>
    new Conv1d(
      num(c, 'inChannels'),
      num(c, 'outChannels'),
      num(c, 'kernelSize'),
      pick(c, ['stride', 'padding', 'dilation', 'groups', 'bias']),
    ),
  ConvTranspose2d: (c) =>
    new ConvTranspose2d(
      num(c, 'inChannels'),
      num(c, 'outChannels'),
      c.kernelSize as Pair,
      pick(c, ['stride', 'padding', 'outputPadding', 'groups', 'bias', 'dilation']),
    ),
  MaxPool2d: (c) =>
    new MaxPool2d(c.kernelSize as Pair, c.stride as Pair, {
      padding: c.padding as Pair,
      dilation: c.dilation as Pair | undefined,
      ceilMode: c.ceilMode as boolean | undefined,
    }),
  AvgPool2d: (c) =>
    new AvgPool2d(c.kernelSize as Pair, c.stride as Pair, pick(c, ['padding', 'ceilMode', 'countIncludePad', 'divisorOverride'])),
  AdaptiveAvgPool2d: (c) => new AdaptiveAvgPool2d(c.outputSize as number),
  AdaptiveMaxPool2d: (c) => new AdaptiveMaxPool2d(c.outputSize as number),
  Unflatten: (c) => new Unflatten(num(c, 'dim'), c.sizes as number[]),
  Flatten: (c) =>
    new Flatten({ startDim: c.startDim as number, endDim: c.endDim as number, inputShape: c.inputShape as number[] | undefined }),
  Dropout: (c) => new Dropout(num(c, 'p')),
  BatchNorm1d: (c) =>
    new BatchNorm1d(num(c, 'numFeatures'), {
      eps: c.eps as number,
      momentum: c.momentum as number | null,
      affine: c.affine as boolean,
      trackRunningStats: c.trackRunningStats as boolean,
    }),
  BatchNorm2d: (c) =>
    new BatchNorm2d(num(c, 'numFeatures'), {
      eps: c.eps as number,
      momentum: c.momentum as number | null,
      affine: c.affine as boolean,
      trackRunningStats: c.trackRunningStats as boolean,
    }),
  Embedding: (c) => new Embedding(num(c, 'numEmbeddings'), num(c, 'embeddingDim'), { paddingIdx: c.paddingIdx as number | null }),
  LayerNorm: (c) =>
    new LayerNorm(c.normalizedShape as number[], {
      eps: c.eps as number,
      elementwiseAffine: c.elementwiseAffine as boolean,
      bias: c.bias as boolean,
    }),
  GroupNorm: (c) => new GroupNorm(num(c, 'numGroups'), num(c, 'numChannels'), { eps: c.eps as number, affine: c.affine as boolean }),
  MultiheadAttention: (c) =>
    new MultiheadAttention(num(c, 'embedDim'), num(c, 'numHeads'), {
      dropout: c.dropout as number,
      bias: c.bias as boolean,
      batchFirst: c.batchFirst as boolean,
    }),
  GPT: (c) => new GPT(c as unknown as GPTConfig),
  ReLU: () => new ReLU(),
  Sigmoid: () => new Sigmoid(),
  Tanh: () => new Tanh(),
  Softmax: (c) => new Softmax(c.axis as number),
  LogSoftmax: (c) => new LogSoftmax(c.axis as number),
  LeakyReLU: (c) => new LeakyReLU(c.negativeSlope as number),
  GELU: (c) => new GELU({ approximate: c.approximate as 'none' | 'tanh' }),
  SiLU: () => new SiLU(),
  ELU: (c) => new ELU(c.alpha as number),
  CELU: (c) => new CELU(c.alpha as number),
  SELU: () => new SELU(),
  Softplus: (c) => new Softplus({ beta: c.beta as number, threshold: c.threshold as number }),
  Mish: () => new Mish(),
  ReLU6: () => new ReLU6(),
  Hardtanh: (c) => new Hardtanh(c.minVal as number, c.maxVal as number),
  Hardswish: () => new Hardswish(),
  Hardsigmoid: () => new Hardsigmoid(),
  LogSigmoid: () => new LogSigmoid(),
  Softsign: () => new Softsign(),
  Sequential: (c) => {
    if (!Array.isArray(c.layers)) throw new FormatError('model.json', 'a Sequential config needs a layers array');
    const model = new Sequential((c.layers as unknown[]).map((l, i) => layerFromConfig(l, `layers[${i}]`)));
    if (Array.isArray(c.inputShape) && !model.inputShape) model.build(c.inputShape as number[]);
    return model;
  },
};

const custom = new Map<string, LayerFactory>();

/** Whether `type` is one of the built-in layer types a saved file may name. @internal */
export function isBuiltinLayerType(type: string): boolean {
  return Object.hasOwn(builtins, type);
}

/**
 * Makes a custom layer loadable: `load` calls `factory(config)` for entries of
 * `type` (the layer's `layerType`, with its `getConfig()` as `config`).
 */
export function registerLayer(type: string, factory: LayerFactory): void {
  if (typeof type !== 'string' || type === '') throw new ArgumentError('registerLayer', 'type must be a non-empty string');
  if (typeof factory !== 'function') throw new ArgumentError('registerLayer', `factory for '${type}' must be a function`);
  if (Object.hasOwn(builtins, type)) throw new ArgumentError('registerLayer', `'${type}' is a built-in layer type`);
  custom.set(type, factory);
}

/**
 * The layer types in `config` (a {@link layerToConfig} description, Sequentials walked into) that
 * {@link layerFromConfig} could not rebuild here: neither built in nor registered with
 * {@link registerLayer}, each with where it sits.
 */
export function unloadableTypes(config: LayerConfig, where = 'model'): { type: string; where: string }[] {
  const out: { type: string; where: string }[] = [];
  const walk = (c: LayerConfig, at: string): void => {
    if (!Object.hasOwn(builtins, c.type) && !custom.has(c.type)) out.push({ type: c.type, where: at });
    const layers = c.type === 'Sequential' ? c.config.layers : undefined;
    if (Array.isArray(layers)) layers.forEach((l, i) => walk(l as LayerConfig, at === 'model' ? `layers[${i}]` : `${at}.layers[${i}]`));
  };
  walk(config, where);
  return out;
}

/** The description of `layer` that {@link layerFromConfig} turns back into an equal layer. */
export function layerToConfig(layer: Module): LayerConfig {
  return { type: recordedLayerType(layer), config: layer.getConfig() };
}

/** How deeply Sequentials may nest in a description (a real model nests two or three levels). */
export const MAX_NESTING = 64;

let depth = 0;

/**
 * Rebuilds a layer (and, for a Sequential, its layers) from a {@link LayerConfig}.
 * Descriptions nested deeper than {@link MAX_NESTING} levels are refused.
 */
export function layerFromConfig(value: unknown, where = 'model'): Module {
  if (depth >= MAX_NESTING) throw new FormatError('model.json', `${where}: layers are nested more than ${MAX_NESTING} levels deep`);
  depth++;
  try {
    return buildLayer(value, where);
  } finally {
    depth--;
  }
}

function buildLayer(value: unknown, where: string): Module {
  if (value === null || typeof value !== 'object') throw new FormatError('model.json', `${where} must be a { type, config } object`);
  const { type, config } = value as Partial<LayerConfig>;
  if (typeof type !== 'string') throw new FormatError('model.json', `${where} has no layer type`);
  const factory = Object.hasOwn(builtins, type) ? builtins[type] : custom.get(type);
  if (!factory) {
    throw new FormatError(
      'model.json',
      `${where}: unknown layer type ${quoteName(type)}; register custom layers with registerLayer(${quoteName(type)}, factory)`,
    );
  }
  const cfg = config === undefined ? {} : config;
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg))
    throw new FormatError('model.json', `${where} (${type}): config must be an object`);
  try {
    return factory(cfg);
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError('model.json', `${where} (${type}): cannot rebuild the layer from its config: ${(e as Error).message}`);
  }
}
