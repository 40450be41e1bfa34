import { noGrad } from '@bp/autograd';
import { DataLoader } from '@bp/datasets';
import type { Module } from '@bp/layers';
import type { Tensor } from '@bp/tensor';

/**
 * Fraction of `x` that `model` classifies as `y`, in eval mode and without a
 * graph. Goes through the data in chunks so the activations of 10,000 images
 * never sit in memory at once.
 */
export function accuracy(model: Module, x: Tensor, y: Tensor, chunk = 1000): number {
  model.eval();
  let correct = 0;
  noGrad(() => {
    for (const batch of new DataLoader({ x, y }, { batchSize: chunk })) {
      const predicted = model.forward(batch.x).argmax(1).dataSync();
      const labels = batch.y.dataSync();
      for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) correct++;
    }
  });
  model.train();
  return correct / y.shape[0];
}
