import { withoutGraph } from './no-grad.js';
import { ArgumentError, type Tensor, getBackend, zeros } from '@bp/tensor';
import { ReLU } from './layers/activations.js';
import { Conv2d } from './layers/conv2d.js';
import { Dense } from './layers/dense.js';
import { Embedding } from './layers/embedding.js';
import { Linear } from './layers/linear.js';
import { MaxPool2d } from './layers/max-pool2d.js';
import { checkInputShape } from './layers/flatten.js';
import { Module, checkNoMoreArgs } from './module.js';
import { recordedLayerType } from './io/layer-type.js';
import { summarize } from './summary.js';
import { warnIfActivatedTwice } from './training/output-kind.js';
import { type CompileArgs, type Compiled, optimizerByName, resolveCompile } from './training/compile.js';
import { type EvaluateOptions, type FitOptions, evaluateModelAsync, fitModel, predictModel } from './training/fit.js';
import type { History } from './training/history.js';

/**
 * Layers applied one after the other (PyTorch's `nn.Sequential`), and a
 * Keras model: `compile`, `fit`, `evaluate`, `predict`, `summary`.
 *
 * Children are named `'0'`, `'1'`, ... so state-dict keys match PyTorch's
 * (`0.weight`, `0.bias`). A Keras `Dense` with an activation contributes two
 * children: the affine layer and the activation.
 *
 * When the first layer declares `inputShape`, every parameter is created at
 * construction (shapes are inferred through the layers), so
 * `model.parameters()` is complete before `compile`; otherwise layers sized
 * by their input are built on the first `forward`/`fit`.
 *
 * @example
 * const model = new Sequential([
 *   new Dense(128, { activation: 'relu', inputShape: [784] }),
 *   new Dense(10, { activation: 'softmax' }),
 * ]);
 * model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
 * const history = await model.fit(xTrain, yTrain, { epochs: 5, batchSize: 32, validationData: [xTest, yTest] });
 */
export class Sequential extends Module {
  /** Set to true (e.g. from a callback) to stop `fit` after the current batch. */
  stopTraining = false;
  /** The settings of the last `compile`, or null. */
  compiled: Compiled | null = null;
  private readonly layerList: Module[] = [];
  /** Per-sample output shape of every layer, known once the model saw an input. */
  private shapes: { input: number[]; outputs: number[][] } | null = null;
  private builtAtCompile = true;

  constructor(layers: Module[] = [], ...more: never[]) {
    super();
    checkNoMoreArgs('Sequential', more, 'one argument (the list of layers)');
    if (!Array.isArray(layers)) throw new ArgumentError('Sequential', 'expected an array of layers');
    for (const layer of layers) this.push(layer);
    const first = this.layerList[0];
    if (first?.inputShape) {
      this.inputShape = first.inputShape.slice();
      this.build(this.inputShape);
    }
  }

  override get layerType(): string {
    return 'Sequential';
  }

  /** The layers in order (after `Dense` activations were split into their own layers). */
  get layers(): readonly Module[] {
    return this.layerList;
  }

  /** The number of layers. */
  get length(): number {
    return this.layerList.length;
  }

  /** The layer at `index` (negative counts from the end). */
  at(index: number): Module {
    const layer = this.layerList.at(index);
    if (!layer) throw new ArgumentError('Sequential', `no layer at index ${index} (the model has ${this.layerList.length})`);
    return layer;
  }

  private push(layer: Module): void {
    if (!(layer instanceof Module)) throw new ArgumentError('Sequential', `layer ${this.layerList.length} is not a Module`);
    if (layer === this) throw new ArgumentError('Sequential', 'a model cannot contain itself');
    this.layerList.push(this.registerModule(String(this.layerList.length), layer));
    if (layer instanceof Dense) {
      const act = layer.takeActivation();
      if (act) this.layerList.push(this.registerModule(String(this.layerList.length), act));
    }
  }

  /** Appends a layer (Keras' `model.add`); builds it right away if the input shape is known. */
  add(layer: Module): this {
    if (this.layerList.length === 0 && layer?.inputShape) this.inputShape = layer.inputShape.slice();
    this.push(layer);
    this.shapes = null;
    if (this.inputShape) this.build(this.inputShape);
    return this;
  }

  /**
   * Creates every parameter for per-sample inputs of `inputShape` (no batch
   * axis) by passing one zero sample through the model in eval mode, which
   * also records each layer's output shape for `summary`.
   */
  build(inputShape: number[]): void {
    const shape = checkInputShape('Sequential', inputShape);
    const modes = this.namedModules().map(([, m]) => [m, m.training] as const);
    this.eval();
    try {
      withoutGraph(() => this.forward(zeros([1, ...shape], { dtype: this.sampleDtype() })));
    } finally {
      for (const [m, t] of modes) m.training = t;
    }
    this.inputShape ??= shape;
  }

