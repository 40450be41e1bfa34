import { enableGrad, noGrad } from '@bp/autograd';
import { ArgumentError, NotAvailableError, ShapeError, Tensor, clone, fmtShape, keep } from '@bp/tensor';
import { checkOptions, shownValue } from '@bp/tensor/internal';

/** Hyperparameters every optimizer has: at least a learning rate. */
export interface BaseOptions {
  /** Learning rate. */
  lr: number;
}

/** A set of parameters sharing hyperparameters (PyTorch's `param_groups` entry). */
export type ParamGroup<H extends BaseOptions> = H & { params: Tensor[] };

/** A group as passed to a constructor: its own parameters, and any hyperparameters that differ from the defaults. */
export type ParamGroupInput<H extends BaseOptions> = Partial<H> & { params: Iterable<Tensor> };

/** What optimizers accept as parameters: tensors (one group), or groups with their own hyperparameters. */
export type Params<H extends BaseOptions> = Iterable<Tensor> | ParamGroupInput<H>[];

/**
 * Per-parameter optimizer state: step counts and moment buffers. Fused updates
 * write buffers in place, so `stateDict()` and `loadStateDict()` copy them: a
 * state dict taken earlier keeps its values.
 */
export type ParamState = Record<string, Tensor | number>;

/** The buffers the built-in optimizers keep per parameter: each a tensor of the parameter's shape. */
const TENSOR_STATE: ReadonlySet<string> = new Set(['expAvg', 'expAvgSq', 'maxExpAvgSq', 'momentumBuffer', 'sum', 'squareAvg', 'gradAvg']);

/** The buffers among {@link TENSOR_STATE} that hold running sums of squares: a square root is taken of them, so none may be negative. */
const SQUARES_STATE: ReadonlySet<string> = new Set(['expAvgSq', 'maxExpAvgSq', 'sum', 'squareAvg']);

/**
 * What is wrong with the values of the built-in buffer `key`, or null: not float32, a NaN or an
 * infinity (every later update would carry it into the parameter), or a negative sum of squares.
 */
function bufferValuesProblem(key: string, v: Tensor): string | null {
  if (v.dtype !== 'float32') return `is ${v.dtype}, not float32 as its parameter`;
  let values: ArrayLike<number>;
  try {
    values = v.dataSync();
  } catch (e) {
    // A backend that reads only asynchronously (WebGPU) keeps its values unchecked here.
    if (e instanceof NotAvailableError) return null;
    throw e;
  }
  const squares = SQUARES_STATE.has(key);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!Number.isFinite(x))
      return `holds ${x} at index ${i}: the next step would make the parameter ${Number.isNaN(x) ? 'NaN' : 'non-finite'}`;
    if (squares && x < 0) return `holds ${x} at index ${i}: a sum of squares cannot be negative (the next step takes its square root)`;
  }
  return null;
}

/**
 * A snapshot of an optimizer, shaped like PyTorch's `state_dict()`: per-parameter
 * state keyed by the parameter's position across all groups, and each group's
 * hyperparameters with its parameters' positions. Numbers, arrays and tensors only,
 * so a saver can write the tensors as weights and the rest as JSON.
 */
export interface OptimizerStateDict {
  state: Record<string, ParamState>;
  paramGroups: (Record<string, unknown> & { params: number[] })[];
}

/**
 * A copy of one parameter's state with its own tensors: fused updates write moment
 * buffers in place, so a state dict going out (or coming in) must not share them.
 */
function copyState(s: ParamState): ParamState {
  const out: ParamState = {};
  noGrad(() => {
    for (const [k, v] of Object.entries(s)) out[k] = v instanceof Tensor ? clone(v) : v;
  });
  return out;
}

/** Throws unless `v` is a finite number `>= 0`. */
export function checkNonNegative(opt: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ArgumentError(opt, `${name} must be a finite number >= 0, got ${shownValue(v)}`);
  }
}

/** Throws unless `v` is a number in `[0, 1)`. */
export function checkUnitInterval(opt: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) {
    throw new ArgumentError(opt, `${name} must be a number in [0, 1), got ${shownValue(v)}`);
  }
}

