/**
 * Training checkpoints: one safetensors file holding the model's weights,
 * the optimizer's tensors, and (in its JSON metadata) the run's settings,
 * the optimizer's remaining state, the random generator's state and how far
 * training got. One file, written atomically, so a checkpoint is always
 * either the previous complete one or the new complete one.
 */
import { join } from 'node:path';
import { decodeSafetensors, encodeSafetensors, readRegularFile, writeFileAtomic } from '@bp/layers';
import type { OptimizerStateDict } from '@bp/optim';
import { FormatError, tensor, type RandomState, type Tensor } from '@bp/tensor';
import { BACKENDS, DATASETS, LOSSES, OPTIMIZERS } from './choices.js';
import { OutputDirError } from './run-dir.js';
import type { TrainSettings } from './settings.js';
import { packState, unpackState, type Json } from './state-pack.js';
import { jsonErrorWhere, terminalQuote } from './terminal-safe.js';
import type { Progress } from './trainer.js';

/** The checkpoint's file name inside the run directory. */
export const CHECKPOINT_FILE = 'checkpoint.safetensors';
const FORMAT = 'bp-checkpoint';
const VERSION = 1;

/** A setting changed when a run was resumed (`--lr`, `--epochs`), kept in the run's history. */
export interface SettingChange {
  /** Epochs completed, and steps into the next one, when the change took effect. */
  epoch: number;
  step: number;
  setting: 'lr' | 'epochs';
  from: number;
  to: number;
}

/** Everything needed to continue a run exactly. */
export interface Checkpoint {
  settings: TrainSettings;
  progress: Progress;
  random: RandomState;
  model: Record<string, Tensor>;
  optimizer: OptimizerStateDict;
  /** Settings changed on resume, oldest first (absent in older checkpoints: none). */
  changes?: SettingChange[];
  /**
   * The architecture (`{ type, config }`) of a model given as a file, as it
   * was when the run started: a resumed run trains this, whatever the file says now.
   * Null for the built-in models.
   */
  architecture?: Json | null;
}

/** The first NaN or ±Infinity among `tensors`, by name and flat index; null when all are finite. */
export function firstNonFinite(tensors: Readonly<Record<string, Tensor>>): { name: string; index: number; value: number } | null {
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== 'float32') continue;
    const values = t.dataSync();
    for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return { name, index: i, value: values[i] };
  }
  return null;
}

/** The weights and optimizer tensors of `cp` by their names in the file (`model.0.weight`, `optimizer.state.0.exp_avg`). */
export function checkpointTensors(cp: Pick<Checkpoint, 'model' | 'optimizer'>): Record<string, Tensor> {
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(cp.model)) tensors[`model.${k}`] = t;
  packState(cp.optimizer, 'optimizer', tensors);
  return tensors;
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
    changes: (cp.changes ?? []) as unknown as Json,
    architecture: cp.architecture ?? null,
  };
  return encodeSafetensors(tensors, { metadata: { format: FORMAT, version: String(VERSION), state: JSON.stringify(state) } });
}

