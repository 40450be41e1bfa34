// PNGs from anyone: decompression bombs, empty files, directories, other formats, and a
// fuzzer over PNG headers. Every input decodes or is refused with a FormatError naming the
// file, fast, and a header declaring more than MAX_PNG_PIXELS is refused before inflating.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { fuzz, fuzzCaseCount, mutatedBytes, recordFuzzReport } from '@bp/conformance/fuzz';
import { FormatError } from '@bp/tensor';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { MAX_PNG_PIXELS, decodePng, pngToDigit } from './png-digit.js';
import { tempDir } from './testing/run-cli.js';

const CASES = fuzzCaseCount(2000);

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * A PNG of `w` x `h` zero pixels (1-bit grayscale unless `depth` and `color` say otherwise),
 * storing only the first `rows` rows: a few kilobytes of zlib for a huge image. Checksums are right.
 */
function bomb(w: number, h: number, rows = h, depth = 1, color = 0, interlace = 0): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, w);
  v.setUint32(4, h);
  ihdr.set([depth, color, 0, 0, interlace], 8);
  const channels = [1, 0, 3, 1, 2, 0, 4][color] ?? 1;
  const rowBytes = 1 + Math.ceil((w * Math.max(1, depth) * Math.max(1, channels)) / 8);
  const raw = new Uint8Array(Math.min(Math.min(rows, h) * rowBytes, 1 << 20));
  const parts = [
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function smallPng(): Uint8Array {
  const png = new PNG({ width: 8, height: 6 });
  for (let i = 0; i < png.data.length; i += 4) png.data.set([i % 255, 255 - (i % 255), 40, 255], i);
  return new Uint8Array(PNG.sync.write(png));
}

describe('hostile PNG files', () => {
  it('a 16000x16000 (and a 100000x100000) decompression bomb is refused from its header, at once', async () => {
    const dir = await tempDir();
    for (const [w, h] of [
      [16000, 16000],
      [100000, 100000],
    ]) {
      const file = join(dir, `bomb-${w}.png`);
      // Only the first rows are stored: the header alone must decide.
      await writeFile(file, bomb(w, h, 64));
      const t0 = performance.now();
      const err = await pngToDigit(file).catch((e: Error) => e);
      expect(err).toBeInstanceOf(FormatError);
      expect((err as Error).message).toContain(`${file}: declares ${w}x${h} pixels`);
      expect((err as Error).message).toContain(`more than the ${MAX_PNG_PIXELS / 1e6} megapixels`);
      expect(performance.now() - t0).toBeLessThan(500);
    }
  });

  it('the real 31 KB bomb (16000x16000, every row stored) is refused as fast', () => {
    const bytes = bomb(16000, 16000);
    expect(bytes.length).toBeLessThan(40_000);
    const t0 = performance.now();
    expect(() => decodePng(bytes, 'bomb.png')).toThrow(/declares 16000x16000 pixels \(256 megapixels\)/);
    expect(performance.now() - t0).toBeLessThan(200);
  });

  it('empty files, directories, other formats and cut files get clear errors', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'empty.png'), new Uint8Array(0));
    await writeFile(join(dir, 'text.png'), 'hello, not an image\n');
    await writeFile(join(dir, 'cut.png'), smallPng().subarray(0, 50));
    await writeFile(join(dir, 'header-only.png'), smallPng().subarray(0, 20));
    await mkdir(join(dir, 'folder.png'));
    await expect(pngToDigit(join(dir, 'empty.png'))).rejects.toThrow(/empty\.png: is empty \(0 bytes\), not a PNG image/);
    await expect(pngToDigit(join(dir, 'text.png'))).rejects.toThrow(
      /text\.png: is not a PNG image \(it does not start with the PNG signature\)/,
    );
    await expect(pngToDigit(join(dir, 'cut.png'))).rejects.toThrow(/cut\.png: is a damaged PNG image: its data ends early/);
    await expect(pngToDigit(join(dir, 'header-only.png'))).rejects.toThrow(
      /header-only\.png: is cut short: its 20 bytes end inside the PNG header/,
    );
    await expect(pngToDigit(join(dir, 'folder.png'))).rejects.toThrow(/folder\.png: is a directory, not a regular PNG image/);
    await expect(pngToDigit(join(dir, 'missing.png'))).rejects.toThrow(/missing\.png: not found/);
    const zero = bomb(1, 1);
    new DataView(zero.buffer).setUint32(16, 0);
    expect(() => decodePng(zero, 'zero.png')).toThrow(/zero\.png: declares an image of 0x1 pixels/);
  });

  it(`decodes or refuses ${CASES} mutated PNG headers and bodies with a FormatError`, async () => {
    const seeds = [smallPng(), bomb(300, 200), bomb(7, 5)];
    // Headers with valid checksums, so the checks past the CRC run: sizes from 0 to 2^32-1, every depth and colour type.
    const size = fc.oneof(
      fc.integer({ min: 0, max: 64 }),
      fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      fc.constantFrom(6324, 6325, 16000, 100000, 2 ** 31),
    );
    const headers = fc
      .record({
        w: size,
        h: size,
        rows: fc.integer({ min: 0, max: 70 }),
        depth: fc.constantFrom(0, 1, 2, 4, 8, 16, 3),
        color: fc.constantFrom(0, 2, 3, 4, 6, 1, 7),
        interlace: fc.constantFrom(0, 1, 2),
      })
      .map((p) => ({ value: bomb(p.w, p.h, p.rows, p.depth, p.color, p.interlace), edits: [JSON.stringify(p)] }));
    const report = fuzz({
      // Most mutations land in the first 33 bytes: signature, IHDR length, type, width, height, depth.
      inputs: fc.oneof(mutatedBytes(seeds, { hot: 33 }), mutatedBytes(seeds, { hot: 33, u64At: 16 }), headers, headers),
      parse: (bytes) => {
        const { width, height, rgba } = decodePng(bytes, 'fuzz.png');
        if (width * height > MAX_PNG_PIXELS || rgba.length !== width * height * 4)
          throw new Error(`decoded ${width}x${height} into ${rgba.length} bytes`);
      },
      expected: (e) => e instanceof FormatError && e.message.startsWith('fuzz.png: '),
      cases: CASES,
      seed: 16,
      // An image just under the pixel limit is decoded in full: seconds, on a busy machine.
      maxCaseMs: 20_000,
    });
    await recordFuzzReport('png', report);
    expect(report.rejected).toBeGreaterThan(CASES / 4);
    expect(report.accepted).toBeGreaterThan(0);
  });
});