/**
 * The base of every optimizer: parameter groups, `step()`, `zeroGrad()` and
 * state dicts. A subclass supplies one update rule, applied to each
 * parameter that has a gradient; parameters whose `.grad` is null are skipped,
 * as in PyTorch. Parameters are updated in place (`assign`), so the model
 * keeps holding the same tensors.
 */
export abstract class Optimizer<H extends BaseOptions = BaseOptions> {
  /** The optimizer's name, used in error messages. */
  readonly name: string;
  /** The hyperparameters a group gets when it does not set its own. */
  readonly defaults: Readonly<H>;
  /** Parameter groups with their hyperparameters; a scheduler changes `paramGroups[i].lr`. */
  readonly paramGroups: ParamGroup<H>[];
  /** Per-parameter state (moment buffers, step counts), created on a parameter's first update. */
  protected readonly state = new Map<Tensor, ParamState>();

  protected constructor(name: string, params: Params<H>, defaults: H, opts?: unknown) {
    this.name = name;
    // PyTorch's spellings (`weight_decay`) and misspellings are refused, not ignored for the default.
    checkOptions(name, opts, Object.keys(defaults));
    this.defaults = Object.freeze({ ...defaults });
    this.validate(this.defaults);
    this.paramGroups = this.makeGroups(params);
  }

  /** The learning rate of the first group. Setting it sets every group's. */
  get lr(): number {
    return this.paramGroups[0].lr;
  }
  set lr(value: number) {
    checkNonNegative(this.name, 'lr', value);
    for (const g of this.paramGroups) g.lr = value;
  }

  /** Checks one group's hyperparameters, throwing an `ArgumentError` that names the optimizer and the option. */
  protected abstract validate(h: Readonly<H>): void;

  /**
   * Computes `param`'s new value from its gradient, updating `state` (the
   * parameter's own record, empty on its first update). Runs inside `noGrad`.
   */
  protected abstract update(param: Tensor, grad: Tensor, group: ParamGroup<H>, state: ParamState): Tensor;

  /**
   * Applies the update in place on the backend's fused kernel when there is one,
   * returning false (having changed nothing) to fall back to {@link update}. Runs inside `noGrad`.
   */
  protected updateInPlace(_param: Tensor, _grad: Tensor, _group: ParamGroup<H>, _state: ParamState): boolean {
    return false;
  }