/** Parses checkpoint bytes; `name` (the file) appears in every error. */
export function decodeCheckpoint(bytes: Uint8Array, name: string): Checkpoint {
  const { tensors, metadata } = decodeSafetensors(bytes, { source: name });
  if (metadata?.format !== FORMAT)
    throw new FormatError(
      name,
      `is not a bp checkpoint (metadata format is ${JSON.stringify(metadata?.format ?? null)}, expected "${FORMAT}")`,
    );
  if (metadata.version !== String(VERSION))
    throw new FormatError(name, `has checkpoint version ${metadata.version}; this bp reads version ${VERSION}`);
  let state: {
    settings: TrainSettings;
    progress: Omit<Progress, 'order'>;
    random: RandomState;
    optimizer: Json;
    changes?: SettingChange[];
    architecture?: Json | null;
  };
  try {
    state = JSON.parse(metadata.state ?? '');
  } catch (e) {
    throw new FormatError(name, `has unreadable checkpoint state (${jsonErrorWhere(e)})`);
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
  if (progress.step > 0 && progress.order === null)
    throw new FormatError(name, `stops inside epoch ${progress.epoch + 1} but lacks that epoch's order`);
  const bad = firstNonFinite(tensors);
  if (bad) {
    throw new FormatError(
      name,
      `tensor ${terminalQuote(bad.name)} holds ${bad.value} at index ${bad.index}: a checkpoint with non-finite weights or optimizer state cannot be resumed`,
    );
  }
  return {
    settings: state.settings,
    progress,
    random: state.random,
    model,
    optimizer: unpackState(state.optimizer, tensors) as OptimizerStateDict,
    changes: state.changes ?? [],
    architecture: state.architecture ?? null,
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
  [
    'progress.sums',
    (v) =>
      v !== null &&
      typeof v === 'object' &&
      ['loss', 'correct', 'examples', 'seconds'].every((k) => isNumber((v as Record<string, unknown>)[k])),
    'running sums { loss, correct, examples, seconds }',
  ],
  [
    'progress.history',
    (v) => Array.isArray(v) && v.every((r) => r !== null && typeof r === 'object' && isInt(1)(r.epoch) && typeof r.loss === 'number'),
    'a list of epoch records',
  ],
  [
    'random.s',
    (v) => Array.isArray(v) && v.length === 4 && v.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32),
    'four 32-bit generator words',
  ],
  ['random.spare', orNull(isNumber), 'null or a number'],
  [
    'changes',
    (v) =>
      v === undefined ||
      (Array.isArray(v) &&
        v.every(
          (c) =>
            c !== null &&
            typeof c === 'object' &&
            isInt(0)(c.epoch) &&
            isInt(0)(c.step) &&
            (c.setting === 'lr' || c.setting === 'epochs') &&
            isNumber(c.from) &&
            isNumber(c.to),
        )),
    'a list of setting changes { epoch, step, setting, from, to }',
  ],
  [
    'architecture',
    (v) => v === undefined || v === null || (typeof v === 'object' && !Array.isArray(v)),
    'null or a { type, config } description',
  ],
];

/** A value read from a file, for a message: numbers and short strings as JSON, anything else by its kind. */
function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (typeof v === 'string') return terminalQuote(v);
  return Array.isArray(v) ? `an array of ${v.length}` : 'an object';
}

/** Checks the settings, progress and random state before any of it is used, naming the first bad entry. */
function checkState(name: string, state: unknown): void {
  for (const [path, ok, what] of STATE_CHECKS) {
    const v = path
      .split('.')
      .reduce<unknown>(
        (o, k) => (o !== null && typeof o === 'object' && Object.hasOwn(o, k) ? (o as Record<string, unknown>)[k] : undefined),
        state,
      );
    if (!ok(v)) throw new FormatError(name, `checkpoint state '${path}' must be ${what}, got ${describeValue(v)}`);
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
  if (!ok)
    throw new FormatError(name, `progress.order is not a permutation of the ${n} training examples (it has ${order.length} entries)`);
}

/** Writes `cp` to `dir/checkpoint.safetensors` atomically; returns the path. */
export async function writeCheckpoint(dir: string, cp: Checkpoint): Promise<string> {
  const path = join(dir, CHECKPOINT_FILE);
  await writeFileAtomic(path, encodeCheckpoint(cp));
  return path;
}

/** Reads the checkpoint of the run in `dir`. */
export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  return decodeCheckpoint(await readCheckpointBytes(dir), join(dir, CHECKPOINT_FILE));
}

/** The bytes of the checkpoint of the run in `dir`, with errors that say what --resume expects. */
export async function readCheckpointBytes(dir: string): Promise<Uint8Array> {
  const path = join(dir, CHECKPOINT_FILE);
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(path, { what: 'checkpoint' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new FormatError(path, `not found: ${dir} holds no checkpoint to resume (bp train writes one after every epoch, and on Ctrl-C)`);
    }
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw new FormatError(dir, "not a directory: --resume takes a run's directory (the --out DIR of bp train), not a file in it");
    }
    throw e;
  }
  return bytes;
}

/**
 * Refuses to continue from `read`, the checkpoint bytes a resumed run read before it locked the
 * directory `dir`, when the file now holds others: another bp train held the lock meanwhile and
 * wrote a newer checkpoint, and training on from the older one would undo that run's progress.
 */
export async function checkCheckpointUnchanged(dir: string, read: Uint8Array): Promise<void> {
  if (Buffer.compare(await readCheckpointBytes(dir), read) !== 0) {
    throw new OutputDirError(
      'train',
      `${join(dir, CHECKPOINT_FILE)} changed while this bp train was starting: another bp train wrote a newer checkpoint there. ` +
        'Run the command again to continue from it.',
    );
  }
}
