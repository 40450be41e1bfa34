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
 * an example that shows an error on purpose (the test expects it to fail).
 */
import type { MarkdownRenderer } from 'vitepress';

interface ExampleInfo {
  lang: string;
  title: string;
  gpu: boolean;
  /** The example demonstrates an error: it passes when it fails with one, shown in place. */
  expectError: boolean;
}

/** Parses `ts example title="..." gpu`; null when the block is not an example. */
export function parseExampleInfo(info: string): ExampleInfo | null {
  const m = /^(\w+)\s+example\b(.*)$/.exec(info.trim());
  if (!m) return null;
  const rest = m[2];
  const title = /title="([^"]*)"/.exec(rest)?.[1] ?? 'Example';
  const flags = rest.replace(/title="[^"]*"/, '');
  return { lang: m[1], title, gpu: /\bgpu\b/.test(flags), expectError: /\berror\b/.test(flags) };
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
    return `<BpExample title="${attr(info.title)}" lang="${info.lang}" code="${code}"${info.gpu ? ' gpu' : ''}${info.expectError ? ' expect-error' : ''} />\n`;
  };
}
