import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { explainData, explainGraph, explainText } from './explain.js';

const c = pc.createColors(false);
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** The same step worked out by hand in double precision, as a reference for bp's float32 numbers. */
function reference(lr: number) {
  const x = [1, 1];
  const y = 0;
  const w1 = [
    [0.15, 0.2],
    [0.25, 0.3],
  ];
  const b1 = [0.35, 0.35];
  const w2 = [0.4, 0.45];
  const b2 = 0.6;
  const z1 = w1.map((row, i) => row[0] * x[0] + row[1] * x[1] + b1[i]);
  const h = z1.map(sigmoid);
  const z2 = w2[0] * h[0] + w2[1] * h[1] + b2;
  const a = sigmoid(z2);
  const loss = (a - y) ** 2;
  const dLdz2 = 2 * (a - y) * a * (1 - a);
  const gW2 = h.map((hj) => dLdz2 * hj);
  const gW1 = w1.map((row, i) => row.map((_, j) => dLdz2 * w2[i] * h[i] * (1 - h[i]) * x[j]));
  return { z1, h, z2, a, loss, dLdz2, gW2, gW1, newW2: w2.map((w, j) => w - lr * gW2[j]) };
}

function numbersAfter(text: string, label: string): number[] {
  const line = text.split('\n').find((l) => l.trimStart().startsWith(label));
  if (!line) throw new Error(`no line starting with ${label}`);
  return [...line.slice(line.indexOf(label) + label.length).matchAll(/-?\d+(\.\d+)?(e-?\d+)?/g)].map((m) => Number(m[0]));
}

describe('bp explain', () => {
  const text = explainText({ lr: 0.5 }, c);
  const ref = reference(0.5);

  it('works the MSE example: (0.8 - 1)^2 = 0.04 and dL/da = -0.4', () => {
    expect(text).toContain('L = (a - y)² = (0.8 - 1)² = (-0.2)² = 0.04');
    expect(text).toMatch(/dL\/da = 2\(a - y\) = -0\.4 {2}autograd \.grad -0\.4 ✓/);
  });

  it('prints the forward pass the hand computation gives', () => {
    expect(numbersAfter(text, 'h[0]  = σ(z1[0])').at(-1)).toBeCloseTo(ref.h[0], 5);
    expect(numbersAfter(text, 'a     = σ(z2)').at(-1)).toBeCloseTo(ref.a, 5);
    expect(numbersAfter(text, 'L     = (a - y)²').at(-1)).toBeCloseTo(ref.loss, 5);
  });

  it('multiplies the three chain-rule factors and matches autograd for every weight', () => {
    const g00 = numbersAfter(text, 'dL/dW2[0,0] =');
    // dL/da · da/dz2 · h0 = product, then autograd's value.
    expect(g00[0] * g00[1] * g00[2]).toBeCloseTo(g00[3], 5);
    expect(g00[3]).toBeCloseTo(ref.gW2[0], 5);
    expect(g00[4]).toBeCloseTo(ref.gW2[0], 5);
    const g11 = numbersAfter(text, 'dL/dW1[1,1] =');
    expect(g11.at(-1)).toBeCloseTo(ref.gW1[1][1], 6);
    expect(text).toContain('13 of 13 hand-built gradients agree with autograd');
    expect(text).not.toContain('✗');
  });

  it('applies w - lr * grad and the loss goes down', () => {
    const upd = numbersAfter(text, 'W2[0,1]  =');
    expect(upd.at(-1)).toBeCloseTo(ref.newW2[1], 5);
    const [before, after] = numbersAfter(text, 'loss L:');
    expect(before).toBeCloseTo(ref.loss, 5);
    expect(after).toBeLessThan(before);
  });

  it('prints the recorded graph as Mermaid and DOT with values and gradients', () => {
    const mermaid = explainGraph('mermaid');
    expect(mermaid.startsWith('flowchart LR\n')).toBe(true);
    expect(mermaid).toMatch(/\["W1 \[2,2\]<br\/>value \[\[0\.15, 0\.2\], \[0\.25, 0\.3\]\]<br\/>grad /);
    for (const op of ['matmul', 'transpose', 'add', 'sigmoid', 'sub', 'square', 'sum', 'div']) expect(mermaid).toContain(`(["${op}"])`);
    const dot = explainGraph('dot');
    expect(dot.startsWith('digraph bp {')).toBe(true);
    expect(dot.trimEnd().endsWith('}')).toBe(true);
    expect(dot).toMatch(/label="L \[\]\\nvalue 0\.587/);
    expect((dot.match(/ -> /g) ?? []).length).toBeGreaterThan(10);
  });

  it('gives the same step as data for --json: forward values, both gradients, the update', () => {
    const data = explainData(0.5) as {
      forward: { h: number[][]; a: number[][]; loss: number };
      gradients: Record<string, number[][] | number[]>;
      chainRule: Record<string, number[][] | number[]>;
      agree: boolean;
      updated: Record<string, number[][] | number[]>;
      lossAfter: number;
    };
    expect(data.forward.h[0][1]).toBeCloseTo(ref.h[1], 6);
    expect(data.forward.a[0][0]).toBeCloseTo(ref.a, 6);
    expect(data.forward.loss).toBeCloseTo(ref.loss, 6);
    for (const g of [data.gradients, data.chainRule]) {
      const gW1 = g.W1 as number[][];
      const gW2 = g.W2 as number[][];
      for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) expect(gW1[i][j]).toBeCloseTo(ref.gW1[i][j], 6);
      expect(gW2[0][0]).toBeCloseTo(ref.gW2[0], 6);
      expect(gW2[0][1]).toBeCloseTo(ref.gW2[1], 6);
      expect((g.b2 as number[])[0]).toBeCloseTo(ref.dLdz2, 6);
    }
    expect(data.agree).toBe(true);
    expect((data.updated.W2 as number[][])[0][1]).toBeCloseTo(ref.newW2[1], 6);
    expect(data.lossAfter).toBeLessThan(data.forward.loss);
  });
});
