/**
 * `bp eval`: loss and accuracy of a saved model on a dataset's test split.
 * Synthetic test sets are regenerated from the seed the model was trained
 * with (recorded in run.json), so they are the very points training held out.
 */
import { noGrad } from '@bp/autograd';
import { BpError, fmtShape, manualSeed, narrow } from '@bp/tensor';
import { useBackend } from '../backend.js';
import { isDatasetName, type DatasetName } from '../choices.js';
import { loadData } from '../datasets.js';
import { loadModelDir } from '../model-dir.js';
import { sequenceLoss } from '../gpt-task.js';
import { lossFor, modelOutputs, outputsNote } from '../model-output.js';
import { out as c } from '../style.js';
import { terminalSafe } from '../terminal-safe.js';
import { evaluate } from '../trainer.js';
import { UsageError } from '../usage-error.js';

/** Flags of `bp eval`. */
export interface EvalFlags {
  dataDir?: string;
  limit?: number;
  batchSize: number;
  backend: 'cpu' | 'gpu';
  json?: boolean;
}

/** Runs `bp eval`; returns the exit status. */
export async function runEval(modelDir: string, dataset: string | undefined, flags: EvalFlags): Promise<number> {
  await useBackend(flags.backend);
  const { model, run } = await loadModelDir(modelDir);
  // Without a dataset, the one the run trained on (as bp predict does).
  const recorded = run?.settings.dataset;
  if (dataset === undefined && (!recorded || !isDatasetName(recorded))) {
    const dir = terminalSafe(modelDir);
    throw new UsageError(`bp eval needs a dataset: ${dir} has no run.json naming one (e.g. bp eval ${dir} mnist)`);
  }
  const name = (dataset ?? recorded) as DatasetName;
  const sameData = run?.settings.dataset === name;
  manualSeed(run?.settings.seed ?? 42);
  const data = await loadData(name, {
    dataDir: flags.dataDir ?? (sameData ? (run?.settings.dataDir ?? undefined) : undefined),
    limit: flags.limit ?? (sameData && name !== 'mnist' && name !== 'fashion-mnist' ? (run?.settings.limit ?? undefined) : undefined),
    validationSplit: 0,
    testOnly: true,
  });
  if (run && fmtShape(run.inputShape) !== fmtShape(data.inputShape)) {
    throw new BpError(
      'eval',
      `the model in ${modelDir} was trained on ${run.settings.dataset} with inputs ${fmtShape(run.inputShape)}; ${name} has inputs ${fmtShape(data.inputShape)}`,
    );
  }
  if (name !== 'names') {
    // One score per class: a spirals model (3 outputs) on moons (2 classes) would otherwise be
    // scored against labels its outputs do not stand for, and one with too few outputs fail inside the loss.
    const out = noGrad(() => model.forward(narrow(data.test.x, 0, 0, 1)).shape);
    if (out.length !== 2 || out[1] !== data.classes.length) {
      const trained = run && run.settings.dataset !== name ? ` (it was trained on ${run.settings.dataset})` : '';
      throw new BpError(
        'eval',
        `the model in ${terminalSafe(modelDir)} gives outputs ${fmtShape(out.slice(1))} per example${trained}, but ${name} needs one score per class (${data.classes.length} classes)`,
      );
    }
  }
  const started = performance.now();
  // The cross-entropy of the model's predictions, in whatever form it gives them (logits, or probabilities after a Softmax).
  const outputs = modelOutputs(model);
  // A names model predicts the next character at every position: its loss covers them all.
  const loss = name === 'names' ? sequenceLoss : lossFor('cross-entropy', outputs.kind, data.classes.length);
  let m: { loss: number; accuracy: number };
  try {
    m = evaluate(model, loss, data.test, flags.batchSize);
  } catch (e) {
    // An array too large for this process (a model whose activations are huge): say so, and what to change.
    if (e instanceof RangeError && /typed array length|array buffer allocation|out of memory/i.test(e.message)) {
      throw new BpError(
        'eval',
        `the model in ${terminalSafe(modelDir)} needs more memory than this process can allocate for a batch of ${Math.min(flags.batchSize, data.test.x.shape[0])} examples (${e.message}); try a smaller --batch-size`,
      );
    }
    throw e;
  }
  const seconds = (performance.now() - started) / 1000;
  if (!Number.isFinite(m.loss)) {
    throw new BpError(
      'eval',
      `the loss of the model in ${terminalSafe(modelDir)} on ${name} is ${m.loss}: its outputs overflow, so the figures mean nothing`,
    );
  }
  const examples = data.test.x.shape[0];
  if (flags.json) {
    process.stdout.write(
      JSON.stringify({
        model: modelDir,
        dataset: name,
        split: 'test',
        examples,
        outputs: outputs.kind,
        loss: m.loss,
        accuracy: m.accuracy,
        seconds,
      }) + '\n',
    );
  } else {
    process.stdout.write(
      `${c.bold(`bp eval ${terminalSafe(modelDir)} ${name}`)} ${c.dim(`(${examples.toLocaleString('en-US')} test examples, ${seconds.toFixed(1)}s)`)}\n` +
        `loss      ${m.loss.toFixed(4)}\naccuracy  ${c.green(`${(m.accuracy * 100).toFixed(2)}%`)}\n`,
    );
    const note = outputsNote(outputs);
    if (note) process.stdout.write(c.dim(`${note}\n`));
  }
  return 0;
}
