import { MNIST_MEAN, MNIST_STD, loadMnist, normalize } from '@bp/datasets';
import type { Tensor } from '@bp/tensor';

/** Normalized MNIST tensors for the examples. */
export interface MnistTensors {
  xTrain: Tensor;
  yTrain: Tensor;
  xTest: Tensor;
  yTest: Tensor;
}

/**
 * Loads both MNIST splits (the first `limit` / `testLimit` examples) and
 * standardizes the pixels with the training set's mean and standard deviation,
 * as PyTorch's MNIST example does: centred inputs make the first steps of
 * training better conditioned.
 */
export async function loadMnistTensors(limit?: number, testLimit?: number): Promise<MnistTensors> {
  const [train, test] = await Promise.all([
    loadMnist({ split: 'train', limit }),
    loadMnist({ split: 'test', limit: testLimit }),
  ]);
  return {
    xTrain: normalize(train.images, MNIST_MEAN, MNIST_STD),
    yTrain: train.labels,
    xTest: normalize(test.images, MNIST_MEAN, MNIST_STD),
    yTest: test.labels,
  };
}
