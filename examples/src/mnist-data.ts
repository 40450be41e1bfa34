import { MNIST_MEAN, MNIST_STD, loadMnist } from '@bp/datasets';
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
 * training better conditioned. The loader standardizes while it decodes, so the
 * images exist once in memory, not three times as with `normalize()` afterwards.
 */
export async function loadMnistTensors(limit?: number, testLimit?: number): Promise<MnistTensors> {
  const stats = { mean: MNIST_MEAN, std: MNIST_STD };
  const [train, test] = await Promise.all([
    loadMnist({ split: 'train', limit, normalize: stats }),
    loadMnist({ split: 'test', limit: testLimit, normalize: stats }),
  ]);
  return { xTrain: train.images, yTrain: train.labels, xTest: test.images, yTest: test.labels };
}
