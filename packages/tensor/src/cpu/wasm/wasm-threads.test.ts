import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../cpu-backend.js';
import { kernelModule } from './wasm-runtime.js';

function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return cond();
}

const threaded = kernelModule(true) !== null && typeof SharedArrayBuffer === 'function';

describe.skipIf(!threaded)('matrix products on worker threads', () => {
  it('give the same bits as one thread, for every transpose and ragged sizes', async () => {
    const multi = cpuBackend({ threads: 2 });
    const single = cpuBackend({ threads: 1 });
    expect(await until(() => multi.info!().threads === 2, 10_000)).toBe(true);
    for (const [m, k, n] of [[64, 300, 200], [33, 784, 130], [128, 128, 17], [200, 64, 256]]) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          const a = values(m * k, m + k);
          const b = values(k * n, k + n);
          const got = multi.matmul(a, b, 1, 1, m, k, n, tA, tB);
          const want = single.matmul(a, b, 1, 1, m, k, n, tA, tB);
          expect(Buffer.from(got.buffer)).toEqual(Buffer.from(want.buffer));
        }
      }
    }
  });

  it('give convolutions and their gradients the same bits as one thread', async () => {
    const multi = cpuBackend({ threads: 2 });
    const single = cpuBackend({ threads: 1 });
    expect(await until(() => multi.info!().threads === 2, 10_000)).toBe(true);
    // The MNIST CNN's two layers at batch 64 (large enough to be split), and a strided odd one.
    for (const [n, c, h, outC, stride, pad] of [[64, 1, 28, 16, 1, 1], [64, 16, 14, 32, 1, 1], [9, 3, 17, 5, 2, 0]]) {
      const outH = Math.floor((h + 2 * pad - 3) / stride) + 1;
      const win = { n, c, h, w: h, kh: 3, kw: 3, strideH: stride, strideW: stride, padH: pad, padW: pad, outH, outW: outH };
      const x = values(n * c * h * h, n + c);
      const w = values(outC * c * 9, outC);
      const b = values(outC, 3);
      const dy = values(n * outC * outH * outH, 7);
      const bits = (t: Float32Array | null) => Buffer.from(t!.buffer, t!.byteOffset, t!.byteLength);
      expect(bits(multi.fused!.conv2d!(x, w, b, win, outC) as Float32Array)).toEqual(bits(single.fused!.conv2d!(x, w, b, win, outC) as Float32Array));
      const gm = multi.fused!.conv2dBackward!(dy, x, w, win, outC, [true, true, true]);
      const gs = single.fused!.conv2dBackward!(dy, x, w, win, outC, [true, true, true]);
      for (let i = 0; i < 3; i++) expect(bits(gm[i] as Float32Array)).toEqual(bits(gs[i] as Float32Array));
    }
  });

  it('split 2x2 max pooling by planes with the same values and positions as one thread', async () => {
    const multi = cpuBackend({ threads: 2 });
    const single = cpuBackend({ threads: 1 });
    expect(await until(() => multi.info!().threads === 2, 10_000)).toBe(true);
    // 1,023 planes of 16x16: large enough to be split, and an odd count so the halves differ.
    const n = 1023;
    const x = values(n * 256, 11).map((v, i) => (i % 101 === 0 ? NaN : Math.round(v * 8) / 8));
    const win = { n, c: 1, h: 16, w: 16, kh: 2, kw: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, outH: 8, outW: 8 };
    const [vm, im] = multi.fused!.maxPool2d!(x, win) as [Float32Array, Int32Array];
    const [vs, is] = single.fused!.maxPool2d!(x, win) as [Float32Array, Int32Array];
    expect(Buffer.from(vm.buffer)).toEqual(Buffer.from(vs.buffer));
    expect(Array.from(im)).toEqual(Array.from(is));
  });

  it('do not keep a Node process alive', async () => {
    const { build } = await import('esbuild');
    const dir = mkdtempSync(join(tmpdir(), 'bp-threads-'));
    const entry = join(dir, 'entry.ts');
    const backend = fileURLToPath(new URL('../cpu-backend.ts', import.meta.url));
    writeFileSync(entry, `
      import { cpuBackend } from ${JSON.stringify(backend)};
      const be = cpuBackend({ threads: 2 });
      const n = 256;
      const a = new Float32Array(n * n).fill(1);
      const t0 = Date.now();
      const poll = () => {
        if (be.info().threads < 2 && Date.now() - t0 < 10000) return setTimeout(poll, 20);
        const c = be.matmul(a, a, 1, 1, n, n, n, false, false);
        console.log(be.info().threads, c[0]);
      };
      poll();
    `);
    const out = join(dir, 'entry.mjs');
    await build({ entryPoints: [entry], outfile: out, bundle: true, platform: 'node', format: 'esm', logLevel: 'silent' });
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [out], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('2 256');
    expect(Date.now() - t0).toBeLessThan(25_000);
  });
});
