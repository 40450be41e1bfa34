/**
 * `bp train`: trains a model on a dataset with a live progress display,
 * writes a checkpoint after every epoch, the final model and a report, and
 * prints train / validation / test metrics. `--resume DIR` continues a run
 * from its checkpoint with its saved settings.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { save, type Module } from '@bp/layers';
import { getOptimizer, type Optimizer } from '@bp/optim';
import { BpError, getRandomState, manualSeed, setRandomState } from '@bp/tensor';
import { useBackend } from '../backend.js';
import {
  CHECKPOINT_FILE,
  checkCheckpointUnchanged,
  checkOrder,
  checkpointTensors,
  decodeCheckpoint,
  firstNonFinite,
  readCheckpointBytes,
  writeCheckpoint,
  type Checkpoint,
  type SettingChange,
} from '../checkpoint.js';
import { DATASETS, isDatasetName } from '../choices.js';
import { loadData, type LoadedData } from '../datasets.js';
import { buildModel, isBuiltinModel, readArchitecture } from '../models.js';
import { buildGPT, checkGPTFlags, gptRecipe, isGPTRun, sequenceLoss } from '../gpt-task.js';
import { lossFor, modelOutputs, outputsNote } from '../model-output.js';
import type { Json } from '../state-pack.js';
import { shellQuote, terminalSafe } from '../terminal-safe.js';
import { chooseReporter, fmtLoss, type ProgressReporter } from '../progress.js';
import { writeReport } from '../report.js';
import { writeFileAtomic } from '@bp/layers';
import { OutputDirError, defaultRunDir, openRunDir, writeFailureReason, type RunLock } from '../run-dir.js';
import { resolveSettings, type TrainFlags, type TrainSettings } from '../settings.js';
import { colorEnabled } from '../style.js';
import pc from 'picocolors';
import { evaluate, startProgress, trainLoop, type Progress } from '../trainer.js';
import { UsageError } from '../usage-error.js';

/** The file describing a run for `bp eval` and `bp predict`: settings, classes, input shape. */
export const RUN_FILE = 'run.json';

/** Least time between two checkpoint writes, in milliseconds (the last epoch is always written). */
const WRITE_INTERVAL_MS = 1000;

/** Flags that may be given with `--resume` (everything else comes from the checkpoint). */
const RESUME_FLAGS = new Set(['resume', 'epochs', 'lr', 'json', 'out', 'verbose']);

/** Signals that stop training the way Ctrl-C does, with the exit status each ends with (128 + its number). */
const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
type StopSignal = keyof typeof STOP_SIGNALS;

/** Non-finite weights or optimizer state: nothing is written, the last good checkpoint stays. */
export class NonFiniteWeightsError extends BpError {}

function flagName(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (m) => '-' + m.toLowerCase());
}

interface Plan {
  settings: TrainSettings;
  outDir: string;
  /** Whether `outDir` was chosen by bp (`runs/<dataset>`, numbered), so another free name may be taken. */
  defaultDir: boolean;
  checkpoint: Checkpoint | null;
  /** The checkpoint file's bytes as read, to check after locking that no other run replaced it meanwhile. */
  checkpointBytes: Uint8Array | null;
  changes: SettingChange[];
  architecture: Json | null;
}

