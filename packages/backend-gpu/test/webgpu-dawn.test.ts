/**
 * The WebGPU page's checks (test/webgpu-entry.ts) in Node, on Dawn: the `webgpu` package where it
 * loads (glibc 2.38 and GCC 13's libstdc++: Ubuntu 24.04, Debian 13) and a Vulkan adapter answers.
 * Elsewhere it skips; on Debian 12 Dawn does not load. It passes on an NVIDIA H200 (Ubuntu 24.04).
 */
import { describe, expect, it } from 'vitest';
import { webgpuAdapter, webgpuAvailable } from '../src/modes.js';
import { loadMnistBytes, packMnist } from './mnist-bytes.js';
import type { WebGpuReport } from './webgpu-entry.js';
import { expectWebGpuReport } from './webgpu-report.js';

const available = await webgpuAvailable();

describe.skipIf(!available)('in Node on Dawn (the webgpu package)', () => {
  it('passes what the Chromium WebGPU page checks', async () => {
    // What the page has in a browser: `window`, and the MNIST subset at /mnist.bin.
    const g = globalThis as Record<string, unknown>;
    const mnist = packMnist(await loadMnistBytes(1024, 500)).slice().buffer;
    const fetchBefore = globalThis.fetch;
    g.window = globalThis;
    g.fetch = async (url: string) => (url === '/mnist.bin' ? new Response(mnist) : fetchBefore(url));
    try {
      await import('./webgpu-entry.js');
      while (g.__bpResult === undefined && g.__bpFatal === undefined) await new Promise((r) => setTimeout(r, 100));
      expect(g.__bpFatal).toBeUndefined();
      const r = g.__bpResult as WebGpuReport;
      console.log(JSON.stringify({ adapter: webgpuAdapter(), ms: Math.round(r.ms), info: r.info }));
      expectWebGpuReport(r);
    } finally {
      g.fetch = fetchBefore;
    }
  }, 600_000);
});
