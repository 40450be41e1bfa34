import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHROMIUM_PATH, runInChromium } from './chromium.js';
import type { WebGpuReport } from './webgpu-entry.js';

const entry = fileURLToPath(new URL('./webgpu-entry.ts', import.meta.url));

describe.skipIf(!existsSync(CHROMIUM_PATH))('in Chromium (WebGPU on SwiftShader)', () => {
  it('picks WebGPU, matches the CPU backend op by op and in training, and reads nothing back inside fit steps', async () => {
    const run = await runInChromium<WebGpuReport>(entry, 280_000);
    const r = run.result;
    console.log(
      JSON.stringify(
        {
          ms: r.ms,
          mode: r.mode,
          train: r.train,
          fit: r.fit && { launches: r.fit.launchesPerStep[0], readbacks: r.fit.readbacksPerStep, atEnd: r.fit.readbacksAtEpochEnd },
        },
        null,
        1,
      ),
    );
    expect(r.mode).toBe('webgpu');
    expect(r.syncRead).toBe(false);
    expect(r.results.filter((c) => !c.ok).map((c) => `${c.name}: ${c.error}`)).toEqual([]);
    expect(r.results).toHaveLength(12);
    expect(r.syncError).toMatch(/cannot read values synchronously.*await t\.data\(\)/);
    const { cpu, webgpu } = r.train!;
    cpu.forEach((c, i) => expect(Math.abs(webgpu[i] - c)).toBeLessThanOrEqual(1e-3 * Math.abs(c)));
    expect(cpu[3]).toBeLessThan(cpu[0]);
    expect(r.fit!.readbacksPerStep).toEqual(Array(r.fit!.steps - 1).fill(0));
    expect(r.fit!.readbacksAtEpochEnd).toBe(1);
    expect(Number.isFinite(r.fit!.loss)).toBe(true);
    expect(run.pageErrors).toEqual([]);
  }, 300_000);
});
