/**
 * Runs every example of the site in Node, through the same transform and
 * helpers the browser worker uses, with `quick` sizes. The browser test
 * (site.test.mjs) runs them again in Chromium; this one is fast and points
 * at the failing example directly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tensorPkg from '@bp/tensor';
import { makeScope } from '../.vitepress/theme/runner/scope.js';
import { runExample } from '../.vitepress/theme/runner/execute.js';
import type { WorkerMessage } from '../.vitepress/theme/runner/protocol.js';
import { allExamples, SITE_ROOT } from './examples.js';
// @ts-expect-error: a plain .mjs helper without types
import { serveStatic } from './static-server.mjs';

const examples = allExamples();

const sig = (z: number): number => 1 / (1 + Math.exp(-z));
/**
 * The exercises' answers (`ask(...)`), derived by hand in float64: the
 * examples compute them with bp, and these check that what the page will
 * accept is right.
 */
const EXERCISES: Record<string, number> = {
  "Exercise: one neuron's output": sig(2 * 0.5 - 1.5 + 0.25),
  'Exercise: cross-entropy from logits': Math.log(Math.exp(2) + 1 + Math.exp(-1)) - 2,
  'Exercise: the chain rule on one neuron': 2 * (sig(1) - 1) * sig(1) * (1 - sig(1)) * 2,
  'Exercise: three steps by hand': 3 * (1 - 0.8 ** 3),
  'Exercise: two steps of momentum': 0.8 - 0.1 * (0.9 * 2 + 1.6),
  'Exercise: a product of sigmoid derivatives': (() => {
    let h = 0,
      d = 1;
    for (let i = 0; i < 5; i++) {
      d *= sig(h) * (1 - sig(h));
      h = sig(h);
    }
    return d;
  })(),
  'Exercise: a gradient by hand': 2 * 3 * -2 + 4, // d/dx (x·y + z)·x = 2xy + z
  'Exercise: BP1 for one output unit': sig(2) * sig(2) * (1 - sig(2)),
  'Exercise: gradients that were never zeroed': 3 * (2 * 2 + 3),
};
const publicDir = join(SITE_ROOT, 'public');
let server: { url: string; close(): Promise<void> } | null = null;

beforeAll(async () => {
  if (existsSync(join(publicDir, 'data'))) server = await serveStatic(publicDir);
});
afterAll(async () => server?.close());

describe('site examples in Node', () => {
  it('has an exercise on every concept page', () => {
    const concepts = new Set(examples.filter((e) => e.page.startsWith('concepts/')).map((e) => e.page));
    for (const page of concepts)
      expect(
        examples.some((e) => e.page === page && e.title.startsWith('Exercise')),
        page,
      ).toBe(true);
    for (const title of Object.keys(EXERCISES))
      expect(
        examples.some((e) => e.title === title),
        title,
      ).toBe(true);
  });

  it('has at least 20 examples on at least 8 pages', () => {
    expect(examples.length).toBeGreaterThanOrEqual(20);
    expect(new Set(examples.map((e) => e.page)).size).toBeGreaterThanOrEqual(8);
  });

  for (const ex of examples) {
    const needsSite = ex.code.includes('asset(');
    it.skipIf(needsSite && !existsSync(join(publicDir, 'data')))(`${ex.page}: ${ex.title}`, async () => {
      await tensorPkg.setBackend('cpu');
      const messages: WorkerMessage[] = [];
      const scope = makeScope((m) => messages.push(m), { quick: true, siteRoot: `${server?.url ?? 'http://127.0.0.1:9'}/` });
      const result = await runExample(ex.code, scope);
      const printed = messages.filter((m) => m.type === 'print').map((m) => (m as { text: string }).text);
      if (ex.expectError) {
        expect(result.error, 'this example is meant to fail').not.toBeNull();
      } else {
        expect(result.error, printed.join('\n')).toBeNull();
        expect(messages.length, 'the example shows something').toBeGreaterThan(0);
      }
      const asks = messages.filter((m) => m.type === 'ask');
      if (ex.title in EXERCISES) {
        expect(asks).toHaveLength(1);
        expect((asks[0] as { answer: number }).answer).toBeCloseTo(EXERCISES[ex.title], 5);
      } else {
        expect(asks, 'an exercise without a hand-derived answer in EXERCISES').toHaveLength(0);
      }
    });
  }
});
