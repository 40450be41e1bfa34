/** The pieces of the example runtime that need no browser: fence parsing, charts, graph layout, formatting. */
import { describe, expect, it } from 'vitest';
import { tensor } from '@bp/tensor';
import '@bp/autograd';
import { parseExampleInfo } from '../.vitepress/example-fence.js';
import { legend, renderLineChart, ticks } from '../.vitepress/theme/runner/line-chart.js';
import { graphData, retainGrads } from '../.vitepress/theme/runner/graph-data.js';
import {
  backwardCaption,
  bandsFor,
  forwardCaption,
  graphSteps,
  layoutGraph,
  updateCaption,
  BOX_W,
} from '../.vitepress/theme/runner/graph-layout.js';
import { fromSlider, makeParam, parseParams, toSlider } from '../.vitepress/theme/runner/params.js';
import { exampleKey } from '../.vitepress/theme/runner/prerendered.js';
import { matmulT } from '@bp/tensor';
import { noGrad } from '@bp/autograd';
import { fmtTensor } from '../.vitepress/theme/runner/format.js';
import { toFunctionBody } from '../.vitepress/theme/runner/transform.js';
import { contourLevels, contourSegments } from '../.vitepress/theme/runner/contours.js';
import { mnistLike } from '../.vitepress/theme/runner/digit-input.js';
import { answerMatches, parseAnswer } from '../.vitepress/theme/runner/answer.js';
import { toProbabilities } from '../.vitepress/theme/runner/scope.js';
import { runnableCode } from '../scripts/api-example-code.js';

describe('example fences', () => {
  it('reads the title and flags, and ignores ordinary code blocks', () => {
    expect(parseExampleInfo('ts example title="A b" gpu')).toEqual({
      lang: 'ts',
      title: 'A b',
      gpu: true,
      expectError: false,
      figure: false,
    });
    expect(parseExampleInfo('ts example title="Moons" figure')?.figure).toBe(true);
    expect(parseExampleInfo('ts example title="gpu error in title" error')).toEqual({
      lang: 'ts',
      title: 'gpu error in title',
      gpu: false,
      expectError: true,
      figure: false,
    });
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
    const svg = renderLineChart(spec, [
      { a: 1, b: 1 },
      { a: 0.1, b: Number.NaN },
      { a: 0.01, b: Infinity },
    ]);
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
      'forward:mul',
      'forward:sigmoid',
      'backward:sigmoid',
      'backward:mul',
      'backward:leaf',
    ]);
    const layout = layoutGraph(g);
    const depth = Object.fromEntries(layout.nodes.map((n) => [n.op ?? n.name ?? 'c', n.col]));
    // The unnamed scalar constant 2 is folded into its consumer's label (`w · 2`), not drawn as a box.
    expect(depth).toEqual({ w: 0, mul: 1, sigmoid: 2 });
    expect(g.nodes.find((n) => n.op === 'mul')!.label).toBe('w · 2');
  });
});

