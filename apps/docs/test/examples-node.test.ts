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
const publicDir = join(SITE_ROOT, 'public');
let server: { url: string; close(): Promise<void> } | null = null;

beforeAll(async () => {
  if (existsSync(join(publicDir, 'data'))) server = await serveStatic(publicDir);
});
afterAll(async () => server?.close());

describe('site examples in Node', () => {
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
    });
  }
});
