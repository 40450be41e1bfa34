/**
 * The page of the browser test: exports the MNIST MLP and CNN with
 * `exportOnnx` in the page, runs the files in onnxruntime-web (wasm, one
 * thread, its files served from `/ort/`) on real MNIST test images fetched
 * from `/mnist.bin`, and reports how far ONNX Runtime's logits are from bp's.
 */
import type { Module } from '@bp/layers';
import { manualSeed, tensor } from '@bp/tensor';
import * as ort from 'onnxruntime-web/wasm';
import { mnistCnn, mnistMlp } from '../src/__fixtures__/models.js';
import { exportOnnx, importOnnx } from '../src/index.js';

/** One model's figures. */
export interface ModelReport {
  name: string;
  bytes: number;
  dims: number[];
  /** Largest |onnxruntime-web - bp| over the logits. */
  maxAbsDiff: number;
  /** Largest |importOnnx(file) - bp|. */
  roundTripDiff: number;
  /** The first logits, to show they are real numbers. */
  sample: number[];
}

/** What the page reports. */
export interface BrowserReport {
  userAgent: string;
  images: number;
  models: ModelReport[];
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function main(): Promise<BrowserReport> {
  ort.env.wasm.wasmPaths = new URL('/ort/', location.href).href;
  ort.env.wasm.numThreads = 1;
  const bytes = new Uint8Array(await (await fetch('/mnist.bin')).arrayBuffer());
  const pixels = new Float32Array(bytes.buffer);
  const n = pixels.length / 784;
  const images = tensor(pixels, { shape: [n, 1, 28, 28] });
  const models: [string, () => Module][] = [
    ['MLP', mnistMlp],
    ['CNN', mnistCnn],
  ];
  const reports: ModelReport[] = [];
  for (const [name, build] of models) {
    manualSeed(7);
    const model = build().eval();
    const want = model.forward(images).dataSync();
    const file = exportOnnx(model, { inputShape: [1, 28, 28] });
    const session = await ort.InferenceSession.create(file, { executionProviders: ['wasm'] });
    const out = await session.run({ input: new ort.Tensor('float32', pixels, [n, 1, 28, 28]) });
    const got = out.output.data as Float32Array;
    await session.release();
    const back = importOnnx(file).eval().forward(images).dataSync();
    reports.push({
      name,
      bytes: file.length,
      dims: [...out.output.dims],
      maxAbsDiff: maxAbsDiff(got, want),
      roundTripDiff: maxAbsDiff(back, want),
      sample: Array.from(got.subarray(0, 3)),
    });
  }
  return { userAgent: navigator.userAgent, images: n, models: reports };
}

main().then(
  (r) => {
    (window as unknown as { __bpResult: BrowserReport }).__bpResult = r;
  },
  (e: unknown) => {
    (window as unknown as { __bpFatal: string }).__bpFatal = String((e as Error)?.stack ?? e);
  },
);
