/**
 * The run directory `bp train` writes to: created up front and checked for
 * writability before any training starts, so a bad `--out` fails in the
 * first second rather than after the first epoch.
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { access, lstat, mkdir, open, readdir, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BpError } from '@bp/tensor';
import { readRegularFile, writeFileAtomic } from '@bp/layers';
import { UsageError } from './usage-error.js';
import { shellQuote } from './terminal-safe.js';

/** A directory that cannot be used for output. */
export class OutputDirError extends BpError {}

/** `runs/<dataset>`, or the first of `runs/<dataset>-2`, `-3`, ... that does not exist yet. */
export async function defaultRunDir(dataset: string, base = 'runs'): Promise<string> {
  for (let i = 1; ; i++) {
    const dir = join(base, i === 1 ? dataset : `${dataset}-${i}`);
    try {
      await access(dir);
    } catch {
      return dir;
    }
  }
}

/** What to do about a run directory bp cannot use: another `--out`, or for `--resume` (which continues in its own directory) the directory itself. */
function otherDirAdvice(resume: boolean): string {
  return resume
    ? 'A resumed run continues in its own directory: make it writable, or copy the run to a directory that is and resume the copy.'
    : 'Choose another with --out DIR.';
}

/** Creates `dir` (and parents) and proves a file can be written there atomically (`resume`: for `bp train --resume`, in the messages). */
export async function prepareRunDir(dir: string, resume = false): Promise<void> {
  try {
    await makeDirs(dir);
    // A name of bp's own, unique to this process and call, so no file of the user's is touched.
    const probe = join(dir, `.bp-write-test-${process.pid}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`);
    await writeFileAtomic(probe, 'ok\n');
    await unlink(probe);
  } catch (e) {
    throw new OutputDirError('train', `cannot write to the output directory ${dir}: ${writeFailureReason(e)}. ${otherDirAdvice(resume)}`);
  }
  await removeStaleTemporaries(dir);
}

/** The lock file a running `bp train` keeps in its run directory; it holds the process id. */
export const LOCK_FILE = '.bp-lock';

/** The files `bp train` writes into a run directory (what `--overwrite` removes first). */
export const RUN_FILES = ['run.json', 'checkpoint.safetensors', 'model.json', 'model.safetensors', 'report.csv', 'report.svg'] as const;

/** What `bp export` writes in a run's directory when no --output is given. */
export const EXPORT_FILES = ['model.onnx', 'weights.safetensors'] as const;

/** A lock whose file is younger than this and holds no readable pid may be mid-creation: it is respected. */
const YOUNG_LOCK_MS = 10_000;

/** An exclusive lock on a run directory, held by this process until {@link RunLock.release}. */
export class RunLock {
  private released = false;
  private readonly onExit = () => this.releaseSync();

  /** @param path the lock file */
  constructor(readonly path: string) {
    // A process.exit() (a second Ctrl-C) skips finally blocks; the exit event still runs.
    process.on('exit', this.onExit);
  }

