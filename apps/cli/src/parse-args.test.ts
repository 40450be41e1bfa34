// Flags are read exactly as written: decimal numbers only, each flag once, output paths that
// can be created byte for byte. Each refusal exits 2 before anything is created.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { fraction, positiveNumber, repeatedOption } from './parse-args.js';
import { runCli, tempDir } from './testing/run-cli.js';

describe('number flags', () => {
  it('take decimal numbers only: hex, binary, octal and Infinity are refused', () => {
    for (const bad of ['0x10', '0b11', '0o7', 'Infinity', '', ' ', '1e', '--1', '1,5']) {
      expect(() => positiveNumber(bad), bad).toThrow(InvalidArgumentError);
    }
    expect([positiveNumber('0.01'), positiveNumber('1e-3'), positiveNumber('.5'), positiveNumber('3'), positiveNumber('1E+2')]).toEqual([
      0.01, 0.001, 0.5, 3, 100,
    ]);
    expect(() => fraction('0x0')).toThrow(InvalidArgumentError);
    expect(fraction('0.25')).toBe(0.25);
  });
});

describe('repeated flags', () => {
  it('finds the first long option given twice, in either spelling, up to --', () => {
    expect(repeatedOption(['train', 'xor', '--lr', '0.1', '--lr', '0.2'])).toEqual({ name: '--lr', first: '0.1', second: '0.2' });
    expect(repeatedOption(['train', '--epochs=3', '--json', '--epochs', '4'])).toEqual({ name: '--epochs', first: '3', second: '4' });
    expect(repeatedOption(['train', '--json', '--json'])).toEqual({ name: '--json', first: '', second: '' });
    expect(repeatedOption(['train', 'xor', '--lr', '0.1', '--epochs', '2'])).toBeNull();
    expect(repeatedOption(['train', '--lr', '1', '--', '--lr', '2'])).toBeNull();
  });

  it('bp exits 2 on --lr 0x10, a repeated flag, or a non-UTF-8 --out, creating nothing', async () => {
    const parent = await tempDir();
    const out = join(parent, 'run');
    const hex = await runCli(['train', 'xor', '--lr', '0x10', '--out', out]);
    expect(hex.code).toBe(2);
    expect(hex.stderr).toContain("argument '0x10' is invalid");
    const twice = await runCli(['train', 'xor', '--lr', '0.1', '--lr', '0.2', '--out', out]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('error: --lr is given twice (0.1, then 0.2); give it once');
    // Node decodes argv as UTF-8: a byte that is not UTF-8 arrives as U+FFFD and could not be created exactly.
    const latin1 = await runCli(['train', 'xor', '--epochs', '1', '--out', join(parent, 'caf\ufffd')]);
    expect(latin1.code).toBe(2);
    expect(latin1.stderr).toContain('contains bytes that are not UTF-8');
    expect(await readdir(parent)).toEqual([]);
  }, 60_000);
});
