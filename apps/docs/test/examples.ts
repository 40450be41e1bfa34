/**
 * The runnable examples of the site's markdown pages, found the way the
 * markdown renderer finds them (fences whose info string says `example`).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseExampleInfo } from '../.vitepress/example-fence.js';

export const SITE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** One example: where it is, its flags and its source. */
export interface PageExample {
  page: string;
  title: string;
  gpu: boolean;
  expectError: boolean;
  code: string;
}

function markdownFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    // api/ is generated (scripts/prepare.mjs): its runnable @example blocks count once it exists.
    if (['node_modules', 'public', '.vitepress', 'test', 'scripts'].includes(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...markdownFiles(p));
    else if (name.endsWith('.md') && name !== 'README.md') out.push(p);
  }
  return out.sort();
}

/** Every example of every page, in page order. */
export function allExamples(): PageExample[] {
  const out: PageExample[] = [];
  for (const file of markdownFiles(SITE_ROOT)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)) {
      const info = parseExampleInfo(m[1]);
      if (!info) continue;
      out.push({ page: relative(SITE_ROOT, file), title: info.title, gpu: info.gpu, expectError: info.expectError, code: m[2] });
    }
  }
  return out;
}
