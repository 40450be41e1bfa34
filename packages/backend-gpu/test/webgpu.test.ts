import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHROMIUM_PATH, runInChromium } from './chromium.js';
import { loadMnistBytes, packMnist } from './mnist-bytes.js';
import type { WebGpuReport } from './webgpu-entry.js';
import { expectWebGpuReport } from './webgpu-report.js';

const entry = fileURLToPath(new URL('./webgpu-entry.ts', import.meta.url));

describe.skipIf(!existsSync(CHROMIUM_PATH))('in Chromium (WebGPU on SwiftShader)', () => {
  it('picks WebGPU, passes the parity cases and the conformance suite, matches the CPU backend op by op, in training and on MNIST, reads nothing back inside fit steps, and resumes on the CPU backend after losing the device', async () => {
    // 1,024 training images (32 steps of 32) and 500 test images, as the WebGL run.
    const mnist = packMnist(await loadMnistBytes(1024, 500));
    const run = await runInChromium<WebGpuReport>(entry, 840_000, undefined, { '/mnist.bin': mnist });
    const r = run.result;
    const conf = r.conformance;
    const ran = conf.filter((c) => !c.skipped);
    const slow = [...ran].sort((a, b) => b.ms - a.ms).slice(0, 5);
    console.log(
      JSON.stringify(
        {
          ms: r.ms,
          mode: r.mode,
          conformance: {
            cases: conf.length,
            passed: ran.filter((c) => c.ok).length,
            skipped: conf.length - ran.length,
            ms: Math.round(ran.reduce((a, c) => a + c.ms, 0)),
            slow: slow.map((c) => `${c.name} ${c.ms.toFixed(0)}`),
          },
          parity: {
            cases: r.parity.length,
            passed: r.parity.filter((c) => c.ok).length,
            ms: Math.round(r.parity.reduce((a, c) => a + c.ms, 0)),
          },
          mnist: r.mnist ?? r.mnistError,
          lost: r.lost ?? r.lostError,
          train: r.train,
          fit: r.fit && { launches: r.fit.launchesPerStep[0], readbacks: r.fit.readbacksPerStep, atEnd: r.fit.readbacksAtEpochEnd },
        },
        null,
        1,
      ),
    );
    expectWebGpuReport(r);
    expect(run.pageErrors).toEqual([]);
  }, 900_000);
});
