/**
 * `pnpm bench --browser` (and the `browser` section of the full run): the jobs of
 * src/browser-jobs.ts in Node and in Chromium in one run, side by side. The Chromium side is
 * src/browser-worker.ts bundled with esbuild and served on 127.0.0.1 twice: once with the
 * cross-origin isolation headers (`Cross-Origin-Opener-Policy: same-origin`,
 * `Cross-Origin-Embedder-Policy: require-corp`) that let the CPU backend start worker threads,
 * timed with one thread and with all, and once without them, where the backend falls back to one
 * thread whatever it is asked for. Chromium runs headless through playwright-core; where there is
 * no Chromium (`CHROMIUM_PATH`, else /usr/bin/chromium) the section says so and is skipped.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runJobs, type BrowserJobsConfig, type JobFigures } from './browser-jobs.js';
import { median } from './workload.js';

/** What the page's worker reports. */
interface WorkerResult {
  crossOriginIsolated: boolean;
  hardwareConcurrency: number | null;
  userAgent: string;
  figures: JobFigures[];
}

/** The section's JSON. */
export interface BrowserBench {
  chromium: string;
  jobs: string;
  threads: number;
  node: { oneThread: JobFigures; allThreads: JobFigures };
  chromiumIsolated: { crossOriginIsolated: boolean; hardwareConcurrency: number | null; oneThread: JobFigures; allThreads: JobFigures };
  chromiumNotIsolated: { crossOriginIsolated: boolean; figures: JobFigures };
  /** Chromium over Node, same thread setting: time ratios (lower is better) and throughput ratios. */
  chromiumOverNode: Record<string, number>;
  wallSeconds: number;
}

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** The page: starts the bench worker, hands it the config, relays its progress to the console. */
function page(config: BrowserJobsConfig): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>bp bench</title></head><body><script type="module">
const w = new Worker('worker.js', { type: 'module' });
w.onmessage = (e) => {
  if (e.data.log !== undefined) console.log(e.data.log);
  else window.__bpResult = e.data;
};
w.onerror = (e) => { window.__bpResult = { error: 'worker error: ' + e.message }; };
w.postMessage(${JSON.stringify(config)});
</script></body></html>`;
}

function serve(workerJs: string, config: BrowserJobsConfig): Promise<Server> {
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const headers = url.startsWith('/isolated/') ? ISOLATION : {};
    if (url === '/isolated/' || url === '/plain/') {
      res.writeHead(200, { 'Content-Type': 'text/html', ...headers });
      res.end(page(config));
    } else if (url === '/isolated/worker.js' || url === '/plain/worker.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript', ...headers });
      res.end(workerJs);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** Each figure the median of the rounds' (`runs` holds one {@link JobFigures} per round). */
function medianFigures(runs: JobFigures[]): JobFigures {
  const pick = (key: 'matmulGflops' | 'mlpEpochSeconds'): Record<string, number> =>
    Object.fromEntries(Object.keys(runs[0][key]).map((k) => [k, median(runs.map((r) => r[key][k]))]));
  return {
    ...runs[0],
    threads: Math.min(...runs.map((r) => r.threads)),
    matmulGflops: pick('matmulGflops'),
    mlpEpochSeconds: pick('mlpEpochSeconds'),
  };
}

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * Runs the section: the jobs in this Node process with one thread and with all, then in Chromium
 * on the isolated page (one thread, all) and on the plain one (all asked for), `rounds` times in
 * that order, each figure the median of the rounds. `steps` per MLP run (0: whole epochs of
 * `samples`), `reps` timed 512² products (a third as many 1024²); `log` gets progress lines.
 */
export async function browserBench(
  options: { steps: number; reps: number; samples: number; rounds: number },
  log: (line: string) => void,
): Promise<BrowserBench | { skipped: string }> {
  const t0 = performance.now();
  const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromiumPath)) return { skipped: `no Chromium at ${chromiumPath} (set CHROMIUM_PATH)` };
  let chromium: typeof import('playwright-core').chromium;
  let build: typeof import('esbuild').build;
  try {
    ({ chromium } = await import('playwright-core'));
    ({ build } = await import('esbuild'));
  } catch (e) {
    return { skipped: `playwright-core or esbuild is not installed: ${(e as Error).message}` };
  }
  const threads = availableParallelism();
  const base = { steps: options.steps, reps: options.reps, samples: options.samples, sizes: [512, 1024], batches: [32, 128] };

  const bundled = await build({
    entryPoints: [fileURLToPath(new URL('../src/browser-worker.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@bp/source'],
    write: false,
    logLevel: 'silent',
  });
  const workerJs = bundled.outputFiles[0].text;

  const runPage = async (path: string, config: BrowserJobsConfig): Promise<WorkerResult & { version: string }> => {
    const server = await serve(workerJs, config);
    const browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
    try {
      const tab = await browser.newPage();
      const errors: string[] = [];
      tab.on('pageerror', (e) => errors.push(String(e.message)));
      tab.on('console', (m) => {
        if (m.type() === 'log') log(`chromium ${path} ${m.text()}`);
        else if (m.type() === 'error') errors.push(m.text());
      });
      const { port } = server.address() as AddressInfo;
      await tab.goto(`http://127.0.0.1:${port}${path}`, { waitUntil: 'commit' });
      await tab.waitForFunction(() => (globalThis as { __bpResult?: unknown }).__bpResult !== undefined, undefined, {
        timeout: 15 * 60_000,
        polling: 500,
      });
      const reply = (await tab.evaluate(() => (globalThis as { __bpResult?: unknown }).__bpResult)) as {
        result?: WorkerResult;
        error?: string;
      };
      if (!reply.result) throw new Error(`${reply.error ?? 'no result'}${errors.length ? ` (${errors.join('; ')})` : ''}`);
      return { ...reply.result, version: browser.version() };
    } finally {
      await browser.close();
      await new Promise((r) => server.close(r));
    }
  };

  try {
    const runs: { node: JobFigures[]; iso: WorkerResult & { version: string }; plain: WorkerResult }[] = [];
    for (let r = 0; r < options.rounds; r++) {
      const of = options.rounds > 1 ? ` (round ${r + 1} of ${options.rounds})` : '';
      log(`browser section: Node with 1 and ${threads} threads${of}...`);
      const node = await runJobs({ ...base, threads: [1, threads] }, (l) => log(`node ${l}`));
      log(`browser section: Chromium, cross-origin isolated, 1 and ${threads} threads${of}...`);
      const iso = await runPage('/isolated/', { ...base, threads: [1, threads] });
      log(`browser section: Chromium without isolation, ${threads} threads asked for${of}...`);
      const plain = await runPage('/plain/', { ...base, threads: [threads] });
      runs.push({ node, iso, plain });
    }
    const iso = runs[0].iso;
    const plain = runs[0].plain;
    const nodeOne = medianFigures(runs.map((r) => r.node[0]));
    const nodeAll = medianFigures(runs.map((r) => r.node[1]));
    const chrOne = medianFigures(runs.map((r) => r.iso.figures[0]));
    const chrAll = medianFigures(runs.map((r) => r.iso.figures[1]));
    const chrPlain = medianFigures(runs.map((r) => r.plain.figures[0]));
    const chromiumOverNode: Record<string, number> = {};
    for (const [label, c, n] of [
      ['OneThread', chrOne, nodeOne],
      ['AllThreads', chrAll, nodeAll],
    ] as const) {
      for (const size of base.sizes)
        chromiumOverNode[`matmul${size}Throughput${label}`] = round(c.matmulGflops[size] / n.matmulGflops[size]);
      for (const b of base.batches) chromiumOverNode[`mlpBatch${b}Time${label}`] = round(c.mlpEpochSeconds[b] / n.mlpEpochSeconds[b]);
    }
    return {
      chromium: `${iso.version} (${chromiumPath}, headless)`,
      jobs:
        `the same code on both sides (src/browser-jobs.ts): n x n matmul GFLOP/s (tensor.matmul after a warm-up, median of ${base.reps} 512² and ${Math.max(3, Math.ceil(base.reps / 3))} 1024²), ` +
        `Keras MLP (Sequential + compile + fit) ${base.steps > 0 ? `${base.steps} steps extrapolated to` : 'a whole'} epoch of ${base.samples} images; ` +
        `Node in this process, Chromium in a module Web Worker; the backend's default kernels (fused multiply-adds where the engine has relaxed SIMD); median of ${options.rounds} round(s) alternating Node and Chromium`,
      threads,
      node: { oneThread: nodeOne, allThreads: nodeAll },
      chromiumIsolated: {
        crossOriginIsolated: iso.crossOriginIsolated,
        hardwareConcurrency: iso.hardwareConcurrency,
        oneThread: chrOne,
        allThreads: chrAll,
      },
      chromiumNotIsolated: { crossOriginIsolated: plain.crossOriginIsolated, figures: chrPlain },
      chromiumOverNode,
      wallSeconds: round((performance.now() - t0) / 1000, 1),
    };
  } catch (e) {
    return { skipped: `the Chromium run failed: ${(e as Error).message.split('\n')[0]}` };
  }
}
