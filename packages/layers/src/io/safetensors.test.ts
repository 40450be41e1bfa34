import { readFileSync } from 'node:fs';
import { FormatError, type Tensor, manualSeed, randn, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { fixtureMlp } from '../__fixtures__/mlp.js';
import { refs } from '../__fixtures__/refs.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

/** The file layout of the specification, assembled by hand: u64 LE length, padded JSON, raw bytes. */
function specBytes(header: string, data: number[][]): Uint8Array {
  const json = new TextEncoder().encode(header);
  const padded = Math.ceil(json.length / 8) * 8;
  const body = data.flat();
  const out = new Uint8Array(8 + padded + body.length);
  new DataView(out.buffer).setUint32(0, padded, true); // high 32 bits stay 0
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  out.set(body, 8 + padded);
  return out;
}

const f32 = (...v: number[]) => [...new Uint8Array(Float32Array.from(v).buffer)];
const i32 = (...v: number[]) => [...new Uint8Array(Int32Array.from(v).buffer)];
const i64 = (...v: number[]) => [...new Uint8Array(BigInt64Array.from(v.map(BigInt)).buffer)];

describe('encodeSafetensors', () => {
  it('writes the bytes of the specification for a small state dict', () => {
    const bytes = encodeSafetensors({ '0.weight': tensor([[1, 2]]), '0.bias': tensor([0.5]) });
    const expected = specBytes(
      '{"0.bias":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"0.weight":{"dtype":"F32","shape":[1,2],"data_offsets":[4,12]}}',
      [f32(0.5), f32(1, 2)],
    );
    expect(bytes.length % 8).toBe(expected.length % 8);
    expect(Array.from(bytes)).toEqual(Array.from(expected));
  });

  it('orders by dtype (I64, F32, I32) then bytewise name, metadata first, integer-like names included', () => {
    const bytes = encodeSafetensors(
      {
        b: tensor([3, -4], { dtype: 'int32' }),
        a: tensor([1.5]),
        n: tensor(7, { dtype: 'int32' }),
        '2': tensor([2]),
        '10': tensor([[1], [0]]),
      },
      { metadata: { format: 'pt' }, int64: ['n'] },
    );
    const expected = specBytes(
      '{"__metadata__":{"format":"pt"},' +
        '"n":{"dtype":"I64","shape":[],"data_offsets":[0,8]},' +
        '"10":{"dtype":"F32","shape":[2,1],"data_offsets":[8,16]},' +
        '"2":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},' +
        '"a":{"dtype":"F32","shape":[1],"data_offsets":[20,24]},' +
        '"b":{"dtype":"I32","shape":[2],"data_offsets":[24,32]}}',
      [i64(7), f32(1, 0), f32(2), f32(1.5), i32(3, -4)],
    );
    expect(Array.from(bytes)).toEqual(Array.from(expected));
  });

  it('matches, byte for byte, the file the reference serialisation wrote for PyTorch weights', () => {
    const file = readFileSync(new URL('../__fixtures__/mlp.safetensors', import.meta.url));
    const model = fixtureMlp();
    const bytes = encodeSafetensors(model.stateDict(), { metadata: { format: 'pt' }, int64: ['2.num_batches_tracked'] });
    expect(Buffer.from(bytes).equals(file)).toBe(true);
  });
});

describe('decodeSafetensors', () => {
  it('reads a PyTorch state dict: values, shapes, int64 buffers and metadata', () => {
    const file = new Uint8Array(readFileSync(new URL('../__fixtures__/mlp.safetensors', import.meta.url)));
    const { tensors, metadata } = decodeSafetensors(file);
    expect(metadata).toEqual({ format: 'pt' });
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(refs.mlp.state).sort());
    for (const [name, e] of Object.entries(refs.mlp.state as Record<string, { shape: number[]; values: number[] }>)) {
      expect(tensors[name].shape).toEqual(e.shape);
      expect(Array.from(tensors[name].dataSync())).toEqual(Array.from(Float32Array.from(e.values)));
    }
    expect(tensors['2.num_batches_tracked'].dtype).toBe('int32');
    expect(tensors['2.num_batches_tracked'].item()).toBe(7);
  });

  it('round-trips tensors exactly', () => {
    manualSeed(9);
    const record: Record<string, Tensor> = {
      w: randn([3, 4, 5]),
      s: tensor(2.5),
      ids: tensor([1, -2, 3], { dtype: 'int32' }),
      empty: tensor([]),
    };
    const back = decodeSafetensors(encodeSafetensors(record)).tensors;
    for (const [k, v] of Object.entries(record)) {
      expect(back[k].shape).toEqual(v.shape);
      expect(back[k].dtype).toBe(v.dtype);
      expect(Array.from(back[k].dataSync())).toEqual(Array.from(v.dataSync()));
    }
  });

  it('reads data that does not start on an aligned byte', () => {
    const bytes = encodeSafetensors({ x: tensor([1, 2, 3]) });
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    expect(decodeSafetensors(shifted.subarray(1)).tensors.x.toArray()).toEqual([1, 2, 3]);
  });

  it('reads a Node Buffer that is a view into a larger, shared ArrayBuffer', () => {
    const bytes = encodeSafetensors({ a: tensor([1.5, -2, 3]), b: tensor([4, 5], { dtype: 'int32' }) });
    // Buffer.slice and Buffer.subarray are views; small Buffers (readFileSync, Buffer.from) share one pool.
    const pooled = () => {
      const pool = Buffer.alloc(bytes.length + 13, 0xee);
      pool.set(bytes, 13);
      return pool;
    };
    const views = [pooled().subarray(13), pooled().slice(13), Buffer.from(bytes)];
    for (const view of views) {
      const { tensors } = decodeSafetensors(view);
      expect(tensors.a.toArray()).toEqual([1.5, -2, 3]);
      expect(tensors.b.toArray()).toEqual([4, 5]);
      // The tensors copy the bytes: changing the file buffer afterwards changes nothing.
      view.fill(0);
      expect(tensors.a.toArray()).toEqual([1.5, -2, 3]);
    }
    expect(views[0].byteOffset).toBe(13);
  });
});

