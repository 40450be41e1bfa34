import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../checkpoint.js';
import { finish, runCli, start, tempDir } from '../testing/run-cli.js';

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SLOW = 300_000;

// 600 windows of 16 characters: 17 steps of 32 an epoch.
const short = (out: string, ...more: string[]) => [
  'train',
  'names',
  '--model',
  'gpt',
  '--limit',
  '600',
  '--seed',
  '5',
  '--out',
  out,
  ...more,
];

describe.concurrent('bp train names --model gpt, bp sample', () => {
  it(
    'trains with validation at each epoch, writes run.json, report and checkpoint, and samples names reproducibly',
    async () => {
      const out = await tempDir();
      const r = await runCli(short(out, '--epochs', '3', '--json'));
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.slice(0, 3).map((l) => l.epoch)).toEqual([1, 2, 3]);
      for (const l of lines.slice(0, 3)) expect(Number.isFinite(l.val_loss)).toBe(true);
      // Chance is ln 27 = 3.30; three short epochs already learn the letters' frequencies.
      expect(lines[2].val_loss).toBeLessThan(lines[0].val_loss);
      expect(lines[2].val_loss).toBeLessThan(3);
      const final = lines[3];
      expect(final).toMatchObject({ done: true, dataset: 'names', epochs: 3, out });
      expect(final.test_loss).toBeLessThan(3);
      const run = JSON.parse(await readFile(join(out, 'run.json'), 'utf8'));
      expect(run.settings).toMatchObject({ dataset: 'names', model: 'gpt', optimizer: 'adamw', lr: 0.003, batchSize: 32 });
      expect(run.classes).toEqual(['\n', ...'abcdefghijklmnopqrstuvwxyz']);
      expect(run.inputShape).toEqual([16]);
      for (const f of ['model.json', 'model.safetensors', 'checkpoint.safetensors', 'report.svg', 'report.csv'])
        expect(await exists(join(out, f)), f).toBe(true);
      expect((await readFile(join(out, 'report.csv'), 'utf8')).trim().split('\n')).toHaveLength(4);
      // The checkpoint carries the learning-rate schedule: 3 epochs of 17 steps done.
      const cp = decodeCheckpoint(new Uint8Array(await readFile(join(out, 'checkpoint.safetensors'))), 'checkpoint');
      expect((cp.optimizer as unknown as { schedule: { lastEpoch: number } }).schedule.lastEpoch).toBe(51);

      const s = await runCli(['sample', out, '--count', '8', '--seed', '3', '--temperature', '0.8', '--top-k', '5', '--json']);
      expect(s.code, s.stderr).toBe(0);
      const got = JSON.parse(s.stdout);
      expect(got).toMatchObject({ count: 8, seed: 3, temperature: 0.8, topK: 5, maxLength: 32 });
      expect(got.samples).toHaveLength(8);
      for (const [i, name] of got.samples.entries()) {
        expect(name).toMatch(/^[a-z]*$/);
        if (got.complete[i]) expect(name.length).toBeLessThanOrEqual(32);
      }
      const again = await runCli(['sample', out, '--count', '8', '--seed', '3', '--temperature', '0.8', '--top-k', '5', '--json']);
      expect(JSON.parse(again.stdout).samples).toEqual(got.samples);
      const other = await runCli(['sample', out, '--count', '8', '--seed', '4', '--temperature', '0.8', '--top-k', '5', '--json']);
      expect(JSON.parse(other.stdout).samples).not.toEqual(got.samples);
      const plain = await runCli(['sample', out, '--count', '3', '--max-length', '4', '--seed', '3']);
      expect(plain.code, plain.stderr).toBe(0);
      const printed = plain.stdout.trimEnd().split('\n');
      expect(printed).toHaveLength(3);
      for (const line of printed) expect(line).toMatch(/^[a-z]{0,4}( … \(cut at 4 characters\))?$/);
      // The saved model evaluates to the test loss training reported.
      const ev = await runCli(['eval', out, 'names', '--json']);
      expect(ev.code, ev.stderr).toBe(0);
      expect(JSON.parse(ev.stdout).loss).toBeCloseTo(final.test_loss, 5);
      // And to ONNX, taking int64 character ids.
      const ex = await runCli(['export', out, '--format', 'onnx']);
      expect(ex.code, ex.stderr).toBe(0);
      expect(ex.stdout).toContain("input 'input' [batch,16] int64 character ids");
      expect(await exists(join(out, 'model.onnx'))).toBe(true);
      // And to safetensors, with a note instead of PyTorch code bp does not write for a GPT.
      const st = await runCli(['export', out, '--format', 'safetensors']);
      expect(st.code, st.stderr).toBe(0);
      expect(st.stdout).toContain('No PyTorch code printed for a GPT');
      expect(await exists(join(out, 'weights.safetensors'))).toBe(true);
      const stJson = await runCli(['export', out, '--format', 'safetensors', '--output', join(out, 'w2.safetensors'), '--json']);
      expect(JSON.parse(stJson.stdout)).toMatchObject({ format: 'safetensors', note: expect.stringContaining('GPT') });
    },
    SLOW,
  );

  it(
    'resumes after Ctrl-C (mid-epoch as a rule) to weights byte-identical to an uninterrupted run',
    async () => {
      const full = await tempDir();
      const whole = finish(start(short(full, '--epochs', '3')));
      const stopped = await tempDir();
      const child = start(short(stopped, '--epochs', '3'));
      const done = finish(child);
      while (!(await exists(join(stopped, 'checkpoint.safetensors')))) await sleep(10);
      child.kill('SIGINT');
      const s = await done;
      expect(s.code, s.stderr).toBe(130);
      expect(s.stdout).toContain(`Resume with: bp train --resume ${stopped}`);
      const cp = decodeCheckpoint(new Uint8Array(await readFile(join(stopped, 'checkpoint.safetensors'))), 'checkpoint');
      expect(cp.progress.epoch * 17 + cp.progress.step).toBeLessThan(51);
      const resumed = await runCli(['train', '--resume', stopped, '--json']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).toContain(`resuming ${stopped}`);
      expect((await whole).code).toBe(0);
      const a = await readFile(join(full, 'model.safetensors'));
      expect(Buffer.compare(a, await readFile(join(stopped, 'model.safetensors')))).toBe(0);
      // Training longer continues the run (with a new peak rate).
      const longer = await runCli(['train', '--resume', stopped, '--epochs', '4', '--lr', '0.001', '--json']);
      expect(longer.code, longer.stderr).toBe(0);
      expect(
        longer.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).epoch),
      ).toEqual([4, undefined]);
    },
    SLOW,
  );

  it(
    'refuses wrong pairings and bad flags with exit 2, and a run that is not a GPT with exit 1',
    async () => {
      const cases: [string[], RegExp][] = [
        [['train', 'names'], /names is text, not a classification set: train it with --model gpt/],
        [['train', 'moons', '--model', 'gpt'], /--model gpt is a language model: train it on names, not moons/],
        [['train', 'names', '--model', 'gpt', '--optimizer', 'sgd'], /--model gpt trains with AdamW/],
        [['train', 'names', '--model', 'gpt', '--loss', 'mse'], /cross-entropy of the next character/],
        [['sample', 'runs/x', '--temperature', '0'], /--temperature <x>' argument '0' is invalid/],
        [['sample', 'runs/x', '--temperature', 'hot'], /--temperature <x>' argument 'hot' is invalid/],
        [['sample', 'runs/x', '--top-k', '1.5'], /--top-k <n>' argument '1.5' is invalid/],
        [['sample', 'runs/x', '--count', '0'], /--count <n>' argument '0' is invalid/],
        [['sample', 'runs/x', '--count', '20000'], /--count 20000 is too many: at most 10,000 samples/],
        [['sample', 'runs/x', '--max-length', '5000'], /--max-length 5000 is too long/],
        [['sample', 'runs/x', '--seed', '-1'], /--seed <n>' argument '-1' is invalid/],
        [['sample', 'runs/x', '--tempreature', '1'], /unknown option '--tempreature'/],
        [['sample'], /missing required argument 'run'/],
      ];
      for (const [args, message] of cases) {
        const r = await runCli(args);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stderr, args.join(' ')).toMatch(message);
      }
      const xor = await tempDir();
      expect((await runCli(['train', 'xor', '--epochs', '1', '--out', xor])).code).toBe(0);
      const notGpt = await runCli(['sample', xor]);
      expect(notGpt.code).toBe(1);
      expect(notGpt.stderr).toContain(`the model in ${xor} is a Sequential, not a GPT`);
      const missing = await runCli(['sample', join(xor, 'nothing-here')]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain(`${join(xor, 'nothing-here')}: not found: no such run directory`);
    },
    SLOW,
  );
});
