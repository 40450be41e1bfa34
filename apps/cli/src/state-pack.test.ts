import { tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { packState, unpackState, type Json } from './state-pack.js';

describe('state packing', () => {
  it('moves tensors out by path and restores the same structure', () => {
    const m = tensor([1, 2, 3]);
    const state = {
      state: { '0': { step: 3, exp_avg: m } },
      paramGroups: [{ lr: 1e-3, betas: [0.9, 0.999], amsgrad: false, params: [0] }],
    };
    const tensors = {};
    const json = packState(state, 'optimizer', tensors);
    expect(Object.keys(tensors)).toEqual(['optimizer.state.0.exp_avg']);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    const back = unpackState(JSON.parse(JSON.stringify(json)), tensors) as typeof state;
    expect(back.state['0'].exp_avg).toBe(m);
    expect(back.paramGroups).toEqual(state.paramGroups);
    expect(back.state['0'].step).toBe(3);
  });

  it('refuses state nested past MAX_STATE_DEPTH with a FormatError, not a stack overflow', () => {
    const deep = JSON.parse(`${'['.repeat(200000)}1${']'.repeat(200000)}`) as Json;
    expect(() => unpackState(deep, {})).toThrow(/^checkpoint: its state nests more than 64 levels deep$/);
    const ok = JSON.parse(`${'['.repeat(60)}1${']'.repeat(60)}`) as Json;
    expect(() => unpackState(ok, {})).not.toThrow();
  });

  it('keeps doubles exact and spells out non-finite numbers', () => {
    const v = { a: 0.1 + 0.2, b: Infinity, c: NaN, d: -Infinity };
    const back = unpackState(JSON.parse(JSON.stringify(packState(v, 'x', {}))), {}) as typeof v;
    expect(back.a).toBe(0.1 + 0.2);
    expect(back.b).toBe(Infinity);
    expect(back.c).toBeNaN();
    expect(back.d).toBe(-Infinity);
  });

  it('names a tensor reference the file lacks', () => {
    expect(() => unpackState({ $tensor: 'optimizer.state.0.m' }, {})).toThrow(/checkpoint: refers to tensor 'optimizer.state.0.m'/);
  });

  it("looks tensors up by own key only: 'constructor' and '__proto__' are not in an empty file", () => {
    for (const name of ['constructor', 'toString', '__proto__']) {
      expect(() => unpackState({ $tensor: name }, {})).toThrow(`checkpoint: refers to tensor '${name}', which the file does not contain`);
    }
    const back = unpackState(JSON.parse('{"__proto__": {"lr": 1}}'), {}) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.value).toEqual({ lr: 1 });
  });
});
