/**
 * `bp sample`: new text from a GPT trained by `bp train names --model gpt`.
 * Each sample starts from a newline and runs to the next one (a name), drawn
 * from the model's next-character distribution sharpened or flattened by
 * `--temperature` and cut to the `--top-k` likeliest characters, with the
 * generator seeded by `--seed`, so the same command prints the same names.
 */
import { join } from 'node:path';
import { GPT } from '@bp/layers';
import { BpError, manualSeed, tensor } from '@bp/tensor';
import { runTokenizer } from '../gpt-task.js';
import { loadModelDir } from '../model-dir.js';
import { out as c } from '../style.js';
import { terminalBare, terminalSafe } from '../terminal-safe.js';
import { UsageError } from '../usage-error.js';

/** Flags of `bp sample`. */
export interface SampleFlags {
  count: number;
  temperature: number;
  topK?: number;
  seed: number;
  maxLength: number;
  json?: boolean;
}

/** The most samples one command prints. */
export const MAX_SAMPLES = 10_000;
/** The longest sample, in characters. */
export const MAX_SAMPLE_LENGTH = 1_000;

/** Runs `bp sample`; returns the exit status. */
export async function runSample(runDir: string, flags: SampleFlags): Promise<number> {
  if (flags.count > MAX_SAMPLES)
    throw new UsageError(`--count ${flags.count} is too many: at most ${MAX_SAMPLES.toLocaleString('en-US')} samples`);
  if (flags.maxLength > MAX_SAMPLE_LENGTH)
    throw new UsageError(`--max-length ${flags.maxLength} is too long: at most ${MAX_SAMPLE_LENGTH} characters`);
  if (!Number.isFinite(flags.temperature)) throw new UsageError(`--temperature must be a finite number > 0, got ${flags.temperature}`);
  const { model, run } = await loadModelDir(runDir);
  if (!(model instanceof GPT)) {
    throw new BpError(
      'sample',
      `the model in ${terminalSafe(runDir)} is a ${terminalBare(model.layerType)}, not a GPT: bp sample needs a run of bp train names --model gpt`,
    );
  }
  if (run === null)
    throw new BpError(
      'sample',
      `${terminalSafe(runDir)} has no run.json, which holds the GPT's characters: sample a directory written by bp train names --model gpt`,
    );
  const tokenizer = runTokenizer(run.classes, model.config.vocabSize, join(runDir, 'run.json'));
  const newline = tokenizer.idOf('\n')!;
  manualSeed(flags.seed);
  const started = performance.now();
  const start = tensor(new Int32Array(flags.count).fill(newline), { shape: [flags.count, 1] });
  const rows = model.generate(start, flags.maxLength + 1, { temperature: flags.temperature, topK: flags.topK ?? null, stopToken: newline });
  const samples = rows.map((r) => {
    const body = r.slice(1);
    const end = body.indexOf(newline);
    return { text: tokenizer.decode(end >= 0 ? body.slice(0, end) : body.slice(0, flags.maxLength)), complete: end >= 0 };
  });
  const seconds = (performance.now() - started) / 1000;
  if (flags.json) {
    process.stdout.write(
      JSON.stringify({
        run: runDir,
        count: flags.count,
        temperature: flags.temperature,
        topK: flags.topK ?? null,
        seed: flags.seed,
        maxLength: flags.maxLength,
        samples: samples.map((s) => s.text),
        complete: samples.map((s) => s.complete),
        seconds,
      }) + '\n',
    );
    return 0;
  }
  // The characters come from run.json, which anyone may have written: shown with control characters escaped.
  const lines = samples.map(
    (s) => terminalBare(s.text, MAX_SAMPLE_LENGTH) + (s.complete ? '' : c.dim(` … (cut at ${flags.maxLength} characters)`)),
  );
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
