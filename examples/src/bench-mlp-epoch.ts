/**
 * Times one epoch of the Keras MNIST MLP (60,000 images, batches of 32, Adam)
 * on the CPU backend and prints JSON: seconds, examples per second and the
 * peak resident set size.
 *
 * Run: pnpm --filter @bp/examples bench:mlp [--limit 60000 --batch-size 32]
 */
import { Adam } from '@bp/optim';
import '@bp/losses'; // 'sparseCategoricalCrossentropy' by name in compile
import { getBackend, manualSeed, setBackend } from '@bp/tensor';
import { cliOptions } from './cli.js';
import { loadMnistTensors } from './mnist-data.js';
import { mnistMlp } from './mnist-mlp.js';

const cli = cliOptions();
const batchSize = cli.batchSize ?? 32;
await setBackend('cpu');
manualSeed(cli.seed ?? 0);
const { xTrain, yTrain } = await loadMnistTensors(cli.limit, 0);
const model = mnistMlp();
model.compile({
  optimizer: new Adam(model.parameters(), { lr: 1e-3 }),
  loss: 'sparseCategoricalCrossentropy',
  metrics: ['accuracy'],
});
const start = performance.now();
const history = await model.fit(xTrain, yTrain, { epochs: 1, batchSize, shuffle: true, verbose: 0 });
const seconds = (performance.now() - start) / 1000;
const examples = xTrain.shape[0];
console.log(
  JSON.stringify(
    {
      benchmark: 'mnist-mlp-epoch',
      backend: getBackend().name,
      examples,
      batchSize,
      seconds: Number(seconds.toFixed(3)),
      examplesPerSecond: Math.round(examples / seconds),
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      loss: Number(history.loss[0].toFixed(4)),
      accuracy: Number(history.accuracy[0].toFixed(4)),
      node: process.version,
    },
    null,
    2,
  ),
);
