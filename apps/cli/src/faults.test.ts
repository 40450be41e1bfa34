// Faults during training: the checkpoint write is atomic and durable (temporary file, fsync,
// rename, directory fsync), a kill at any moment leaves the last whole checkpoint readable,
// and a full disk is reported clearly without touching the previous checkpoint.
import { spawn } from 'node:child_process';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeFileAtomic } from '@bp/layers';
import { afterEach, describe, expect, it } from 'vitest';
import { CHECKPOINT_FILE, decodeCheckpoint, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { LOCK_FILE, OutputDirError, RUN_FILES, prepareRunDir, removeStaleTemporaries } from './run-dir.js';
import { plainEnv, runCli, tempDir } from './testing/run-cli.js';

const here = dirname(fileURLToPath(import.meta.url));
const fsp = createRequire(import.meta.url)('node:fs/promises') as typeof import('node:fs/promises');
const SLOW = 180_000;

type Patch = { restore: () => void };
const patches: Patch[] = [];
afterEach(() => {
  while (patches.length) patches.pop()!.restore();
});

/** Replaces a function of `fs/promises` for this process (ESM importers included) until the test ends. */
function patchFs<K extends 'open' | 'rename'>(name: K, wrap: (original: (typeof fsp)[K]) => (typeof fsp)[K]): void {
  const target = fsp as Record<K, (typeof fsp)[K]>;
  const original = target[name];
  target[name] = wrap(original);
  syncBuiltinESMExports();
  patches.push({
    restore: () => {
      target[name] = original;
      syncBuiltinESMExports();
    },
  });
}
const patchOpen = (wrap: (open: typeof fsp.open) => typeof fsp.open) => patchFs('open', wrap);

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });

/** A real checkpoint, from a one-epoch XOR run. */
async function templateRun(): Promise<string> {
  const dir = await tempDir();
  const r = await runCli(['train', 'xor', '--epochs', '1', '--out', dir]);
  expect(r.code, r.stderr).toBe(0);
  return dir;
}

