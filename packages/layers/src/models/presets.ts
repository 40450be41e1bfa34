/**
 * The example networks of bp, defined once: the MNIST MLP and CNN that
 * `bp train mnist` trains, and the Keras MNIST MLP of the examples. The
 * command line, the examples, the benchmarks and the tests all build them
 * from here, so their weights start from the same draws and their
 * parameters come in the same order wherever they are used.
 *
 * @example
 * import { presets } from '@bp/layers';
 * manualSeed(0);
 * const model = presets.mnistCnn(); // [n, 1, 28, 28] -> 10 logits
 */
import { ArgumentError } from '@bp/tensor';
import { ReLU } from '../layers/activations.js';
import { Conv2d } from '../layers/conv2d.js';
import { Dense } from '../layers/dense.js';
import { Flatten } from '../layers/flatten.js';
import { Linear } from '../layers/linear.js';
import { MaxPool2d } from '../layers/max-pool2d.js';
import { Sequential } from '../sequential.js';

/** Options of the presets: the input and output sizes (MNIST's by default). */
export interface PresetOptions {
  /** The shape of one example, without the batch axis (default `[1, 28, 28]`; the CNN needs `[channels, height, width]`). */
  inputShape?: number[];
  /** Classes, one output each (default 10). */
  classes?: number;
}

function sizes(op: string, opts: PresetOptions, rank?: number): { inputShape: number[]; classes: number } {
  const inputShape = opts.inputShape ?? [1, 28, 28];
  const classes = opts.classes ?? 10;
  if (!Array.isArray(inputShape) || inputShape.length === 0 || !inputShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ArgumentError(
      op,
      `inputShape must be a non-empty array of positive integers (no batch axis), got ${JSON.stringify(inputShape)}`,
    );
  }
  if (rank !== undefined && inputShape.length !== rank) {
    throw new ArgumentError(op, `inputShape must be [channels, height, width], got ${JSON.stringify(inputShape)}`);
  }
  if (!Number.isInteger(classes) || classes < 1) throw new ArgumentError(op, `classes must be a positive integer, got ${classes}`);
  return { inputShape, classes };
}

/**
 * The MNIST MLP of `bp train mnist`, PyTorch style: `Flatten`,
 * `Linear(784, 128)`, `ReLU`, `Linear(128, 10)`. It outputs logits: train it
 * with a loss on logits (`crossEntropyLoss`). 101,770 parameters for MNIST;
 * weights as `Linear` initialises them (PyTorch's defaults).
 */
export function mnistMlp(opts: PresetOptions = {}): Sequential {
  const { inputShape, classes } = sizes('presets.mnistMlp', opts);
  return new Sequential([
    new Flatten(),
    new Linear(
      inputShape.reduce((a, b) => a * b, 1),
      128,
    ),
    new ReLU(),
    new Linear(128, classes),
  ]);
}

/**
 * The MNIST CNN of `bp train mnist --model cnn` and the examples: two blocks
 * of `Conv2d(3x3, padding 1)`, `ReLU` and `MaxPool2d(2)` with 16 and 32
 * channels, then `Flatten` and `Linear(32 * 7 * 7, 10)`. It outputs logits.
 * 20,490 parameters for MNIST.
 */
export function mnistCnn(opts: PresetOptions = {}): Sequential {
  const { inputShape, classes } = sizes('presets.mnistCnn', opts, 3);
  const [c, h, w] = inputShape;
  const side = (n: number) => Math.floor(Math.floor(n / 2) / 2);
  if (side(h) === 0 || side(w) === 0) {
    throw new ArgumentError('presets.mnistCnn', `two 2x2 poolings need images of at least 4x4, got ${h}x${w}`);
  }
  return new Sequential([
    new Conv2d(c, 16, 3, { padding: 1 }),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(16, 32, 3, { padding: 1 }),
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    new Linear(32 * side(h) * side(w), classes),
  ]);
}

/**
 * The Keras MNIST MLP: `Flatten({ inputShape: [1, 28, 28] })`,
 * `Dense(128, { activation: 'relu' })`, `Dense(10, { activation: 'softmax' })`,
 * built at construction (Glorot-uniform weights, as Keras). It outputs
 * probabilities: compile it with `'sparseCategoricalCrossentropy'`.
 */
export function kerasMnistMlp(opts: PresetOptions = {}): Sequential {
  const { inputShape, classes } = sizes('presets.kerasMnistMlp', opts);
  return new Sequential([
    new Flatten({ inputShape }),
    new Dense(128, { activation: 'relu' }),
    new Dense(classes, { activation: 'softmax' }),
  ]);
}
