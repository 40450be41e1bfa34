import { ArgumentError, FormatError } from '@bp/tensor';
import { LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh } from '../layers/activations.js';
import { BatchNorm1d } from '../layers/batch-norm1d.js';
import { Conv2d } from '../layers/conv2d.js';
import { Dense } from '../layers/dense.js';
import { Dropout } from '../layers/dropout.js';
import { Flatten } from '../layers/flatten.js';
import { Linear } from '../layers/linear.js';
import { MaxPool2d } from '../layers/max-pool2d.js';
import type { LayerConfig, Module } from '../module.js';
import { Sequential } from '../sequential.js';
import { quoteName } from './safetensors.js';

/** Rebuilds a layer from the config its `getConfig()` wrote. */
export type LayerFactory = (config: Record<string, unknown>) => Module;

type Cfg = Record<string, unknown>;
type Pair = number | [number, number];

const num = (c: Cfg, k: string): number => c[k] as number;

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
      bias: c.bias as boolean,
    }),
  MaxPool2d: (c) => new MaxPool2d(c.kernelSize as Pair, c.stride as Pair, { padding: c.padding as Pair }),
  Flatten: (c) => new Flatten({ startDim: c.startDim as number, endDim: c.endDim as number, inputShape: c.inputShape as number[] | undefined }),
  Dropout: (c) => new Dropout(num(c, 'p')),
  BatchNorm1d: (c) =>
    new BatchNorm1d(num(c, 'numFeatures'), {
      eps: c.eps as number,
      momentum: c.momentum as number | null,
      affine: c.affine as boolean,
      trackRunningStats: c.trackRunningStats as boolean,
    }),
  ReLU: () => new ReLU(),
  Sigmoid: () => new Sigmoid(),
  Tanh: () => new Tanh(),
  Softmax: (c) => new Softmax(c.axis as number),
  LogSoftmax: (c) => new LogSoftmax(c.axis as number),
  LeakyReLU: (c) => new LeakyReLU(c.negativeSlope as number),
  Sequential: (c) => {
    if (!Array.isArray(c.layers)) throw new FormatError('model.json', 'a Sequential config needs a layers array');
    const model = new Sequential((c.layers as unknown[]).map((l, i) => layerFromConfig(l, `layers[${i}]`)));
    if (Array.isArray(c.inputShape) && !model.inputShape) model.build(c.inputShape as number[]);
    return model;
  },
};

const custom = new Map<string, LayerFactory>();

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

/** The description of `layer` that {@link layerFromConfig} turns back into an equal layer. */
export function layerToConfig(layer: Module): LayerConfig {
  return { type: layer.layerType, config: layer.getConfig() };
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
    throw new FormatError('model.json', `${where}: unknown layer type ${quoteName(type)}; register custom layers with registerLayer(${quoteName(type)}, factory)`);
  }
  const cfg = config === undefined ? {} : config;
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) throw new FormatError('model.json', `${where} (${type}): config must be an object`);
  try {
    return factory(cfg);
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError('model.json', `${where} (${type}): cannot rebuild the layer from its config: ${(e as Error).message}`);
  }
}
