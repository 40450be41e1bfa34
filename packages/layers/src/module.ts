import { ArgumentError, BpError, ShapeError, Tensor, fmtShape, setGradEnabled } from '@bp/tensor';
import { shownValue } from '@bp/tensor/internal';

/** What {@link Module.loadStateDict} found when not in strict mode (PyTorch's `_IncompatibleKeys`). */
export interface LoadStateDictResult {
  /** Entries the module expects but the state dict lacks. */
  missingKeys: string[];
  /** Entries of the state dict the module has no place for. */
  unexpectedKeys: string[];
}

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /** Refuse missing and unexpected keys (default true, as PyTorch). Shapes must always match. */
  strict?: boolean;
}

/** A layer description that can be written to JSON and rebuilt by the model loader. */
export interface LayerConfig {
  /** The registered layer type, e.g. `Linear`. */
  type: string;
  /** The constructor arguments, as plain JSON. */
  config: Record<string, unknown>;
}

/**
 * Refuses arguments past those a built-in layer's constructor takes (`takes` says which), naming
 * the layer: JavaScript would drop them without a word, so `new ReLU({ inputShape: [784] })` or
 * `new Sequential(layers, { name })` would seem to work while the option did nothing.
 * @internal
 */
export function checkNoMoreArgs(layer: string, extra: readonly unknown[], takes: string): void {
  if (extra.length === 0) return;
  const shape = extra.some((v) => v !== null && typeof v === 'object' && 'inputShape' in v)
    ? ' (inputShape is an option of Dense and Flatten only)'
    : '';
  throw new ArgumentError(layer, `takes ${takes}; got ${extra.length} more: ${extra.map((v) => shownValue(v)).join(', ')}${shape}`);
}

/**
 * The base of every layer and model (PyTorch's `nn.Module`). A module owns
 * parameters (trainable tensors), buffers (state such as BatchNorm's running
 * statistics) and child modules; registering them is what makes
 * `namedParameters`, `stateDict` and `train`/`eval` reach through the tree
 * with PyTorch's dotted names (`0.weight`, `features.3.bias`).
 *
 * @example
 * class TwoLayer extends Module {
 *   fc1 = this.registerModule('fc1', new Linear(4, 8));
 *   fc2 = this.registerModule('fc2', new Linear(8, 2));
 *   forward(x: Tensor) { return this.fc2.forward(this.fc1.forward(x).relu()); }
 * }
 */
export abstract class Module {
  /** True in training mode (the default); Dropout and BatchNorm behave differently in eval mode. */
  training = true;
  private readonly _parameters = new Map<string, Tensor | null>();
  private readonly _buffers = new Map<string, Tensor>();
  private readonly _modules = new Map<string, Module>();

  /** Computes the module's output for a batch `x` (batch axis first). */
  abstract forward(x: Tensor): Tensor;

  /** Same as {@link forward}: `model.call(x)` reads like calling the model. */
  call(x: Tensor): Tensor {
    return this.forward(x);
  }

  /**
   * The name under which the model file records this layer. Built-in layers
   * return a fixed string so saved files survive minification; a custom
   * layer registered with `registerLayer` should override it.
   */
  get layerType(): string {
    return this.constructor.name;
  }

  /** The constructor arguments as plain JSON, so `load` can rebuild the layer. */
  getConfig(): Record<string, unknown> {
    return {};
  }

  /**
   * Whether every parameter exists. Only layers sized by their first input
   * (a `Dense` without `inputShape`, a `Linear` with `inFeatures: null`) start
   * unbuilt; they build on their first `forward`.
   */
  get built(): boolean {
    return this.children().every((c) => c.built);
  }

  /**
   * The per-sample input shape (no batch axis) declared Keras-style with
   * `inputShape`; a `Sequential` whose first layer declares it builds all
   * its parameters at construction.
   */
  inputShape: number[] | null = null;

  /**
   * Registers a trainable tensor under `name` (a leaf with `requiresGrad`).
   * `null` declares an absent optional parameter (a layer built with `bias: false`).
   */
  protected registerParameter<T extends Tensor | null>(name: string, value: T): T {
    checkName(this, name);
    if (value !== null) {
      if (!(value instanceof Tensor)) throw new ArgumentError(this.layerType, `parameter '${name}' must be a Tensor`);
      if (value.dtype !== 'float32') {
        throw new ArgumentError(this.layerType, `parameter '${name}' must be float32, got ${value.dtype} ${fmtShape(value.shape)}`);
      }
      value.requiresGrad = true;
    }
    this._parameters.set(name, value);
    return value;
  }

  /** Registers non-trainable state saved in the state dict (BatchNorm's `running_mean`). */
  protected registerBuffer(name: string, value: Tensor): Tensor {
    checkName(this, name);
    if (!(value instanceof Tensor)) throw new ArgumentError(this.layerType, `buffer '${name}' must be a Tensor`);
    this._buffers.set(name, value);
    return value;
  }

  /** Registers a child module whose parameters are listed under `name.`. */
  protected registerModule<M extends Module>(name: string, module: M): M {
    checkName(this, name);
    if (!(module instanceof Module)) throw new ArgumentError(this.layerType, `child '${name}' must be a Module`);
    this._modules.set(name, module);
    return module;
  }

  /** The direct children with their names, in registration order. */
  namedChildren(): [string, Module][] {
    return [...this._modules.entries()];
  }

  /** The direct children, in registration order. */
  children(): Module[] {
    return [...this._modules.values()];
  }