describe('atomic checkpoints', () => {
  it('writeFileAtomic writes a temporary file, fsyncs it, renames it over the target, then fsyncs the directory', async () => {
    const dir = await tempDir();
    const target = join(dir, 'model.safetensors');
    const log: string[] = [];
    patchFs('rename', (rename) => async (from, to) => {
      log.push(
        `rename ${String(from).startsWith(join(dir, '.model.safetensors.')) ? 'tmp' : String(from)} -> ${String(to) === target ? 'target' : String(to)}`,
      );
      return rename(from, to);
    });
    patchOpen((open) => async (path, ...rest) => {
      const h = await open(path, ...rest);
      const name = String(path) === dir ? 'dir' : String(path).startsWith(join(dir, '.model.safetensors.')) ? 'tmp' : String(path);
      log.push(`open ${name} ${String(rest[0])}`);
      for (const m of ['writeFile', 'sync', 'close'] as const) {
        const f = (h[m] as (...a: unknown[]) => Promise<void>).bind(h);
        (h as unknown as Record<string, unknown>)[m] = async (...a: unknown[]) => {
          log.push(`${m} ${name}`);
          return f(...a);
        };
      }
      return h;
    });
    await writeFileAtomic(target, new Uint8Array([1, 2, 3]));
    expect(log).toEqual([
      'open tmp w',
      'writeFile tmp',
      'sync tmp',
      'close tmp',
      `rename tmp -> target`,
      'open dir r',
      'sync dir',
      'close dir',
    ]);
    expect([...(await readFile(target))]).toEqual([1, 2, 3]);
    expect(await readdir(dir)).toEqual(['model.safetensors']);
  });

  it(
    'a full disk fails the write, leaves the previous checkpoint readable and no temporary file',
    async () => {
      const run = await templateRun();
      const before = await readFile(join(run, CHECKPOINT_FILE));
      const cp = await readCheckpoint(run);
      patchOpen((open) => async (path, ...rest) => {
        const h = await open(path, ...rest);
        if (rest[0] === 'w') {
          const writeFile = h.writeFile.bind(h);
          h.writeFile = (async (data: Uint8Array | string) => {
            await writeFile(typeof data === 'string' ? data.slice(0, data.length >> 1) : data.subarray(0, data.length >> 1));
            throw enospc();
          }) as typeof h.writeFile;
        }
        return h;
      });
      await expect(writeCheckpoint(run, { ...cp, progress: { ...cp.progress, epoch: 99 } })).rejects.toMatchObject({ code: 'ENOSPC' });
      await expect(prepareRunDir(join(run, 'next'))).rejects.toThrow(OutputDirError);
      await expect(prepareRunDir(join(run, 'next'))).rejects.toThrow(
        /cannot write to the output directory .*next: the disk is full\. Choose another with --out DIR\./,
      );
      expect(Buffer.compare(before, await readFile(join(run, CHECKPOINT_FILE)))).toBe(0);
      expect((await readCheckpoint(run)).progress.epoch).toBe(1);
      expect((await readdir(run)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    },
    SLOW,
  );

  it(
    'a resume whose checkpoint another run replaced between reading it and locking the directory is refused, the newer one kept',
    async () => {
      const run = await templateRun();
      // The checkpoint a second bp train --resume writes after this one has read the first.
      const other = await tempDir();
      await fsp.cp(run, other, { recursive: true });
      const ahead = await runCli(['train', '--resume', other, '--epochs', '2']);
      expect(ahead.code, ahead.stderr).toBe(0);
      const newer = await readFile(join(other, CHECKPOINT_FILE));
      patchOpen((open) => async (path, ...rest) => {
        if (String(path) === join(run, LOCK_FILE) && rest[0] === 'wx') await writeFile(join(run, CHECKPOINT_FILE), newer);
        return open(path, ...rest);
      });
      const { main } = await import('./main.js');
      const code = await main(['train', '--resume', run, '--epochs', '3', '--json']);
      expect(code).toBe(1);
      expect(Buffer.compare(newer, await readFile(join(run, CHECKPOINT_FILE)))).toBe(0);
      expect((await readCheckpoint(run)).progress.epoch).toBe(2);
      expect(await readdir(run)).not.toContain(LOCK_FILE);
    },
    SLOW,
  );

  it('removes temporary files that killed writers left behind, and only those', async () => {
    const dir = await tempDir();
    const dead = '.checkpoint.safetensors.999999999.k3x9.tmp'; // above any pid_max: no such process
    const live = `.checkpoint.safetensors.${process.ppid}.a1b2.tmp`;
    // A user's files shaped like a temporary (of a file bp does not write) or named like the old write probe stay.
    const users = ['.thesis.999999999.bak.tmp', '.notes.txt.999999999.ab.tmp', '.bp-write-test'];
    for (const f of [dead, live, 'notes.tmp', 'checkpoint.safetensors', ...users]) await writeFile(join(dir, f), 'x');
    expect(await removeStaleTemporaries(dir)).toEqual([dead]);
    expect((await readdir(dir)).sort()).toEqual([live, 'checkpoint.safetensors', 'notes.tmp', ...users].sort());
    await prepareRunDir(dir);
    expect((await readdir(dir)).sort()).toEqual([live, 'checkpoint.safetensors', 'notes.tmp', ...users].sort());
  });
});

describe.concurrent('faults in a real process', () => {
  it(
    'bp train on a disk that fills up: exit 1 naming the cause, earlier checkpoint kept, resume ends byte-identical',
    async () => {
      const args = (out: string) => ['train', 'spirals', '--epochs', '3', '--seed', '3', '--out', out];
      const whole = await tempDir();
      const full = await runCli(args(whole));
      expect(full.code, full.stderr).toBe(0);

      const out = await tempDir();
      // The first checkpoint write (epoch 1) succeeds; the next one meets a full disk.
      const env = plainEnv({
        NODE_OPTIONS: `--import=${pathToFileURL(join(here, 'testing', 'full-disk.mjs')).href}`,
        BP_TEST_FULL_DISK_AFTER: '1',
      });
      const r = await runCli(args(out), { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot write the checkpoint in ${out}: the disk is full.`);
      expect(r.stderr).toContain(`The last good checkpoint (epoch 1) is kept in ${join(out, CHECKPOINT_FILE)}`);
      expect(r.stderr).toContain(`bp train --resume ${out}`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      const kept = decodeCheckpoint(new Uint8Array(await readFile(join(out, CHECKPOINT_FILE))), 'checkpoint');
      expect(kept.progress.epoch).toBe(1);
      expect((await readdir(out)).filter((f) => f.endsWith('.tmp'))).toEqual([]);

      const resumed = await runCli(['train', '--resume', out]);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(Buffer.compare(await readFile(join(whole, 'model.safetensors')), await readFile(join(out, 'model.safetensors')))).toBe(0);
    },
    SLOW,
  );

  it(
    'a full disk while writing the report or the model: exit 1 naming what, the checkpoint kept, resume finishes the run',
    async () => {
      for (const [file, what, epoch] of [
        ['report.csv', 'the report', 1],
        ['model.json', 'the model', 2],
        ['run.json', 'run.json', null],
      ] as const) {
        const out = await tempDir();
        const env = plainEnv({
          NODE_OPTIONS: `--import=${pathToFileURL(join(here, 'testing', 'full-disk.mjs')).href}`,
          BP_TEST_FULL_DISK_FILE: `.${file}.`,
        });
        const r = await runCli(['train', 'xor', '--epochs', '2', '--out', out], { env });
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toContain(`error: train: cannot write ${what} in ${out}: `);
        expect(r.stderr).toContain(
          epoch === null
            ? 'No checkpoint had been written yet.'
            : `The last good checkpoint (epoch ${epoch}) is kept in ${join(out, CHECKPOINT_FILE)}; make room, then continue with: bp train --resume ${out}`,
        );
        expect(r.stderr).not.toMatch(/\n\s+at /);
        expect((await readdir(out)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
        if (epoch === null) continue;
        const resumed = await runCli(['train', '--resume', out]);
        expect(resumed.code, resumed.stderr).toBe(0);
        expect((await readdir(out)).sort()).toEqual([...RUN_FILES].sort());
      }
    },
    SLOW,
  );

  it(
    'SIGKILL at random moments of rewriting a checkpoint always leaves a whole, readable one',
    async () => {
      const template = await templateRun();
      const out = await tempDir();
      const rounds = Number(process.env.BP_KILL_ROUNDS ?? 6);
      let seen = 0;
      let torn = 0;
      let state = 12345;
      const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
      for (let round = 0; round < rounds; round++) {
        const child = spawn(process.execPath, [join(here, 'testing', 'checkpoint-writer.mjs'), template, out], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let written = 0;
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        const firstWrite = new Promise<void>((resolve, reject) => {
          child.stdout.setEncoding('utf8').on('data', (d: string) => {
            written += d.split('\n').filter(Boolean).length;
            resolve();
          });
          child.on('exit', () => reject(new Error(`writer exited early: ${stderr}`)));
        });
        const exited = new Promise((resolve) => child.on('exit', resolve));
        await firstWrite;
        // Kill somewhere in the next few writes: while encoding, writing, syncing or renaming.
        await new Promise((r) => setTimeout(r, 5 + random() * 120));
        child.kill('SIGKILL');
        await exited;
        let cp;
        try {
          cp = await readCheckpoint(out);
        } catch (e) {
          torn++;
          throw new Error(`round ${round}: the checkpoint is unreadable after SIGKILL: ${(e as Error).message}`);
        }
        const i = cp.progress.epoch;
        // Whole: the weights and the metadata come from the same write, one the writer had started.
        expect(i).toBeGreaterThanOrEqual(1);
        expect(i).toBeLessThanOrEqual(written + 1);
        for (const t of Object.values(cp.model)) if (t.dtype === 'float32') expect(new Set(t.dataSync())).toEqual(new Set([i]));
        seen += written;
      }
      expect(torn).toBe(0);
      expect(seen).toBeGreaterThanOrEqual(rounds);
      // A kill between creating and renaming the temporary file leaves it behind; the next run removes it.
      const left = (await readdir(out)).filter((f) => f.endsWith('.tmp')).length;
      if (process.env.BP_KILL_REPORT) console.log(JSON.stringify({ rounds, writes: seen, killedMidWrite: left }));
      await prepareRunDir(out);
      expect((await readdir(out)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      expect(await readCheckpoint(out)).toBeTruthy();
    },
    SLOW,
  );
});
