// The gradients of slices of one tensor are joined when that tensor's gradient is needed: side by
// side along one axis with one concat (zeros in the gaps), else padded and added. Every case
// below is checked against values derived by hand, and against the pad-and-add rule itself.
import { describe, expect, it } from 'vitest';
import { cpuBackend, narrow, setBackend, slice, tensor, tidy, type Backend, type Tensor } from '@bp/tensor';
import { movementGradients } from './gradients/movement.js';
import { registerGradient } from './index.js';

/** The built-in rule of slice (pads the incoming gradient back to the base's shape). */
const builtin = movementGradients.slice!;

/** x [2, 6] = 0 .. 11 as a leaf that wants its gradient. */
function leaf(): Tensor {
  return tensor(
    Array.from({ length: 12 }, (_, i) => i),
    { shape: [2, 6], requiresGrad: true },
  );
}

/** sum over pieces of sum(piece * weight): the gradient of each element is the sum of its pieces' weights. */
function weighted(x: Tensor, pieces: [number, number, number][]): Tensor {
  let loss: Tensor | null = null;
  for (const [start, len, w] of pieces) {
    const term = narrow(x, 1, start, len).mul(w).sum();
    loss = loss ? loss.add(term) : term;
  }
  return loss!;
}

describe('gradients of slices', () => {
  it('chunks that tile an axis join in place of the padded sum', () => {
    const x = leaf();
    weighted(x, [
      [4, 2, 3],
      [0, 2, 1],
      [2, 2, 2],
    ]).backward();
    expect(x.grad!.toArray()).toEqual([
      [1, 1, 2, 2, 3, 3],
      [1, 1, 2, 2, 3, 3],
    ]);
  });

  it('gaps between chunks get zeros, and chunks along the first axis too', () => {
    const x = leaf();
    weighted(x, [
      [1, 1, 5],
      [4, 1, 7],
    ]).backward();
    expect(x.grad!.toArray()).toEqual([
      [0, 5, 0, 0, 7, 0],
      [0, 5, 0, 0, 7, 0],
    ]);
    const y = leaf();
    narrow(y, 0, 1, 1).mul(2).sum().backward();
    expect(y.grad!.toArray()).toEqual([
      [0, 0, 0, 0, 0, 0],
      [2, 2, 2, 2, 2, 2],
    ]);
  });

  it('overlapping slices, boxes cut on two axes and a direct use all add up', () => {
    const x = leaf();
    const loss = weighted(x, [
      [0, 4, 1],
      [2, 4, 10],
    ])
      .add(slice(x, [1, 1], [1, 2]).mul(100).sum())
      .add(x.mul(1000).sum());
    loss.backward();
    expect(x.grad!.toArray()).toEqual([
      [1001, 1001, 1011, 1011, 1010, 1010],
      [1001, 1101, 1111, 1011, 1010, 1010],
    ]);
  });

  it('slices of an intermediate tensor pass the joined gradient on through the chain rule', () => {
    const x = leaf();
    const y = x.mul(x); // dy/dx = 2x
    weighted(y, [
      [0, 3, 1],
      [3, 3, -1],
    ]).backward();
    const want = Array.from({ length: 12 }, (_, i) => 2 * i * (i % 6 < 3 ? 1 : -1));
    expect(Array.from(x.grad!.dataSync())).toEqual(want);
  });

  it('gives the bits of the pad-and-add rule, across passes that accumulate', () => {
    const pieces: [number, number, number][] = [
      [3, 3, 0.1],
      [0, 3, 0.3],
      [1, 4, 0.7],
    ];
    const run = () => {
      const x = tensor(
        Array.from({ length: 12 }, (_, i) => Math.sin(i + 1)),
        { shape: [2, 6], requiresGrad: true },
      );
      const loss = weighted(x.mul(x), pieces.slice(0, 2));
      loss.backward({ retainGraph: true });
      loss.backward();
      weighted(x, pieces).backward();
      return Array.from(x.grad!.dataSync());
    };
    const joined = run();
    // The same rule under another name: the backward pass then pads every slice's gradient.
    registerGradient('slice', (dy, ctx) => builtin(dy, ctx as never));
    try {
      expect(run()).toEqual(joined);
    } finally {
      registerGradient('slice', builtin as never);
    }
  });

  it('a registered rule for slice is still the one used', () => {
    registerGradient('slice', (dy, ctx) => [builtin(dy, ctx as never)[0]!.mul(-1)]);
    try {
      const x = leaf();
      weighted(x, [[0, 3, 2]]).backward();
      expect(Array.from(x.grad!.dataSync()).slice(0, 6)).toEqual([-2, -2, -2, -0, -0, -0]);
    } finally {
      registerGradient('slice', builtin as never);
    }
  });

  it('leaves no storage behind: the pieces, the gaps and the join are all released', async () => {
    const cpu = cpuBackend();
    const alive = new Set<unknown>();
    const counted = <F extends (...a: never[]) => unknown>(f: F) =>
      ((...a: Parameters<F>) => {
        const s = f(...a);
        alive.add(s);
        return s;
      }) as unknown as F;
    const backend: Backend = {
      ...cpu,
      name: 'counting-slices',
      ...Object.fromEntries(
        (['upload', 'fill', 'cast', 'unary', 'binary', 'reduce', 'slice', 'pad', 'concat'] as const).map((k) => [k, counted(cpu[k])]),
      ),
      dispose: (s) => {
        alive.delete(s);
        cpu.dispose?.(s as never);
      },
      fused: undefined,
    };
    await setBackend(backend);
    try {
      const x = leaf();
      const base = alive.size;
      tidy(() =>
        weighted(x, [
          [0, 1, 1],
          [2, 2, 2],
          [5, 1, 3],
        ])
          .add(slice(x, [0, 0], [1, 2]).sum())
          .backward(),
      );
      expect(x.grad!.toArray()).toEqual([
        [2, 1, 2, 2, 0, 3],
        [1, 0, 2, 2, 0, 3],
      ]);
      // The forward values went with tidy; of the backward pass, x.grad alone is left.
      expect(alive.size).toBe(base + 1);
      // Chunks joined by a concat with a gap, plus a direct use, added into x.grad in place.
      tidy(() =>
        weighted(x, [
          [0, 2, 1],
          [3, 3, 2],
        ])
          .add(x.sum())
          .backward(),
      );
      expect(x.grad!.toArray()).toEqual([
        [4, 3, 3, 5, 3, 6],
        [3, 2, 3, 5, 3, 6],
      ]);
      expect(alive.size).toBe(base + 1);
    } finally {
      await setBackend('cpu');
    }
  });
});
