/**
 * The Chromium side of src/browser-bench.ts, bundled for the browser and run as a module Web
 * Worker (kernel threads need a worker: a page's main thread may not block waiting for them). It
 * gets its {@link BrowserJobsConfig} as the first message, posts progress as `{ log }` and ends
 * with `{ result }` (or `{ error }`).
 */
import { runJobs, type BrowserJobsConfig } from './browser-jobs.js';

const scope = globalThis as unknown as {
  onmessage: ((e: { data: BrowserJobsConfig }) => void) | null;
  postMessage(data: unknown): void;
  crossOriginIsolated?: boolean;
  navigator: { hardwareConcurrency?: number; userAgent: string };
};

scope.onmessage = (e) => {
  scope.onmessage = null;
  const post = (data: unknown): void => scope.postMessage(data);
  runJobs(e.data, (line) => post({ log: line }))
    .then((figures) =>
      post({
        result: {
          crossOriginIsolated: scope.crossOriginIsolated === true,
          hardwareConcurrency: scope.navigator.hardwareConcurrency ?? null,
          userAgent: scope.navigator.userAgent,
          figures,
        },
      }),
    )
    .catch((err: unknown) => post({ error: String((err as Error)?.stack ?? err) }));
};