  private makeGroups(params: Params<H>): ParamGroup<H>[] {
    if (params == null || typeof (params as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new ArgumentError(
        this.name,
        `params must be an array of tensors or of parameter groups, got ${params === null ? 'null' : typeof params}`,
      );
    }
    const list = [...(params as Iterable<Tensor | ParamGroupInput<H>>)];
    if (list.length === 0) {
      throw new ArgumentError(
        this.name,
        'got an empty parameter list (a model whose first layer has no inputShape has no parameters until its first forward: ' +
          "give it inputShape, call model.build(inputShape), or compile with the optimizer's name, e.g. 'adam')",
      );
    }
    const inputs: ParamGroupInput<H>[] = list.every((p) => p instanceof Tensor)
      ? [{ params: list as Tensor[] } as unknown as ParamGroupInput<H>]
      : (list as ParamGroupInput<H>[]);
    const seen = new Set<Tensor>();
    return inputs.map((input, gi) => {
      if (input instanceof Tensor || input == null || typeof input !== 'object' || !('params' in input)) {
        throw new ArgumentError(this.name, `parameter group ${gi} must be an object with a params array; do not mix tensors and groups`);
      }
      checkOptions(this.name, input, ['params', ...Object.keys(this.defaults)], `option in parameter group ${gi}`);
      const ps = [...input.params];
      ps.forEach((p, i) => {
        if (!(p instanceof Tensor)) throw new ArgumentError(this.name, `parameter ${i} of group ${gi} is not a Tensor`);
        if (p.dtype !== 'float32')
          throw new ArgumentError(
            this.name,
            `parameter ${i} of group ${gi} is ${p.dtype} ${fmtShape(p.shape)}; only float32 tensors can be optimized`,
          );
        if (!p.isLeaf) {
          // As PyTorch ("can't optimize a non-leaf Tensor"): its values are recomputed from the graph, and it gets no .grad.
          throw new ArgumentError(
            this.name,
            `parameter ${i} of group ${gi} (${fmtShape(p.shape)}) was computed by an op, not made by you: optimize the tensors it was computed from, or a copy made a leaf (p.detach(), then requiresGrad = true)`,
          );
        }
        if (seen.has(p)) throw new ArgumentError(this.name, `parameter ${i} of group ${gi} appears more than once`);
        seen.add(p);
      });
      const group = { ...this.defaults, ...input, params: ps } as ParamGroup<H>;
      this.validate(group);
      return group;
    });
  }

  /**
   * Applies one update to every parameter that has a gradient. With a
   * `closure` (which recomputes the loss and calls `backward()`), it runs that
   * first and returns its loss, as PyTorch's `step(closure)`.
   */
  step(closure?: () => Tensor): Tensor | undefined {
    const loss = closure ? enableGrad(closure) : undefined;
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          const g = p.grad;
          if (g === null) continue;
          // The shape, not only the size, as PyTorch checks a .grad assigned by hand.
          if (g.size !== p.size || g.shape.length !== p.shape.length || g.shape.some((d, i) => d !== p.shape[i])) {
            throw new ShapeError(this.name, `gradient ${fmtShape(g.shape)} does not match its parameter ${fmtShape(p.shape)}`);
          }
          let s = this.state.get(p);
          if (s === undefined) {
            s = {};
            this.state.set(p, s);
          }
          if (!this.updateInPlace(p, g, group, s)) {
            const before = Object.values(s);
            const next = this.update(p, g, group, s);
            p.assign(next);
            // State outlives the step (also inside tidy); replaced state and the new value
            // (copied into the parameter) are released now rather than by the garbage collector.
            const now = new Set(Object.values(s));
            for (const v of now) if (v instanceof Tensor) keep(v);
            for (const v of before) if (v instanceof Tensor && !now.has(v)) v.dispose();
            if (!now.has(next)) next.dispose();
          } else {
            for (const v of Object.values(s)) if (v instanceof Tensor) keep(v);
          }
        }
      }
    });
    return loss;
  }

  /**
   * Clears every parameter's gradient (`.grad = null`, PyTorch's `set_to_none`), so the next
   * `backward()` starts fresh, and releases the gradients' memory (clone a gradient first to keep it).
   */
  zeroGrad(): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  /**
   * Releases the optimizer's state (Adam's moments, SGD's momentum buffers: tensors the size of
   * the parameters) now rather than when the garbage collector finds it, which matters on a GPU
   * backend whose memory the collector does not see. The parameters and their gradients are left
   * as they are; a later `step()` starts from fresh state, as a new optimizer would.
   */
  dispose(): void {
    for (const s of this.state.values()) for (const v of Object.values(s)) if (v instanceof Tensor) v.dispose();
    this.state.clear();
  }

  /** A snapshot from which {@link loadStateDict} resumes training exactly. */
  stateDict(): OptimizerStateDict {
    const state: Record<string, ParamState> = {};
    const paramGroups: OptimizerStateDict['paramGroups'] = [];
    let index = 0;
    for (const group of this.paramGroups) {
      const { params, ...hyper } = group;
      const ids: number[] = [];
      for (const p of params) {
        const s = this.state.get(p);
        if (s !== undefined) state[String(index)] = copyState(s);
        ids.push(index++);
      }
      paramGroups.push({ ...structuredClone(hyper), params: ids });
    }
    return { state, paramGroups };
  }

  /**
   * Restores hyperparameters and state saved by {@link stateDict} onto this
   * optimizer's parameters, matched by position; groups and their sizes must agree.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    if (sd == null || typeof sd !== 'object' || !Array.isArray(sd.paramGroups) || sd.state == null || typeof sd.state !== 'object') {
      throw new ArgumentError(this.name, 'loadStateDict: expected { state, paramGroups } as returned by stateDict()');
    }
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new ArgumentError(
        this.name,
        `loadStateDict: the state dict has ${sd.paramGroups.length} parameter groups, this optimizer has ${this.paramGroups.length}`,
      );
    }
    const byIndex = new Map<string, Tensor>();
    const groups = sd.paramGroups.map((saved, gi) => {
      const group = this.paramGroups[gi];
      if (!Array.isArray(saved.params) || saved.params.length !== group.params.length) {
        throw new ArgumentError(
          this.name,
          `loadStateDict: group ${gi} has ${saved.params?.length} parameters in the state dict, ${group.params.length} here`,
        );
      }
      saved.params.forEach((id, i) => byIndex.set(String(id), group.params[i]));
      const { params: _ids, ...hyper } = saved;
      // Another optimizer's state dict (SGD's momentum given to Adam) would otherwise load without a
      // word, its hyperparameters ignored and its buffers kept; a key such as '__proto__' must not land either.
      const known = Object.keys(this.defaults);
      const foreign = Object.keys(hyper).find((k) => !known.includes(k));
      if (foreign !== undefined) {
        throw new ArgumentError(
          this.name,
          `loadStateDict: group ${gi} has hyperparameter ${JSON.stringify(foreign)}, which ${this.name} does not take ` +
            `(it takes ${known.join(', ')}); is this the state dict of another optimizer?`,
        );
      }
      const merged = { ...this.defaults, ...structuredClone(hyper) } as unknown as H;
      this.validate(merged);
      return merged;
    });
    const states = new Map<Tensor, ParamState>();
    for (const [id, s] of Object.entries(sd.state)) {
      const p = byIndex.get(id);
      if (p === undefined) throw new ArgumentError(this.name, `loadStateDict: state for parameter ${id}, which no group lists`);
      if (s == null || typeof s !== 'object' || Array.isArray(s)) {
        throw new ArgumentError(this.name, `loadStateDict: the state of parameter ${id} is ${shownValue(s)}, not an object of its buffers`);
      }
      for (const [k, v] of Object.entries(s)) {
        // A step count is a whole number >= 0, other numbers finite, and the built-in buffers tensors
        // of the parameter's shape: a corrupted one would surface later as a diverging loss, blamed on
        // the learning rate, or as an error in the middle of a step.
        if (k === 'step' || typeof v === 'number') {
          const whole = k === 'step';
          if (typeof v !== 'number' || (whole ? !(Number.isInteger(v) && v >= 0) : !Number.isFinite(v))) {
            throw new ArgumentError(
              this.name,
              `loadStateDict: state '${k}' of parameter ${id} is ${shownValue(v)}, not ${whole ? 'a whole number >= 0' : 'a finite number'}`,
            );
          }
          if (!TENSOR_STATE.has(k)) continue;
        }
        // A subclass's own state may hold other numbers and arrays (saved as JSON).
        if (Array.isArray(v) && !TENSOR_STATE.has(k)) continue;
        if (!(v instanceof Tensor)) {
          throw new ArgumentError(
            this.name,
            `loadStateDict: state '${k}' of parameter ${id} is ${shownValue(v)}, not a tensor of the parameter's shape ${fmtShape(p.shape)}`,
          );
        }
        if (v.rank !== p.rank || v.shape.some((d, i) => d !== p.shape[i])) {
          throw new ShapeError(
            this.name,
            `loadStateDict: state '${k}' of parameter ${id} is ${fmtShape(v.shape)}, the parameter is ${fmtShape(p.shape)}`,
          );
        }
        const problem = TENSOR_STATE.has(k) ? bufferValuesProblem(k, v) : null;
        if (problem !== null) {
          throw new ArgumentError(this.name, `loadStateDict: state '${k}' of parameter ${id} ${problem}`);
        }
      }
      states.set(p, copyState(s));
    }
    groups.forEach((h, gi) => Object.assign(this.paramGroups[gi], h));
    this.state.clear();
    for (const [p, s] of states) this.state.set(p, s);
  }
}
