/**
 * XOR the way backprop is first taught: a 2-2-1 network of sigmoids, mean
 * squared error and plain gradient descent, written with raw tensors. Autograd
 * supplies the gradients; everything else (parameters, forward pass, update)
 * is spelled out, as a NumPy version would be.
 *
 * Run: pnpm --filter @bp/examples xor [--epochs 3000 --seed 1]
 */
import { noGrad } from '@bp/autograd';
import { xor } from '@bp/datasets';
import { manualSeed, randn, zeros, type Tensor } from '@bp/tensor';
import { cliOptions, isMain } from './cli.js';

/** Options for {@link trainXor}. */
export interface XorOptions {
  /** Full-batch gradient steps (default 3000). */
  epochs?: number;
  /** Learning rate (default 2: the sigmoids' small slopes need a large step). */
  lr?: number;
  /** Seed for the initial weights (default 1). */
  seed?: number;
  /** Where progress lines go (default: nowhere). */
  log?: (line: string) => void;
}

/** What {@link trainXor} returns. */
export interface XorResult {
  /** Loss after each step. */
  losses: number[];
  /** The trained network's outputs for (0,0), (0,1), (1,0), (1,1). */
  outputs: number[];
  /** Fraction of the four points classified right (output rounded to 0 or 1). */
  accuracy: number;
}

/** Trains the 2-2-1 sigmoid network on XOR with full-batch gradient descent. */
export function trainXor(opts: XorOptions = {}): XorResult {
  const epochs = opts.epochs ?? 3000;
  const lr = opts.lr ?? 2;
  const log = opts.log ?? (() => {});
  manualSeed(opts.seed ?? 1);
  const { x, y } = xor();

  const w1 = randn([2, 2], { requiresGrad: true });
  const b1 = zeros([2], { requiresGrad: true });
  const w2 = randn([2, 1], { requiresGrad: true });
  const b2 = zeros([1], { requiresGrad: true });
  const params = [w1, b1, w2, b2];
  const forward = (input: Tensor): Tensor => input.matmul(w1).add(b1).sigmoid().matmul(w2).add(b2).sigmoid();

  const losses: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const loss = forward(x).sub(y).pow(2).mean();
    loss.backward();
    noGrad(() => {
      for (const p of params) {
        p.assign(p.sub(p.grad!.mul(lr)));
        p.grad = null;
      }
    });
    losses.push(loss.item());
    if (epoch % 500 === 0 || epoch === epochs - 1) log(`epoch ${epoch} loss ${losses[epoch].toFixed(6)}`);
  }

  const outputs = Array.from(noGrad(() => forward(x)).dataSync());
  const targets = y.dataSync();
  const correct = outputs.filter((o, i) => Math.round(o) === targets[i]).length;
  return { losses, outputs, accuracy: correct / 4 };
}

if (isMain(import.meta.url)) {
  const cli = cliOptions();
  const { outputs, accuracy } = trainXor({ epochs: cli.epochs, seed: cli.seed, log: console.log });
  console.log(`outputs for (0,0) (0,1) (1,0) (1,1): ${outputs.map((o) => o.toFixed(3)).join(' ')}`);
  console.log(`accuracy ${(accuracy * 100).toFixed(0)}%`);
}
