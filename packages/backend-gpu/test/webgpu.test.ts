import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { conformanceCases } from '@bp/conformance';
import { CHROMIUM_PATH, runInChromium } from './chromium.js';
import { loadMnistBytes, packMnist } from './mnist-bytes.js';
import { parityCases } from './parity-cases.js';
import type { WebGpuReport } from './webgpu-entry.js';

const entry = fileURLToPath(new URL('./webgpu-entry.ts', import.meta.url));

describe.skipIf(!existsSync(CHROMIUM_PATH))('in Chromium (WebGPU on SwiftShader)', () => {
  it('picks WebGPU, passes the parity cases and the conformance suite, matches the CPU backend op by op, in training and on MNIST, reads nothing back inside fit steps, and resumes on the CPU backend after losing the device', async () => {
    // 1,024 training images (32 steps of 32) and 500 test images, as the WebGL run.
    const mnist = packMnist(await loadMnistBytes(1024, 500));
    const run = await runInChromium<WebGpuReport>(entry, 560_000, undefined, { '/mnist.bin': mnist });
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
    expect(r.mode).toBe('webgpu');
    expect(r.syncRead).toBe(false);
    expect(r.results.filter((c) => !c.ok).map((c) => `${c.name}: ${c.error}`)).toEqual([]);
    expect(r.results).toHaveLength(13);
    expect(r.parity.filter((c) => !c.ok).map((c) => `${c.name}: ${c.error}`)).toEqual([]);
    expect(r.parity).toHaveLength(parityCases.length);
    // Every quick conformance case ran, or skipped for its stated reason (a debug value check).
    expect(conf).toHaveLength(conformanceCases({ quick: true }).length);
    expect(conf.filter((c) => c.skipped).every((c) => /synchronously/.test(c.skipped!))).toBe(true);
    expect(conf.filter((c) => !c.ok).map((c) => `${c.name}: ${c.error}`)).toEqual([]);
    expect(r.syncError).toMatch(/cannot read values synchronously.*await t\.data\(\)/);
    const { cpu, webgpu } = r.train!;
    cpu.forEach((c, i) => expect(Math.abs(webgpu[i] - c)).toBeLessThanOrEqual(1e-3 * Math.abs(c)));
    expect(cpu[3]).toBeLessThan(cpu[0]);
    expect(r.mnistError).toBeUndefined();
    const { cpu: mc, other: mg } = r.mnist!;
    expect(mg.backend).toBe('gpu');
    // 32 steps from scratch: well above chance (0.1), far from converged.
    expect(mc.testAccuracy).toBeGreaterThan(0.6);
    expect(Math.abs(mg.testAccuracy! - mc.testAccuracy!)).toBeLessThanOrEqual(0.01);
    expect(r.fit!.readbacksPerStep).toEqual(Array(r.fit!.steps - 1).fill(0));
    expect(r.fit!.readbacksAtEpochEnd).toBe(1);
    expect(Number.isFinite(r.fit!.loss)).toBe(true);
    // A device lost mid-run: the step that was running fails with an error naming the op and
    // what to do, so does every later op; the checkpoint taken before resumes on the CPU backend.
    expect(r.lostError).toBeUndefined();
    const lost = r.lost!;
    for (const e of [lost.error, lost.after]) {
      expect(e.name).toBe('BpError');
      expect(e.message).toMatch(
        /^gpu \w+: the WebGPU device was lost (while running|before the result of) '\w+' .*resume on another backend/,
      );
    }
    expect(lost.error.op).toMatch(/^gpu \w+$/);
    const near = (a: number, b: number) => Math.abs(a - b) <= 1e-3 * Math.abs(b);
    expect(lost.webgpu.every((l, i) => near(l, lost.cpu[i]))).toBe(true);
    expect(lost.resumed.every((l, i) => near(l, lost.cpu[lost.webgpu.length + i]))).toBe(true);
    // Adam's state matters here: resuming without it leaves the uninterrupted run.
    expect(lost.resumedWithoutOptimizer.every((l, i) => near(l, lost.cpu[lost.webgpu.length + i]))).toBe(false);
    expect(lost.cpu[lost.cpu.length - 1]).toBeLessThan(lost.cpu[0]);
    expect(run.pageErrors).toEqual([]);
  }, 600_000);
});
