import { FormatError } from '@bp/tensor';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { idxBytes } from './__fixtures__/idx-files.js';
import { parseIdx } from './idx.js';

function formatError(fn: () => unknown): FormatError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    return e as FormatError;
  }
  throw new Error('expected a FormatError');
}

describe('parseIdx', () => {
  it('reads the magic number, big-endian dimensions and row-major values', () => {
    const bytes = idxBytes([2, 3, 2], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
    const a = parseIdx(bytes, 'tiny');
    expect(a.magic).toBe(0x00000803);
    expect(a.shape).toEqual([2, 3, 2]);
    expect(Array.from(a.data)).toEqual([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
  });

  it('reads dimensions above 255 (all four header bytes count)', () => {
    const a = parseIdx(idxBytes([300], new Uint8Array(300).fill(9)), 'long');
    expect(a.shape).toEqual([300]);
    expect(a.data.length).toBe(300);
  });

  it('works on a view into a larger buffer', () => {
    const inner = idxBytes([3], [7, 8, 9]);
    const big = new Uint8Array(inner.length + 10);
    big.set(inner, 5);
    expect(Array.from(parseIdx(big.subarray(5, 5 + inner.length), 'view').data)).toEqual([7, 8, 9]);
  });

  it('rejects gzipped bytes, saying to decompress', () => {
    const e = formatError(() => parseIdx(gzipSync(idxBytes([1], [1])), 'x.gz'));
    expect(e.message).toMatch(/^x\.gz: is gzip-compressed/);
  });

  it('rejects files too short for the magic number', () => {
    expect(formatError(() => parseIdx(new Uint8Array([0, 0]), 'f')).message).toBe(
      'f: is 2 bytes long, too short for the 4-byte IDX magic number',
    );
  });

  it('rejects a magic number without the two leading zero bytes', () => {
    const bytes = idxBytes([1], [1], 0x01000801);
    expect(formatError(() => parseIdx(bytes, 'f')).message).toMatch(/bad magic number 0x01000801: an IDX file starts with two zero bytes/);
  });

  it('rejects element types other than unsigned bytes, naming the type', () => {
    const bytes = idxBytes([1], [1, 2, 3, 4], 0x00000d01);
    expect(formatError(() => parseIdx(bytes, 'f')).message).toMatch(/element type 0x0d \(float32\); only unsigned bytes/);
  });

  it('rejects zero dimensions', () => {
    expect(formatError(() => parseIdx(new Uint8Array([0, 0, 8, 0]), 'f')).message).toMatch(/zero dimensions/);
  });

  it('rejects a header cut short', () => {
    const bytes = idxBytes([2, 28, 28], []).subarray(0, 10);
    expect(formatError(() => parseIdx(bytes, 'f')).message).toBe(
      'f: is 10 bytes long, too short for the 16-byte header of a 3-d IDX array',
    );
  });

  it('rejects truncated and oversized files with expected vs actual byte length', () => {
    const full = idxBytes([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(formatError(() => parseIdx(full.subarray(0, full.length - 1), 'imgs')).message).toBe(
      'imgs: expected 24 bytes (16-byte header + 2x2x2 values) but the file has 23 (truncated?)',
    );
    const longer = new Uint8Array(full.length + 3);
    longer.set(full);
    expect(formatError(() => parseIdx(longer, 'imgs')).message).toBe(
      'imgs: expected 24 bytes (16-byte header + 2x2x2 values) but the file has 27',
    );
  });

  it('names the file in the error op', () => {
    expect(formatError(() => parseIdx(new Uint8Array(1), 'train-labels-idx1-ubyte')).op).toBe('train-labels-idx1-ubyte');
  });
});
