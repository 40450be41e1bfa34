/**
 * Training throughput of `Sequential.fit` on the CPU backend, printed as JSON.
 *
 *     cd packages/layers && ../../node_modules/.bin/tsx --conditions=@bp/source scripts/bench-fit.ts
 *
 * - mlp: 784-128-10 with ReLU and softmax, Adam, batch 32, on 4096 random samples (MNIST-sized inputs);
 * - cnn: Conv2d(1,8,3,pad 1)-ReLU-MaxPool2d(2)-Dense(10), Adam, batch 32, on 512 random 28x28 images;
 * - overhead: a 2-8-1 network on the 4 XOR samples, so the time is the loop's and the ops' fixed cost.
 * Each case runs one warm-up epoch first.
 */
import { manualSeed, randint, randn } from '@bp/tensor';
import '@bp/losses';
import '@bp/optim';
import { Conv2d, Dense, Flatten, MaxPool2d, ReLU, Sequential } from '../src/index.js';

async function time(model: Sequential, x: ReturnType<typeof randn>, y: ReturnType<typeof randn>, epochs: number, batchSize: number) {
  await model.fit(x, y, { epochs: 1, batchSize });
  const t0 = performance.now();
  await model.fit(x, y, { epochs, batchSize });
  const ms = performance.now() - t0;
  const steps = epochs * Math.ceil(x.shape[0] / batchSize);
  return {
    epochs,
    batchSize,
    samples: x.shape[0],
    msPerStep: +(ms / steps).toFixed(3),
    samplesPerSec: Math.round((epochs * x.shape[0] * 1000) / ms),
  };
}

manualSeed(0);
const mlp = new Sequential([new Dense(128, { activation: 'relu', inputShape: [784] }), new Dense(10, { activation: 'softmax' })]);
mlp.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
const mlpResult = await time(mlp, randn([4096, 784]), randint(0, 10, [4096]), 2, 32);

const cnn = new Sequential([
  new Conv2d(1, 8, 3, { padding: 1 }),
  new ReLU(),
  new MaxPool2d(2),
  new Flatten(),
  new Dense(10, { activation: 'softmax' }),
]);
cnn.build([1, 28, 28]);
cnn.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
const cnnResult = await time(cnn, randn([512, 1, 28, 28]), randint(0, 10, [512]), 1, 32);

const tiny = new Sequential([new Dense(8, { activation: 'tanh', inputShape: [2] }), new Dense(1, { activation: 'sigmoid' })]);
tiny.compile({ optimizer: 'adam', loss: 'binaryCrossentropy', metrics: ['accuracy'] });
const overhead = await time(tiny, randn([4, 2]), randint(0, 2, [4, 1]).cast('float32'), 500, 4);

console.log(JSON.stringify({ node: process.version, mlp: mlpResult, cnn: cnnResult, overhead }, null, 2));
