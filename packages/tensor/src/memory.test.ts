import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  BpError,
  add,
  clamp,
  cpuBackend,
  cumsum,
  keep,
  layerNorm,
  logSumExp,
  matmul,
  reshape,
  setBackend,
  softmax,
  std,
  tensor,
  tidy,
  type Backend,
  type Tensor,
} from './index.js';

/** A CPU backend that counts live storages through `dispose`. */
function countingBackend(): { backend: Backend; live: () => number } {
  const cpu = cpuBackend();
  const alive = new Set<unknown>();
  const wrapAll = <F extends (...a: never[]) => unknown>(f: F) =>
    ((...a: Parameters<F>) => {
      const s = f(...a);
      if (s !== undefined) alive.add(s);
      return s;
    }) as unknown as F;
  const backend: Backend = {
    ...cpu,
    name: 'counting',
    upload: wrapAll(cpu.upload),
    fill: wrapAll(cpu.fill),
    cast: wrapAll(cpu.cast),
    unary: wrapAll(cpu.unary),
    binary: wrapAll(cpu.binary),
    reduce: wrapAll(cpu.reduce),
    matmul: wrapAll(cpu.matmul),
    dispose: (x) => {
      expect(alive.has(x), 'a storage is disposed once').toBe(true);
      alive.delete(x);
    },
    fused: undefined,
  };
  return { backend, live: () => alive.size };
}

