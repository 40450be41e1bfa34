import { ArgumentError, ShapeError, Tensor, arange, manualSeed, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { DataLoader, type Dataset } from './data-loader.js';

/** 10 examples: x[i] = [i, 10 + i], y[i] = i. */
function pair(n = 10): { x: Tensor; y: Tensor } {
  const xs = Array.from({ length: n }, (_, i) => [i, 10 + i]);
  return { x: tensor(xs), y: arange(n) };
}

function labelsOf(batches: Iterable<{ y: Tensor }>): number[][] {
  return Array.from(batches, (b) => Array.from(b.y.dataSync()));
}

describe('DataLoader', () => {
  it('batches in order without shuffle, keeping the last partial batch', () => {
    const loader = new DataLoader(pair(), { batchSize: 4 });
    expect(loader.length).toBe(3);
    expect(loader.numExamples).toBe(10);
    const batches = Array.from(loader);
    expect(batches.map((b) => b.x.shape)).toEqual([
      [4, 2],
      [4, 2],
      [2, 2],
    ]);
    expect(labelsOf(batches)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(batches[2].x.toArray()).toEqual([
      [8, 18],
      [9, 19],
    ]);
  });

  it('drops the last partial batch with dropLast', () => {
    const loader = new DataLoader(pair(), { batchSize: 4, dropLast: true });
    expect(loader.length).toBe(2);
    expect(labelsOf(loader)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    expect(new DataLoader(pair(8), { batchSize: 4, dropLast: true }).length).toBe(2);
  });

  it('defaults to batches of one, as PyTorch', () => {
    expect(new DataLoader(pair(3)).length).toBe(3);
  });

  it('shuffles into a permutation that keeps x and y together', () => {
    manualSeed(0);
    const loader = new DataLoader(pair(), { batchSize: 3, shuffle: true });
    const seen: number[] = [];
    for (const { x, y } of loader) {
      const xv = x.toArray() as number[][];
      Array.from(y.dataSync()).forEach((label, i) => {
        expect(xv[i]).toEqual([label, 10 + label]);
        seen.push(label);
      });
    }
    expect(seen).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen.slice().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('draws a new order every epoch, reproducibly under manualSeed', () => {
    const run = () => {
      manualSeed(42);
      const loader = new DataLoader(pair(), { batchSize: 10, shuffle: true });
      return [labelsOf(loader)[0], labelsOf(loader)[0]];
    };
    const [e1, e2] = run();
    const [f1, f2] = run();
    expect(e1).toEqual(f1);
    expect(e2).toEqual(f2);
    expect(e1).not.toEqual(e2);
  });

  it('is async-iterable with the same batches', async () => {
    manualSeed(9);
    const loader = new DataLoader(pair(), { batchSize: 4, shuffle: true });
    const got: number[][] = [];
    for await (const b of loader) got.push(Array.from(b.y.dataSync()));
    manualSeed(9);
    expect(got).toEqual(labelsOf(loader));
  });

  it('batches a map-style Dataset by stacking examples', () => {
    const ds: Dataset = { length: 5, get: (i) => ({ x: tensor([i, i * i]), y: i % 2 }) };
    const batches = Array.from(new DataLoader(ds, { batchSize: 2 }));
    expect(batches.map((b) => b.x.shape)).toEqual([
      [2, 2],
      [2, 2],
      [1, 2],
    ]);
    expect(batches[1].x.toArray()).toEqual([
      [2, 4],
      [3, 9],
    ]);
    expect(batches[1].y.dtype).toBe('int32');
    expect(batches[1].y.toArray()).toEqual([0, 1]);
    const floats: Dataset = { length: 2, get: (i) => ({ x: tensor([i]), y: tensor([i / 2]) }) };
    expect(Array.from(new DataLoader(floats, { batchSize: 2 }))[0].y.toArray()).toEqual([[0], [0.5]]);
  });

  it('rejects mismatched tensors, bad datasets and bad batch sizes', () => {
    expect(() => new DataLoader({ x: tensor([[1], [2]]), y: tensor([1, 2, 3]) })).toThrow(ShapeError);
    expect(() => new DataLoader({ x: tensor([[1], [2]]), y: tensor([1, 2, 3]) })).toThrow(
      'DataLoader: x [2,1] and y [3] must share their first (example) axis',
    );
    expect(() => new DataLoader({} as Dataset)).toThrow(ArgumentError);
    expect(() => new DataLoader(pair(), { batchSize: 0 })).toThrow('DataLoader: batchSize must be a positive integer, got 0');
    const bad = { length: 1, get: () => ({ x: [1, 2] }) } as unknown as Dataset;
    expect(() => Array.from(new DataLoader(bad))).toThrow('DataLoader: dataset.get(0) must return { x: Tensor, y: Tensor | number }');
  });
});

describe('hostile input', () => {
  const get = (i: number) => ({ x: tensor([i]), y: i });

  it('refuses a dataset length that is not an integer from 0 to 2^31 - 1', () => {
    expect(() => new DataLoader({ length: 1e12, get }, { shuffle: true })).toThrow(ArgumentError);
    expect(() => new DataLoader({ length: 1e12, get }, { shuffle: true })).toThrow(
      /DataLoader: dataset.length must be an integer from 0 to 2147483647, got 1000000000000/,
    );
    expect(() => new DataLoader({ length: -5, get })).toThrow(/dataset.length must be an integer from 0 to 2147483647, got -5/);
    expect(() => new DataLoader({ length: 2.5, get })).toThrow(/got 2.5/);
    expect([...new DataLoader({ length: 0, get })]).toEqual([]);
    // A length that changes after construction is checked again on iteration.
    const growing = { length: 2, get };
    const loader = new DataLoader(growing);
    growing.length = -1;
    expect(() => [...loader]).toThrow(/dataset.length must be an integer/);
  });

  it('treats null options as the defaults, and refuses non-boolean flags and unknown option names', () => {
    const ds = pair(3);
    const loader = new DataLoader(ds, null);
    expect([loader.batchSize, loader.shuffle, loader.dropLast]).toEqual([1, false, false]);
    expect(() => new DataLoader(ds, 'big' as never)).toThrow(/DataLoader: options must be an object, got string big/);
    expect(() => new DataLoader(ds, { shuffle: 'no' as never })).toThrow(/DataLoader: shuffle must be true or false, got "no"/);
    expect(() => new DataLoader(ds, { dropLast: 'false' as never })).toThrow(/DataLoader: dropLast must be true or false, got "false"/);
    expect(() => new DataLoader(ds, { batch_size: 4 } as never)).toThrow(
      /DataLoader: unknown option "batch_size" \(did you mean 'batchSize'\?\)/,
    );
  });
});

describe('DataLoader releases what it makes for a batch', () => {
  it('the shuffled order of each batch is disposed once its rows are gathered, not left to the garbage collector', async () => {
    const { vi } = await import('vitest');
    manualSeed(3);
    const x = arange(0, 20).reshape([10, 2]);
    const y = arange(0, 10);
    const spy = vi.spyOn(Tensor.prototype, 'dispose');
    try {
      const loader = new DataLoader({ x, y }, { batchSize: 4, shuffle: true });
      const batches = [...loader];
      expect(batches.map((b) => b.x.shape[0])).toEqual([4, 4, 2]);
      // One int32 order vector of the batch's length per batch.
      const orders = (spy.mock.contexts as Tensor[]).filter((t) => t.dtype === 'int32' && t.rank === 1);
      expect(orders.map((t) => t.shape[0])).toEqual([4, 4, 2]);
      expect(batches.every((b) => !b.x.isDisposed && !b.y.isDisposed)).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });
});
