/**
 * The run directory `bp train` writes to: created up front and checked for
 * writability before any training starts, so a bad `--out` fails in the
 * first second rather than after the first epoch.
 */
import { access, mkdir, readdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BpError } from '@bp/tensor';
import { writeFileAtomic } from '@bp/layers';

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

/** Creates `dir` (and parents) and proves a file can be written there atomically. */
export async function prepareRunDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    const probe = join(dir, '.bp-write-test');
    await writeFileAtomic(probe, 'ok\n');
    await unlink(probe);
  } catch (e) {
    throw new OutputDirError('train', `cannot write to the output directory ${dir}: ${writeFailureReason(e)}. Choose another with --out DIR.`);
  }
  await removeStaleTemporaries(dir);
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
export async function removeStaleTemporaries(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = /^\..+\.(\d+)\.[0-9a-z]+\.tmp$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    await rm(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
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
