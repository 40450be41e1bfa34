// One run per output directory: `bp train` locks --out (a file created with O_EXCL holding
// its pid), takes over the lock of a process that is gone, and refuses a directory that
// already holds a run unless --overwrite or --resume is given. The lock file itself is
// fuzzed: whatever it holds, taking the lock succeeds or fails with an OutputDirError, at once.
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, readFile, readdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { fuzzCaseCount, recordFuzzReport, type FuzzReport } from '@bp/conformance/fuzz';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE, OutputDirError, lockRunDir, makeDirs } from './run-dir.js';
import { shellQuote } from './terminal-safe.js';
import { runCli, tempDir } from './testing/run-cli.js';

const SLOW = 180_000;
const CASES = fuzzCaseCount(300);

/**
 * The pid of a process that has exited and been reaped: waiting for its exit event, not a fixed
 * delay (on a busy machine the child could still be starting after 200 ms, or be left a zombie
 * while a synchronous call held the event loop, and a zombie's pid still answers kill(pid, 0)).
 */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('the run directory lock', () => {
  it('is a file holding the pid, refused to a second taker while held, removed on release', async () => {
    const dir = await tempDir();
    const lock = await lockRunDir(dir);
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    await expect(lockRunDir(dir)).rejects.toThrow(new RegExp(`${dir} is in use by another bp train \\(process ${process.pid}\\)`));
    lock.releaseSync();
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over the lock of a process that is gone, or one with no pid written long ago', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, LOCK_FILE), `${await deadPid()}\n`);
    (await lockRunDir(dir)).releaseSync();
    await writeFile(join(dir, LOCK_FILE), 'garbage');
    await expect(lockRunDir(dir)).rejects.toThrow(/is being locked by another bp train/);
    const old = new Date(Date.now() - 60_000);
    await utimes(join(dir, LOCK_FILE), old, old);
    (await lockRunDir(dir)).releaseSync();
    expect(await readdir(dir)).toEqual([]);
  });

  it(
    'a stale lock that several processes find at once is taken over by one of them only',
    async () => {
      const taker = join(dirname(fileURLToPath(import.meta.url)), 'testing', 'lock-taker.mjs');
      for (let trial = 0; trial < 4; trial++) {
        const dir = await tempDir();
        await writeFile(join(dir, LOCK_FILE), `${await deadPid()}\n`);
        const children = Array.from({ length: 6 }, () =>
          spawn(process.execPath, [taker, dir, '1500'], { stdio: ['pipe', 'pipe', 'inherit'] }),
        );
        const outputs = children.map((child) => {
          let out = '';
          child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
          return {
            ready: new Promise<void>((resolve) => child.stdout.on('data', () => out.includes('ready') && resolve())),
            done: new Promise<string>((resolve) => child.on('close', () => resolve(out))),
          };
        });
        // All of them loaded first, then told to go together: they find the stale lock at the same moment.
        await Promise.all(outputs.map((o) => o.ready));
        for (const child of children) child.stdin.write('go\n');
        const lines = (await Promise.all(outputs.map((o) => o.done))).map((o) => o.split('\n')[1]);
        const held = lines.filter((l) => l.startsWith('held '));
        expect(held, lines.join('\n')).toHaveLength(1);
        for (const l of lines.filter((l) => !l.startsWith('held ')))
          expect(l).toMatch(/^refused OutputDirError .* (is in use|is being locked) by another bp train/);
        expect(await readdir(dir)).toEqual([]);
      }
    },
    SLOW,
  );

  it('refuses a lock that is a directory, a FIFO or a symlink, without waiting', async () => {
    for (const make of [
      (p: string) => mkdir(p),
      async (p: string) => execFileSync('mkfifo', [p]),
      (p: string) => symlink('/dev/zero', p),
    ]) {
      const dir = await tempDir();
      await make(join(dir, LOCK_FILE));
      await expect(lockRunDir(dir)).rejects.toThrow(OutputDirError);
      await expect(lockRunDir(dir)).rejects.toThrow(/\.bp-lock \(the lock of .*\) is not a regular file/);
    }
  });

  it(`fuzz: ${CASES} lock files with arbitrary contents and ages are taken over or refused with an OutputDirError`, async () => {
    const dir = await tempDir();
    const live = process.pid;
    const dead = await deadPid();
    const contents = fc.oneof(
      fc.uint8Array({ maxLength: 80 }),
      fc.constantFrom(
        `${live}\n`,
        `${live}`,
        `${dead}\n`,
        '0\n',
        '-1\n',
        '4294967296\n',
        '99999999999\n',
        `${live}\n${dead}\n`,
        ' 1\n',
        '1e3\n',
        '',
      ),
      fc.integer({ min: -5, max: 2 ** 32 }).map((n) => `${n}\n`),
    );
    const cases: { bytes: Uint8Array; ageMs: number }[] = fc.sample(
      fc.record({
        bytes: contents.map((c) => (typeof c === 'string' ? new TextEncoder().encode(c) : c)),
        ageMs: fc.constantFrom(0, 5_000, 60_000),
      }),
      { numRuns: CASES, seed: 16 },
    );
    const report: FuzzReport = { cases: 0, accepted: 0, rejected: 0, reasons: {}, maxMs: 0, totalMs: 0 };
    for (const c of cases) {
      const t0 = performance.now();
      const path = join(dir, LOCK_FILE);
      await writeFile(path, c.bytes);
      const when = new Date(Date.now() - c.ageMs);
      await utimes(path, when, when);
      const text = new TextDecoder().decode(c.bytes);
      const holdsLivePid = /^\d{1,10}\n?$/.test(text) && Number(text) === live;
      try {
        const lock = await lockRunDir(dir);
        report.accepted++;
        expect(holdsLivePid, `took a lock held by a live process: ${JSON.stringify(text)}`).toBe(false);
        expect(await readFile(path, 'utf8')).toBe(`${process.pid}\n`);
        lock.releaseSync();
      } catch (e) {
        report.rejected++;
        expect(e).toBeInstanceOf(OutputDirError);
        const reason = (e as Error).message.replace(/^.*?(is in use|is being locked|is not a regular file).*$/, '$1');
        report.reasons[reason] = (report.reasons[reason] ?? 0) + 1;
      }
      const ms = performance.now() - t0;
      report.cases++;
      report.totalMs += ms;
      report.maxMs = Math.max(report.maxMs, ms);
    }
    await recordFuzzReport('lock-file', report);
    expect(report.accepted).toBeGreaterThan(0);
    expect(report.rejected).toBeGreaterThan(0);
    expect(report.maxMs).toBeLessThan(1000);
  });
});

