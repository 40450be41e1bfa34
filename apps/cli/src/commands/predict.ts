/**
 * `bp predict`: classifies one image (a PNG, or test image N of a dataset),
 * draws it in the terminal and shows the model's three best guesses.
 */
import { noGrad } from '@bp/autograd';
import { BpError, fmtShape, manualSeed, narrow, tensor, type Tensor } from '@bp/tensor';
import { isDatasetName, type DatasetName } from '../choices.js';
import { loadData } from '../datasets.js';
import { renderDigit, renderGuesses, topK } from '../digit-art.js';
import { loadModelDir } from '../model-dir.js';
import { modelOutputs, toProbabilities } from '../model-output.js';
import { pngToDigit } from '../png-digit.js';
import { out as c } from '../style.js';
import { terminalBare, terminalSafe } from '../terminal-safe.js';
import { UsageError } from '../usage-error.js';

/** Flags of `bp predict`. */
export interface PredictFlags {
  index?: number;
  dataset?: DatasetName;
  dataDir?: string;
  invert?: boolean;
  json?: boolean;
}

/** Why a file could not be read, in words, for the errors the file system gives; other errors unchanged. */
function unreadableFile(path: string, e: unknown): unknown {
  const reasons: Record<string, string> = {
    ENOENT: 'there is no such file',
    EISDIR: 'it is a directory, not a PNG file',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    ENOTDIR: 'a part of the path is not a directory',
  };
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && Object.hasOwn(reasons, code)
    ? new BpError('predict', `cannot read the image ${path}: ${reasons[code]}`)
    : e;
}

/** Runs `bp predict`; returns the exit status. */
export async function runPredict(modelDir: string, image: string | undefined, flags: PredictFlags): Promise<number> {
  if ((image === undefined) === (flags.index === undefined)) {
    throw new UsageError('give either an image file or --index N (not both, not neither)');
  }
  if (flags.dataset === 'names')
    throw new UsageError('bp predict classifies images and points; names is text: sample a names model with bp sample RUN');
  const { model, run } = await loadModelDir(modelDir);
  if (run?.settings.dataset === 'names') throw new UsageError(`${modelDir} holds a names model: sample it with bp sample ${modelDir}`);
  let x: Tensor;
  let label: number | null = null;
  // Class names come from run.json, which anyone may have written: shown with control characters escaped.
  let classes: readonly string[] | undefined = run?.classes.map((name) => terminalBare(name));
  let source: string;
  let inverted = false;
  if (flags.index !== undefined) {
    const name = flags.dataset ?? run?.settings.dataset;
    if (!name || !isDatasetName(name)) throw new UsageError(`--index needs --dataset: ${modelDir} has no run.json naming its dataset`);
    manualSeed(run?.settings.seed ?? 42);
    const data = await loadData(name, {
      dataDir: flags.dataDir ?? run?.settings.dataDir ?? undefined,
      limit: name === 'mnist' || name === 'fashion-mnist' ? flags.index + 1 : (run?.settings.limit ?? undefined),
      validationSplit: 0,
      testOnly: true,
    });
    const n = data.test.x.shape[0];
    if (flags.index >= n)
      throw new UsageError(`--index ${flags.index} is out of range: the ${name} test split has ${n} examples (0..${n - 1})`);
    x = narrow(data.test.x, 0, flags.index, 1);
    label = data.test.y.dataSync()[flags.index];
    classes = classes ?? data.classes;
    // Images for MNIST and Fashion-MNIST; for the 2-d toy sets a point, shown by its coordinates.
    source =
      x.rank === 4
        ? `${name} test image #${flags.index}`
        : `${name} test point #${flags.index} (${Array.from(x.dataSync(), (v) => Number(v.toFixed(4))).join(', ')})`;
  } else {
    const digit = await pngToDigit(image!, { invert: flags.invert ? true : undefined }).catch((e: unknown) => {
      throw unreadableFile(image!, e);
    });
    x = tensor(digit.pixels, { shape: [1, 1, digit.size, digit.size] });
    inverted = digit.inverted;
    source = terminalSafe(image!);
  }
  if (run && fmtShape(run.inputShape) !== fmtShape(x.shape.slice(1))) {
    throw new BpError(
      'predict',
      `the model in ${modelDir} takes inputs ${fmtShape(run.inputShape)}, not images ${fmtShape(x.shape.slice(1))}`,
    );
  }
  // Probabilities as the model gives them: a softmax only over logits, never a second one after a final Softmax.
  const kind = modelOutputs(model).kind;
  const probs = noGrad(() => toProbabilities(model.forward(x), kind)).dataSync();
  const bad = Array.from(probs).findIndex((p) => !Number.isFinite(p));
  if (bad >= 0) {
    throw new BpError(
      'predict',
      `the model in ${modelDir} gives ${probs[bad]} for class ${bad}: its outputs overflow, so there is no prediction`,
    );
  }
  const guesses = topK(probs, Math.min(3, probs.length), classes && classes.length === probs.length ? classes : undefined);
  if (flags.json) {
    process.stdout.write(
      JSON.stringify({
        source,
        prediction: guesses[0].label,
        label: label === null ? null : (classes?.[label] ?? String(label)),
        top: guesses,
        // Whether the image was read as dark strokes on a light background (an image file only).
        ...(image !== undefined ? { inverted } : {}),
      }) + '\n',
    );
    return 0;
  }
  const lines: string[] = [c.bold(`bp predict · ${source}`) + (inverted ? c.dim(' (inverted: dark strokes on a light background)') : '')];
  if (x.rank === 4 && x.shape[1] === 1) lines.push(renderDigit(x.dataSync(), x.shape[2], x.shape[3]));
  const best = guesses[0];
  let verdict = `${c.bold('prediction')} ${c.cyan(best.label)}`;
  if (label !== null) {
    const truth = classes?.[label] ?? String(label);
    verdict += truth === best.label ? `   ${c.green(`✓ label ${truth}`)}` : `   ${c.red(`✗ label ${truth}`)}`;
  }
  lines.push(verdict, renderGuesses(guesses));
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
