import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { conformanceCases } from '@bp/conformance';
import { CHROMIUM_PATH, runInChromium } from './chromium.js';
import type { WebGpuReport } from './webgpu-entry.js';

const entry = fileURLToPath(new URL('./webgpu-entry.ts', import.meta.url));

describe.skipIf(!existsSync(CHROMIUM_PATH))('in Chromium (WebGPU on SwiftShader)', () => {
  it('picks WebGPU, passes the conformance suite, matches the CPU backend op by op and in training, and reads nothing back inside fit steps', async () => {
    const run = await runInChromium<WebGpuReport>(entry, 560_000);
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
            knownGaps: ran.filter((c) => c.gap && !c.ok).length,
            skipped: conf.length - ran.length,
            ms: Math.round(ran.reduce((a, c) => a + c.ms, 0)),
            slow: slow.map((c) => `${c.name} ${c.ms.toFixed(0)}`),
          },
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
    // Every quick conformance case ran, or skipped for its stated reason (a debug value check).
    expect(conf).toHaveLength(conformanceCases({ quick: true }).length);
    expect(conf.filter((c) => c.skipped).every((c) => /synchronously/.test(c.skipped!))).toBe(true);
    expect(conf.filter((c) => !c.ok && !c.gap).map((c) => `${c.name}: ${c.error}`)).toEqual([]);
    // A known gap that passes is no longer a gap: drop it from its list.
    expect(ran.filter((c) => c.ok && c.gap).map((c) => c.name)).toEqual([]);
    expect(r.syncError).toMatch(/cannot read values synchronously.*await t\.data\(\)/);
    const { cpu, webgpu } = r.train!;
    cpu.forEach((c, i) => expect(Math.abs(webgpu[i] - c)).toBeLessThanOrEqual(1e-3 * Math.abs(c)));
    expect(cpu[3]).toBeLessThan(cpu[0]);
    expect(r.fit!.readbacksPerStep).toEqual(Array(r.fit!.steps - 1).fill(0));
    expect(r.fit!.readbacksAtEpochEnd).toBe(1);
    expect(Number.isFinite(r.fit!.loss)).toBe(true);
    expect(run.pageErrors).toEqual([]);
  }, 600_000);
});
