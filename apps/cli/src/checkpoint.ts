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
import { BACKENDS, DATASETS, LOSSES, OPTIMIZERS } from './choices.js';
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
  checkState(name, state);
  const model: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(tensors)) if (k.startsWith('model.')) model[k.slice('model.'.length)] = t;
  const orderT = tensors['progress.order'];
  if (orderT && (orderT.dtype !== 'int32' || orderT.rank !== 1)) {
    throw new FormatError(name, `progress.order must be a 1-d int32 tensor, got ${orderT.dtype} [${orderT.shape.join(',')}]`);
  }
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

type Check = [path: string, ok: (v: unknown) => boolean, what: string];

const isInt = (min: number) => (v: unknown) => Number.isSafeInteger(v) && (v as number) >= min;
const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const oneOf = (list: readonly string[]) => (v: unknown) => typeof v === 'string' && list.includes(v);
const orNull = (f: (v: unknown) => boolean) => (v: unknown) => v === null || f(v);

const STATE_CHECKS: Check[] = [
  ['settings.dataset', oneOf(DATASETS), `one of ${DATASETS.join(', ')}`],
  ['settings.model', (v) => typeof v === 'string' && v !== '', 'a model name or file'],
  ['settings.epochs', isInt(1), 'a positive integer'],
  ['settings.batchSize', isInt(1), 'a positive integer'],
  ['settings.lr', (v) => isNumber(v) && (v as number) > 0, 'a positive number'],
  ['settings.optimizer', oneOf(OPTIMIZERS), `one of ${OPTIMIZERS.join(', ')}`],
  ['settings.loss', oneOf(LOSSES), `one of ${LOSSES.join(', ')}`],
  ['settings.backend', oneOf(BACKENDS), `one of ${BACKENDS.join(', ')}`],
  ['settings.seed', (v) => Number.isSafeInteger(v), 'an integer'],
  ['settings.limit', orNull(isInt(0)), 'null or a non-negative integer'],
  ['settings.validationSplit', (v) => isNumber(v) && (v as number) >= 0 && (v as number) < 1, 'a number in [0, 1)'],
  ['settings.dataDir', orNull((v) => typeof v === 'string'), 'null or a directory'],
  ['progress.epoch', isInt(0), 'a non-negative integer'],
  ['progress.step', isInt(0), 'a non-negative integer'],
  ['progress.sums', (v) => v !== null && typeof v === 'object' && ['loss', 'correct', 'examples', 'seconds'].every((k) => isNumber((v as Record<string, unknown>)[k])), 'running sums { loss, correct, examples, seconds }'],
  ['progress.history', (v) => Array.isArray(v) && v.every((r) => r !== null && typeof r === 'object' && isInt(1)(r.epoch) && typeof r.loss === 'number'), 'a list of epoch records'],
  ['random.s', (v) => Array.isArray(v) && v.length === 4 && v.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32), 'four 32-bit generator words'],
  ['random.spare', orNull(isNumber), 'null or a number'],
];

/** Checks the settings, progress and random state before any of it is used, naming the first bad entry. */
function checkState(name: string, state: unknown): void {
  for (const [path, ok, what] of STATE_CHECKS) {
    const v = path.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), state);
    if (!ok(v)) throw new FormatError(name, `checkpoint state '${path}' must be ${what}, got ${JSON.stringify(v) ?? 'nothing'}`);
  }
}

/**
 * Checks that a resumed epoch's order is a permutation of the `n` training
 * examples: a checkpoint from another dataset size (or a damaged one) must
 * not index past the data or skip examples.
 */
export function checkOrder(name: string, order: Int32Array, n: number): void {
  const seen = new Uint8Array(n);
  const ok = order.length === n && order.every((i) => i >= 0 && i < n && seen[i]++ === 0);
  if (!ok) throw new FormatError(name, `progress.order is not a permutation of the ${n} training examples (it has ${order.length} entries)`);
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