describe('bp train and its output directory', () => {
  it(
    'two runs into one folder at the same time: one trains, the other is refused; the folder is one whole run',
    async () => {
      const out = await tempDir();
      const args = (seed: string) => ['train', 'spirals', '--epochs', '30', '--seed', seed, '--out', out, '--json'];
      const [a, b] = await Promise.all([runCli(args('1')), runCli(args('2'))]);
      const codes = [a.code, b.code].sort();
      expect(codes[0]).toBe(0);
      expect([1, 2]).toContain(codes[1]);
      const loser = a.code === 0 ? b : a;
      const winner = a.code === 0 ? '1' : '2';
      expect(loser.stderr).toMatch(/is in use by another bp train \(process \d+\)|is not empty|is being locked/);
      const run = JSON.parse(await readFile(join(out, 'run.json'), 'utf8'));
      expect(String(run.settings.seed)).toBe(winner);
      expect((await readdir(out)).sort()).toEqual([
        'checkpoint.safetensors',
        'model.json',
        'model.safetensors',
        'report.csv',
        'report.svg',
        'run.json',
      ]);
    },
    SLOW,
  );

  it(
    'an explicit --out on a finished run is refused (exit 2) unless --overwrite, which replaces the whole run',
    async () => {
      const out = await tempDir();
      expect((await runCli(['train', 'xor', '--epochs', '2', '--out', out])).code).toBe(0);
      const before = await readFile(join(out, 'model.safetensors'));
      const again = await runCli(['train', 'xor', '--epochs', '2', '--seed', '3', '--out', out]);
      expect(again.code).toBe(2);
      expect(again.stderr).toContain(
        `the output directory ${out} is not empty (checkpoint.safetensors, model.json, model.safetensors, report.csv, … (6 files))`,
      );
      expect(again.stderr).toContain(`--resume ${out}`);
      expect(Buffer.compare(before, await readFile(join(out, 'model.safetensors')))).toBe(0);
      expect((await runCli(['export', out, '--format', 'onnx'])).code).toBe(0);
      const replaced = await runCli(['train', 'xor', '--epochs', '2', '--seed', '3', '--out', out, '--overwrite']);
      expect(replaced.code, replaced.stderr).toBe(0);
      // The earlier run's export went with it: no model.onnx of the old weights beside the new ones.
      expect(await readdir(out)).not.toContain('model.onnx');
      // A run directory without a model says why, in words (an unfinished run: how to finish it).
      const unfinished = await tempDir();
      await writeFile(join(unfinished, 'checkpoint.safetensors'), 'x');
      const evalUnfinished = await runCli(['eval', unfinished, 'xor']);
      expect(evalUnfinished.code).toBe(1);
      expect(evalUnfinished.stderr).toContain(
        `${unfinished}: holds no saved model yet: the run stopped before its end; finish it with bp train --resume ${unfinished}`,
      );
      const evalEmpty = await runCli(['eval', await tempDir(), 'xor']);
      expect(evalEmpty.stderr).toContain('holds no saved model (no model.json)');
      expect(JSON.parse(await readFile(join(out, 'run.json'), 'utf8')).settings.seed).toBe(3);
      expect(Buffer.compare(before, await readFile(join(out, 'model.safetensors')))).not.toBe(0);
      expect((await runCli(['train', '--resume', out, '--overwrite'])).code).toBe(2);
    },
    SLOW,
  );

  it(
    'a resumed run in use by another process is refused without suggesting another --out, which --resume does not take',
    async () => {
      const out = await tempDir();
      expect((await runCli(['train', 'xor', '--epochs', '2', '--out', out])).code).toBe(0);
      const lock = await lockRunDir(out);
      try {
        const r = await runCli(['train', '--resume', out, '--epochs', '3']);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`${out} is in use by another bp train (process ${process.pid}); wait for it to finish\n`);
        expect(r.stderr).not.toContain('--out');
      } finally {
        lock.releaseSync();
      }
    },
    SLOW,
  );

  it(
    'a refused command leaves no output folder behind',
    async () => {
      const parent = await tempDir();
      for (const args of [
        ['xor', '--model', 'cnn'],
        ['xor', '--model', join(parent, 'missing.json')],
        ['mnist', '--data-dir', join(parent, 'no-data')],
      ]) {
        const out = join(parent, 'run');
        const r = await runCli(['train', ...args, '--out', out]);
        expect(r.code, r.stderr).not.toBe(0);
        expect(await readdir(parent)).toEqual([]);
      }
    },
    SLOW,
  );
});

describe('makeDirs and the commands bp suggests', () => {
  it('creates missing parents, accepts an existing directory, and reports ENOENT where the kernel refuses (Node recursive mkdir loops on /proc)', async () => {
    const dir = await tempDir();
    await makeDirs(join(dir, 'a', 'b', 'c'));
    expect(await readdir(join(dir, 'a', 'b'))).toEqual(['c']);
    await makeDirs(join(dir, 'a', 'b'));
    await writeFile(join(dir, 'file'), 'x');
    await expect(makeDirs(join(dir, 'file'))).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(makeDirs(join(dir, 'file', 'sub'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    if (process.platform === 'linux') await expect(makeDirs('/proc/bp-no-such-dir/run')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('quotes a path with spaces or quotes as one shell word', () => {
    expect(shellQuote('runs/mnist-2')).toBe('runs/mnist-2');
    expect(shellQuote('/tmp/sp ace ü/gpt run')).toBe("'/tmp/sp ace ü/gpt run'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });
});