describe('tensor lifetimes', () => {
  it('tidy frees every temporary on the backend and keeps what it returns, nested scopes included', async () => {
    const { backend, live } = countingBackend();
    await setBackend(backend);
    try {
      const x = tensor([1, 2, 3]);
      const base = live();
      const out = tidy(() => {
        const a = x.mul(2).add(1);
        const inner = tidy(() => a.mul(a).sum());
        expect(live()).toBeGreaterThan(base + 1);
        return inner;
      });
      expect(out.item()).toBe(9 + 25 + 49);
      expect(live()).toBe(base + 1); // only the result
      out.dispose();
      out.dispose(); // twice is harmless
      expect(live()).toBe(base);
      // 1,000 steps in a synchronous loop stay flat.
      for (let i = 0; i < 1000; i++) tidy(() => x.mul(i).sum().item());
      expect(live()).toBe(base);
    } finally {
      await setBackend('cpu');
    }
  });

  it('outside tidy, a number operand and a cast made for an op are released by the op itself', async () => {
    const { backend, live } = countingBackend();
    await setBackend(backend);
    try {
      const x = tensor([1, 2, 3]);
      const i = tensor([1, 2, 3], { dtype: 'int32' });
      const base = live();
      const outs = [x.mul(0.5), add(2, x), i.add(0.5), x.div(i), i.mul(3)];
      expect(outs.map((t) => t.dtype)).toEqual(['float32', 'float32', 'float32', 'float32', 'int32']);
      // Only the five results remain: the scalars and the casts of i are gone.
      expect(live()).toBe(base + outs.length);
      expect(Array.from(outs[3].dataSync())).toEqual([1, 1, 1]);
      for (const t of outs) t.dispose();
      expect(live()).toBe(base);
      expect(x.isDisposed || i.isDisposed).toBe(false);
    } finally {
      await setBackend('cpu');
    }
  });

  it('outside tidy and autograd, an op built from others releases its intermediate results itself', async () => {
    // Every storage the backend hands out is counted, whichever method made it.
    const cpu = cpuBackend();
    const alive = new Set<unknown>();
    const count = (v: unknown): void => {
      if (ArrayBuffer.isView(v)) alive.add(v);
      else if (Array.isArray(v)) v.forEach(count);
    };
    const wrapped = Object.fromEntries(
      Object.entries(cpu).map(([k, f]) =>
        typeof f !== 'function' || ['dispose', 'read', 'readAsync', 'adopt', 'info'].includes(k)
          ? [k, f]
          : [
              k,
              (...a: unknown[]) => {
                const r = (f as (...x: unknown[]) => unknown)(...a);
                count(r);
                return r;
              },
            ],
      ),
    );
    await setBackend({ ...(wrapped as unknown as Backend), name: 'counting-all', fused: undefined, dispose: (x) => void alive.delete(x) });
    try {
      const x = tensor([
        [1, -2, 3],
        [0.5, 4, -1],
      ]);
      const base = alive.size;
      const ops: [string, () => Tensor][] = [
        ['mean', () => x.mean(1)],
        ['clamp', () => clamp(x, 0, 1)],
        ['std', () => std(x, 1)],
        ['logSumExp', () => logSumExp(x, 1)],
        ['layerNorm', () => layerNorm(x, [3])],
        ['cumsum', () => cumsum(x, 1)],
      ];
      for (const [name, op] of ops) {
        const out = op();
        expect(alive.size, `${name} leaves its result alone`).toBe(base + 1);
        out.dispose();
        expect(alive.size, `${name} after its result is disposed`).toBe(base);
      }
    } finally {
      await setBackend('cpu');
    }
  });

  it('a tensor from outside, returned by an inner tidy, is not handed to the outer scope', () => {
    const outside = tensor([1, 2]);
    tidy(() => {
      const same = tidy(() => outside);
      expect(same).toBe(outside);
      // Through an op that may hand its input back (clamp without bounds).
      expect(clamp(outside, null, null)).toBe(outside);
    });
    expect(outside.isDisposed).toBe(false);
  });

  it('an alias keeps the storage alive until the last holder is disposed', async () => {
    const { backend, live } = countingBackend();
    await setBackend(backend);
    try {
      const x = tensor([1, 2, 3, 4]);
      const n = live();
      const v = x.reshape([2, 2]);
      const d = x.detach();
      x.dispose();
      expect(live()).toBe(n);
      expect(v.toArray()).toEqual([
        [1, 2],
        [3, 4],
      ]);
      v.dispose();
      expect(Array.from(d.dataSync())).toEqual([1, 2, 3, 4]);
      d.dispose();
      expect(live()).toBe(n - 1);
    } finally {
      await setBackend('cpu');
    }
  });

  it('`using` disposes at the end of the block', () => {
    let t: Tensor;
    {
      using u = tensor([1, 2]);
      t = u;
      expect(t.isDisposed).toBe(false);
    }
    expect(t.isDisposed).toBe(true);
    expect(() => t.dataSync()).toThrow(/disposed/);
  });

  it('refuses an async function, disposes temporaries when fn throws, and keep() exempts', () => {
    expect(() => tidy(async () => tensor([1]))).toThrow(BpError);
    let tmp: Tensor | null = null;
    expect(() =>
      tidy(() => {
        tmp = tensor([1]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(tmp!.isDisposed).toBe(true);
    let k: Tensor | null = null;
    tidy(() => {
      k = keep(tensor([5]));
    });
    expect(k!.item()).toBe(5);
    expect(() => tidy(null as unknown as () => void)).toThrow(/tidy: expected a function/);
  });

  it('assign copies, bumps the version and is seen by every alias', () => {
    const p = tensor([0, 0]);
    const alias = p.detach();
    const q = tensor([3, 4]);
    expect(p.version).toBe(0);
    p.assign(q);
    expect(p.version).toBe(1);
    expect(alias.version).toBe(1);
    expect(Array.from(alias.dataSync())).toEqual([3, 4]);
    q.assign(tensor([9, 9]));
    expect(Array.from(p.dataSync())).toEqual([3, 4]);
  });

  it('console.log in Node prints what String() prints', () => {
    const t = tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(inspect(t)).toBe('Tensor(float32 [2,2] [[1,2],[3,4]])');
    expect(inspect({ t })).toContain('Tensor(float32 [2,2]');
    t.dispose();
    expect(inspect(t)).toBe('Tensor(float32 [2,2] disposed)');
    expect(String(t)).toBe('Tensor(float32 [2,2] disposed)');
  });

  it('a disposed tensor given to an op: the error names that op, as a method or as a function', async () => {
    const t = tensor([1, 2]);
    t.dispose();
    const calls: [string, () => unknown][] = [
      ['toArray', () => t.toArray()],
      ['dataSync', () => t.dataSync()],
      ['item', () => t.item()],
      ['add', () => t.add(1)],
      ['add', () => add(1, t)],
      ['sum', () => t.sum()],
      ['reshape', () => reshape(t, [2, 1])],
      ['softmax', () => softmax(t)],
      ['matmul', () => matmul(t, t)],
      ['transpose', () => t.transpose()],
      ['clone', () => t.clone()],
      ['detach', () => t.detach()],
    ];
    for (const [op, call] of calls) {
      expect(call).toThrow(BpError);
      expect(call).toThrow(new RegExp(`^${op}: this tensor \\(float32 \\[2\\]\\) was disposed; it cannot be used after dispose\\(\\)`));
    }
    await expect(t.data()).rejects.toThrow(/^data: this tensor \(float32 \[2\]\) was disposed/);
  });
});
