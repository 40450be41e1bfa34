import { execFile } from 'node:child_process';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../checkpoint.js';
import { BIN, finish, plainEnv, runCli, start, tempDir, writeTinyMnist } from '../testing/run-cli.js';

const exec = promisify(execFile);

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Each test spawns the real binary; generous limits keep them reliable on a busy machine.
const SLOW = 180_000;

describe.concurrent('bp train', () => {
  it(
    'learns XOR to 100% accuracy; --json prints one parseable object per epoch and a final one',
    async () => {
      const out = await tempDir();
      const r = await runCli(['train', 'xor', '--epochs', '100', '--out', out, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines).toHaveLength(101);
      expect(lines[0]).toMatchObject({ epoch: 1, epochs: 100 });
      expect(lines[99].epoch).toBe(100);
      const final = lines[100];
      expect(final.train_accuracy).toBe(1);
      expect(final.test_accuracy).toBe(1);
      expect(final.accuracy).toBe(1);
      expect(final.loss).toBeLessThan(0.05);
      expect(typeof final.seconds).toBe('number');
      for (const f of ['model.json', 'model.safetensors', 'checkpoint.safetensors', 'report.svg', 'report.csv', 'run.json']) {
        expect(await exists(join(out, f)), f).toBe(true);
      }
      const csv = (await readFile(join(out, 'report.csv'), 'utf8')).trim().split('\n');
      expect(csv[0]).toBe('epoch,loss,accuracy,val_loss,val_accuracy,seconds');
      expect(csv).toHaveLength(101);
      expect(await readFile(join(out, 'report.svg'), 'utf8')).toContain('<polyline');
      // The saved model evaluates to the same accuracy.
      const ev = await runCli(['eval', out, 'xor', '--json']);
      expect(ev.code, ev.stderr).toBe(0);
      expect(JSON.parse(ev.stdout).accuracy).toBe(1);
      // Without a dataset, eval takes the one run.json names; a directory without run.json needs one.
      const byRun = await runCli(['eval', out, '--json']);
      expect(byRun.code, byRun.stderr).toBe(0);
      expect(JSON.parse(byRun.stdout)).toMatchObject({ dataset: 'xor', accuracy: 1 });
      await rm(join(out, 'run.json'));
      const bare = await runCli(['eval', out]);
      expect(bare.code).toBe(2);
      expect(bare.stderr).toContain('bp eval needs a dataset: ');
      expect(bare.stderr).toContain('has no run.json naming one');
    },
    SLOW,
  );

  it(
    'prints plain summary lines, no bar and no colour, when stdout is not a terminal',
    async () => {
      const out = await tempDir();
      const r = await runCli(['train', 'moons', '--epochs', '3', '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^epoch 1\/3 {2}loss \d\.\d{4} {2}acc \d+\.\d\d% {2}val_loss/m);
      expect(r.stdout).toMatch(/^epoch 3\/3/m);
      expect(r.stdout).toContain('Test accuracy:');
      expect(r.stdout).toMatch(/^validation\s+\d/m);
      expect(r.stdout).not.toContain('\u001b[');
      expect(r.stdout).not.toContain('ETA');
    },
    SLOW,
  );

  it(
    'shows a live progress bar on a pseudo-terminal, coloured unless NO_COLOR is set',
    async () => {
      const data = await writeTinyMnist(400, 50);
      const out = await tempDir();
      const cmd = `${process.execPath} ${BIN} train mnist --data-dir ${data} --epochs 2 --batch-size 8 --out ${out}`;
      const colored = await exec('script', ['-qfec', cmd, '/dev/null'], { env: plainEnv({ TERM: 'xterm' }) });
      expect(colored.stdout).toContain('ETA');
      expect(colored.stdout).toMatch(/epoch 1\/2 [█░]+ \d+\/45/);
      expect(colored.stdout).toMatch(/\u001b\[3\dm/); // colour codes
      expect(colored.stdout).toContain('Test accuracy:');
      const plain = await exec('script', ['-qfec', cmd.replace(out, `${out}-2`), '/dev/null'], {
        env: plainEnv({ TERM: 'xterm', NO_COLOR: '1' }),
      });
      expect(plain.stdout).toContain('ETA');
      expect(plain.stdout).not.toMatch(/\u001b\[3\dm/);
    },
    SLOW,
  );

  it(
    'resumes after SIGKILL, or after Ctrl-C, to weights byte-identical to an uninterrupted run',
    async () => {
      const data = await writeTinyMnist(600, 50);
      const args = (out: string) => [
        'train',
        'mnist',
        '--data-dir',
        data,
        '--epochs',
        '3',
        '--batch-size',
        '10',
        '--seed',
        '7',
        '--out',
        out,
      ];
      const full = await tempDir();
      const killed = await tempDir();
      const whole = finish(start([...args(full), '--json']));
      const child = start(args(killed));
      const done = finish(child);
      while (!(await exists(join(killed, 'checkpoint.safetensors')))) await sleep(10);
      child.kill('SIGKILL');
      const k = await done;
      expect(k.signal).toBe('SIGKILL');
      expect(await exists(join(killed, 'model.safetensors'))).toBe(false); // it really stopped early
      const cp = decodeCheckpoint(new Uint8Array(await readFile(join(killed, 'checkpoint.safetensors'))), 'checkpoint');
      expect(cp.progress.epoch).toBeGreaterThanOrEqual(1);
      expect(cp.progress.epoch).toBeLessThan(3);
      const resumed = await runCli(['train', '--resume', killed, '--json']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).toContain(`resuming ${killed} after epoch ${cp.progress.epoch} of 3`);
      expect((await whole).code).toBe(0);
      const a = await readFile(join(full, 'model.safetensors'));
      const b = await readFile(join(killed, 'model.safetensors'));
      expect(b.length).toBeGreaterThan(0);
      expect(Buffer.compare(a, b)).toBe(0);
      // Ctrl-C: the run finishes its step, writes a checkpoint (usually mid-epoch) and exits 130.
      const stopped = await tempDir();
      const ctrlC = start(args(stopped));
      const ctrlCDone = finish(ctrlC);
      while (!(await exists(join(stopped, 'checkpoint.safetensors')))) await sleep(10);
      ctrlC.kill('SIGINT');
      const s = await ctrlCDone;
      expect(s.code, s.stderr).toBe(130);
      expect(s.stdout).toContain(`Resume with: bp train --resume ${stopped}`);
      const again = await runCli(['train', '--resume', stopped]);
      expect(again.code, again.stderr).toBe(0);
      expect(Buffer.compare(a, await readFile(join(stopped, 'model.safetensors')))).toBe(0);
      const lastA = (await whole).stdout.trim().split('\n').pop()!;
      const lastB = resumed.stdout.trim().split('\n').pop()!;
      expect(JSON.parse(lastB).test_accuracy).toBe(JSON.parse(lastA).test_accuracy);
      // With --json, the interruption is a JSON line on stdout too.
      const quiet = await tempDir();
      const jsonRun = start([...args(quiet), '--json']);
      const jsonDone = finish(jsonRun);
      while (!(await exists(join(quiet, 'checkpoint.safetensors')))) await sleep(10);
      jsonRun.kill('SIGINT');
      const j = await jsonDone;
      expect(j.code, j.stderr).toBe(130);
      const end = JSON.parse(j.stdout.trim().split('\n').pop()!);
      expect(end).toMatchObject({ interrupted: true, signal: 'SIGINT', out: quiet, exitCode: 130 });
      expect(end.checkpoint).toBe(join(quiet, 'checkpoint.safetensors'));
    },
    SLOW,
  );

  it(
    'SIGTERM and SIGHUP stop like Ctrl-C: a checkpoint, the resume hint, exit 143 and 129; resuming ends byte-identical',
    async () => {
      const data = await writeTinyMnist(600, 50);
      const args = (out: string) => [
        'train',
        'mnist',
        '--data-dir',
        data,
        '--epochs',
        '3',
        '--batch-size',
        '10',
        '--seed',
        '7',
        '--out',
        out,
      ];
      const full = await tempDir();
      expect((await runCli(args(full))).code).toBe(0);
      const reference = await readFile(join(full, 'model.safetensors'));
      for (const [signal, code] of [
        ['SIGTERM', 143],
        ['SIGHUP', 129],
      ] as const) {
        const out = await tempDir();
        const child = start(args(out));
        const done = finish(child);
        while (!(await exists(join(out, 'checkpoint.safetensors')))) await sleep(10);
        child.kill(signal);
        const r = await done;
        expect(r.code, r.stderr).toBe(code);
        expect(r.stdout).toContain(`Interrupted by ${signal} after epoch`);
        expect(r.stdout).toContain(`Resume with: bp train --resume ${out}`);
        expect(await exists(join(out, '.bp-lock'))).toBe(false);
        const again = await runCli(['train', '--resume', out]);
        expect(again.code, again.stderr).toBe(0);
        expect(Buffer.compare(reference, await readFile(join(out, 'model.safetensors')))).toBe(0);
      }
    },
    SLOW,
  );

  it(
    '--model FILE.json: the architecture is kept in the checkpoint and run.json; resume ignores later edits to the file',
    async () => {
      const dir = await tempDir();
      const spec = join(dir, 'spec.json');
      const layers = (act: string) => ({
        type: 'Sequential',
        config: {
          layers: [
            { type: 'Linear', config: { inFeatures: 2, outFeatures: 6 } },
            { type: act },
            { type: 'Linear', config: { inFeatures: 6, outFeatures: 2 } },
          ],
        },
      });
      await writeFile(spec, JSON.stringify(layers('Tanh')));
      const out = join(dir, 'run');
      const reference = join(dir, 'reference');
      expect((await runCli(['train', 'xor', '--model', spec, '--epochs', '4', '--out', reference])).code).toBe(0);
      expect((await runCli(['train', 'xor', '--model', spec, '--epochs', '2', '--out', out])).code).toBe(0);
      expect(JSON.parse(await readFile(join(out, 'run.json'), 'utf8')).architecture).toEqual(layers('Tanh'));
      // An edited activation, then a deleted file: the run continues with what it started with.
      await writeFile(spec, JSON.stringify(layers('ReLU')));
      expect((await runCli(['train', '--resume', out, '--epochs', '3'])).code).toBe(0);
      await rm(spec);
      const r = await runCli(['train', '--resume', out, '--epochs', '4']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(await readFile(join(out, 'model.json'), 'utf8')).model.config.layers[1].type).toBe('Tanh');
      expect(Buffer.compare(await readFile(join(reference, 'model.safetensors')), await readFile(join(out, 'model.safetensors')))).toBe(0);
      // A file model too large to train is refused before anything is allocated or created.
      await writeFile(
        spec,
        JSON.stringify({ type: 'Sequential', config: { layers: [{ type: 'Linear', config: { inFeatures: 2, outFeatures: 2e9 } }] } }),
      );
      const big = await runCli(['train', 'xor', '--model', spec, '--out', join(dir, 'big')]);
      expect(big.code).toBe(1);
      expect(big.stderr).toContain(`${spec}: the model has at least 4000000000 parameter values, more than the 100000000 allowed`);
      expect(await exists(join(dir, 'big'))).toBe(false);
      // So is one whose size only its first input decides (a Linear with inFeatures null, 2 -> 12000 -> 12000).
      await writeFile(
        spec,
        JSON.stringify({
          type: 'Sequential',
          config: {
            layers: [12000, 12000, 2].map((n) => ({ type: 'Linear', config: { inFeatures: null, outFeatures: n } })),
          },
        }),
      );
      const lazy = await runCli(['train', 'xor', '--model', spec, '--out', join(dir, 'lazy')]);
      expect(lazy.code).toBe(1);
      expect(lazy.stderr).toContain(`${spec}: a Linear sized by its input needs 144012000 parameter values, past the 100000000 bp trains`);
      expect(await exists(join(dir, 'lazy'))).toBe(false);
    },
    SLOW,
  );

  it(
    'stops at a non-finite loss with exit 1, naming epoch and step, keeps the earlier checkpoint, and resumes with a smaller --lr',
    async () => {
      const out = await tempDir();
      const good = await runCli(['train', 'spirals', '--epochs', '2', '--out', out]);
      expect(good.code, good.stderr).toBe(0);
      const before = await readFile(join(out, 'checkpoint.safetensors'));
      const bad = await runCli(['train', '--resume', out, '--epochs', '4', '--lr', '1e30']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/the loss is (NaN|-?Infinity) at epoch 3, step \d+/);
      expect(bad.stderr).toContain(`The last good checkpoint (epoch 2) is kept in ${join(out, 'checkpoint.safetensors')}`);
      expect(bad.stderr).toContain(`bp train --resume ${out} --lr 1e+29`);
      expect(bad.stderr).not.toMatch(/\n\s+at /);
      const after = await readFile(join(out, 'checkpoint.safetensors'));
      expect(Buffer.compare(before, after)).toBe(0);
      const fixed = await runCli(['train', '--resume', out, '--epochs', '4', '--lr', '0.001', '--json']);
      expect(fixed.code, fixed.stderr).toBe(0);
      const run = JSON.parse(await readFile(join(out, 'run.json'), 'utf8'));
      expect(run.settings.lr).toBe(0.001);
      expect(run.changes).toEqual([
        { epoch: 2, step: 0, setting: 'epochs', from: 2, to: 4 },
        { epoch: 2, step: 0, setting: 'lr', from: 0.01, to: 0.001 },
      ]);
    },
    SLOW,
  );

  it(
    'never writes non-finite weights: a run whose weights overflow exits 1 with no model and no checkpoint',
    async () => {
      const out = await tempDir();
      const r = await runCli(['train', 'xor', '--epochs', '1', '--lr', '1e39', '--json', '--out', out]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /model\.\d\.(weight|bias)\[\d+\] is -?Infinity after epoch 1: the weights diverged, so they were not written/,
      );
      expect(r.stderr).toContain('No checkpoint had been written yet; start again with a smaller learning rate than --lr 1e+39');
      expect(r.stdout).not.toContain('"done"');
      for (const f of ['checkpoint.safetensors', 'model.safetensors', 'model.json']) expect(await exists(join(out, f))).toBe(false);
    },
    SLOW,
  );

  it(
    'refuses to change settings other than --epochs and --lr on --resume, with exit 2',
    async () => {
      const out = await tempDir();
      const first = await runCli(['train', 'xor', '--epochs', '2', '--out', out]);
      expect(first.code, first.stderr).toBe(0);
      const r = await runCli(['train', '--resume', out, '--batch-size', '2']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--batch-size cannot be changed when resuming');
      expect(r.stderr).toContain('(--batch-size 4)');
      const longer = await runCli(['train', '--resume', out, '--epochs', '4', '--json']);
      expect(longer.code, longer.stderr).toBe(0);
      expect(
        longer.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).epoch),
      ).toEqual([3, 4, undefined]);
    },
    SLOW,
  );

  it(
    'fails before training when --out cannot be written',
    async () => {
      const dir = await tempDir();
      const file = join(dir, 'a-file');
      await import('node:fs/promises').then((fs) => fs.writeFile(file, 'x'));
      const r = await runCli(['train', 'xor', '--out', join(file, 'run')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('cannot write to the output directory');
      expect(r.stdout).not.toContain('epoch');
      // An empty --out (an unset shell variable) is refused, not taken as the current directory.
      const empty = await runCli(['train', 'xor', '--out', '']);
      expect(empty.code).toBe(2);
      expect(empty.stderr).toContain('--out needs a directory path, got an empty string');
    },
    SLOW,
  );

  it(
    'checks a model file against the dataset before the run starts, and a run that stopped before its first checkpoint does not block the next',
    async () => {
      const dir = await tempDir();
      const spec = join(dir, 'xor.json');
      const linear = (inF: number, outF: number) => ({ type: 'Linear', config: { inFeatures: inF, outFeatures: outF } });
      await writeFile(spec, JSON.stringify({ type: 'Sequential', config: { layers: [linear(2, 8), { type: 'Tanh' }, linear(8, 2)] } }));
      // spirals has 3 classes: the 2 outputs were found only by the loss, mid-training, with a folder left behind.
      const classes = await runCli(['train', 'spirals', '--model', spec, '--out', join(dir, 'spirals')]);
      expect(classes.code).toBe(2);
      expect(classes.stderr).toContain(`--model ${spec} gives outputs [2] per example, but spirals needs one score per class (3 classes)`);
      expect(await exists(join(dir, 'spirals'))).toBe(false);
      const data = await writeTinyMnist(20, 10);
      const images = await runCli(['train', 'mnist', '--data-dir', data, '--model', spec, '--out', join(dir, 'mnist')]);
      expect(images.code).toBe(2);
      expect(images.stderr).toContain(`--model ${spec} does not fit mnist, whose examples are [1,28,28]:`);
      // A layer without parameters whose output is huge (a pooling to 4x4, then an adaptive pooling to
      // 10^9 x 10^9) is refused by that size, not run until the process is out of memory.
      const huge = join(dir, 'huge.json');
      await writeFile(
        huge,
        JSON.stringify({
          type: 'Sequential',
          config: {
            layers: [
              { type: 'MaxPool2d', config: { kernelSize: 7 } },
              { type: 'AdaptiveAvgPool2d', config: { outputSize: 1e9 } },
              { type: 'Flatten', config: {} },
              linear(16, 10),
            ],
          },
        }),
      );
      const pooled = await runCli(['train', 'mnist', '--data-dir', data, '--model', huge, '--out', join(dir, 'huge')]);
      expect(pooled.code, pooled.stderr).toBe(2);
      expect(pooled.stderr).toContain(
        `--model ${huge} does not fit mnist, whose examples are [1,28,28]: AdaptiveAvgPool2d: an output of [1,1000000000,1000000000] per sample`,
      );
      expect(await exists(join(dir, 'huge'))).toBe(false);
      const typo = await runCli(['train', 'xor', '--model', 'mpl', '--out', join(dir, 'typo')]);
      expect(typo.code).toBe(2);
      expect(typo.stderr).toContain('Did you mean mlp?');
      // A diverged first epoch leaves only run.json: the same command with a sane --lr may start there again.
      const out = join(dir, 'moons');
      const diverged = await runCli(['train', 'moons', '--lr', '1e30', '--epochs', '2', '--out', out]);
      expect(diverged.code).toBe(1);
      expect(diverged.stderr).toContain('No checkpoint had been written yet');
      const again = await runCli(['train', 'moons', '--lr', '0.01', '--epochs', '1', '--out', out]);
      expect(again.code, again.stderr).toBe(0);
      expect(await exists(join(out, 'model.json'))).toBe(true);
    },
    SLOW,
  );
});
