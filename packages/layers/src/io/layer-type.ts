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
import { BatchNorm2d } from '../layers/batch-norm2d.js';
import { Conv1d } from '../layers/conv1d.js';
import { ConvTranspose2d } from '../layers/conv-transpose2d.js';
import { Conv2d } from '../layers/conv2d.js';
import { Dense } from '../layers/dense.js';
import { Dropout } from '../layers/dropout.js';
import { Embedding } from '../layers/embedding.js';
import { Flatten } from '../layers/flatten.js';
import { GroupNorm } from '../layers/group-norm.js';
import { LayerNorm } from '../layers/layer-norm.js';
import { Linear } from '../layers/linear.js';
import { MaxPool2d } from '../layers/max-pool2d.js';
import { MultiheadAttention } from '../layers/multihead-attention.js';
import { AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d } from '../layers/pooling.js';
import { Unflatten } from '../layers/unflatten.js';
import { GPT } from '../models/gpt.js';
import type { Module } from '../module.js';
import { Sequential } from '../sequential.js';

type LayerClass = abstract new (...args: never[]) => Module;

/** The built-in layer classes by type, made on first use: sequential.ts imports this module, so Sequential is not defined yet when it loads. */
let classes: Map<string, LayerClass> | null = null;

function builtinClass(type: string): LayerClass | undefined {
  classes ??= new Map<string, LayerClass>(
    Object.entries({
      Linear,
      Dense,
      Conv1d,
      Conv2d,
      ConvTranspose2d,
      MaxPool2d,
      AvgPool2d,
      AdaptiveAvgPool2d,
      AdaptiveMaxPool2d,
      Unflatten,
      Flatten,
      Dropout,
      BatchNorm1d,
      BatchNorm2d,
      Embedding,
      LayerNorm,
      GroupNorm,
      MultiheadAttention,
      GPT,
      ReLU,
      Sigmoid,
      Tanh,
      Softmax,
      LogSoftmax,
      LeakyReLU,
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
      Sequential,
    }),
  );
  return classes.get(type);
}

/**
 * The built-in layer whose `layerType` `layer` reports although it computes something else: a
 * subclass (`class Scaled extends Linear`) with a `forward` of its own but the built-in's name.
 * Null for a built-in layer itself, a subclass that only changes how it is constructed, and a
 * layer of a type of its own.
 */
export function disguisedBuiltin(layer: Module): string | null {
  const type = layer.layerType;
  const base = builtinClass(type);
  if (base === undefined || layer.constructor === base || layer.forward === base.prototype.forward) return null;
  return type;
}

/**
 * The type a saved file records for `layer`: its `layerType`, except for a subclass of a built-in
 * layer that computes something else under the built-in's name (see {@link disguisedBuiltin}). That
 * one is recorded under its class's name, so that `load` asks for its factory (`registerLayer`)
 * rather than rebuilding the plain built-in layer and computing other outputs without a word.
 */
export function recordedLayerType(layer: Module): string {
  const base = disguisedBuiltin(layer);
  if (base === null) return layer.layerType;
  const own = layer.constructor.name;
  return own !== '' && own !== base ? own : `${base}Subclass`;
}
