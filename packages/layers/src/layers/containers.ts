import { ArgumentError, IndexError, type Tensor } from '@bp/tensor';
import { Module } from '../module.js';

/**
 * A list of modules whose parameters, buffers and state-dict entries are
 * registered under their positions (`0.weight`, `1.bias`), as PyTorch's
 * `nn.ModuleList`. It has no `forward`: the owner decides how to call them.
 *
 * @example
 * this.blocks = this.registerModule('blocks', new ModuleList([new Block(), new Block()]));
 * for (const b of this.blocks) x = b.forward(x);
 */
export class ModuleList extends Module implements Iterable<Module> {
  private readonly items: Module[] = [];

  constructor(modules: Iterable<Module> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  override get layerType(): string {
    return 'ModuleList';
  }

  /** How many modules the list holds. */
  get length(): number {
    return this.items.length;
  }

  /** Adds `module` at the end, registered under its position. */
  append(module: Module): this {
    this.items.push(this.registerModule(String(this.items.length), module));
    return this;
  }

  /** The module at `index` (negative counts from the end). */
  get<M extends Module = Module>(index: number): M {
    const n = this.items.length;
    if (!Number.isInteger(index) || index < -n || index >= n) {
      throw new IndexError('ModuleList', `index ${index} is out of range for a list of ${n} modules`);
    }
    return this.items[index < 0 ? index + n : index] as M;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.items[Symbol.iterator]();
  }

  /** Not callable: a list has no single forward (as in PyTorch). */
  override forward(_x: Tensor): Tensor {
    throw new ArgumentError('ModuleList', 'a ModuleList has no forward; call its modules in a loop');
  }
}

/**
 * Modules by name, registered under those names (`encoder.weight`), as
 * PyTorch's `nn.ModuleDict`; insertion order is kept.
 *
 * @example
 * const heads = new ModuleDict({ cls: new Linear(8, 3), box: new Linear(8, 4) });
 * heads.get('cls').forward(x);
 */
export class ModuleDict extends Module {
  private readonly items = new Map<string, Module>();

  constructor(modules: Record<string, Module> | Iterable<[string, Module]> = {}) {
    super();
    const entries = Symbol.iterator in Object(modules) ? [...(modules as Iterable<[string, Module]>)] : Object.entries(modules);
    for (const [k, m] of entries) this.set(k, m);
  }

  override get layerType(): string {
    return 'ModuleDict';
  }

  /** Registers `module` under `key` (a new key; PyTorch's `d[key] = m`). */
  set(key: string, module: Module): this {
    if (this.items.has(key)) throw new ArgumentError('ModuleDict', `key '${key}' is already present`);
    this.items.set(key, this.registerModule(key, module));
    return this;
  }

  /** The module under `key`. */
  get<M extends Module = Module>(key: string): M {
    const m = this.items.get(key);
    if (!m)
      throw new IndexError(
        'ModuleDict',
        `no module under '${key}'; keys are ${[...this.items.keys()].map((k) => `'${k}'`).join(', ') || 'none'}`,
      );
    return m as M;
  }

  /** Whether `key` is present. */
  has(key: string): boolean {
    return this.items.has(key);
  }

  /** The keys, in insertion order. */
  keys(): string[] {
    return [...this.items.keys()];
  }

  /** The modules, in insertion order. */
  values(): Module[] {
    return [...this.items.values()];
  }

  /** `[key, module]` pairs, in insertion order. */
  entries(): [string, Module][] {
    return [...this.items.entries()];
  }

  /** How many modules the dict holds. */
  get size(): number {
    return this.items.size;
  }

  /** Not callable: a dict has no single forward (as in PyTorch). */
  override forward(_x: Tensor): Tensor {
    throw new ArgumentError('ModuleDict', 'a ModuleDict has no forward; call its modules by key');
  }
}
