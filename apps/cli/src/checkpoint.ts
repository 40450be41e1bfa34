/**
 * Training checkpoints: one safetensors file holding the model's weights,
 * the optimizer's tensors, and (in its JSON metadata) the run's settings,
 * the optimizer's remaining state, the random generator's state and how far
 * training got. One file, written atomically, so a checkpoint is always
 * either the previous complete one or the new complete one.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeSafetensors, encodeSafetensors, writeFileAtomic } from '@bp/layers';
import type { OptimizerStateDict } from '@bp/optim';
import { FormatError, tensor, type RandomState, type Tensor } from '@bp/tensor';
import type { TrainSettings } from './settings.js';
import { packState, unpackState, type Json } from './state-pack.js';
import type { Progress } from './trainer.js';

/** The checkpoint's file name inside the run directory. */
export const CHECKPOINT_FILE = 'checkpoint.safetensors';
const FORMAT = 'bp-checkpoint';
const VERSION = 1;

/** Everything needed to continue a run exactly. */
export interface Checkpoint {
  settings: TrainSettings;
  progress: Progress;
  random: RandomState;
  model: Record<string, Tensor>;
  optimizer: OptimizerStateDict;
}

/** The checkpoint as safetensors bytes. */
export function encodeCheckpoint(cp: Checkpoint): Uint8Array {
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(cp.model)) tensors[`model.${k}`] = t;
  const optimizer = packState(cp.optimizer, 'optimizer', tensors);
  const { order, ...rest } = cp.progress;
  if (order) tensors['progress.order'] = tensor(order, { shape: [order.length], dtype: 'int32' });
  const state: Json = {
    settings: cp.settings as unknown as Json,
    progress: rest as unknown as Json,
    random: cp.random as unknown as Json,
    optimizer,
  };
  return encodeSafetensors(tensors, { metadata: { format: FORMAT, version: String(VERSION), state: JSON.stringify(state) } });
}

/** Parses checkpoint bytes; `name` (the file) appears in every error. */
export function decodeCheckpoint(bytes: Uint8Array, name: string): Checkpoint {
  const { tensors, metadata } = decodeSafetensors(bytes, { source: name });
  if (metadata?.format !== FORMAT) throw new FormatError(name, `is not a bp checkpoint (metadata format is ${JSON.stringify(metadata?.format ?? null)}, expected "${FORMAT}")`);
  if (metadata.version !== String(VERSION)) throw new FormatError(name, `has checkpoint version ${metadata.version}; this bp reads version ${VERSION}`);
  let state: { settings: TrainSettings; progress: Omit<Progress, 'order'>; random: RandomState; optimizer: Json };
  try {
    state = JSON.parse(metadata.state ?? '');
  } catch (e) {
    throw new FormatError(name, `has unreadable checkpoint state: ${(e as Error).message}`);
  }
  for (const key of ['settings', 'progress', 'random', 'optimizer'] as const) {
    if (state?.[key] === undefined) throw new FormatError(name, `checkpoint state lacks '${key}'`);
  }
  const model: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(tensors)) if (k.startsWith('model.')) model[k.slice('model.'.length)] = t;
  const orderT = tensors['progress.order'];
  const progress: Progress = { ...state.progress, order: orderT ? (orderT.dataSync() as Int32Array) : null };
  if (progress.step > 0 && progress.order === null) throw new FormatError(name, `stops inside epoch ${progress.epoch + 1} but lacks that epoch's order`);
  return {
    settings: state.settings,
    progress,
    random: state.random,
    model,
    optimizer: unpackState(state.optimizer, tensors) as OptimizerStateDict,
  };
}

/** Writes `cp` to `dir/checkpoint.safetensors` atomically; returns the path. */
export async function writeCheckpoint(dir: string, cp: Checkpoint): Promise<string> {
  const path = join(dir, CHECKPOINT_FILE);
  await writeFileAtomic(path, encodeCheckpoint(cp));
  return path;
}

/** Reads the checkpoint of the run in `dir`. */
export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  const path = join(dir, CHECKPOINT_FILE);
  let bytes: Uint8Array;
  try {
    // A plain Uint8Array copy: a Node Buffer's slice() is a view into a shared pool, not a copy.
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new FormatError(path, `not found: ${dir} holds no checkpoint to resume (bp train writes one after every epoch, and on Ctrl-C)`);
    }
    throw e;
  }
  return decodeCheckpoint(bytes, path);
}