async function plan(datasetArg: string | undefined, flags: TrainFlags, cmd: Command): Promise<Plan> {
  if (flags.resume !== undefined) {
    const dir = join(flags.resume);
    if (flags.out !== undefined && join(flags.out) !== dir) {
      throw new UsageError(`--out ${flags.out} differs from --resume ${flags.resume}: a resumed run continues in its own directory`);
    }
    if (flags.overwrite) throw new UsageError('--overwrite cannot be given with --resume: a resumed run continues its own files');
    const changed = cmd.options.map((o) => o.attributeName()).filter((k) => cmd.getOptionValueSource(k) === 'cli' && !RESUME_FLAGS.has(k));
    const checkpointBytes = await readCheckpointBytes(dir);
    const checkpoint = decodeCheckpoint(checkpointBytes, join(dir, CHECKPOINT_FILE));
    const settings = { ...checkpoint.settings };
    if (changed.length) {
      const k = changed[0];
      const saved = (settings as unknown as Record<string, unknown>)[k];
      throw new UsageError(
        `${flagName(k)} cannot be changed when resuming: the run continues with its saved settings` +
          (saved !== undefined ? ` (${flagName(k)} ${saved})` : '') +
          '. Only --epochs (to train longer), --lr and --json may be given with --resume.',
      );
    }
    if (datasetArg !== undefined && datasetArg !== settings.dataset) {
      throw new UsageError(`the run in ${dir} trains on ${settings.dataset}, not ${datasetArg}; leave the dataset out with --resume`);
    }
    const changes = [...(checkpoint.changes ?? [])];
    const at = { epoch: checkpoint.progress.epoch, step: checkpoint.progress.step };
    if (flags.epochs !== undefined && flags.epochs !== settings.epochs) {
      if (flags.epochs < checkpoint.progress.epoch || (flags.epochs === checkpoint.progress.epoch && checkpoint.progress.step > 0)) {
        throw new UsageError(`--epochs ${flags.epochs} is fewer than the ${checkpoint.progress.epoch} epochs this run has already done`);
      }
      changes.push({ ...at, setting: 'epochs', from: settings.epochs, to: flags.epochs });
      settings.epochs = flags.epochs;
    }
    if (flags.lr !== undefined && flags.lr !== settings.lr) {
      changes.push({ ...at, setting: 'lr', from: settings.lr, to: flags.lr });
      settings.lr = flags.lr;
    }
    // The architecture as the run started; older checkpoints did not keep it, so read the file then.
    let architecture = checkpoint.architecture ?? null;
    if (architecture === null && !isBuiltinModel(settings.model)) architecture = await readArchitecture(settings.model);
    return { settings, outDir: dir, defaultDir: false, checkpoint, checkpointBytes, changes, architecture };
  }
  if (datasetArg === undefined) {
    throw new UsageError(`missing dataset: choose one of ${DATASETS.join(', ')} (or --resume DIR to continue a run)`);
  }
  if (!isDatasetName(datasetArg)) throw new UsageError(`unknown dataset '${datasetArg}'; choose one of ${DATASETS.join(', ')}`);
  checkGPTFlags(datasetArg, flags);
  const settings = resolveSettings(datasetArg, flags);
  const architecture = isBuiltinModel(settings.model) ? null : await readArchitecture(settings.model);
  if (flags.out !== undefined && flags.out.trim() === '') {
    // An unset shell variable (`--out "$DIR"`) must not put the run in the current directory.
    throw new UsageError('--out needs a directory path, got an empty string');
  }
  if (flags.out !== undefined && flags.out.includes('\ufffd')) {
    throw new UsageError(
      `--out ${terminalSafe(flags.out)} contains bytes that are not UTF-8 (shown as \ufffd); bp cannot create that name exactly. Choose another --out DIR`,
    );
  }
  const outDir = flags.out !== undefined ? join(flags.out) : await defaultRunDir(settings.dataset);
  return { settings, outDir, defaultDir: flags.out === undefined, checkpoint: null, checkpointBytes: null, changes: [], architecture };
}

/** Opens the run directory, taking the next free `runs/<dataset>-N` when bp chose the name and another run took it first. */
async function openPlannedDir(p: Plan, overwrite: boolean): Promise<{ outDir: string; lock: RunLock }> {
  let outDir = p.outDir;
  for (let attempt = 0; ; attempt++) {
    try {
      return { outDir, lock: await openRunDir(outDir, { resume: p.checkpoint !== null, overwrite }) };
    } catch (e) {
      if (!p.defaultDir || attempt >= 20) throw e;
      outDir = await defaultRunDir(p.settings.dataset);
      if (outDir === p.outDir) throw e;
    }
  }
}

/** Refuses to write non-finite weights or optimizer state, naming the tensor; `where` says what was about to be written. */
function checkFinite(model: Module, optimizer: Optimizer, where: string, advice: string): void {
  const bad = firstNonFinite(checkpointTensors({ model: model.stateDict(), optimizer: optimizer.stateDict() }));
  if (bad) {
    throw new NonFiniteWeightsError(
      'train',
      `${bad.name}[${bad.index}] is ${bad.value} ${where}: the weights diverged, so they were not written. ${advice}`,
    );
  }
}

function fmtPct(v: number): string {
  return `${(v * 100).toFixed(2)}%`;
}

function metricsTable(rows: [string, { loss: number; accuracy: number } | null][]): string {
  const present = rows.filter((r): r is [string, { loss: number; accuracy: number }] => r[1] !== null);
  const w = Math.max(...present.map(([n]) => n.length), 5);
  const lines = [`${'split'.padEnd(w)}  ${'loss'.padStart(10)}  ${'accuracy'.padStart(8)}`];
  for (const [name, m] of present) lines.push(`${name.padEnd(w)}  ${fmtLoss(m.loss).padStart(10)}  ${fmtPct(m.accuracy).padStart(8)}`);
  return lines.join('\n');
}