  /** The dtype of the sample {@link build} feeds: int32 ids where the first layer looks them up (an `Embedding`), else float32. */
  private sampleDtype(): 'int32' | 'float32' {
    const first = this.layerList[0];
    if (first instanceof Embedding) return 'int32';
    return first instanceof Sequential ? first.sampleDtype() : 'float32';
  }

  override forward(x: Tensor): Tensor {
    const record = this.shapes === null;
    const outputs: number[][] = [];
    let h = x;
    const layers = this.layerList;
    // A Linear (or a Dense that handed its activation over) followed by a ReLU runs as one fused
    // op where the backend has the kernel, and so does a ReLU followed by a MaxPool2d; subclasses
    // that override forward run as written.
    const fused = getBackend().fused;
    const fuse = fused?.linear !== undefined;
    const fusePool = fused?.maxPool2dRelu !== undefined;
    // A Conv2d, a ReLU and a MaxPool2d in a row: one op too, once the layers' output shapes are
    // recorded (the convolution's own output is then never materialised).
    const fuseConvPool = !record && fused?.conv2dReluPool !== undefined;
    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i];
      const next = layers[i + 1];
      if (fuseConvPool && layer.constructor === Conv2d && next?.constructor === ReLU && layers[i + 2]?.constructor === MaxPool2d) {
        h = (layer as Conv2d).forwardReluPool(h, layers[i + 2] as MaxPool2d);
        i += 2;
        continue;
      }
      if (fusePool && layer.constructor === ReLU && next?.constructor === MaxPool2d) {
        if (record) outputs.push(h.shape.slice(1));
        h = (next as MaxPool2d).forwardRelu(h);
        if (record) outputs.push(h.shape.slice(1));
        i++;
        continue;
      }
      if (
        fuse &&
        next?.constructor === ReLU &&
        (layer.constructor === Linear || (layer.constructor === Dense && (layer as Dense).activation === null))
      ) {
        h = (layer as Linear).forwardRelu(h);
        if (record) outputs.push(h.shape.slice(1), h.shape.slice(1));
        i++;
        continue;
      }
      h = layer.forward(h);
      if (record) outputs.push(h.shape.slice(1));
    }
    if (record) this.shapes = { input: x.shape.slice(1), outputs };
    return h;
  }

  /** The per-sample output shape of each layer, once the model has seen an input (else null). */
  get layerOutputShapes(): number[][] | null {
    return this.shapes ? this.shapes.outputs.map((s) => s.slice()) : null;
  }

  /**
   * Sets the optimizer, loss and metrics for `fit` and `evaluate` (Keras'
   * `compile`). An optimizer given by name is created over the model's
   * parameters with Keras' default learning rate (at the first `fit` if the
   * model is not built yet). Without an optimizer, the model can be
   * evaluated but not trained: `compile({ loss, metrics })`.
   */
  compile(args: CompileArgs): void {
    this.compiled = resolveCompile(args);
    warnIfActivatedTwice(this, this.compiled);
    this.builtAtCompile = this.built;
    if (this.compiled.optimizer === null && this.compiled.optimizerName !== null && this.built) {
      // Created now so `model.compiled.optimizer` can be inspected (or given a scheduler) before fit.
      this.compiled.optimizer = optimizerByName(this.compiled.optimizerName!, this.parameters());
    }
  }

  /**
   * Trains for `epochs` passes over `(x, y)` in shuffled mini-batches and
   * returns the per-epoch loss and metrics (Keras' `fit`).
   */
  async fit(x: Tensor, y: Tensor, opts: FitOptions = {}): Promise<History> {
    if (this.compiled && this.compiled.optimizer !== null && !this.builtAtCompile) {
      throw new ArgumentError(
        'fit',
        'the optimizer was created before the model was built, so it misses the parameters of layers sized by their input: ' +
          "declare inputShape on the first layer, call model.build(inputShape) before creating the optimizer, or pass the optimizer by name ('adam')",
      );
    }
    return fitModel(this, x, y, opts);
  }

  /** Loss and metrics on `(x, y)` in eval mode (Keras' `evaluate`): `{ loss, accuracy, ... }`. */
  async evaluate(x: Tensor, y: Tensor, opts: EvaluateOptions = {}): Promise<Record<string, number>> {
    return evaluateModelAsync(this, x, y, opts);
  }

  /** Outputs for every sample of `x`, batch by batch, in eval mode without recording a graph. */
  predict(x: Tensor, opts: EvaluateOptions = {}): Tensor {
    return predictModel(this, x, opts);
  }

  /**
   * A Keras-like table of layers, output shapes and parameter counts. It is
   * returned, and printed with `print` (console.log by default; pass null to
   * only return it).
   */
  summary(print: ((text: string) => void) | null = console.log): string {
    const text = summarize(this);
    if (print) print(text);
    return text;
  }

  override getConfig(): Record<string, unknown> {
    return {
      layers: this.layerList.map((l) => ({ type: recordedLayerType(l), config: l.getConfig() })),
      ...(this.inputShape ? { inputShape: this.inputShape } : {}),
    };
  }
}
