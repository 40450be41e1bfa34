import { readFileSync } from 'node:fs';
import '@bp/autograd';
import { ArgumentError, DTypeError, ShapeError, type Tensor, logSoftmax, manualSeed, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../__fixtures__/refs.js';
import { GPT } from '../index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const ref: any = JSON.parse(readFileSync(new URL('../__fixtures__/transformer_refs.json', import.meta.url), 'utf8')).gpt;

function crossEntropy(logits: Tensor, targets: number[]): Tensor {
  const V = logits.shape[logits.rank - 1];
  const lp = logSoftmax(logits.reshape([-1, V]), -1);
  const pick = tensor(Float32Array.from(targets.flatMap((t) => Array.from({ length: V }, (_, j) => (j === t ? 1 : 0)))), {
    shape: [targets.length, V],
  });
  return lp.mul(pick).sum().neg().div(targets.length);
}

describe('GPT', () => {
  it('equals a PyTorch module of the same tree: names, logits, loss and every gradient', () => {
    const m = new GPT({ ...ref.config, dropout: 0 });
    expect(Object.keys(m.stateDict())).toEqual(ref.names);
    m.loadStateDict(
      Object.fromEntries(
        Object.entries(ref.params as Record<string, { values: number[]; shape: number[] }>).map(([k, v]) => [
          k,
          tensor(Float32Array.from(v.values), { shape: v.shape }),
        ]),
      ),
    );
    const idx = tensor(Int32Array.from(ref.idx), { shape: [2, 5] });
    const logits = m.forward(idx);
    expect(logits.shape).toEqual([2, 5, 7]);
    expectClose(logits, ref.logits, 1e-4, 1e-5);
    const loss = crossEntropy(logits, ref.targets);
    expect(loss.item()).toBeCloseTo(ref.loss, 5);
    loss.backward();
    const named = Object.fromEntries(m.namedParameters());
    for (const [k, g] of Object.entries(ref.paramGrads)) expectClose(named[k].grad!, g as number[], 1e-3, 1e-5);
  });

  it('initialises as GPT-2 (N(0, 0.02), scaled residual projections, zero biases, unit LayerNorms)', () => {
    manualSeed(0);
    const m = new GPT({ vocabSize: 50, blockSize: 32, nLayer: 4, nHead: 4, nEmbd: 64 });
    const std = (t: Tensor) => {
      const v = Array.from(t.dataSync());
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      return Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    };
    const sd = m.stateDict();
    expect(std(sd['wte.weight']) / 0.02).toBeGreaterThan(0.95);
    expect(std(sd['wte.weight']) / 0.02).toBeLessThan(1.05);
    expect(std(sd['h.0.attn.in_proj_weight']) / 0.02).toBeCloseTo(1, 1);
    expect(std(sd['h.3.mlp.c_proj.weight']) / (0.02 / Math.sqrt(8))).toBeCloseTo(1, 1);
    expect(Array.from(sd['h.1.mlp.c_fc.bias'].dataSync()).every((x) => x === 0)).toBe(true);
    expect(Array.from(sd['ln_f.weight'].dataSync()).every((x) => x === 1)).toBe(true);
    expect(sd['lm_head.weight']).toBeUndefined();
    const untied = new GPT({ vocabSize: 50, blockSize: 32, nLayer: 1, nHead: 4, nEmbd: 64, tieWeights: false });
    expect(untied.stateDict()['lm_head.weight'].shape).toEqual([50, 64]);
  });

  it('generates reproducibly from manualSeed, stops rows at the stop token, restores training mode', () => {
    const make = () => {
      manualSeed(5);
      return new GPT({ vocabSize: 6, blockSize: 4, nLayer: 1, nHead: 2, nEmbd: 8 });
    };
    const a = make();
    manualSeed(9);
    const r1 = a.generate(tensor([[0], [1]], { dtype: 'int32' }), 10, { temperature: 0.9, topK: 3 });
    const b = make();
    manualSeed(9);
    const r2 = b.generate(tensor([[0], [1]], { dtype: 'int32' }), 10, { temperature: 0.9, topK: 3 });
    expect(r1).toEqual(r2);
    expect(r1.map((r) => r.length)).toEqual([11, 11]);
    expect(a.training).toBe(true);
    const stopped = a.generate(tensor([[0], [1], [2]], { dtype: 'int32' }), 30, { stopToken: 3 });
    for (const r of stopped) {
      const at = r.indexOf(3, 1);
      if (at >= 0) expect(r.length).toBe(at + 1);
      else expect(r.length).toBe(31);
    }
  });

  it('rejects bad configs and inputs', () => {
    expect(() => new GPT({ vocabSize: 5, blockSize: 4, nLayer: 1, nHead: 3, nEmbd: 8 })).toThrow(/nEmbd 8 must be divisible by nHead 3/);
    expect(() => new GPT({ vocabSize: 0, blockSize: 4, nLayer: 1, nHead: 2, nEmbd: 8 })).toThrow(ArgumentError);
    const m = new GPT({ vocabSize: 5, blockSize: 4, nLayer: 1, nHead: 2, nEmbd: 8 });
    expect(() => m.forward(tensor([[0, 1, 2, 3, 4]], { dtype: 'int32' }))).toThrow(/length 5 is longer than blockSize 4/);
    expect(() => m.forward(tensor([[0, 1]]))).toThrow(DTypeError);
    expect(() => m.forward(tensor([0, 1], { dtype: 'int32' }))).toThrow(ShapeError);
    expect(() => m.generate(tensor([[0]], { dtype: 'int32' }), 3, { temperature: 0 })).toThrow(/temperature must be a finite number > 0/);
    expect(() => m.generate(tensor(new Int32Array(0), { shape: [1, 0] }), 3)).toThrow(/idx \[1,0\] has no tokens/);
    expect(() => m.generate(tensor([[0]], { dtype: 'int32' }), 3, { stopToken: 5 })).toThrow(/stopToken must be a token id from 0 to 4/);
    expect(() => m.generate(tensor([[0]], { dtype: 'int32' }), 3, { stopToken: 2.5 })).toThrow(/stopToken must be a token id/);
  });

  it('generate treats null options as the defaults and refuses other non-objects and unknown names', () => {
    manualSeed(4);
    const m = new GPT({ vocabSize: 5, blockSize: 4, nLayer: 1, nHead: 2, nEmbd: 8 });
    const idx = tensor([[0]], { dtype: 'int32' });
    manualSeed(5);
    const a = m.generate(idx, 2, null);
    manualSeed(5);
    expect(m.generate(idx, 2)).toEqual(a);
    expect(a[0]).toHaveLength(3);
    expect(() => m.generate(idx, 2, 3 as unknown as object)).toThrow(/GPT.generate: opts must be an options object, got number 3/);
    expect(() => m.generate(idx, 2, { topk: 2 } as object)).toThrow(/GPT.generate: unknown option "topk" \(did you mean 'topK'\?\)/);
  });

  it('samples the most likely token at a tiny temperature (it overflowed to the last token), and refuses NaN logits', () => {
    manualSeed(3);
    const m = new GPT({ vocabSize: 7, blockSize: 4, nLayer: 1, nHead: 2, nEmbd: 8 });
    const prompt = tensor([[1, 2]], { dtype: 'int32' });
    const greedy = m.generate(prompt, 6, { topK: 1 });
    for (const temperature of [1e-6, 1e-30, 1e-45, 1e-300]) expect(m.generate(prompt, 6, { temperature })).toEqual(greedy);
    // A diverged model: NaN weights give NaN probabilities, which must not quietly pick the last token.
    m.ln_f.weight!.assign(tensor(new Float32Array(8).fill(Number.NaN)));
    expect(() => m.generate(prompt, 2)).toThrow(/next-token probabilities of row 0 are not finite/);
  });
});