describe('decodeSafetensors refuses corrupted files with a FormatError', () => {
  const header = (h: string, dataBytes: number) => specBytes(h, [new Array(dataBytes).fill(0)]);
  const good = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}';

  const cases: [string, Uint8Array, RegExp][] = [
    ['a file shorter than the length field', new Uint8Array(5), /file is 5 bytes, too short for the 8-byte header length at byte 0/],
    [
      'a header length past the end',
      (() => {
        const b = header(good, 12);
        b[0] = 0xff;
        b[1] = 0xff;
        return b;
      })(),
      /the header length in bytes 0\.\.8 runs past the end of the \d+-byte file/,
    ],
    [
      'a header length beyond 2^53',
      (() => {
        const b = header(good, 12);
        b[7] = 0x80;
        return b;
      })(),
      /runs past the end/,
    ],
    ['invalid JSON', header('{"a": [1, 2', 0), /header \(bytes 8\.\.24\) is not valid JSON/],
    [
      'invalid UTF-8',
      (() => {
        const b = header('{"a":1}', 0);
        b[10] = 0xff;
        return b;
      })(),
      /is not valid UTF-8/,
    ],
    ['a JSON array', header('[1,2]', 0), /must be a JSON object of tensors/],
    ['an unknown dtype', header('{"a":{"dtype":"Q8","shape":[2],"data_offsets":[0,2]}}', 2), /tensor 'a': unsupported dtype 'Q8'/],
    [
      'a dtype named like an object property',
      header('{"a":{"dtype":"toString","shape":[1],"data_offsets":[0,4]}}', 4),
      /tensor 'a': unsupported dtype 'toString'/,
    ],
    [
      'a negative dimension',
      header('{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', 8),
      /tensor 'a': shape must be an array of non-negative integers/,
    ],
    [
      'offsets past the data',
      header('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', 8),
      /tensor 'a': data_offsets \[0, 16\] \(file bytes 64\.\.80\) are out of range for the 8-byte data section starting at byte 64/,
    ],
    [
      'a size that does not match the shape',
      header('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', 8),
      /tensor 'a': F32 \[3\] needs 12 bytes but data_offsets \[0, 8\] span 8/,
    ],
    [
      'overlapping tensors',
      header('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8),
      /tensor 'b': data_offsets \[4, 8\] overlap tensor 'a'/,
    ],
    [
      'a gap between tensors',
      header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}', 12),
      /tensor 'b': data_offsets begin at 8, leaving a gap after byte 4/,
    ],
    ['trailing bytes', header(good, 16), /the tensors cover 12 bytes but the data section .* has 16: trailing bytes at file byte/],
    ['reversed offsets', header('{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}', 4), /tensor 'a': data_offsets \[4, 0\]/],
    ['bad metadata', header('{"__metadata__":{"v":1}}', 0), /__metadata__ entry 'v' must be a string/],
    [
      'an int64 value outside int32',
      specBytes('{"n":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}', [i64(2 ** 40)]),
      /tensor 'n': I64 value 1099511627776 at file byte \d+ does not fit in int32/,
    ],
  ];

  it.each(cases)('%s', (_name, bytes, message) => {
    expect(() => decodeSafetensors(bytes, { source: 'model.safetensors' })).toThrow(FormatError);
    expect(() => decodeSafetensors(bytes, { source: 'model.safetensors' })).toThrow(message);
  });

  it('names the file in the message', () => {
    expect(() => decodeSafetensors(new Uint8Array(3), { source: 'weights.safetensors' })).toThrow(/^weights\.safetensors: /);
  });
});
