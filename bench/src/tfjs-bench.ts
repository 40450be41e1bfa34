import { median, type MlpResult, type MlpWorkload } from './workload.js';

type Tf = typeof import('@tensorflow/tfjs-core');

/** Loads tfjs-core with its WebAssembly backend; `null` with the reason when that fails. */
export async function loadTfjsWasm(): Promise<{ tf: Tf; info: Record<string, unknown> } | { error: string }> {
  try {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-core/dist/register_all_gradients');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const { createRequire } = await import('node:module');
    const pkg = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json');
    wasm.setWasmPaths(pkg.replace(/package\.json$/, 'dist/'));
    const ok = await tf.setBackend('wasm');
    if (!ok) return { error: 'tf.setBackend("wasm") returned false' };
    await tf.ready();
    const env = tf.env();
    return {
      tf,
      info: {
        version: tf.version_core,
        backend: tf.getBackend(),
        simd: await env.getAsync('WASM_HAS_SIMD_SUPPORT'),
        multithread: await env.getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
      },
    };
  } catch (e) {
    return { error: `tfjs wasm unavailable: ${(e as Error).message}` };
  }
}

/** Median GFLOP/s of an `n x n` float32 matmul in tfjs. */
export function tfjsMatmulGflops(tf: Tf, n: number, reps: number): number {
  const a = tf.randomUniform([n, n]);
  const b = tf.randomUniform([n, n]);
  for (let i = 0; i < 2; i++) tf.matMul(a, b).dataSync();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    times.push((performance.now() - t0) / 1000);
    c.dispose();
  }
  a.dispose();
  b.dispose();
  return (2 * n ** 3) / median(times) / 1e9;
}

/** The same MLP epoch as the bp and PyTorch benchmarks, with tfjs-core ops and `tf.train.adam`. */
export function tfjsMlpEpoch(tf: Tf, w: MlpWorkload): MlpResult {
  const x = tf.randomUniform([w.samples, 784], 0, 1, 'float32', 0);
  const y = tf.oneHot(tf.randomUniform([w.samples], 0, 10, 'int32', 1), 10);
  const lin = (
    i: number,
    o: number,
    seed: number,
  ): [import('@tensorflow/tfjs-core').Variable, import('@tensorflow/tfjs-core').Variable] => {
    const bound = 1 / Math.sqrt(i);
    return [
      tf.variable(tf.randomUniform([i, o], -bound, bound, 'float32', seed)),
      tf.variable(tf.randomUniform([o], -bound, bound, 'float32', seed + 1)),
    ];
  };
  const [w1, b1] = lin(784, 128, 2);
  const [w2, b2] = lin(128, 10, 4);
  const opt = tf.train.adam(1e-3);
  const perEpoch = Math.floor(w.samples / w.batchSize);
  const steps = w.steps <= 0 ? perEpoch : Math.min(w.steps, perEpoch);
  const perm = tf.util.createShuffledIndices(w.samples);
  const step = (s: number): number => {
    const idx = tf.tensor1d(Int32Array.from(perm.subarray(s * w.batchSize, (s + 1) * w.batchSize)), 'int32');
    const xb = tf.gather(x, idx);
    const yb = tf.gather(y, idx);
    const loss = opt.minimize(() => {
      const h = tf.relu(tf.add(tf.matMul(xb, w1), b1));
      const logits = tf.add(tf.matMul(h, w2), b2);
      return tf.losses.softmaxCrossEntropy(yb, logits) as import('@tensorflow/tfjs-core').Scalar;
    }, true)!;
    const v = s === steps - 1 ? loss.dataSync()[0] : NaN;
    tf.dispose([idx, xb, yb, loss]);
    return v;
  };
  step(0);
  const t0 = performance.now();
  let finalLoss = NaN;
  for (let s = 0; s < steps; s++) finalLoss = step(s);
  const dt = (performance.now() - t0) / 1000;
  tf.dispose([x, y, w1, b1, w2, b2]);
  opt.dispose();
  return { batchSize: w.batchSize, stepsTimed: steps, secondsTimed: dt, epochSeconds: (dt / steps) * perEpoch, finalLoss };
}
