// The MNIST files are read as files from anyone: a FIFO or a device in place of an IDX file is
// refused at once, and a gzip bomb is stopped at the size limit instead of filling memory.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FormatError } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { readMaybeGzip } from './node-files.js';

const dir = mkdtempSync(join(tmpdir(), 'bp-idx-files-'));

describe('readMaybeGzip', () => {
  it('refuses a FIFO and a device without waiting on them', async () => {
    const fifo = join(dir, 'train-images-idx3-ubyte');
    execFileSync('mkfifo', [fifo]);
    await expect(readMaybeGzip(fifo)).rejects.toThrow(`${fifo}: is not a regular file`);
    const zero = join(dir, 'train-labels-idx1-ubyte');
    symlinkSync('/dev/zero', zero);
    await expect(readMaybeGzip(zero)).rejects.toThrow(FormatError);
  });

  it('stops a gzip bomb at the limit, and reads a normal gzip file whole', async () => {
    const bomb = join(dir, 'bomb.gz');
    writeFileSync(bomb, gzipSync(new Uint8Array(4 * 1024 * 1024)));
    await expect(readMaybeGzip(bomb, 1024 * 1024)).rejects.toThrow(
      `${bomb}: decompresses to more than 1048576 bytes; no IDX file is that large`,
    );
    const small = join(dir, 'small.gz');
    writeFileSync(small, gzipSync(Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 2, 7, 9])));
    expect(Array.from(await readMaybeGzip(small))).toEqual([0, 0, 8, 1, 0, 0, 0, 2, 7, 9]);
    await expect(readMaybeGzip(small, 5)).rejects.toThrow(/is \d+ bytes, more than the 5/);
  });
});