describe('the 2-2-1 graph of the backward-pass page', () => {
  // The same network as concepts/backward-pass.md; expected numbers by hand, in plain float64 JS.
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const xs = [1, 0.5];
  const w1 = [
    [0.15, 0.2],
    [0.25, 0.3],
  ];
  const z1 = w1.map((row) => row[0] * xs[0] + row[1] * xs[1] + 0.35); // x @ W1ᵀ + b1
  const a1 = z1.map(sig);
  const a2 = sig(a1[0] * 0.4 + a1[1] * 0.45 + 0.6);
  const dz2 = 2 * (a2 - 0.01) * a2 * (1 - a2);
  const dz1 = [0.4, 0.45].map((w, j) => dz2 * w * a1[j] * (1 - a1[j]));
  const dW1 = [0, 1].map((j) => xs.map((xi) => dz1[j] * xi)); // Gᵀ @ x: row j is dz1[j] · x

  function build() {
    const named = <T extends { name?: string }>(t: T, name: string) => ((t.name = name), t);
    const x = named(tensor([[1, 0.5]]), 'x');
    const W1 = named(tensor(w1, { requiresGrad: true }), 'W1');
    const b1 = named(tensor([0.35, 0.35], { requiresGrad: true }), 'b1');
    const W2 = named(tensor([[0.4, 0.45]], { requiresGrad: true }), 'W2');
    const b2 = named(tensor([0.6], { requiresGrad: true }), 'b2');
    const forward = () => {
      const h = named(matmulT(x, W1, false, true).add(b1), 'z1').sigmoid();
      return named(
        matmulT(h, W2, false, true)
          .add(b2)
          .sigmoid()
          .sub(tensor([[0.01]]))
          .pow(2)
          .mean(),
        'L',
      );
    };
    const L = forward();
    retainGrads(L);
    L.backward();
    return { L, W1, b1, W2, b2, forward };
  }

  it('labels x @ W1ᵀ by its formula, with the value x W1ᵀ (not x W1), and no two nodes share a label', () => {
    const { L } = build();
    const g = graphData(L, 't');
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    const mm = g.nodes.find((n) => n.label === 'x @ W1ᵀ')!;
    expect(mm.data[0]).toBeCloseTo(0.25, 6);
    expect(mm.data[1]).toBeCloseTo(0.4, 6);
    expect(forwardCaption(mm, byId)).toBe('x @ W1ᵀ = [1, 0.5] @ [[0.15, 0.2], [0.25, 0.3]]ᵀ = [0.25, 0.4]');
    const ops = g.nodes.filter((n) => n.op !== null).map((n) => n.label);
    expect(new Set(ops).size).toBe(ops.length);
  });

  it("multiplies out W1's chain-rule term as Gᵀ @ x and ends at the hand-derived gradient", () => {
    const { L, W1 } = build();
    const g = graphData(L, 't');
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    const w = g.nodes.find((n) => n.label === 'W1')!;
    const cap = backwardCaption(w, g, byId);
    expect(cap).toMatch(/^∂L\/∂W1 = Gᵀ @ x = \[[-\d.e, ]+\]ᵀ @ \[1, 0.5\] = \[\[/);
    const got = Array.from(W1.grad!.dataSync());
    expect(got[0]).toBeCloseTo(dW1[0][0], 6);
    expect(got[1]).toBeCloseTo(dW1[0][1], 6);
    expect(got[2]).toBeCloseTo(dW1[1][0], 6);
    expect(got[3]).toBeCloseTo(dW1[1][1], 6);
  });

  it('ends the walk with each SGD update and a lower loss', () => {
    const { L, W1, b1, W2, b2, forward } = build();
    const g = graphData(L, 't');
    const lr = 0.5;
    noGrad(() => {
      for (const p of [W1, b1, W2, b2]) p.assign(p.sub(p.grad!.mul(lr)));
    });
    const after = noGrad(forward).item();
    expect(after).toBeLessThan(L.item());
    const w = g.nodes.find((n) => n.label === 'b2')!;
    expect(updateCaption(w, lr, [0.6 - lr * dz2])).toBe(
      `SGD step: b2 ← b2 − 0.5 · ∂L/∂b2 = 0.6 − 0.5 · ${Number(dz2.toPrecision(4))} = ${Number((0.6 - lr * dz2).toPrecision(4))}`,
    );
    g.update = { lr, params: [], lossAfter: after };
    expect(graphSteps(g).at(-1)!.phase).toBe('after');
  });

  it('wraps the drawing to the width: 4 depths per band on a laptop column, 2 on a phone', () => {
    expect(bandsFor(860)).toBe(4);
    expect(bandsFor(360)).toBe(2);
    const { L } = build();
    const g = graphData(L, 't');
    expect(layoutGraph(g, 4).width).toBeLessThanOrEqual(860);
    expect(layoutGraph(g, 2).width).toBeLessThanOrEqual(2 * BOX_W + 120);
    expect(layoutGraph(g, 4).height).toBeLessThan(460);
  });
});

describe('sliders and pre-rendered outputs', () => {
  it('finds param() declarations and maps slider positions to values', () => {
    const [lr, depth] = parseParams(
      "const lr = param('learning rate', 0.1, { min: 0.001, max: 1, log: true });\nconst d = param('depth', 4, { min: 1, max: 12, int: true });",
    );
    expect(lr).toEqual({ name: 'learning rate', value: 0.1, min: 0.001, max: 1, log: true, int: false });
    expect(toSlider(lr, 0.1)).toBe(667);
    expect(fromSlider(lr, 667)).toBeCloseTo(0.1, 2);
    expect(fromSlider(depth, toSlider(depth, 7))).toBe(7);
    expect(makeParam({ depth: 20 })('depth', 4, { min: 1, max: 12 })).toBe(12);
    expect(makeParam({})('lr', 0.1)).toBe(0.1);
  });

  it('keys an example by its source', () => {
    expect(exampleKey('a')).toBe(exampleKey('a'));
    expect(exampleKey('a')).not.toBe(exampleKey('b'));
  });
});

describe('formatting and transform', () => {
  it('prints tensors with dtype and shape', () => {
    expect(
      fmtTensor(
        tensor([
          [1, 2.5],
          [3, 4],
        ]),
      ),
    ).toBe('tensor([[1, 2.5], [3, 4]])  float32 [2,2]');
  });

  it('strips types and turns imports into require calls, keeping line numbers', () => {
    const out = toFunctionBody("import { tensor } from '@bp/tensor';\nconst x: number = tensor(1).item();\nthrow new Error(String(x));");
    expect(out).toContain("require('@bp/tensor')");
    expect(out).not.toContain(': number');
    expect(out.split('\n').length).toBe(3);
  });
});

describe('figures: contours, drawn digits, exercises', () => {
  it('contourLevels spaces levels evenly, or by decades on a log scale', () => {
    expect(contourLevels([0, 10], 5, false)).toEqual([2, 4, 6, 8]);
    const log = contourLevels([0.01, 100], 4, true);
    expect(log.map((v) => Number(v.toPrecision(6)))).toEqual([0.1, 1, 10]);
  });

  it('contourSegments finds the crossing of a plane by linear interpolation', () => {
    // v = column index on a 3×3 grid: the level 0.5 crosses every row halfway between columns 0 and 1.
    const v = [0, 1, 2, 0, 1, 2, 0, 1, 2];
    const segs = contourSegments(v, 3, 0.5);
    expect(segs).toHaveLength(2);
    for (const [c1, , c2] of segs) {
      expect(c1).toBeCloseTo(0.5);
      expect(c2).toBeCloseTo(0.5);
    }
    expect(contourSegments(v, 3, 5)).toHaveLength(0);
  });

  it('mnistLike scales the ink into a 20-pixel box and centres its mass at (14, 14)', () => {
    // A 100×100 pad with a filled 50×10 bar (rows 20..69, columns 60..69): a "1".
    const size = 100;
    const ink = new Float32Array(size * size);
    for (let r = 20; r < 70; r++) for (let c = 60; c < 70; c++) ink[r * size + c] = 1;
    const px = mnistLike(ink, size)!;
    let m = 0,
      my = 0,
      mx = 0;
    const rows = new Set<number>();
    px.forEach((v, i) => {
      m += v;
      my += v * (Math.floor(i / 28) + 0.5);
      mx += v * ((i % 28) + 0.5);
      if (v > 0) rows.add(Math.floor(i / 28));
    });
    expect(rows.size).toBe(20); // 50 px tall → 20 px
    expect(m).toBeCloseTo(20 * 4, 5); // 10 px wide → 4 px, all ink
    expect(my / m).toBeCloseTo(14, 0);
    expect(mx / m).toBeCloseTo(14, 0);
    expect(mnistLike(new Float32Array(size * size), size)).toBeNull();
  });

  it('parseAnswer reads decimals, exponents and fractions; answerMatches allows a relative tolerance', () => {
    expect(parseAnswer('0.25')).toBe(0.25);
    expect(parseAnswer(' -1e-3 ')).toBe(-0.001);
    expect(parseAnswer('1/4')).toBe(0.25);
    expect(parseAnswer('−3 / 8')).toBe(-0.375);
    expect(parseAnswer('0,5')).toBe(0.5);
    expect(parseAnswer('abc')).toBeNull();
    expect(parseAnswer('1/0')).toBeNull();
    expect(parseAnswer('')).toBeNull();
    expect(answerMatches(0.197, 0.19661, 5e-3, 1e-4)).toBe(true);
    expect(answerMatches(0.2, 0.19661, 5e-3, 1e-4)).toBe(false);
    expect(answerMatches(0.00005, 0, 5e-3, 1e-4)).toBe(true);
  });

  it('toProbabilities keeps probabilities and turns logits into a softmax', () => {
    expect(toProbabilities([0.25, 0.75])).toEqual([0.25, 0.75]);
    const p = toProbabilities([0, Math.log(3)]);
    expect(p[0]).toBeCloseTo(0.25, 12);
    expect(p[1]).toBeCloseTo(0.75, 12);
  });
});

describe('API reference examples', () => {
  it('runnableCode adds the imports of the bp names used and prints the lines that state a result', () => {
    const code = runnableCode(
      'const dfdx = grad((x: Tensor) => x.pow(2).sum());\ndfdx(tensor([1, 2, 3])).toArray(); // [2, 4, 6]\nopt.step();',
    );
    expect(code.split('\n')).toEqual([
      "import { grad } from '@bp/autograd';",
      "import { Tensor, tensor } from '@bp/tensor';",
      '',
      'const dfdx = grad((x: Tensor) => x.pow(2).sum());',
      'print(dfdx(tensor([1, 2, 3])).toArray()); // [2, 4, 6]',
      'opt.step();',
    ]);
    // Declarations, and code that imports for itself, are left alone.
    expect(runnableCode("import { tensor } from '@bp/tensor';\nconst t = tensor([1]); // one")).toBe(
      "import { tensor } from '@bp/tensor';\nconst t = tensor([1]); // one",
    );
    // An assignment stays as it is; code that touches gradients gets autograd's rules.
    expect(runnableCode('w.grad = null; // cleared')).toBe("import '@bp/autograd';\n\nw.grad = null; // cleared");
    // A remark in words states no result: the line runs as it is (printing it would show `undefined`).
    expect(runnableCode('setDebugChecks(true); // while hunting a bad label')).toBe(
      "import { setDebugChecks } from '@bp/tensor';\n\nsetDebugChecks(true); // while hunting a bad label",
    );
    expect(runnableCode('index(x, 1); // row 1: [4, 5, 6, 7]\ngradFn(w); // null').split('\n').slice(-2)).toEqual([
      'print(index(x, 1)); // row 1: [4, 5, 6, 7]',
      'print(gradFn(w)); // null',
    ]);
  });
});
