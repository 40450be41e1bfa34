import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { centerDigit, pngToDigit, resizeArea } from './png-digit.js';
import { tempDir } from './testing/run-cli.js';

describe('PNG to MNIST-style digit', () => {
  it('area-averages when shrinking', () => {
    expect(Array.from(resizeArea(Float32Array.from([1, 0, 0, 1]), 2, 2, 1, 1))).toEqual([0.5]);
    expect(Array.from(resizeArea(Float32Array.from([1, 1, 0, 0, 1, 1, 0, 0]), 4, 2, 2, 1))).toEqual([1, 0]);
  });

  it('scales the drawing into a 20-pixel box and centres its mass', () => {
    // A 10x10 filled square in the corner of a 40x40 image.
    const g = new Float32Array(40 * 40);
    for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) g[y * 40 + x] = 1;
    const out = centerDigit(g, 40, 40);
    let count = 0;
    let sx = 0;
    let sy = 0;
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        if (out[y * 28 + x] > 0.5) {
          count++;
          sx += x;
          sy += y;
        }
      }
    }
    expect(count).toBe(400); // 20x20
    expect(Math.abs(sx / count - 13.5)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(sy / count - 13.5)).toBeLessThanOrEqual(0.5);
  });

  it('reads a PNG of a dark stroke on white, inverting it automatically', async () => {
    const png = new PNG({ width: 56, height: 56 });
    for (let i = 0; i < 56 * 56; i++) png.data.set([255, 255, 255, 255], 4 * i);
    for (let y = 10; y < 46; y++) for (let x = 26; x < 30; x++) png.data.set([0, 0, 0, 255], 4 * (y * 56 + x)); // a "1"
    const path = join(await tempDir(), 'one.png');
    await writeFile(path, PNG.sync.write(png));
    const d = await pngToDigit(path);
    expect(d.inverted).toBe(true);
    expect(d.size).toBe(28);
    expect(d.pixels[14 * 28 + 14]).toBeGreaterThan(0.5); // the stroke crosses the centre
    expect(d.pixels[0]).toBe(0); // the background is dark
  });

  it('reads a stroke on a transparent background (a canvas export) by its own colour, white or black', async () => {
    for (const [colour, inverted] of [
      [255, false],
      [0, true],
    ] as const) {
      const png = new PNG({ width: 56, height: 56 }); // all transparent
      for (let y = 10; y < 46; y++) for (let x = 26; x < 30; x++) png.data.set([colour, colour, colour, 255], 4 * (y * 56 + x));
      const path = join(await tempDir(), 'stroke.png');
      await writeFile(path, PNG.sync.write(png));
      const d = await pngToDigit(path);
      // A white stroke was composited over white and inverted into a blank image.
      expect(d.inverted).toBe(inverted);
      expect(d.pixels[14 * 28 + 14]).toBeGreaterThan(0.5);
      expect(d.pixels[0]).toBe(0);
    }
  });

  it('names the file when it is not a PNG', async () => {
    const path = join(await tempDir(), 'bad.png');
    await writeFile(path, 'not a png');
    await expect(pngToDigit(path)).rejects.toThrow(/bad\.png: is not a PNG image \(it does not start with the PNG signature\)/);
  });
});
