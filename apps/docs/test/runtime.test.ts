/** The pieces of the example runtime that need no browser: fence parsing, charts, graph layout, formatting. */
import { describe, expect, it } from 'vitest';
import { tensor } from '@bp/tensor';
import '@bp/autograd';
import { parseExampleInfo } from '../.vitepress/example-fence.js';
import { legend, renderLineChart, ticks } from '../.vitepress/theme/runner/line-chart.js';
import { graphData, retainGrads } from '../.vitepress/theme/runner/graph-data.js';
import { graphSteps, layoutGraph } from '../.vitepress/theme/runner/graph-layout.js';
import { fmtTensor } from '../.vitepress/theme/runner/format.js';
import { toFunctionBody } from '../.vitepress/theme/runner/transform.js';

describe('example fences', () => {
  it('reads the title and flags, and ignores ordinary code blocks', () => {
    expect(parseExampleInfo('ts example title="A b" gpu')).toEqual({ lang: 'ts', title: 'A b', gpu: true, expectError: false });
    expect(parseExampleInfo('ts example title="gpu error in title" error')).toEqual({ lang: 'ts', title: 'gpu error in title', gpu: false, expectError: true });
    expect(parseExampleInfo('ts')).toBeNull();
    expect(parseExampleInfo('ts title="example"')).toBeNull();
  });
});

describe('line chart', () => {
  it('picks round ticks covering the range', () => {
    expect(ticks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(ticks(0, 37)).toEqual([0, 10, 20, 30]);
  });

  it('draws each finite series and says which ones diverged', () => {
    const spec = { series: ['a', 'b'], logY: true };
    const svg = renderLineChart(spec, [{ a: 1, b: 1 }, { a: 0.1, b: Number.NaN }, { a: 0.01, b: Infinity }]);
    expect(svg.match(/<path /g)?.length).toBe(2);
    expect(legend(spec, [{ a: 1, b: Infinity }])[1].note).toMatch(/diverged/);
    expect(legend(spec, [{ a: 0.5, b: 2 }])[0].note).toBe('last 0.5');
  });
});

describe('graph', () => {
  it('records every tensor of a tiny graph with values and kept gradients', () => {
    const w = tensor(3, { requiresGrad: true });
    w.name = 'w';
    const y = w.mul(2).sigmoid();
    retainGrads(y);
    y.backward();
    const g = graphData(y, 't');
    expect(g.nodes.map((n) => n.op)).toEqual([null, null, 'mul', 'sigmoid']);
    const s = 1 / (1 + Math.exp(-6));
    expect(Number(g.nodes[0].grad)).toBeCloseTo(2 * s * (1 - s), 4);
    expect(g.nodes[1].grad).toBeNull(); // the constant 2
    // two forward steps, then the three tensors that carry a gradient, output first
    expect(graphSteps(g).map((st) => `${st.phase}:${g.nodes.find((n) => n.id === st.id)!.op ?? 'leaf'}`)).toEqual([
      'forward:mul', 'forward:sigmoid', 'backward:sigmoid', 'backward:mul', 'backward:leaf',
    ]);
    const layout = layoutGraph(g);
    const depth = Object.fromEntries(layout.nodes.map((n) => [n.op ?? n.name ?? 'c', n.col]));
    expect(depth).toEqual({ w: 0, c: 0, mul: 1, sigmoid: 2 });
  });
});

describe('formatting and transform', () => {
  it('prints tensors with dtype and shape', () => {
    expect(fmtTensor(tensor([[1, 2.5], [3, 4]]))).toBe('tensor([[1, 2.5], [3, 4]])  float32 [2,2]');
  });

  it('strips types and turns imports into require calls, keeping line numbers', () => {
    const out = toFunctionBody("import { tensor } from '@bp/tensor';\nconst x: number = tensor(1).item();\nthrow new Error(String(x));");
    expect(out).toContain("require('@bp/tensor')");
    expect(out).not.toContain(': number');
    expect(out.split('\n').length).toBe(3);
  });
});