  /**
   * This module and every descendant, depth first, with dotted names (`''` for this one). A module
   * registered in several places is listed once, under its first name, as PyTorch's
   * `named_modules()`; `removeDuplicate: false` lists it (and its descendants) under every name.
   */
  namedModules(prefix = '', removeDuplicate = true): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (m: Module, name: string): void => {
      if (removeDuplicate) {
        if (seen.has(m)) return;
        seen.add(m);
      }
      out.push([name, m]);
      for (const [childName, child] of m._modules) visit(child, join(name, childName));
    };
    visit(this, prefix);
    return out;
  }

  /** Every trainable tensor with its dotted name (`0.weight`), in registration order. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [modName, m] of this.namedModules(prefix)) {
      for (const [name, p] of m._parameters) {
        if (p === null || seen.has(p)) continue;
        seen.add(p);
        out.push([join(modName, name), p]);
      }
    }
    return out;
  }

  /** Every trainable tensor: what an optimizer updates. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Every buffer with its dotted name (`1.running_mean`). */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [modName, m] of this.namedModules(prefix)) {
      for (const [name, b] of m._buffers) {
        if (seen.has(b)) continue;
        seen.add(b);
        out.push([join(modName, name), b]);
      }
    }
    return out;
  }

  /** Every buffer. */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /** The number of trainable values (elements of all parameters). */
  numParameters(): number {
    return this.parameters().reduce((s, p) => s + p.size, 0);
  }

  /** Sets training mode on this module and every descendant. */
  train(mode = true): this {
    // As PyTorch's: a string such as 'false' would otherwise switch training on.
    if (typeof mode !== 'boolean')
      throw new ArgumentError('train', `mode must be true or false, got ${shownValue(mode)} (${this.layerType})`);
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Sets evaluation mode (Dropout off, BatchNorm uses its running statistics). */
  eval(): this {
    return this.train(false);
  }

  /** Clears the gradient of every parameter (sets it to null, as PyTorch's default). */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /**
   * Parameters and buffers by dotted name, in PyTorch's order (each module's
   * parameters, then its buffers, then its children). The tensors are
   * detached views of the current values: later training does not change
   * them unless it updates storage in place; clone them to keep a snapshot.
   * A module registered in several places appears under each of its names, as in PyTorch.
   */
  stateDict(prefix = ''): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [modName, m] of this.namedModules(prefix, false)) {
      for (const [name, p] of m._parameters) if (p !== null) out[join(modName, name)] = p.detach();
      for (const [name, b] of m._buffers) out[join(modName, name)] = b.detach();
    }
    return out;
  }

  /**
   * Copies values from `stateDict` into the existing parameters and buffers
   * (with `Tensor.assign`, so optimizers holding them keep working). Every
   * shape must match; in strict mode (default) every key must match too.
   */
  loadStateDict(stateDict: Record<string, Tensor>, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = opts.strict ?? true;
    if (stateDict === null || typeof stateDict !== 'object') {
      throw new ArgumentError('loadStateDict', 'expected a record of tensors by name');
    }
    const targets = new Map<string, Tensor>();
    for (const [modName, m] of this.namedModules('', false)) {
      for (const [name, p] of m._parameters) if (p !== null) targets.set(join(modName, name), p);
      for (const [name, b] of m._buffers) targets.set(join(modName, name), b);
    }
    const missingKeys = [...targets.keys()].filter((k) => !(k in stateDict));
    const unexpectedKeys = Object.keys(stateDict).filter((k) => !targets.has(k));
    if (strict && (missingKeys.length || unexpectedKeys.length)) {
      const parts: string[] = [];
      if (missingKeys.length) parts.push(`missing key(s) ${missingKeys.map((k) => `'${k}'`).join(', ')}`);
      if (unexpectedKeys.length) parts.push(`unexpected key(s) ${unexpectedKeys.map((k) => `'${k}'`).join(', ')}`);
      throw new ArgumentError('loadStateDict', `${parts.join('; ')} for ${this.layerType}`);
    }
    // Check every shape before copying anything, so a failed load leaves the module untouched.
    for (const [key, target] of targets) {
      const v = stateDict[key];
      if (v === undefined) continue;
      if (!(v instanceof Tensor)) throw new ArgumentError('loadStateDict', `'${key}' is not a Tensor`);
      if (v.shape.length !== target.shape.length || v.shape.some((d, i) => d !== target.shape[i])) {
        throw new ShapeError(
          'loadStateDict',
          `size mismatch for '${key}': the state dict has ${fmtShape(v.shape)}, the module has ${fmtShape(target.shape)}`,
        );
      }
    }
    const prev = setGradEnabled(false);
    try {
      for (const [key, target] of targets) {
        const v = stateDict[key];
        // A copy, so the loaded module never shares storage with the source of the values.
        if (v !== undefined) target.assign(v.clone());
      }
    } finally {
      setGradEnabled(prev);
    }
    return { missingKeys, unexpectedKeys };
  }

  /** A PyTorch-style description of the module tree. */
  toString(): string {
    const args = this.extraRepr();
    const kids = this.namedChildren();
    if (kids.length === 0) return `${this.layerType}(${args})`;
    const lines = kids.map(([name, m]) => `  (${name}): ${m.toString().split('\n').join('\n  ')}`);
    return `${this.layerType}(${args}\n${lines.join('\n')}\n)`;
  }

  /** The arguments shown by {@link toString}, e.g. `in_features=4, out_features=2`. */
  protected extraRepr(): string {
    return '';
  }
}

function join(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

function checkName(m: Module, name: string): void {
  if (typeof name !== 'string' || name === '' || name.includes('.')) {
    throw new BpError(m.layerType, `a parameter, buffer or child name must be a non-empty string without '.', got ${JSON.stringify(name)}`);
  }
}
