/**
 * Turns fenced code blocks marked `example` into runnable examples:
 *
 * ````md
 * ```ts example title="Two layers" gpu
 * import { tensor } from '@bp/tensor';
 * print(tensor([1, 2]).mul(2));
 * ```
 * ````
 *
 * The block becomes a `<BpExample>` whose source travels URI-encoded in an
 * attribute, so Vue never interprets braces in the code. `gpu` marks the
 * examples that the browser test also runs on the GPU backend; `error` marks
 * an example that shows an error on purpose (the test expects it to fail);
 * `figure` folds the code away and runs the example once it is on screen.
 * The output the example showed at build time (scripts/prerender.ts) travels
 * the same way in `output`, so the page shows it before the reader runs it.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MarkdownRenderer } from 'vitepress';
import { exampleKey, type Prerendered } from './theme/runner/prerendered.js';

const PRERENDERED = fileURLToPath(new URL('./prerendered.json', import.meta.url));
let cache: { mtime: number; data: Record<string, Prerendered> } | null = null;

/** The build-time output of an example (scripts/prerender.ts), or null when there is none. */
export function prerenderedOutput(code: string): Prerendered | null {
  if (!existsSync(PRERENDERED)) return null;
  const mtime = statSync(PRERENDERED).mtimeMs;
  if (!cache || cache.mtime !== mtime)
    cache = { mtime, data: JSON.parse(readFileSync(PRERENDERED, 'utf8')) as Record<string, Prerendered> };
  return cache.data[exampleKey(code)] ?? null;
}

interface ExampleInfo {
  lang: string;
  title: string;
  gpu: boolean;
  /** The example demonstrates an error: it passes when it fails with one, shown in place. */
  expectError: boolean;
  /** A figure: the code starts folded away and the example runs by itself once it scrolls into view. */
  figure: boolean;
}

/** Parses `ts example title="..." gpu`; null when the block is not an example. */
export function parseExampleInfo(info: string): ExampleInfo | null {
  const m = /^(\w+)\s+example\b(.*)$/.exec(info.trim());
  if (!m) return null;
  const rest = m[2];
  const title = /title="([^"]*)"/.exec(rest)?.[1] ?? 'Example';
  const flags = rest.replace(/title="[^"]*"/, '');
  return { lang: m[1], title, gpu: /\bgpu\b/.test(flags), expectError: /\berror\b/.test(flags), figure: /\bfigure\b/.test(flags) };
}

function attr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** Installs the `example` fence renderer in front of VitePress' own. */
export function exampleFence(md: MarkdownRenderer): void {
  const fallback = md.renderer.rules.fence!;
  md.renderer.rules.fence = (tokens, idx, options, env, self) => {
    const token = tokens[idx];
    const info = parseExampleInfo(token.info);
    if (!info) return fallback(tokens, idx, options, env, self);
    const code = encodeURIComponent(token.content);
    const pre = prerenderedOutput(token.content);
    const output = pre ? ` output="${encodeURIComponent(JSON.stringify(pre))}"` : '';
    return `<BpExample title="${attr(info.title)}" lang="${info.lang}" code="${code}"${output}${info.gpu ? ' gpu' : ''}${info.expectError ? ' expect-error' : ''}${info.figure ? ' figure' : ''} />\n`;
  };
}
