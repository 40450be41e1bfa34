// `pnpm test:browser`: models exported in the page run in onnxruntime-web (wasm) in Chromium and
// give bp's logits within 1e-5 on real MNIST test images, with no request leaving 127.0.0.1.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadMnist } from '@bp/datasets';
import { describe, expect, it } from 'vitest';
import type { BrowserReport } from './browser-entry.js';
import { CHROMIUM_PATH, runInChromium } from './chromium.js';

const entry = fileURLToPath(new URL('./browser-entry.ts', import.meta.url));
const hasChromium = existsSync(CHROMIUM_PATH);
if (!hasChromium)
  console.warn(`skipped: onnxruntime-web in Chromium: no Chromium at ${CHROMIUM_PATH} (set CHROMIUM_PATH, or apt-get install chromium)`);

describe.skipIf(!hasChromium)('onnxruntime-web in Chromium', () => {
  it("runs the MNIST MLP and CNN exported in the page with bp's logits within 1e-5", async () => {
    const test = await loadMnist({ split: 'test' });
    const images = test.images.slice([0, 0, 0, 0], [64, 1, 28, 28]);
    const pixels = new Uint8Array(Float32Array.from(images.dataSync()).buffer);
    const run = await runInChromium<BrowserReport>(entry, 120_000, { '/mnist.bin': pixels });
    for (const m of run.result.models) {
      console.log(
        `${m.name}: ${m.bytes} bytes of ONNX, onnxruntime-web logits ${JSON.stringify(m.dims)}, max abs diff from bp ${m.maxAbsDiff.toExponential(2)}, import round trip ${m.roundTripDiff}`,
      );
    }
    expect(run.result.images).toBe(64);
    expect(run.result.models.map((m) => m.name)).toEqual(['MLP', 'CNN']);
    for (const m of run.result.models) {
      expect(m.dims).toEqual([64, 10]);
      expect(m.maxAbsDiff).toBeLessThanOrEqual(1e-5);
      expect(m.roundTripDiff).toBe(0);
      expect(m.sample.every(Number.isFinite)).toBe(true);
    }
    expect(run.pageErrors).toEqual([]);
    expect(run.refused).toEqual([]);
  }, 180_000);
});
