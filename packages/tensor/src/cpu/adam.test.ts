import { describe, expect, it } from 'vitest';
import type { AdamConstants } from '../backend/backend.js';
import { adamUpdate } from './adam.js';
import { ADAM_BLOCK, WASM_ADAM_MIN, adamPlace, setAdamBlock } from './wasm/wasm-adam.js';
import { cpuBackend } from './cpu-backend.js';
import { setBackend, getBackend } from '../backend/registry.js';
import { adamUpdateInPlace } from '../ops/adam-update.js';
import { tensor } from '../ops/creation.js';
import { WasmRuntime, kernelModule } from './wasm/wasm-runtime.js';

/** Values in [-scale, scale) from a small LCG. */
function values(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

const f = Math.fround;

/** The composite update of @bp/optim, one float32-rounded op at a time, for one value. */
function reference(p: number, g: number, m: number, v: number, c: AdamConstants): [number, number, number] {
  // Weight decay: Adam's L2 adds wd * p to the gradient, AdamW's decoupled decay scales p first.
  if (c.weightDecay !== 0 && !c.decoupled) g = f(g + f(p * f(c.weightDecay)));
  if (c.weightDecay !== 0 && c.decoupled) p = f(p * f(1 - c.lr * c.weightDecay));
  const mi = c.first ? f(g * f(1 - c.beta1)) : f(f(m * f(c.beta1)) + f(g * f(1 - c.beta1)));
  const vi = c.first ? f(f(g * g) * f(1 - c.beta2)) : f(f(v * f(c.beta2)) + f(f(g * g) * f(1 - c.beta2)));
  const pi = f(p - f(f(mi / f(f(Math.sqrt(vi)) + f(c.epsScaled))) * f(c.stepSize)));
  return [pi, mi, vi];
}

/** The kernel's cases: first step or later, and weight decay (0, decoupled 0.1, L2 0.01). */
const VARIANTS = [
  [true, 0, false],
  [false, 0, false],
  [false, 0.1, true],
  [true, 0.1, true],
  [false, 0.01, false],
  [true, 0.01, false],
] as const;

describe('adamUpdate (CPU kernel)', () => {
  const module = kernelModule();
  // Large enough for the SIMD kernel, with a ragged tail; the kernel takes two vectors a turn, and
  // the first size leaves it one more (257 vectors), the second none (258).
  for (const n of [WASM_ADAM_MIN + 1, WASM_ADAM_MIN + 7])
    for (const [first, weightDecay, decoupled] of VARIANTS) {
      for (const [simd, block] of [
        [false, 0],
        [true, ADAM_BLOCK],
        [true, 256],
      ] as const) {
        const how = simd ? `SIMD kernel in blocks of ${block}` : 'JavaScript loop';
        const decay = weightDecay === 0 ? 'no weight decay' : `${decoupled ? 'decoupled' : 'L2'} weight decay ${weightDecay}`;
        it(`${n} values, ${how}, ${first ? 'first step' : 'later step'}, ${decay}: matches the float32 composite bit for bit`, () => {
          if (simd && module === null) return; // no WebAssembly SIMD in this engine
          setAdamBlock(block || ADAM_BLOCK);
          const c: AdamConstants = {
            beta1: 0.9,
            beta2: 0.999,
            stepSize: (1e-3 * Math.sqrt(1 - 0.999 ** 3)) / (1 - 0.9 ** 3),
            epsScaled: 1e-8 * Math.sqrt(1 - 0.999 ** 3),
            weightDecay,
            decoupled,
            lr: 1e-3,
            first,
          };
          const p = values(n, 1);
          const g = values(n, 2, 0.1);
          const m = values(n, 3, 0.01);
          const v = values(n, 4, 1e-3).map(Math.abs);
          const want = Array.from(p, (pi, i) => reference(pi, g[i], m[i], v[i], c));
          try {
            adamUpdate(p, g, m, v, null, n, c, simd ? new WasmRuntime(module!) : null);
          } finally {
            setAdamBlock(ADAM_BLOCK);
          }
          expect(Array.from(p)).toEqual(want.map((w) => w[0]));
          expect(Array.from(m)).toEqual(want.map((w) => w[1]));
          expect(Array.from(v)).toEqual(want.map((w) => w[2]));
        });
      }
    }
});

/**
 * `n` values of every kind the kernel's exact path is for, mixed lane by lane: zeros of both signs,
 * subnormals, normals just above the smallest (2^-126 to 2^-80, where a float32 multiply would
 * give a subnormal), values near the kernel's thresholds (2^-80, 2^-40), and ordinary ones
 * around `scale`; all with random signs unless `positive`.
 */
function tinyMix(n: number, seed: number, scale: number, positive = false): Float32Array {
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  let s = seed >>> 0;
  const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  for (let i = 0; i < n; i++) {
    const kind = next() % 7;
    const r = next() / 2 ** 32;
    if (kind === 0) out[i] = 0;
    else if (kind === 1) bits[i] = 1 + (next() % 0x7fffff);
    else if (kind === 2)
      bits[i] = (next() % 4) + 1; // the last few subnormals, where 0.9 m rounds back to m
    else if (kind === 3) out[i] = 2 ** (-126 + 46 * r);
    else if (kind === 4) out[i] = 2 ** (-82 + 4 * r);
    else if (kind === 5) out[i] = 2 ** (-42 + 4 * r);
    else out[i] = scale * (0.5 + r);
    if (!positive && next() % 2 === 1) out[i] = -out[i];
  }
  return out;
}

describe('adamUpdate on subnormal and tiny values (the exact paths of the SIMD kernel)', () => {
  const module = kernelModule();
  const constants = (first: boolean, weightDecay: number, decoupled: boolean): AdamConstants => ({
    beta1: 0.9,
    beta2: 0.999,
    stepSize: 1e-3,
    epsScaled: 1e-8,
    weightDecay,
    decoupled,
    lr: 1e-3,
    first,
  });
  /** Runs the SIMD kernel on the arrays (in place) and expects the composite's bits for p, m and v. */
  const expectCompositeBits = (p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, c: AdamConstants): void => {
    const want = Array.from(p, (pi, i) => reference(pi, g[i], m[i], v[i], c));
    adamUpdate(p, g, m, v, null, p.length, c, new WasmRuntime(module!));
    const bitsOf = (xs: ArrayLike<number>): number[] => Array.from(new Uint32Array(Float32Array.from(xs).buffer));
    expect(bitsOf(p)).toEqual(bitsOf(want.map((w) => w[0])));
    expect(bitsOf(m)).toEqual(bitsOf(want.map((w) => w[1])));
    expect(bitsOf(v)).toEqual(bitsOf(want.map((w) => w[2])));
  };
  const decay = (weightDecay: number, decoupled: boolean): string =>
    `weight decay ${weightDecay}${weightDecay ? (decoupled ? ' (decoupled)' : ' (L2)') : ''}`;

  for (const [first, weightDecay, decoupled] of VARIANTS)
    it.skipIf(module === null)(
      `${first ? 'first step' : 'later step'}, ${decay(weightDecay, decoupled)}: the bits of the float32 composite`,
      () => {
        const n = 4099;
        expectCompositeBits(
          tinyMix(n, 11, 0.05),
          tinyMix(n, 12, 1e-3),
          tinyMix(n, 13, 1e-3),
          tinyMix(n, 14, 1e-6, true),
          constants(first, weightDecay, decoupled),
        );
      },
    );

  for (const [first, weightDecay, decoupled] of VARIANTS.filter(([first]) => !first))
    it.skipIf(module === null)(
      `a tiny first moment with everything else ordinary (the kernel's path for m alone), ${decay(weightDecay, decoupled)}: the bits of the float32 composite`,
      () => {
        const n = 2053;
        // Zero gradients (a dead unit) and ordinary ones, by lane.
        const g = values(n, 22, 1e-3).map((x, i) => (i % 3 === 0 ? 0 : x));
        const m = tinyMix(n, 23, 1e-3).map((x) => (Math.abs(x) >= 2 ** -80 ? x * 2 ** -90 : x));
        expectCompositeBits(values(n, 21), g, m, values(n, 24, 1e-6).map(Math.abs), constants(first, weightDecay, decoupled));
      },
    );

  it.skipIf(module === null)(
    'keeps a moment at its last subnormals where the gradient is zero, as the composite does (0.9 m rounds back to m)',
    () => {
      const n = WASM_ADAM_MIN;
      const m = Float32Array.from({ length: n }, (_, i) => ((i % 4) + 1) * 2 ** -149);
      const before = Array.from(m);
      const p = new Float32Array(n).fill(0.5);
      const v = new Float32Array(n).fill(1e-6);
      const rt = new WasmRuntime(module!);
      for (let step = 0; step < 3; step++) adamUpdate(p, new Float32Array(n), m, v, null, n, constants(false, 0, false), rt);
      expect(Array.from(m)).toEqual(before);
      expect(p.every((x) => x === 0.5)).toBe(true);
    },
  );
});

describe("Adam parameters and moments in the kernels' memory (CPU backend)", () => {
  const module = kernelModule();
  const c = (first: boolean, weightDecay = 0, decoupled = false): AdamConstants => ({
    beta1: 0.9,
    beta2: 0.999,
    stepSize: 1e-2,
    epsScaled: 1e-8,
    weightDecay,
    decoupled,
    lr: 1e-2,
    first,
  });
  const views = (xs: Float32Array[]): boolean[] => xs.map((x) => x.buffer.byteLength > x.byteLength);

  it('leaves small parameters, and any without the SIMD kernels, where they are', () => {
    const big = [values(2000, 1), values(2000, 2), values(2000, 3)];
    adamPlace(null, null, big[0], big[1], big[2], 2000).forEach((x, i) => expect(x).toBe(big[i]));
    const small = [values(WASM_ADAM_MIN - 1, 1), values(WASM_ADAM_MIN - 1, 2), values(WASM_ADAM_MIN - 1, 3)];
    const rt = module === null ? null : new WasmRuntime(module);
    adamPlace(rt, rt, small[0], small[1], small[2], WASM_ADAM_MIN - 1).forEach((x, i) => expect(x).toBe(small[i]));
  });

  it.skipIf(module === null)(
    'moves parameter and moments there on the first step, keeps them there, and gives the bits of the composite (blocks of 256, a ragged end)',
    async () => {
      const before = getBackend();
      await setBackend(cpuBackend({ threads: 1 }));
      setAdamBlock(256);
      try {
        const n = 1031;
        const p = tensor(Array.from(values(n, 5)));
        const m = tensor(new Array<number>(n).fill(0));
        const v = tensor(new Array<number>(n).fill(0));
        const want = { p: Array.from(p.dataSync()), m: new Array<number>(n).fill(0), v: new Array<number>(n).fill(0) };
        const step = (k: number, cs: AdamConstants): void => {
          const g = tensor(Array.from(values(n, 10 + k, 0.1)));
          const gs = g.dataSync();
          for (let i = 0; i < n; i++) [want.p[i], want.m[i], want.v[i]] = reference(want.p[i], gs[i], want.m[i], want.v[i], cs);
          adamUpdateInPlace(p, g, m, v, null, cs);
        };
        const check = (): void => {
          expect(Array.from(p.dataSync())).toEqual(want.p);
          expect(Array.from(m.dataSync())).toEqual(want.m);
          expect(Array.from(v.dataSync())).toEqual(want.v);
        };
        step(0, c(true));
        const placed = [p, m, v].map((t) => t._storage as Float32Array);
        // Views of a larger WebAssembly memory, not arrays of their own.
        expect(views(placed)).toEqual([true, true, true]);
        step(1, c(false));
        step(2, c(false, 0.1, true));
        [p, m, v].forEach((t, i) => expect(t._storage).toBe(placed[i]));
        check();
        // Written from outside (as loading a state dict does): moved there again, from the new values.
        m.assign(tensor(new Array<number>(n).fill(0.5)));
        want.m.fill(0.5);
        expect(m._storage).not.toBe(placed[1]);
        step(3, c(false, 0.01));
        expect(views([p, m, v].map((t) => t._storage as Float32Array))).toEqual([true, true, true]);
        expect(p._storage).not.toBe(placed[0]);
        check();
      } finally {
        setAdamBlock(ADAM_BLOCK);
        await setBackend(before);
      }
    },
  );
});
