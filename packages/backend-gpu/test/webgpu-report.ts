/**
 * What the WebGPU page (test/webgpu-entry.ts) must report, in Chromium (test/webgpu.test.ts)
 * and in Node on Dawn (test/webgpu-dawn.test.ts).
 */
import { expect } from 'vitest';
import { conformanceCases } from '@bp/conformance';
import { parityCases } from './parity-cases.js';
import type { WebGpuReport } from './webgpu-entry.js';

export function expectWebGpuReport(r: WebGpuReport): void {
  const conf = r.conformance;
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
}
