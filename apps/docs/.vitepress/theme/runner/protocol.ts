/**
 * Messages between an example on the page and the worker that runs it.
 * Everything crossing the boundary is plain data (structured clone), so the
 * page never holds a tensor: the worker formats values, the page draws them.
 */

/** Which engine runs the example. */
export type BackendChoice = 'cpu' | 'gpu';

/** Page → worker: run this source. */
export interface RunRequest {
  type: 'run';
  code: string;
  backend: BackendChoice;
  /** Smaller sizes for the automated browser test (`?quick=1`); examples read it as `quick`. */
  quick: boolean;
  /** Absolute URL of the site root, for `asset(path)`. */
  siteRoot: string;
  /** Slider values by `param` name. */
  params: Record<string, number>;
}

/** A line chart: one or more named series over the same x axis (steps, epochs...). */
export interface ChartSpec {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Plot the y axis on a log scale (for losses spanning decades). */
  logY?: boolean;
  /** The point field holding each point's x value (`'epoch'`, `'p'`); without it x is the point's index. */
  x?: string;
  /** Series names, in legend order. */
  series: string[];
}

/** One recorded tensor of a computation graph, with what the page needs to draw it. */
export interface GraphNode {
  id: number;
  /** The op that produced it, or null for a leaf. */
  op: string | null;
  /** The user's label (`t.name`), if any. */
  name: string | null;
  /** What the drawing calls it: the name, else its formula (`x @ W1ᵀ`), else the kind of leaf. */
  label: string;
  /** The op's plain attributes (matmul's `transA`/`transB`...). */
  attrs: Record<string, boolean | number | string>;
  shape: number[];
  value: string;
  /** The first 64 values, for the arithmetic of the step captions. */
  data: number[];
  /** The gradient after backward, or null when none was kept. */
  grad: string | null;
  gradData: number[] | null;
  inputs: number[];
  requiresGrad: boolean;
}

/** A graph in topological order: every input before the node that uses it. */
export interface GraphData {
  title: string;
  nodes: GraphNode[];
  root: number;
  /** Set by `view.update(...)`: one optimizer step (SGD) and the loss after it. */
  update?: GraphUpdate;
}

/** One SGD step on the graph's parameters and the loss of the next forward pass. */
export interface GraphUpdate {
  lr: number;
  /** Each parameter's values after the step, by node id. */
  params: { id: number; after: number[] }[];
  lossAfter: number;
}

/** A function of two variables sampled on a grid, drawn as filled contours (`landscape(...)`). */
export interface LandscapeSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  /** [x0, x1, y0, y1]. */
  bounds: [number, number, number, number];
  /** Samples per side. */
  n: number;
  /** n×n values, row 0 at the top (y1), column 0 on the left (x0). */
  values: number[];
  /** Contour levels spaced on a log scale (for losses spanning decades). */
  log: boolean;
  /** Where the minimum is, marked with a star (optional). */
  minimum: [number, number] | null;
}

/** A matrix drawn as a shaded table (a confusion matrix, say). */
export interface MatrixSpec {
  title: string;
  rowLabel: string;
  colLabel: string;
  rows: string[];
  cols: string[];
  values: number[][];
}

/** Page → worker: the pixels of a drawn digit (28×28, 0..1) for the model of `sketch(...)`. */
export interface SketchInput {
  type: 'sketch-input';
  id: number;
  pixels: number[];
}

/** Worker → page. */
export type WorkerMessage =
  | { type: 'ready'; backend: string; detail: string }
  | { type: 'print'; text: string; level: 'log' | 'warn' | 'error' }
  | { type: 'table'; columns: string[]; rows: string[][] }
  | { type: 'chart'; id: number; spec: ChartSpec }
  | { type: 'chart-points'; id: number; points: Record<string, number>[] }
  | { type: 'progress'; done: number; total: number; label: string }
  | { type: 'graph'; id: number; graph: GraphData }
  | { type: 'graph-update'; id: number; update: GraphUpdate }
  | { type: 'scatter'; id: number; title: string; xy: number[]; labels: number[]; bounds: [number, number, number, number] }
  | { type: 'scatter-boundary'; id: number; n: number; classes: number[]; confidence: number[]; caption: string }
  | { type: 'images'; width: number; height: number; pixels: number[][]; captions: string[] }
  | { type: 'landscape'; id: number; spec: LandscapeSpec }
  | { type: 'landscape-path'; id: number; name: string; points: [number, number][] }
  | { type: 'matrix'; spec: MatrixSpec }
  | { type: 'sketch'; id: number; title: string; classes: string[] }
  | { type: 'sketch-result'; id: number; probs: number[] }
  | { type: 'ask'; question: string; answer: number; rel: number; abs: number; hint: string }
  | { type: 'done'; ms: number }
  | { type: 'error'; name: string; message: string; where: string | null };
