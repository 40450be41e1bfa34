import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** A Chromium to run the page in, if the machine has one. */
const chromiumPath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));

/**
 * Inside a Web Worker: a two-thread and a one-thread backend, the first given up to 10 s to start
 * its worker where the page is cross-origin isolated; then the same products and convolution on both. Posts what it found.
 */
const WORKER_ENTRY = `
import { cpuBackend } from ${JSON.stringify(fileURLToPath(new URL('../cpu-backend.ts', import.meta.url)))};
const multi = cpuBackend({ threads: 2 });
const single = cpuBackend({ threads: 1 });
const t0 = Date.now();
// Without cross-origin isolation no worker can start: nothing to wait for.
while (self.crossOriginIsolated && multi.info().threads < 2 && Date.now() - t0 < 10000) await new Promise((r) => setTimeout(r, 20));
const values = (n, seed) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed));
const same = (a, b) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
let ok = true;
for (const [m, k, n] of [[256, 256, 256], [64, 300, 200]]) {
  const a = values(m * k, 1);
  const b = values(k * n, 2);
  ok &&= same(multi.matmul(a, b, 1, 1, m, k, n, false, false), single.matmul(a, b, 1, 1, m, k, n, false, false));
}
const win = { n: 64, c: 1, h: 28, w: 28, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, outH: 28, outW: 28 };
const x = values(64 * 28 * 28, 3);
const w = values(16 * 9, 4);
ok &&= same(multi.fused.conv2d(x, w, null, win, 16), single.fused.conv2d(x, w, null, win, 16));
postMessage({ isolated: self.crossOriginIsolated, threads: multi.info().threads, sameBits: ok });
`;

const PAGE = `<!doctype html><script>
const w = new Worker('/worker.js');
w.onmessage = (e) => console.log(JSON.stringify(e.data));
w.onerror = (e) => console.log(JSON.stringify({ error: e.message }));
</script>`;

describe.skipIf(!chromiumPath)('kernel threads in a browser worker', () => {
  let server: Server;
  let base = '';
  let workerJs = '';

  beforeAll(async () => {
    const { build } = await import('esbuild');
    const out = await build({
      stdin: { contents: WORKER_ENTRY, resolveDir: fileURLToPath(new URL('.', import.meta.url)), loader: 'ts' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
      target: 'es2022',
    });
    // A classic worker script: top-level await needs a module, so wrap the bundle in an async function.
    workerJs = `(async () => {\n${out.outputFiles[0].text}\n})();`;
    server = createServer((req, res) => {
      const isolated = req.url?.startsWith('/isolated/');
      const headers: Record<string, string> = isolated
        ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
        : {};
      if (req.url?.endsWith('/worker.js')) {
        res.writeHead(200, { 'Content-Type': 'text/javascript', ...headers });
        res.end(workerJs);
      } else {
        res.writeHead(200, { 'Content-Type': 'text/html', ...headers });
        res.end(PAGE.replace("'/worker.js'", isolated ? "'/isolated/worker.js'" : "'/plain/worker.js'"));
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  /** What the worker posts on `path`. */
  async function report(path: string): Promise<Record<string, unknown>> {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      const first = new Promise<string>((resolve) => page.on('console', (m) => resolve(m.text())));
      await page.goto(`${base}${path}`);
      return JSON.parse(await Promise.race([first, new Promise<string>((r) => setTimeout(() => r('{"error":"timeout"}'), 40_000))]));
    } finally {
      await browser.close();
    }
  }

  it('run on two threads with the same bits as one, on a cross-origin isolated page', async () => {
    expect(await report('/isolated/')).toEqual({ isolated: true, threads: 2, sameBits: true });
  }, 90_000);

  it('fall back to one thread where the page is not cross-origin isolated', async () => {
    expect(await report('/plain/')).toEqual({ isolated: false, threads: 1, sameBits: true });
  }, 90_000);
});