  /** Removes the lock file, if it still holds this process's id. */
  releaseSync(): void {
    if (this.released) return;
    this.released = true;
    process.off('exit', this.onExit);
    try {
      if (readFileSync(this.path, 'utf8').trim() === String(process.pid)) unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}

/** Who holds the lock at `path`: a pid, or null when the file holds none (being written, or damaged). */
async function lockHolder(path: string, dir: string): Promise<{ pid: number | null; ageMs: number; id: string }> {
  const st = await lstat(path, { bigint: true });
  if (!st.isFile()) {
    throw new OutputDirError('train', `${path} (the lock of ${dir}) is not a regular file; remove it if no bp train is running there`);
  }
  let text = '';
  try {
    text = new TextDecoder().decode(await readRegularFile(path, { maxBytes: 64, what: 'lock file' }));
  } catch {
    text = '';
  }
  const m = /^(\d{1,10})\n?$/.exec(text);
  const pid = m ? Number(m[1]) : null;
  return {
    pid: pid !== null && pid > 0 && pid <= 2 ** 31 - 1 ? pid : null,
    ageMs: Date.now() - Number(st.mtimeMs),
    id: fileIdentity(st),
  };
}

/** Which file `st` describes: a file created later in its place differs, even where the inode number is reused. */
function fileIdentity(st: { dev: bigint; ino: bigint; mtimeNs: bigint; ctimeNs: bigint }): string {
  return `${st.dev}:${st.ino}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** Held (created with O_EXCL, holding the pid) while a stale lock is removed: see {@link removeStaleLock}. */
export const TAKEOVER_FILE = `${LOCK_FILE}.takeover`;

/**
 * Removes the stale lock at `path` of run directory `dir` if it is still the file `id` judged
 * stale. Two processes that both found it stale must not both remove it: the second would remove
 * the lock the first had just created in its place, and both would train in the directory. So
 * the lock is removed only while holding {@link TAKEOVER_FILE}, and only if it is still that
 * file. Returns false, removing nothing, while another process holds it.
 */
async function removeStaleLock(path: string, dir: string, id: string): Promise<boolean> {
  const marker = join(dir, TAKEOVER_FILE);
  let handle;
  try {
    handle = await open(marker, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    // A process killed while taking over left its file: removed once its process is gone.
    const other = await lockHolder(marker, dir).catch(() => null);
    if (other && (other.pid === null ? other.ageMs >= YOUNG_LOCK_MS : !isAlive(other.pid))) await rm(marker, { force: true });
    return false;
  }
  try {
    try {
      await handle.writeFile(`${process.pid}\n`);
    } finally {
      await handle.close();
    }
    const now = await lstat(path, { bigint: true }).catch(() => null);
    if (now !== null && fileIdentity(now) === id) await rm(path, { force: true });
  } finally {
    await rm(marker, { force: true });
  }
  return true;
}

/**
 * Takes the exclusive lock on run directory `dir` (which must exist): a lock
 * file created with O_EXCL holding this process's id. A lock whose process is
 * gone (killed, crashed) is stale and taken over; a live one is refused with
 * an {@link OutputDirError} naming its pid.
 */
export async function lockRunDir(dir: string, resume = false): Promise<RunLock> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      return new RunLock(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new OutputDirError('train', `cannot lock the output directory ${dir}: ${writeFailureReason(e)}. ${otherDirAdvice(resume)}`);
      }
    }
    let holder: { pid: number | null; ageMs: number; id: string };
    try {
      holder = await lockHolder(path, dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile: try again
      throw e;
    }
    if (holder.pid !== null && isAlive(holder.pid)) {
      throw new OutputDirError(
        'train',
        `${dir} is in use by another bp train (process ${holder.pid}); wait for it to finish${resume ? '' : ', or choose another --out DIR'}`,
      );
    }
    if (holder.pid === null && holder.ageMs < YOUNG_LOCK_MS) {
      throw new OutputDirError(
        'train',
        `${dir} is being locked by another bp train; wait for it to finish${resume ? '' : ', or choose another --out DIR'}`,
      );
    }
    // Stale: its process is gone, or it has held no pid for a while. Another process taking it over
    // right now is given a moment, then the lock is looked at again.
    let removed: boolean;
    try {
      removed = await removeStaleLock(path, dir, holder.id);
    } catch (e) {
      if (e instanceof OutputDirError) throw e;
      throw new OutputDirError('train', `cannot lock the output directory ${dir}: ${writeFailureReason(e)}. ${otherDirAdvice(resume)}`);
    }
    if (!removed) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new OutputDirError('train', `cannot lock ${dir}: other processes keep taking the lock`);
}

/**
 * What a run directory already holds besides its lock and leftover temporary
 * files: `bp train` refuses to mix a new run into them unless told `--overwrite`.
 */
export async function runDirContents(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n !== LOCK_FILE && n !== TAKEOVER_FILE && !/^\..+\.\d+\.[0-9a-z]+\.tmp$/.test(n)).sort();
}

/**
 * Refuses to start a new run in a directory that already holds files, unless
 * `overwrite`; with it, removes the files of the earlier run ({@link RUN_FILES}) so none of them
 * can be mistaken for the new run's.
 */
export async function claimRunDir(dir: string, overwrite: boolean): Promise<void> {
  const present = await runDirContents(dir);
  if (present.length === 0) return;
  // A run that stopped before its first checkpoint (a diverged loss, a model that did not fit, Ctrl-C
  // twice) left only its settings: nothing to resume or keep, so starting again there is allowed.
  if (present.length === 1 && present[0] === 'run.json') {
    await rm(join(dir, 'run.json'), { force: true });
    return;
  }
  if (!overwrite) {
    const shown = present.slice(0, 4).join(', ') + (present.length > 4 ? `, … (${present.length} files)` : '');
    throw new UsageError(
      `the output directory ${dir} is not empty (${shown}). Continue that run with --resume ${shellQuote(dir)}, replace it with --overwrite, or choose another --out DIR`,
    );
  }
  // bp export's default outputs too: an earlier run's model.onnx must not pass for the new run's.
  for (const name of [...RUN_FILES, ...EXPORT_FILES]) await rm(join(dir, name), { force: true });
}

/**
 * Opens run directory `dir` for `bp train`: creates it (a new run only),
 * takes its lock, proves a file can be written there atomically, and for a
 * new run refuses one that already holds files unless `overwrite`. The
 * caller releases the returned lock when the run ends.
 */
export async function openRunDir(dir: string, opts: { resume: boolean; overwrite: boolean }): Promise<RunLock> {
  try {
    if (!opts.resume) await makeDirs(dir);
  } catch (e) {
    throw new OutputDirError(
      'train',
      `cannot write to the output directory ${dir}: ${writeFailureReason(e)}. Choose another with --out DIR.`,
    );
  }
  const lock = await lockRunDir(dir, opts.resume);
  try {
    await prepareRunDir(dir, opts.resume);
    if (!opts.resume) await claimRunDir(dir, opts.overwrite);
    return lock;
  } catch (e) {
    lock.releaseSync();
    throw e;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes the temporary files (`.<name>.<pid>.<id>.tmp`) that an atomic write
 * leaves behind when its process is killed between creating and renaming
 * them; files of processes still running are left alone. Returns the names removed.
 */
/** The files whose temporaries {@link removeStaleTemporaries} takes: the run's, the exports' and the write probe. */
const STALE_TEMPORARY = new RegExp(
  `^\\.(${[...RUN_FILES, 'model.onnx', 'weights.safetensors'].map((f) => f.replace('.', '\\.')).join('|')}|\\.bp-write-test-[0-9a-z-]+)\\.(\\d+)\\.[0-9a-z]+\\.tmp$`,
);

export async function removeStaleTemporaries(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    // Only the temporaries of bp's own writes (writeFileAtomic's `.<file>.<pid>.<random>.tmp` of a
    // file bp writes here): a user's file of a similar shape is left alone.
    const m = STALE_TEMPORARY.exec(name);
    if (!m) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || isAlive(pid)) continue;
    await rm(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * Creates `dir` and any missing parents, one level at a time: Node's `mkdir({ recursive: true })`
 * loops forever where the kernel answers ENOENT for a parent that exists (`/proc/x`), and this
 * reports that ENOENT instead. A file in the way fails with EEXIST or ENOTDIR, as there.
 */
export async function makeDirs(dir: string): Promise<void> {
  try {
    await mkdir(dir);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if (await isDirectory(dir)) return;
      throw e;
    }
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw e;
    await makeDirs(parent);
  }
  try {
    await mkdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !(await isDirectory(dir))) throw e;
  }
}

/** Whether `path` is a directory or a link to one. */
async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() === true;
}

/** Why a write failed, in words (`the disk is full`), from the error's errno code. */
export function writeFailureReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'the disk is full';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOTDIR':
    case 'EEXIST':
      return 'a file with that name (or a parent) is in the way';
    default:
      return err instanceof Error ? err.message : String(e);
  }
}
