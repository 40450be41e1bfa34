import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

describe('browser bundle', () => {
  it('bundles every export for the browser without Node built-ins', async () => {
    const index = fileURLToPath(new URL('./index.ts', import.meta.url));
    const result = await build({
      stdin: {
        contents: `export * from ${JSON.stringify(index)};`,
        resolveDir: fileURLToPath(new URL('.', import.meta.url)),
        loader: 'ts',
      },
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      conditions: ['@bp/source'],
      metafile: true,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((p) => p.endsWith('src/io/save.ts'))).toBe(true);
    expect(inputs.filter((p) => p.startsWith('node:') || /(^|\/)(fs|path)$/.test(p))).toEqual([]);
    const code = result.outputFiles[0].text;
    // save/load are in the bundle, reaching Node's modules only through a run-time specifier.
    expect(code).toContain('node:fs/promises');
    expect(code).not.toMatch(/import\(\s*["']node:/);
  });
});
