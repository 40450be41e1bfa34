// The networks `bp train --model mlp|cnn` builds for MNIST (@bp/layers' presets), and ones that use every exportable layer.
import {
  AvgPool2d,
  BatchNorm1d,
  Conv2d,
  Dense,
  Dropout,
  Flatten,
  GELU,
  LeakyReLU,
  Linear,
  LogSoftmax,
  MaxPool2d,
  Sequential,
  SiLU,
  Sigmoid,
  Softmax,
  Tanh,
  presets,
} from '@bp/layers';
import { manualSeed, randn, zeros } from '@bp/tensor';
import { noGrad } from '@bp/autograd';

/** The MNIST MLP of `bp train mnist`: Flatten, Linear 784-128, ReLU, Linear 128-10. */
export const mnistMlp = (): Sequential => presets.mnistMlp();

/** The MNIST CNN of `bp train mnist --model cnn`: two Conv2d + ReLU + MaxPool2d blocks, then Flatten and Linear. */
export const mnistCnn = (): Sequential => presets.mnistCnn();

/**
 * Every exportable layer once, with BatchNorm statistics moved away from
 * their initial values by a few training-mode batches, in eval mode.
 */
export function everyLayer(seed = 3): Sequential {
  manualSeed(seed);
  const model = new Sequential([
    new Conv2d(1, 3, [3, 2], { stride: [2, 1], padding: [1, 0] }),
    new LeakyReLU(0.1),
    new MaxPool2d(3, 2, { padding: 1 }),
    new Flatten({ startDim: 2 }),
    new Linear(7 * 14, 6, { bias: false }),
    new Tanh(),
    new Flatten(),
    new Linear(18, 12),
    new BatchNorm1d(12),
    new Sigmoid(),
    new Dropout(0.3),
    new Dense(8, { activation: 'relu' }),
    new Linear(8, 5),
    new Softmax(-1),
    new LogSoftmax(1),
  ]);
  noGrad(() => {
    for (let i = 0; i < 3; i++) model.forward(randn([16, 1, 28, 28]));
  });
  return model.eval();
}

/**
 * The layers and options added to bp after the MNIST models: 'same' padding
 * with dilation, grouped and strided convolution, GELU (both forms), SiLU,
 * max pooling with dilation and ceil mode, average pooling with and without
 * the padding counted.
 */
export function newerLayers(seed = 12): Sequential {
  manualSeed(seed);
  const features = new Sequential([
    new Conv2d(1, 4, 3, { padding: 'same', dilation: 2 }),
    new GELU(),
    new Conv2d(4, 8, 3, { groups: 4, padding: 1, stride: 2 }),
    new SiLU(),
    new MaxPool2d(3, 2, { padding: 1, ceilMode: true }),
    new MaxPool2d(2, 1, { dilation: 2 }),
    new AvgPool2d(2, 2, { padding: 1, ceilMode: true, countIncludePad: false }),
    new AvgPool2d(3, 1, { padding: 1 }),
    new GELU({ approximate: 'tanh' }),
    new Flatten(),
  ]);
  const n = noGrad(() => features.forward(zeros([1, 1, 28, 28]))).shape[1];
  return new Sequential([...features.layers, new Linear(n, 10)]).eval();
}
