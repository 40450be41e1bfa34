import '@bp/autograd';
import { ArgumentError, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { BatchNorm1d } from './layers/batch-norm1d.js';
import { Sequential } from './sequential.js';
import { toMemory } from './io/memory.js';

// import torch
// bn = torch.nn.BatchNorm1d(2); s = torch.nn.Sequential(bn, bn)
// [k for k, _ in s.named_modules()]   # ['', '0']
// [k for k, _ in s.named_buffers()]   # ['0.running_mean', '0.running_var', '0.num_batches_tracked']
// [k for k, _ in s.named_parameters()]  # ['0.weight', '0.bias']
// list(s.state_dict())  # ['0.weight', '0.bias', '0.running_mean', '0.running_var', '0.num_batches_tracked',
//                       #  '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked']
// bn.train('no')  # ValueError: training mode is expected to be boolean
describe('a module registered twice, as nn.Module', () => {
  const names = ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'];

  it('is listed once by namedModules and namedBuffers, under its first name', () => {
    const bn = new BatchNorm1d(2);
    const s = new Sequential([bn, bn]);
    expect(s.namedModules().map(([k]) => k)).toEqual(['', '0']);
    expect(s.namedBuffers().map(([k]) => k)).toEqual(['0.running_mean', '0.running_var', '0.num_batches_tracked']);
    expect(s.buffers()).toHaveLength(3);
    expect(s.namedParameters().map(([k]) => k)).toEqual(['0.weight', '0.bias']);
    expect(s.namedModules('', false).map(([k]) => k)).toEqual(['', '0', '1']);
  });

  it('appears under every name in stateDict, and loadStateDict takes those keys', () => {
    const bn = new BatchNorm1d(2);
    const s = new Sequential([bn, bn]);
    const sd = s.stateDict();
    expect(Object.keys(sd)).toEqual([...names.map((n) => `0.${n}`), ...names.map((n) => `1.${n}`)]);
    const next = { ...sd, '1.weight': tensor([3, 4]) };
    expect(s.loadStateDict(next)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(Array.from(bn.weight!.dataSync())).toEqual([3, 4]);
  });

  it('train() and eval() reach it, and train() refuses a mode that is not a boolean', () => {
    const bn = new BatchNorm1d(2);
    const s = new Sequential([bn, bn]);
    s.eval();
    expect(bn.training).toBe(false);
    s.train();
    expect(bn.training).toBe(true);
    expect(() => bn.train('no' as never)).toThrow(ArgumentError);
    expect(() => bn.train('no' as never)).toThrow(/^train: mode must be true or false, got "no"/);
    expect(bn.training).toBe(true);
  });

  it('is saved under every name, num_batches_tracked as int64 under each, as torch.save of its state_dict', () => {
    const bn = new BatchNorm1d(2);
    const { weights } = toMemory(new Sequential([bn, bn]));
    const headerLength = Number(new DataView(weights.buffer, weights.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(weights.subarray(8, 8 + headerLength))) as Record<string, { dtype: string }>;
    expect(header['0.num_batches_tracked'].dtype).toBe('I64');
    expect(header['1.num_batches_tracked'].dtype).toBe('I64');
    expect(header['1.running_var'].dtype).toBe('F32');
  });
});
