/**
 * Reading a run directory written by `bp train` (or any directory `save`
 * wrote): the model, plus `run.json` when present, which tells `bp eval`
 * and `bp predict` the dataset, class names and seed the model was trained with.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { load, readRegularFile, type Sequential } from '@bp/layers';
import { FormatError } from '@bp/tensor';
import { DATASETS } from './choices.js';
import type { TrainSettings } from './settings.js';
import { jsonErrorWhere, shellQuote } from './terminal-safe.js';

/** What `run.json` records. */
export interface RunInfo {
  settings: TrainSettings;
  classes: string[];
  inputShape: number[];
}

/** The largest run.json read (a real one is under a kilobyte, plus an architecture). */
const MAX_RUN_JSON_BYTES = 16 * 1024 * 1024;

/** Checks what eval and predict use from a run.json read from disk, naming the first bad entry. */
export function checkRunInfo(value: unknown, path: string): RunInfo {
  const run = value as Partial<RunInfo> | null;
  const settings = run !== null && typeof run === 'object' ? run.settings : undefined;
  if (settings === null || typeof settings !== 'object') throw new FormatError(path, 'lacks settings');
  if (!DATASETS.includes(settings.dataset as never)) throw new FormatError(path, `settings.dataset must be one of ${DATASETS.join(', ')}`);
  if (!Array.isArray(run!.classes) || run!.classes.length === 0 || !run!.classes.every((c) => typeof c === 'string')) {
    throw new FormatError(path, 'classes must be a non-empty list of class names');
  }
  const shape = run!.inputShape;
  if (
    !Array.isArray(shape) ||
    shape.length === 0 ||
    shape.length > 4 ||
    !shape.every((d) => Number.isSafeInteger(d) && d > 0 && d <= 1 << 16)
  ) {
    throw new FormatError(path, 'inputShape must be a list of 1 to 4 positive sizes');
  }
  if (settings.seed !== undefined && !Number.isSafeInteger(settings.seed)) throw new FormatError(path, 'settings.seed must be an integer');
  for (const key of ['limit', 'dataDir'] as const) {
    const v = settings[key];
    if (v !== undefined && v !== null && typeof v !== (key === 'limit' ? 'number' : 'string'))
      throw new FormatError(path, `settings.${key} has the wrong type`);
  }
  return run as RunInfo;
}

/**
 * Refuses, in words rather than an errno, a directory that does not exist or holds no saved model:
 * one with a checkpoint but no model is a run that has not finished, which --resume completes.
 */
async function checkHoldsModel(dir: string): Promise<void> {
  const kind = async (p: string) => (await stat(p).catch(() => null)) ?? null;
  const d = await kind(dir);
  if (d === null) throw new FormatError(dir, 'not found: no such run directory');
  if (!d.isDirectory()) throw new FormatError(dir, 'is not a directory: give the directory bp train wrote (its --out)');
  if ((await kind(join(dir, 'model.json'))) !== null) return;
  const unfinished = (await kind(join(dir, 'checkpoint.safetensors'))) !== null;
  throw new FormatError(
    dir,
    unfinished
      ? `holds no saved model yet: the run stopped before its end; finish it with bp train --resume ${shellQuote(dir)}`
      : 'holds no saved model (no model.json): give a directory written by bp train or save()',
  );
}

/** The model saved in `dir` and its run description (null when `dir` has no run.json). */
export async function loadModelDir(dir: string): Promise<{ model: Sequential; run: RunInfo | null }> {
  await checkHoldsModel(dir);
  const model = await load(dir);
  model.eval();
  const path = join(dir, 'run.json');
  let bytes: Uint8Array | null;
  try {
    bytes = await readRegularFile(path, { maxBytes: MAX_RUN_JSON_BYTES, what: 'run.json' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    bytes = null;
  }
  if (bytes === null) return { model, run: null };
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new FormatError(path, `is not valid JSON (${jsonErrorWhere(e)})`);
  }
  return { model, run: checkRunInfo(json, path) };
}
