/**
 * Bundles a test page entry with esbuild and runs it in Debian's Chromium
 * through playwright-core. The page, its bundle and onnxruntime-web's wasm
 * files (under `/ort/`) come from a server on 127.0.0.1; every other request
 * is refused, so nothing is fetched from the network. The page reports by
 * setting `window.__bpResult` (or `window.__bpFatal`).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

/** Where Debian puts Chromium; CHROMIUM_PATH overrides it. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The folder of onnxruntime-web's dist files (the wasm binary and its loader). */
export function ortDistDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
}

/** What the page reported, plus the errors it threw along the way and the requests refused. */
export interface PageRun<T> {
  result: T;
  pageErrors: string[];
  refused: string[];
}

async function bundle(entry: string): Promise<string> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@bp/source'],
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0].text;
}

const TYPES: Record<string, string> = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm' };

function serve(js: string, files: Record<string, Uint8Array>, ortDir: string): Promise<Server> {
  const html =
    '<!doctype html><html><head><meta charset="utf-8"><title>bp onnx</title></head><body><script type="module" src="/page.js"></script></body></html>';
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (url === '/page.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(js);
    } else if (url === '/' || url === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(html);
    } else if (Object.hasOwn(files, url)) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(files[url]);
    } else if (url.startsWith('/ort/') && /^[\w.-]+\.(mjs|wasm)$/.test(basename(url))) {
      const name = basename(url);
      readFile(join(ortDir, name)).then(
        (bytes) => {
          res.writeHead(200, { 'content-type': TYPES[name.slice(name.lastIndexOf('.'))] });
          res.end(bytes);
        },
        () => {
          res.writeHead(404);
          res.end();
        },
      );
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Runs the page built from `entry`, serving `files` beside it, and waits up to `timeoutMs` for its result. */
export async function runInChromium<T>(entry: string, timeoutMs: number, files: Record<string, Uint8Array> = {}): Promise<PageRun<T>> {
  const js = await bundle(entry);
  const server = await serve(js, files, ortDistDir());
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  const pageErrors: string[] = [];
  const refused: string[] = [];
  try {
    const page = await browser.newPage();
    const { port } = server.address() as AddressInfo;
    const origin = `http://127.0.0.1:${port}`;
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${origin}/`) || url.startsWith('blob:') || url.startsWith('data:')) return route.continue();
      refused.push(url);
      return route.abort();
    });
    page.on('pageerror', (e) => pageErrors.push(String(e.stack ?? e)));
    await page.goto(`${origin}/`, { waitUntil: 'commit' });
    await page.waitForFunction(
      () => (window as unknown as { __bpResult?: unknown }).__bpResult ?? (window as unknown as { __bpFatal?: unknown }).__bpFatal,
      undefined,
      { timeout: timeoutMs, polling: 200 },
    );
    const fatal = await page.evaluate(() => (window as unknown as { __bpFatal?: string }).__bpFatal);
    if (fatal) throw new Error(`the page failed: ${fatal}\n${pageErrors.join('\n')}`);
    const result = (await page.evaluate(() => (window as unknown as { __bpResult: unknown }).__bpResult)) as T;
    return { result, pageErrors, refused };
  } finally {
    await browser.close();
    await new Promise((r) => server.close(r));
  }
}
