/**
 * Bundles a test page entry with esbuild, serves it on 127.0.0.1 and runs it
 * in Debian's Chromium through playwright-core, with WebGL on SwiftShader so
 * the GL kernels run without a GPU. The page reports by setting
 * `window.__bpResult`; page errors are collected beside it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

/** What the page reported, plus the errors it threw along the way. */
export interface PageRun<T> {
  result: T;
  pageErrors: string[];
  consoleErrors: string[];
}

export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-swiftshader',
  '--use-angle=swiftshader',
  // WebGPU (on SwiftShader's Vulkan) needs a secure origin, which 127.0.0.1 is.
  '--enable-unsafe-webgpu',
];

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

function serve(js: string, files: Record<string, Uint8Array>): Promise<Server> {
  const html =
    '<!doctype html><html><head><meta charset="utf-8"><title>bp gpu</title></head><body><script type="module" src="/page.js"></script></body></html>';
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/page.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(js);
    } else if (Object.hasOwn(files, path)) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(files[path]);
    } else if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(html);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/**
 * Runs the page built from `entry` and waits up to `timeoutMs` for its result.
 * `onLog` receives the page's console.log lines as they come (progress);
 * `files` are served beside the page under their keys (`'/data.bin'`);
 * `query` is appended to the page's address (`'?mode=webgl'`). A page that
 * does not report in time fails with its last console.log line, so a slow run
 * names the case it was in.
 */
export async function runInChromium<T>(
  entry: string,
  timeoutMs: number,
  onLog?: (line: string) => void,
  files: Record<string, Uint8Array> = {},
  query = '',
): Promise<PageRun<T>> {
  const js = await bundle(entry);
  const server = await serve(js, files);
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  let lastLog = '(nothing logged)';
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e.stack ?? e)));
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
      else if (m.type() === 'log') {
        lastLog = m.text();
        onLog?.(lastLog);
      }
    });
    const { port } = server.address() as AddressInfo;
    // The page computes in its module script; waiting for `load` would wait for all of it.
    await page.goto(`http://127.0.0.1:${port}/${query}`, { waitUntil: 'commit' });
    const t0 = Date.now();
    const handle = await page
      .waitForFunction(
        () => (window as unknown as { __bpResult?: unknown }).__bpResult ?? (window as unknown as { __bpFatal?: unknown }).__bpFatal,
        undefined,
        { timeout: timeoutMs, polling: 200 },
      )
      .catch((e: unknown) => {
        const s = ((Date.now() - t0) / 1000).toFixed(0);
        throw new Error(`the page gave no result after ${s} s; its last progress line: ${lastLog}\n${String(e)}`);
      });
    const fatal = await page.evaluate(() => (window as unknown as { __bpFatal?: string }).__bpFatal);
    if (fatal) throw new Error(`the page failed: ${fatal}`);
    await handle.dispose();
    const result = (await page.evaluate(() => (window as unknown as { __bpResult: unknown }).__bpResult)) as T;
    return { result, pageErrors, consoleErrors };
  } finally {
    await browser.close();
    await new Promise((r) => server.close(r));
  }
}
