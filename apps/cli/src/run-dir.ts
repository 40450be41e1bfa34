/**
 * The run directory `bp train` writes to: created up front and checked for
 * writability before any training starts, so a bad `--out` fails in the
 * first second rather than after the first epoch.
 */
import { access, mkdir, unlink } from 'node:fs/promises';
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
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === 'EACCES' || err.code === 'EPERM'
        ? 'permission denied'
        : err.code === 'ENOSPC'
          ? 'the disk is full'
          : err.code === 'EROFS'
            ? 'the file system is read-only'
            : err.code === 'ENOTDIR' || err.code === 'EEXIST'
              ? 'a file with that name (or a parent) is in the way'
              : err.message;
    throw new OutputDirError('train', `cannot write to the output directory ${dir}: ${why}. Choose another with --out DIR.`);
  }
}
