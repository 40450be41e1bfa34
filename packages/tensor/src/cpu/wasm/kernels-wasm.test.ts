import { describe, expect, it } from 'vitest';

describe('committed kernel module', () => {
  it('is kernels.wat as assembled by generate.mjs', async () => {
    // @ts-expect-error: a plain .mjs script without type declarations
    const { generate } = await import('./generate.mjs');
    const { readFileSync } = await import('node:fs');
    const committed = readFileSync(new URL('./kernels-wasm.ts', import.meta.url), 'utf8');
    expect(await generate()).toBe(committed);
  });

  it('has the peak probe as generate.mjs writes it', async () => {
    // @ts-expect-error: a plain .mjs script without type declarations
    const { generatePeak } = await import('./generate.mjs');
    const { readFileSync } = await import('node:fs');
    expect(await generatePeak()).toBe(readFileSync(new URL('./peak-wasm.ts', import.meta.url), 'utf8'));
  });
});