/** Runs `bp train`; returns the exit status (0 done; 130, 143 or 129 stopped by SIGINT, SIGTERM or SIGHUP). */
export async function runTrain(datasetArg: string | undefined, flags: TrainFlags, cmd: Command): Promise<number> {
  const started = performance.now();
  // Everything the arguments decide is checked before the output directory is created or locked.
  const planned = await plan(datasetArg, flags, cmd);
  const { settings, checkpoint, changes, architecture } = planned;
  const json = flags.json === true;
  const c = pc.createColors(!json && colorEnabled(process.stdout));

  const backendName = await useBackend(settings.backend);
  manualSeed(settings.seed);
  const data: LoadedData = await loadData(settings.dataset, {
    dataDir: settings.dataDir ?? undefined,
    limit: settings.limit ?? undefined,
    validationSplit: settings.validationSplit,
  });
  const gpt = isGPTRun(settings);
  const model = gpt
    ? buildGPT(data.classes.length, data.inputShape)
    : await buildModel(settings.model, settings.dataset, data.inputShape, data.classes.length, architecture);
  const optimizer = gpt
    ? gptRecipe(model, settings, Math.ceil(data.train.x.shape[0] / settings.batchSize))
    : (getOptimizer(settings.optimizer, model.parameters(), { lr: settings.lr }) as Optimizer);
  const outputs = modelOutputs(model);
  const loss = gpt ? sequenceLoss : lossFor(settings.loss, outputs.kind, data.classes.length);

  let progress: Progress;
  if (checkpoint) {
    model.loadStateDict(checkpoint.model);
    optimizer.loadStateDict(checkpoint.optimizer);
    // A learning rate changed on resume replaces the saved one.
    optimizer.lr = settings.lr;
    setRandomState(checkpoint.random);
    progress = checkpoint.progress;
    if (progress.order) checkOrder(join(planned.outDir, CHECKPOINT_FILE), progress.order, data.train.x.shape[0]);
  } else {
    progress = startProgress();
  }

  const { outDir, lock } = await openPlannedDir(planned, flags.overwrite === true);
  try {
    // Read before the directory was locked: another run may have written a newer one meanwhile.
    if (planned.checkpointBytes) await checkCheckpointUnchanged(outDir, planned.checkpointBytes);
    planned.checkpointBytes = null; // not kept in memory while training
    return await trainInDir();
  } finally {
    lock.releaseSync();
  }

  async function trainInDir(): Promise<number> {
    const reporter: ProgressReporter = chooseReporter(json);
    let lastCheckpoint: { path: string; epoch: number; step: number } | null = checkpoint
      ? { path: join(outDir, 'checkpoint.safetensors'), epoch: progress.epoch, step: progress.step }
      : null;
    /** What a failed write (a full disk) leaves to continue from, for its message. */
    const keptAfterWriteFailure = () =>
      lastCheckpoint
        ? `The last good checkpoint (epoch ${lastCheckpoint.epoch}${lastCheckpoint.step ? `, step ${lastCheckpoint.step}` : ''}) is kept in ${lastCheckpoint.path}; ` +
          `make room, then continue with: bp train --resume ${shellQuote(outDir)}`
        : 'No checkpoint had been written yet.';
    /** Runs `write` (of the run's settings, report or model): a failure names `what` and says what is kept, as a failed checkpoint does. */
    const explainWrite = async <T>(what: string, write: () => Promise<T>): Promise<T> => {
      try {
        return await write();
      } catch (e) {
        const why = e instanceof BpError ? e.message : writeFailureReason(e);
        throw new OutputDirError('train', `cannot write ${what} in ${outDir}: ${why}. ${keptAfterWriteFailure()}`);
      }
    };
    await explainWrite(RUN_FILE, () =>
      writeFileAtomic(
        join(outDir, RUN_FILE),
        JSON.stringify({ settings, classes: data.classes, inputShape: data.inputShape, changes, architecture }, null, 2) + '\n',
      ),
    );

    const nTrain = data.train.x.shape[0];
    reporter.note(
      c.bold(`bp train ${settings.dataset}`) +
        c.dim(
          ` · ${isBuiltinModel(settings.model) ? settings.model : 'model file'} (${model.numParameters().toLocaleString('en-US')} parameters)` +
            ` · ${settings.optimizer} lr ${settings.lr} · batch ${settings.batchSize} · ${nTrain.toLocaleString('en-US')} training example${nTrain === 1 ? '' : 's'}` +
            (data.validation ? ` · ${data.validation.x.shape[0].toLocaleString('en-US')} validation` : '') +
            ` · ${backendName} · seed ${settings.seed}`,
        ),
    );
    const note = outputsNote(outputs);
    if (note) reporter.note(c.yellow(`note: ${note}`));
    if (checkpoint) {
      reporter.note(
        c.dim(
          progress.step
            ? `resuming ${outDir} inside epoch ${progress.epoch + 1} of ${settings.epochs}, after step ${progress.step}`
            : `resuming ${outDir} after epoch ${progress.epoch} of ${settings.epochs}`,
        ),
      );
      for (const ch of changes.slice((checkpoint.changes ?? []).length)) {
        reporter.note(c.dim(`--${ch.setting} changed from ${ch.from} to ${ch.to} (recorded in the checkpoint and run.json)`));
      }
    }

    let stopSignal: StopSignal | null = null;
    const lastGood = () =>
      lastCheckpoint
        ? `The last good checkpoint (epoch ${lastCheckpoint.epoch}${lastCheckpoint.step ? `, step ${lastCheckpoint.step}` : ''}) is kept in ${lastCheckpoint.path}; ` +
          `continue from it with a smaller learning rate: bp train --resume ${shellQuote(outDir)} --lr ${Number((settings.lr / 10).toPrecision(3))}`
        : `No checkpoint had been written yet; start again with a smaller learning rate than --lr ${settings.lr}.`;
    const onSignal = (signal: StopSignal) => {
      if (signal === 'SIGHUP') {
        // The terminal is gone: writes to it fail from now on, which must not stop the checkpoint.
        process.stdout.on('error', () => {});
        process.stderr.on('error', () => {});
      }
      if (stopSignal !== null) {
        reporter.close();
        process.stderr.write('\nStopped at once; the last checkpoint is kept.\n');
        lock.releaseSync();
        process.exit(STOP_SIGNALS[signal]);
      }
      stopSignal = signal;
      const how = signal === 'SIGINT' ? 'Ctrl-C' : signal;
      if (finishing) {
        // The epochs are done and their checkpoint written: the evaluation and the model's files come first.
        process.stderr.write(
          `\n${how}: training is done; saving the model first (${how === 'Ctrl-C' ? 'Ctrl-C' : 'the signal'} again to quit at once, keeping the final checkpoint)...\n`,
        );
        return;
      }
      reporter.note(
        c.yellow(
          `\n${how}: stopping after this step to write a checkpoint (${how === 'Ctrl-C' ? 'Ctrl-C' : 'the signal'} again to quit at once)...`,
        ),
      );
    };
    const handlers = (Object.keys(STOP_SIGNALS) as StopSignal[]).map((sig) => [sig, () => onSignal(sig)] as const);
    for (const [sig, h] of handlers) process.on(sig, h);
    // Set once the loop has finished every epoch: a signal then lets the model be saved.
    let finishing = false;
    try {
      return await trainAndSave();
    } finally {
      for (const [sig, h] of handlers) process.off(sig, h);
    }

    async function trainAndSave(): Promise<number> {
      const saveCheckpoint = async () => {
        checkFinite(
          model as Module,
          optimizer,
          `after ${progress.step ? `step ${progress.step} of epoch ${progress.epoch + 1}` : `epoch ${progress.epoch}`}`,
          lastGood(),
        );
        let path: string;
        try {
          path = await writeCheckpoint(outDir, {
            settings,
            progress,
            random: getRandomState(),
            model: model.stateDict(),
            optimizer: optimizer.stateDict(),
            changes,
            architecture,
          });
        } catch (e) {
          // The write is atomic, so a failure (a full disk) leaves the previous checkpoint whole: say so.
          throw new OutputDirError(
            'train',
            `cannot write the checkpoint in ${outDir}: ${writeFailureReason(e)}. ${keptAfterWriteFailure()}`,
          );
        }
        lastCheckpoint = { path, epoch: progress.epoch, step: progress.step };
        return path;
      };
      let lastWrite = -Infinity;
      const title = `bp train ${settings.dataset}`;

      let status: 'done' | 'interrupted';
      try {
        status = await trainLoop({
          model: model as Module,
          optimizer,
          loss,
          train: data.train,
          validation: data.validation,
          epochs: settings.epochs,
          batchSize: settings.batchSize,
          progress,
          reporter,
          async onEpochEnd() {
            // Each write is flushed to disk (fsync), which can take tens of milliseconds: on toy
            // datasets whose epochs take a millisecond, write at most once a second, and always
            // after the last epoch. Any epoch with a checkpoint resumes exactly.
            const now = performance.now();
            if (now - lastWrite >= WRITE_INTERVAL_MS || progress.epoch === settings.epochs) {
              await saveCheckpoint();
              await explainWrite('the report', () => writeReport(outDir, progress.history, title));
              lastWrite = performance.now();
            }
          },
          shouldStop: () => stopSignal !== null,
          nonFiniteAdvice: lastGood,
        });
      } finally {
        reporter.close();
      }
      finishing = status === 'done';

      if (status === 'interrupted') {
        const path = await saveCheckpoint();
        await explainWrite('the report', () => writeReport(outDir, progress.history, title));
        const where = progress.step ? `epoch ${progress.epoch + 1}, step ${progress.step}` : `epoch ${progress.epoch}`;
        reporter.note(
          `Interrupted${stopSignal && stopSignal !== 'SIGINT' ? ` by ${stopSignal}` : ''} after ${where}. Checkpoint written to ${path}.`,
        );
        reporter.note(`Resume with: ${c.bold(`bp train --resume ${shellQuote(outDir)}`)}`);
        const code = STOP_SIGNALS[stopSignal ?? 'SIGINT'];
        // A script reading --json learns it from stdout too, as it learns of a failure.
        if (json) {
          const signal = stopSignal ?? 'SIGINT';
          const { epoch, step } = progress;
          process.stdout.write(
            JSON.stringify({ interrupted: true, signal, epoch, step, checkpoint: path, out: outDir, exitCode: code }) + '\n',
          );
        }
        return code;
      }

      const trainM = evaluate(model, loss, data.train);
      const valM = data.validation ? evaluate(model, loss, data.validation) : null;
      const testM = evaluate(model, loss, data.test);
      checkFinite(model as Module, optimizer, 'at the end of training', lastGood());
      const nonFinite = [
        ['train', trainM],
        ['validation', valM],
        ['test', testM],
      ].find(([, m]) => m !== null && !Number.isFinite((m as { loss: number }).loss));
      if (nonFinite) {
        throw new NonFiniteWeightsError(
          'train',
          `the ${nonFinite[0]} loss is ${(nonFinite[1] as { loss: number }).loss}: the model's outputs overflow, so it was not saved. ${lastGood()}`,
        );
      }
      await explainWrite('the model', () => save(model, outDir));
      const report = await explainWrite('the report', () => writeReport(outDir, progress.history, title));
      const seconds = (performance.now() - started) / 1000;
      const last = progress.history[progress.history.length - 1];

      if (json) {
        const final: Record<string, unknown> = {
          done: true,
          dataset: settings.dataset,
          epochs: settings.epochs,
          loss: last?.loss ?? trainM.loss,
          accuracy: last?.accuracy ?? trainM.accuracy,
          train_loss: trainM.loss,
          train_accuracy: trainM.accuracy,
        };
        if (valM) Object.assign(final, { val_loss: valM.loss, val_accuracy: valM.accuracy });
        Object.assign(final, { test_loss: testM.loss, test_accuracy: testM.accuracy, seconds, out: outDir });
        process.stdout.write(JSON.stringify(final) + '\n');
      } else {
        const out = process.stdout;
        const testName = settings.dataset === 'xor' ? 'test (= train)' : 'test';
        out.write(
          '\n' +
            metricsTable([
              ['train', trainM],
              ['validation', valM],
              [testName, testM],
            ]) +
            '\n\n',
        );
        const headline = gpt
          ? `Test loss: ${c.green(fmtLoss(testM.loss))} (next-character accuracy ${fmtPct(testM.accuracy)})`
          : `Test accuracy: ${c.green(fmtPct(testM.accuracy))}`;
        out.write(c.bold(headline) + c.dim(` (${seconds.toFixed(1)}s)`) + '\n');
        out.write(
          c.dim(
            `Model: ${join(outDir, 'model.json')} + weights · report: ${report.svg} · checkpoint: ${join(outDir, 'checkpoint.safetensors')}`,
          ) + '\n',
        );
        if (gpt) out.write(`Sample names: ${c.bold(`bp sample ${shellQuote(outDir)}`)}\n`);
      }
      return 0;
    }
  }
}
