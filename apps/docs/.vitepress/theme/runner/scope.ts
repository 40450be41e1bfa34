/**
 * What example code sees besides the bp packages: `print` (and `console`),
 * `table`, `chart`, `progress`, `graph`, `scatter`, `landscape`, `matrix`,
 * `images`, `sketch`, `ask`, `asset`, `param` and `quick`. Each posts plain
 * data to the page through `post`.
 */
import { Tensor, tensor } from '@bp/tensor';
import { noGrad } from '@bp/autograd';
import { fmtValue, fmtNumber } from './format.js';
import { graphData, graphUpdate, retainGrads } from './graph-data.js';
import { makeParam } from './params.js';
import type { ChartSpec, WorkerMessage } from './protocol.js';

/**
 * The classifiers of `sketch(...)` calls, by id, kept after the example
 * ends: the worker answers each drawing the page sends with them. A new run
 * clears them.
 */
export const sketchModels = new Map<number, (pixels: number[]) => number[]>();

/** Probabilities from a model's output row: kept if they already are (non-negative, sum 1), else softmax. */
export function toProbabilities(v: readonly number[]): number[] {
  const sum = v.reduce((a, b) => a + b, 0);
  if (v.every((x) => x >= 0) && Math.abs(sum - 1) < 1e-3) return [...v];
  const m = Math.max(...v);
  const e = v.map((x) => Math.exp(x - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

/** A live chart: `add` appends one point per series (missing names skip that series). */
export interface ChartHandle {
  add(point: Record<string, number>): void;
}

type Post = (m: WorkerMessage) => void;

/** The helpers passed to example code, by name. */
export function makeScope(
  post: Post,
  opts: { quick: boolean; siteRoot: string; params?: Record<string, number> },
): Record<string, unknown> {
  let chartIds = 0;
  const print = (...args: unknown[]): void => post({ type: 'print', text: args.map((a) => fmtValue(a)).join(' '), level: 'log' });
  const consoleLike = {
    log: print,
    info: print,
    warn: (...args: unknown[]) => post({ type: 'print', text: args.map((a) => fmtValue(a)).join(' '), level: 'warn' }),
    error: (...args: unknown[]) => post({ type: 'print', text: args.map((a) => fmtValue(a)).join(' '), level: 'error' }),
  };

  /** Rows as objects (columns from their keys) or as arrays with `columns` given. */
  const table = (rows: readonly (Record<string, unknown> | readonly unknown[])[], columns?: string[]): void => {
    const cols = columns ?? (rows.length && !Array.isArray(rows[0]) ? Object.keys(rows[0] as object) : []);
    const cell = (v: unknown): string => (typeof v === 'number' ? fmtNumber(v) : v instanceof Tensor ? fmtValue(v) : String(v));
    const body = rows.map((r) => (Array.isArray(r) ? r.map(cell) : cols.map((c) => cell((r as Record<string, unknown>)[c]))));
    post({ type: 'table', columns: cols, rows: body });
  };

  /**
   * A line chart. With `data` (series name → values) it is drawn at once;
   * without, it starts empty and grows with `handle.add({ loss, accuracy })`.
   * `x` gives the x axis: an array of values (with `data`), or the name of
   * the field of each added point that holds its x (`x: 'epoch'`); without
   * it, x is the point's index.
   */
  const chart = (
    spec: Omit<Partial<ChartSpec>, 'x'> & { data?: Record<string, readonly number[]>; x?: string | readonly number[] },
  ): ChartHandle => {
    const id = ++chartIds;
    const xKey = Array.isArray(spec.x) ? 'x' : (spec.x as string | undefined);
    const xs = Array.isArray(spec.x) ? (spec.x as readonly number[]) : null;
    const series = (spec.series ?? Object.keys(spec.data ?? {})).filter((k) => k !== xKey);
    post({ type: 'chart', id, spec: { title: spec.title, xLabel: spec.xLabel, yLabel: spec.yLabel, logY: spec.logY, x: xKey, series } });
    if (spec.data) {
      const n = Math.max(0, ...Object.values(spec.data).map((v) => v.length));
      const points: Record<string, number>[] = [];
      for (let i = 0; i < n; i++) {
        const p: Record<string, number> = {};
        if (xs) p.x = xs[i];
        for (const [k, v] of Object.entries(spec.data)) if (i < v.length) p[k] = v[i];
        points.push(p);
      }
      post({ type: 'chart-points', id, points });
    }
    // Each point is posted at once: a worker's messages reach the page even while
    // a synchronous training loop keeps the worker busy, and the page redraws once per frame.
    return { add: (point) => post({ type: 'chart-points', id, points: [{ ...point }] }) };
  };

  const progress = (done: number, total: number, label = ''): void => post({ type: 'progress', done, total, label });

  let graphIds = 0;
  /**
   * Draws the recorded graph of `root` with its values and gradients, step by
   * step. After an optimizer step on its parameters, `view.update(lr, newLoss)`
   * adds the update and the new loss as the drawing's last steps.
   */
  const graph = (root: Tensor, title = 'Computation graph'): { update(lr: number, lossAfter: Tensor | number): void } => {
    if (!(root instanceof Tensor)) throw new TypeError('graph(root): root must be a Tensor');
    const id = ++graphIds;
    post({ type: 'graph', id, graph: graphData(root, title) });
    return {
      update(lr, lossAfter) {
        const after = lossAfter instanceof Tensor ? lossAfter.item() : lossAfter;
        post({ type: 'graph-update', id, update: graphUpdate(root, lr, after) });
      },
    };
  };

  let scatterIds = 0;
  /**
   * A scatter plot of 2-D points `x [N, 2]` coloured by class `y [N]` (or
   * `[N, 1]`). `plot.boundary(fn, caption)` evaluates `fn` (a model's forward
   * pass) on a 48×48 grid over the points and shades each cell by the class
   * it predicts: `[M, C]` scores pick the largest, `[M]` or `[M, 1]`
   * probabilities of class 1 split at 0.5. Call it during training to watch
   * the boundary move.
   */
  const scatter = (x: Tensor, y: Tensor, title = ''): { boundary(fn: (grid: Tensor) => Tensor, caption?: string): void } => {
    if (!(x instanceof Tensor) || x.rank !== 2 || x.shape[1] !== 2)
      throw new TypeError('scatter(x, y): x must be a Tensor of shape [N, 2]');
    const id = ++scatterIds;
    const xy = Array.from(x.dataSync(), Number);
    const labels = Array.from(y.dataSync(), Number);
    let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
    for (let i = 0; i < xy.length; i += 2) {
      x0 = Math.min(x0, xy[i]);
      x1 = Math.max(x1, xy[i]);
      y0 = Math.min(y0, xy[i + 1]);
      y1 = Math.max(y1, xy[i + 1]);
    }
    const mx = (x1 - x0) * 0.08 || 0.5;
    const my = (y1 - y0) * 0.08 || 0.5;
    const bounds: [number, number, number, number] = [x0 - mx, x1 + mx, y0 - my, y1 + my];
    post({ type: 'scatter', id, title, xy, labels, bounds });
    const n = 48;
    const grid = new Float32Array(n * n * 2);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        grid[(r * n + c) * 2] = bounds[0] + ((c + 0.5) / n) * (bounds[1] - bounds[0]);
        grid[(r * n + c) * 2 + 1] = bounds[3] - ((r + 0.5) / n) * (bounds[3] - bounds[2]);
      }
    }
    const gridT = tensor(grid, { shape: [n * n, 2] });
    return {
      boundary(fn, caption = '') {
        const out = noGrad(() => fn(gridT));
        const v = out.dataSync();
        const k = out.rank === 2 ? out.shape[1] : 1;
        const classes: number[] = [];
        const confidence: number[] = [];
        for (let i = 0; i < n * n; i++) {
          if (k === 1) {
            const p = v[i];
            classes.push(p > 0.5 ? 1 : 0);
            confidence.push(Math.abs(p - 0.5) * 2);
          } else {
            let best = 0;
            for (let j = 1; j < k; j++) if (v[i * k + j] > v[i * k + best]) best = j;
            classes.push(best);
            let second = -Infinity;
            for (let j = 0; j < k; j++) if (j !== best) second = Math.max(second, v[i * k + j]);
            confidence.push(Math.min(1, Math.max(0, (v[i * k + best] - second) / 2)));
          }
        }
        post({ type: 'scatter-boundary', id, n, classes, confidence: confidence.map((c) => Math.round(c * 100) / 100), caption });
      },
    };
  };

  /** Draws images `[N, 1, H, W]` or `[N, H, W]` (values 0..1) with optional captions. */
  const images = (x: Tensor, captions: string[] = []): void => {
    const [n] = x.shape;
    const h = x.shape[x.rank - 2];
    const w = x.shape[x.rank - 1];
    const flat = x.dataSync();
    const pixels: number[][] = [];
    // Three decimals are finer than the 256 grey levels drawn, and keep pre-rendered pages small.
    for (let i = 0; i < n; i++) pixels.push(Array.from(flat.subarray(i * h * w, (i + 1) * h * w), (v) => Math.round(v * 1000) / 1000));
    post({ type: 'images', width: w, height: h, pixels, captions });
  };

  let landscapeIds = 0;
  /**
   * A function of two variables (a loss over two weights) drawn as filled
   * contours over `x` × `y`, sampled on an `n`×`n` grid (default 64).
   * `view.path(name, points)` draws (or redraws) a named path of `[x, y]`
   * points on it: the steps of a descent.
   */
  const landscape = (
    f: (x: number, y: number) => number,
    o: {
      x: [number, number];
      y: [number, number];
      n?: number;
      title?: string;
      xLabel?: string;
      yLabel?: string;
      log?: boolean;
      minimum?: [number, number];
    },
  ): { path(name: string, points: readonly (readonly [number, number])[]): void } => {
    if (typeof f !== 'function') throw new TypeError('landscape(f, opts): f must be a function (x, y) => number');
    const n = Math.max(8, Math.min(160, Math.round(o.n ?? 64)));
    const [x0, x1] = o.x;
    const [y0, y1] = o.y;
    const values: number[] = [];
    for (let r = 0; r < n; r++) {
      const y = y1 - ((r + 0.5) / n) * (y1 - y0);
      for (let c = 0; c < n; c++) {
        const v = Number(f(x0 + ((c + 0.5) / n) * (x1 - x0), y));
        values.push(Number(v.toPrecision(5)));
      }
    }
    const id = ++landscapeIds;
    post({
      type: 'landscape',
      id,
      spec: {
        title: o.title ?? '',
        xLabel: o.xLabel ?? 'x',
        yLabel: o.yLabel ?? 'y',
        bounds: [x0, x1, y0, y1],
        n,
        values,
        log: !!o.log,
        minimum: o.minimum ?? null,
      },
    });
    return {
      path(name, points) {
        post({ type: 'landscape-path', id, name, points: points.map(([a, b]) => [Number(a), Number(b)] as [number, number]) });
      },
    };
  };

  /**
   * A matrix as a shaded table: rows and columns labelled, each cell shaded
   * by its value (a confusion matrix: rows the true class, columns the
   * predicted one).
   */
  const matrix = (
    values: Tensor | readonly (readonly number[])[],
    o: { title?: string; rows?: string[]; cols?: string[]; rowLabel?: string; colLabel?: string } = {},
  ): void => {
    let rowsV: number[][];
    if (values instanceof Tensor) {
      if (values.rank !== 2) throw new TypeError(`matrix(values): a Tensor of rank 2 expected, got shape [${values.shape}]`);
      const d = values.dataSync();
      const [r, c] = values.shape;
      rowsV = Array.from({ length: r }, (_, i) => Array.from(d.subarray(i * c, (i + 1) * c), Number));
    } else {
      rowsV = values.map((r) => r.map(Number));
    }
    const nc = Math.max(0, ...rowsV.map((r) => r.length));
    post({
      type: 'matrix',
      spec: {
        title: o.title ?? '',
        rowLabel: o.rowLabel ?? '',
        colLabel: o.colLabel ?? '',
        rows: o.rows ?? rowsV.map((_, i) => String(i)),
        cols: o.cols ?? Array.from({ length: nc }, (_, i) => String(i)),
        values: rowsV,
      },
    });
  };

  let sketchIds = 0;
  /**
   * A canvas the reader draws a digit on. Each drawing, scaled and centred
   * the way MNIST's digits are (20×20 box, centre of mass in the middle of
   * 28×28), is passed to `classify` as a `[1, 1, 28, 28]` tensor; the page
   * shows the class probabilities it returns (a `[1, C]` tensor of
   * probabilities or logits). It works once the example has run, for as long
   * as the page keeps its worker.
   */
  const sketch = (classify: (image: Tensor) => Tensor, o: { title?: string; classes?: string[] } = {}): void => {
    if (typeof classify !== 'function') throw new TypeError('sketch(classify): classify must be a function (image) => Tensor');
    const id = ++sketchIds;
    sketchModels.set(id, (pixels) => {
      const out = noGrad(() => classify(tensor(Float32Array.from(pixels), { shape: [1, 1, 28, 28] })));
      return toProbabilities(Array.from(out.dataSync(), Number));
    });
    post({ type: 'sketch', id, title: o.title ?? 'Draw a digit', classes: o.classes ?? Array.from({ length: 10 }, (_, i) => String(i)) });
  };

  /**
   * An exercise: the question, and an answer box the reader types into,
   * checked in the page against `answer` (a number or a one-element tensor
   * the example computed), within `tol` relative (default 0.5%) or 1e-4.
   */
  const ask = (question: string, answer: number | Tensor, o: { tol?: number; hint?: string } = {}): void => {
    const a = answer instanceof Tensor ? answer.item() : Number(answer);
    if (!Number.isFinite(a)) throw new RangeError(`ask('${question}'): the answer ${a} is not a finite number`);
    post({ type: 'ask', question, answer: a, rel: o.tol ?? 5e-3, abs: 1e-4, hint: o.hint ?? '' });
  };

  /** The absolute URL of a file served by this site (e.g. the MNIST subset). */
  const asset = (path: string): string => new URL(path.replace(/^\//, ''), opts.siteRoot).href;

  /** Lets queued messages (charts, progress) reach the page during a long loop. */
  const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

  const param = makeParam(opts.params ?? {});

  return {
    print,
    console: consoleLike,
    table,
    chart,
    progress,
    graph,
    retainGrads,
    scatter,
    landscape,
    matrix,
    images,
    sketch,
    ask,
    asset,
    tick,
    param,
    quick: opts.quick,
  };
}
