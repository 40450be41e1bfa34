/**
 * The Keras MNIST MLP on the full MNIST set, trained on the CPU backend and on
 * the gpu backend from the same seed, side by side, printing one JSON object
 * with both test accuracies and times:
 *
 *   pnpm --filter @bp/backend-gpu mnist [--mode webgl2|headlessgl|webasm|cpu] [--epochs N] [--limit N]
 *
 * Exits 1 when the accuracies differ by more than one point. Without a GL
 * device the gpu backend runs gpu.js' WebAssembly or CPU kernels, which are
 * far slower than the CPU backend: use `--limit` there.
 */
import { parseArgs } from 'node:util';
import { gpu, type GpuMode } from '../src/index.js';
import { compareKerasMlp } from '../test/keras-mlp.js';
import { loadMnistBytes } from '../test/mnist-bytes.js';

const { values } = parseArgs({
  options: {
    mode: { type: 'string' },
    epochs: { type: 'string', default: '10' },
    limit: { type: 'string' },
    'test-limit': { type: 'string' },
  },
});
const epochs = Number(values.epochs);
const limit = values.limit === undefined ? undefined : Number(values.limit);
const testLimit = values['test-limit'] === undefined ? undefined : Number(values['test-limit']);
const data = await loadMnistBytes(limit, testLimit);
const backend = gpu(values.mode ? { mode: values.mode as GpuMode } : {});
let failure: string | undefined;
let result;
try {
  result = await compareKerasMlp(backend, data, { epochs });
} catch (e) {
  failure = (e as Error).message;
}
console.log(
  JSON.stringify(
    {
      model: 'Keras MNIST MLP 784-128-10, Adam 1e-3, batch 32',
      epochs,
      trainImages: data.train.labels.length,
      testImages: data.test.labels.length,
      gpu: backend.info?.(),
      ...result,
      failure,
    },
    null,
    2,
  ),
);
backend.destroy();
process.exit(failure ? 1 : 0);
