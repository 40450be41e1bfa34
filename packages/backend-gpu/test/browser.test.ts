import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { BrowserReport } from './browser-entry.js';
import { CHROMIUM_PATH, runInChromium } from './chromium.js';
import { loadMnistBytes, packMnist } from './mnist-bytes.js';

const entry = fileURLToPath(new URL('./browser-entry.ts', import.meta.url));

describe.skipIf(!existsSync(CHROMIUM_PATH))('in Chromium (WebGL2 and WebGL on SwiftShader)', () => {
  // One page per GL mode: each mode takes minutes on SwiftShader, and a page of
  // its own gives each its own time limit beside the docs site's browser run.
  it.each(['webgl2', 'webgl'] as const)(
    'passes the parity checks, the conformance suite and the training check in %s',
    async (mode) => {
      // 1,024 training images (32 steps of 32) and 500 test images, from the offline MNIST files.
      const files: Record<string, Uint8Array> = mode === 'webgl2' ? { '/mnist.bin': packMnist(await loadMnistBytes(1024, 500)) } : {};
      const run = await runInChromium<BrowserReport>(entry, 840_000, undefined, files, `?mode=${mode}`);
      const failed = run.result.results.filter((r) => !r.ok);
      const bySuite = new Map<string, number>();
      for (const r of run.result.results) bySuite.set(`${r.mode} ${r.suite}`, (bySuite.get(`${r.mode} ${r.suite}`) ?? 0) + r.ms);
      const slow = [...run.result.results].sort((a, b) => b.ms - a.ms).slice(0, 8);
      console.log(
        JSON.stringify(
          {
            ms: run.result.ms,
            mnist: run.result.mnist,
            bySuite: Object.fromEntries(bySuite),
            slow: slow.map((r) => `${r.mode} ${r.name} ${r.ms.toFixed(0)}`),
          },
          null,
          1,
        ),
      );
      const summary = failed.map((r) => `[${r.mode}] ${r.suite} ${r.name}: ${r.error?.split('\n')[0]}`).join('\n');
      expect(summary).toBe('');
      expect(run.pageErrors).toEqual([]);
      if (mode === 'webgl2') {
        const { cpu, other } = run.result.mnist!;
        expect(other.backend).toBe('gpu');
        // 32 steps from scratch: well above chance (0.1), far from converged.
        expect(cpu.testAccuracy).toBeGreaterThan(0.6);
        expect(Math.abs(other.testAccuracy! - cpu.testAccuracy!)).toBeLessThanOrEqual(0.01);
      }
      const info = run.result.info.find((i) => i.mode === mode)!;
      expect(info.deviceMemory).toBe(true);
      expect(info.fallbacks).toEqual([]);
      expect(run.result.results.filter((r) => r.mode === mode && r.suite === 'conformance').length).toBeGreaterThan(0);
    },
    900_000,
  );
});
