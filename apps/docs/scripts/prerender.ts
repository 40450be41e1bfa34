/**
 * Runs every example of the site once in Node at build time, through the
 * same transform and helpers as the browser worker, and writes what each
 * one showed (its messages: lines, tables, charts, graphs, images) to
 * `.vitepress/prerendered.json`, keyed by a hash of the example's source.
 * The example fence embeds that output in the page, so a reader sees it
 * before pressing Run; Run replaces it with a live run.
 *
 *   tsx --conditions=@bp/source scripts/prerender.ts [--quick]
 *
 * The MNIST examples fetch the subset from public/data, served here on a
 * local port as the site would serve it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tensorPkg from '@bp/tensor';
import { makeScope } from '../.vitepress/theme/runner/scope.js';
import { runExample } from '../.vitepress/theme/runner/execute.js';
import { exampleKey, type Prerendered } from '../.vitepress/theme/runner/prerendered.js';
import type { WorkerMessage } from '../.vitepress/theme/runner/protocol.js';
import { allExamples, SITE_ROOT } from '../test/examples.js';
// @ts-expect-error: a plain .mjs helper without types
import { serveStatic } from '../test/static-server.mjs';

/** Chart values to 6 significant digits: far below a pixel, and a much smaller page. */
function roundPoint(p: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(p)) out[k] = Number.isFinite(v) ? Number(v.toPrecision(6)) : v;
  return out;
}

const quick = process.argv.includes('--quick');
const out = join(SITE_ROOT, '.vitepress', 'prerendered.json');
const server = (await serveStatic(join(SITE_ROOT, 'public'))) as { url: string; close(): Promise<void> };
const results: Record<string, Prerendered> = {};
const t0 = performance.now();
let failed = 0;
try {
  for (const ex of allExamples()) {
    await tensorPkg.setBackend('cpu');
    const messages: WorkerMessage[] = [];
    // Progress bars only matter while a run is live; keep the last one.
    // Points of one chart are merged into one message.
    const post = (m: WorkerMessage): void => {
      if (m.type === 'progress') {
        const i = messages.findIndex((x) => x.type === 'progress');
        if (i >= 0) messages.splice(i, 1);
      }
      // A redrawn boundary or path replaces the one before: keep the last.
      if (m.type === 'scatter-boundary' || m.type === 'landscape-path') {
        const cur = m;
        const same = (x: WorkerMessage): boolean =>
          (x.type === 'scatter-boundary' && cur.type === 'scatter-boundary' && x.id === cur.id) ||
          (x.type === 'landscape-path' && cur.type === 'landscape-path' && x.id === cur.id && x.name === cur.name);
        const i = messages.findIndex(same);
        if (i >= 0) {
          messages[i] = m;
          return;
        }
      }
      if (m.type === 'chart-points') {
        const id = m.id;
        const prev = messages.find((x) => x.type === 'chart-points' && x.id === id);
        if (prev && prev.type === 'chart-points') {
          prev.points.push(...m.points.map(roundPoint));
          return;
        }
        m = { ...m, points: m.points.map(roundPoint) };
      }
      messages.push(m);
    };
    const scope = makeScope(post, { quick, siteRoot: `${server.url}/` });
    const start = performance.now();
    const { error } = await runExample(ex.code, scope);
    const ms = performance.now() - start;
    if (error) messages.push({ type: 'error', ...error });
    if (!!error !== ex.expectError) {
      failed++;
      console.error(
        `prerender: ${ex.page} "${ex.title}" ${error ? `failed: ${error.name}: ${error.message}` : 'was meant to fail and did not'}`,
      );
    }
    results[exampleKey(ex.code)] = { messages, ms: Math.round(ms), quick, status: error ? 'error' : 'done' };
    if (ms > 2000) console.log(`prerender: ${ex.page} "${ex.title}" ${(ms / 1000).toFixed(1)} s`);
  }
} finally {
  await server.close();
}
writeFileSync(out, JSON.stringify(results));
console.log(
  `prerender: ${Object.keys(results).length} examples in ${((performance.now() - t0) / 1000).toFixed(1)} s${quick ? ' (quick sizes)' : ''}`,
);
if (failed) process.exit(1);
