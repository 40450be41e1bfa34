/**
 * Makes the API reference's `@example` blocks runnable where that is cheap:
 * after TypeDoc has written api/, each example's code gets the imports of
 * the bp names it uses, and each line that states a result in a trailing
 * comment (`mseLoss(a, b).item(); // 0.04`) prints it. The block becomes a
 * runnable example (`ts example`) only if that code then runs in Node, shows
 * something and finishes within half a second; the others (fragments that
 * use variables they do not define) stay as plain code.
 *
 *   tsx --conditions=@bp/source scripts/api-examples.ts
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as tensorPkg from '@bp/tensor';
import { makeScope } from '../.vitepress/theme/runner/scope.js';
import { runExample } from '../.vitepress/theme/runner/execute.js';
import { runnableCode } from './api-example-code.js';
import type { WorkerMessage } from '../.vitepress/theme/runner/protocol.js';
import { SITE_ROOT } from '../test/examples.js';

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? markdownFiles(p) : name.endsWith('.md') ? [p] : [];
  });
}

async function tryRun(code: string): Promise<boolean> {
  await tensorPkg.setBackend('cpu');
  const messages: WorkerMessage[] = [];
  const scope = makeScope((m) => messages.push(m), { quick: true, siteRoot: 'http://127.0.0.1:9/' });
  const t0 = performance.now();
  const { error } = await runExample(code, scope);
  return !error && messages.some((m) => m.type !== 'progress') && performance.now() - t0 < 500;
}

const apiDir = join(SITE_ROOT, 'api');
let runnable = 0;
let kept = 0;
for (const file of markdownFiles(apiDir)) {
  const text = readFileSync(file, 'utf8');
  const parts: string[] = [];
  let last = 0;
  let heading = '';
  const re = /^(#{2,4}) Example\n\n```ts\n([\s\S]*?)^```$|^(#{1,3}) (?!Example$)(.+)$/gm;
  for (const m of text.matchAll(re)) {
    if (m[2] === undefined) {
      // The symbol the example belongs to: "Class: Linear", "mseLoss()" → Linear, mseLoss.
      heading = m[4]
        .replace(/\\/g, '')
        .replace(/[`*]/g, '')
        .replace(/^\w+: /, '')
        .replace(/\(\)$/, '')
        .trim();
      continue;
    }
    const code = runnableCode(m[2].replace(/\n+$/, ''));
    if (!(await tryRun(code))) {
      kept++;
      continue;
    }
    runnable++;
    parts.push(
      text.slice(last, m.index),
      `${m[1]} Example\n\n\`\`\`ts example title="${`Example: ${heading}`.replace(/"/g, "'")}"\n${code}\n\`\`\``,
    );
    last = m.index + m[0].length;
  }
  if (last) writeFileSync(file, parts.join('') + text.slice(last));
}
console.log(`api-examples: ${runnable} runnable, ${kept} left as code (fragments), in ${relative(SITE_ROOT, apiDir)}/`);
