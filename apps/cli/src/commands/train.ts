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
import { getRandomState, manualSeed, setRandomState } from '@bp/tensor';
import { useBackend } from '../backend.js';
import { CHECKPOINT_FILE, checkOrder, readCheckpoint, writeCheckpoint, type Checkpoint } from '../checkpoint.js';
import { DATASETS, isDatasetName } from '../choices.js';
import { loadData, type LoadedData } from '../datasets.js';
import { buildModel } from '../models.js';
import { lossFor, modelOutputs, outputsNote } from '../model-output.js';
import { chooseReporter, fmtLoss, type ProgressReporter } from '../progress.js';
import { writeReport } from '../report.js';
import { writeFileAtomic } from '@bp/layers';
import { OutputDirError, defaultRunDir, prepareRunDir, writeFailureReason } from '../run-dir.js';
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
const RESUME_FLAGS = new Set(['resume', 'epochs', 'json', 'out', 'verbose']);

function flagName(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (m) => '-' + m.toLowerCase());
}

interface Plan {
  settings: TrainSettings;
  outDir: string;
  checkpoint: Checkpoint | null;
}

async function plan(datasetArg: string | undefined, flags: TrainFlags, cmd: Command): Promise<Plan> {
  if (flags.resume !== undefined) {
    const dir = join(flags.resume);
    if (flags.out !== undefined && join(flags.out) !== dir) {
      throw new UsageError(`--out ${flags.out} differs from --resume ${flags.resume}: a resumed run continues in its own directory`);
    }
    const changed = cmd.options
      .map((o) => o.attributeName())
      .filter((k) => cmd.getOptionValueSource(k) === 'cli' && !RESUME_FLAGS.has(k));
    const checkpoint = await readCheckpoint(dir);
    const settings = { ...checkpoint.settings };
    if (changed.length) {
      const k = changed[0];
      const saved = (settings as unknown as Record<string, unknown>)[k];
      throw new UsageError(
        `${flagName(k)} cannot be changed when resuming: the run continues with its saved settings` +
          (saved !== undefined ? ` (${flagName(k)} ${saved})` : '') +
          '. Only --epochs (to train longer) and --json may be given with --resume.',
      );
    }
    if (datasetArg !== undefined && datasetArg !== settings.dataset) {
      throw new UsageError(`the run in ${dir} trains on ${settings.dataset}, not ${datasetArg}; leave the dataset out with --resume`);
    }
    if (flags.epochs !== undefined) {
      if (flags.epochs < checkpoint.progress.epoch) {
        throw new UsageError(`--epochs ${flags.epochs} is fewer than the ${checkpoint.progress.epoch} epochs this run has already done`);
      }
      settings.epochs = flags.epochs;
    }
    return { settings, outDir: dir, checkpoint };
  }
  if (datasetArg === undefined) {
    throw new UsageError(`missing dataset: choose one of ${DATASETS.join(', ')} (or --resume DIR to continue a run)`);
  }
  if (!isDatasetName(datasetArg)) throw new UsageError(`unknown dataset '${datasetArg}'; choose one of ${DATASETS.join(', ')}`);
  const settings = resolveSettings(datasetArg, flags);
  const outDir = flags.out !== undefined ? join(flags.out) : await defaultRunDir(settings.dataset);
  return { settings, outDir, checkpoint: null };
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

/** Runs `bp train`; returns the exit status (0 done, 130 stopped by Ctrl-C). */
export async function runTrain(datasetArg: string | undefined, flags: TrainFlags, cmd: Command): Promise<number> {
  const started = performance.now();
  const { settings, outDir, checkpoint } = await plan(datasetArg, flags, cmd);
  await prepareRunDir(outDir);
  const json = flags.json === true;
  const reporter: ProgressReporter = chooseReporter(json);
  const c = pc.createColors(!json && colorEnabled(process.stdout));

  const backendName = await useBackend(settings.backend);
  manualSeed(settings.seed);
  const data: LoadedData = await loadData(settings.dataset, {
    dataDir: settings.dataDir ?? undefined,
    limit: settings.limit ?? undefined,
    validationSplit: settings.validationSplit,
  });
  const model = await buildModel(settings.model, settings.dataset, data.inputShape, data.classes.length);
  const optimizer = getOptimizer(settings.optimizer, model.parameters(), { lr: settings.lr }) as Optimizer;
  const outputs = modelOutputs(model);
  const loss = lossFor(settings.loss, outputs.kind, data.classes.length);

  let progress: Progress;
  if (checkpoint) {
    model.loadStateDict(checkpoint.model);
    optimizer.loadStateDict(checkpoint.optimizer);
    setRandomState(checkpoint.random);
    progress = checkpoint.progress;
    if (progress.order) checkOrder(join(outDir, CHECKPOINT_FILE), progress.order, data.train.x.shape[0]);
  } else {
    progress = startProgress();
  }

  await writeFileAtomic(
    join(outDir, RUN_FILE),
    JSON.stringify({ settings, classes: data.classes, inputShape: data.inputShape }, null, 2) + '\n',
  );

  const nTrain = data.train.x.shape[0];
  reporter.note(
    c.bold(`bp train ${settings.dataset}`) +
      c.dim(
        ` · ${settings.model === 'mlp' || settings.model === 'cnn' ? settings.model : 'model file'} (${model.numParameters().toLocaleString('en-US')} parameters)` +
          ` · ${settings.optimizer} lr ${settings.lr} · batch ${settings.batchSize} · ${nTrain.toLocaleString('en-US')} training examples` +
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
  }

  let stopRequested = false;
  let lastCheckpoint: { path: string; epoch: number; step: number } | null = checkpoint
    ? { path: join(outDir, 'checkpoint.safetensors'), epoch: progress.epoch, step: progress.step }
    : null;
  const onSigint = () => {
    if (stopRequested) {
      reporter.close();
      process.stderr.write('\nStopped at once; the last checkpoint is kept.\n');
      process.exit(130);
    }
    stopRequested = true;
    reporter.note(c.yellow('\nStopping after this step to write a checkpoint (Ctrl-C again to quit at once)...'));
  };
  process.on('SIGINT', onSigint);

  const saveCheckpoint = async () => {
    let path: string;
    try {
      path = await writeCheckpoint(outDir, {
        settings,
        progress,
        random: getRandomState(),
        model: model.stateDict(),
        optimizer: optimizer.stateDict(),
      });
    } catch (e) {
      // The write is atomic, so a failure (a full disk) leaves the previous checkpoint whole: say so.
      const kept = lastCheckpoint
        ? `The last good checkpoint (epoch ${lastCheckpoint.epoch}${lastCheckpoint.step ? `, step ${lastCheckpoint.step}` : ''}) is kept in ${lastCheckpoint.path}; ` +
          `make room, then continue with: bp train --resume ${outDir}`
        : 'No checkpoint had been written yet.';
      throw new OutputDirError('train', `cannot write the checkpoint in ${outDir}: ${writeFailureReason(e)}. ${kept}`);
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
          await writeReport(outDir, progress.history, title);
          lastWrite = performance.now();
        }
      },
      shouldStop: () => stopRequested,
      nonFiniteAdvice: () =>
        (lastCheckpoint
          ? `The last good checkpoint (epoch ${lastCheckpoint.epoch}${lastCheckpoint.step ? `, step ${lastCheckpoint.step}` : ''}) is kept in ${lastCheckpoint.path}.`
          : 'No checkpoint had been written yet.') + ` Try a smaller learning rate than --lr ${settings.lr}.`,
    });
  } finally {
    process.off('SIGINT', onSigint);
    reporter.close();
  }

  if (status === 'interrupted') {
    const path = await saveCheckpoint();
    await writeReport(outDir, progress.history, title);
    const where = progress.step ? `epoch ${progress.epoch + 1}, step ${progress.step}` : `epoch ${progress.epoch}`;
    reporter.note(`Interrupted after ${where}. Checkpoint written to ${path}.`);
    reporter.note(`Resume with: ${c.bold(`bp train --resume ${outDir}`)}`);
    return 130;
  }

  const trainM = evaluate(model, loss, data.train);
  const valM = data.validation ? evaluate(model, loss, data.validation) : null;
  const testM = evaluate(model, loss, data.test);
  await save(model, outDir);
  const report = await writeReport(outDir, progress.history, title);
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
    out.write('\n' + metricsTable([['train', trainM], ['validation', valM], [testName, testM]]) + '\n\n');
    out.write(c.bold(`Test accuracy: ${c.green(fmtPct(testM.accuracy))}`) + c.dim(` (${seconds.toFixed(1)}s)`) + '\n');
    out.write(c.dim(`Model: ${join(outDir, 'model.json')} + weights · report: ${report.svg} · checkpoint: ${join(outDir, 'checkpoint.safetensors')}`) + '\n');
  }
  return 0;
}
