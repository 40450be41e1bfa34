/**
 * Reading a run directory written by `bp train` (or any directory `save`
 * wrote): the model, plus `run.json` when present, which tells `bp eval`
 * and `bp predict` the dataset, class names and seed the model was trained with.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { load, type Sequential } from '@bp/layers';
import { FormatError } from '@bp/tensor';
import type { TrainSettings } from './settings.js';

/** What `run.json` records. */
export interface RunInfo {
  settings: TrainSettings;
  classes: string[];
  inputShape: number[];
}

/** The model saved in `dir` and its run description (null when `dir` has no run.json). */
export async function loadModelDir(dir: string): Promise<{ model: Sequential; run: RunInfo | null }> {
  const model = await load(dir);
  model.eval();
  let run: RunInfo | null = null;
  const path = join(dir, 'run.json');
  let text: string | null = null;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    text = null;
  }
  if (text !== null) {
    try {
      run = JSON.parse(text) as RunInfo;
    } catch (e) {
      throw new FormatError(path, `is not valid JSON: ${(e as Error).message}`);
    }
    if (!run?.settings?.dataset || !Array.isArray(run.classes)) throw new FormatError(path, 'lacks settings.dataset or classes');
  }
  return { model, run };
}
