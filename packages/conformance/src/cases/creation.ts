import {
  arange,
  eye,
  full,
  linspace,
  manualSeed,
  ones,
  onesLike,
  rand,
  randint,
  randn,
  scalar,
  tensor,
  uniform,
  zeros,
  zerosLike,
  NotAvailableError,
} from '@bp/tensor';
import { check, expectClose, expectExact, expectMeta, expectThrows, readsSync } from '../assert.js';
import { group, type CaseBuilder } from '../context.js';

const c = group('creation');

function stats(v: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) {
    s += v[i];
    min = Math.min(min, v[i]);
    max = Math.max(max, v[i]);
  }
  const mean = s / v.length;
  let q = 0;
  for (let i = 0; i < v.length; i++) q += (v[i] - mean) ** 2;
  return { mean, std: Math.sqrt(q / v.length), min, max };
}

/** Creation functions: values, shapes, dtypes and seeded randomness. */
export const creationCases: CaseBuilder = ({ tol }) => [
  c('tensor and scalar from nested arrays, numbers and typed arrays', async () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expectMeta(t, [2, 3], 'float32');
    expectExact(
      t,
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      'float32',
    );
    const nested = await t.array();
    check(JSON.stringify(nested) === '[[1,2,3],[4,5,6]]', `array() gave ${JSON.stringify(nested)}`);
    if (readsSync()) check(JSON.stringify(t.toArray()) === '[[1,2,3],[4,5,6]]', `toArray gave ${JSON.stringify(t.toArray())}`);
    const s = tensor(2.5);
    expectMeta(s, [], 'float32');
    check((await s.data())[0] === 2.5 && (await s.array()) === 2.5, 'a 0-d tensor reads back as a number');
    const typed = tensor(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [3, 2] });
    expectExact(
      typed,
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      'float32',
    );
    const ints = tensor(new Int32Array([7, -8]));
    expectExact(ints, [7, -8], 'int32');
    expectExact(tensor([1.9, -1.9], { dtype: 'int32' }), [1, -1], 'int32', 'int32 from floats truncates');
    const empty = tensor([]);
    expectMeta(empty, [0], 'float32');
    expectMeta(scalar(3), [], 'float32');
  }),
  c('tensor copies its data and reads back through data()', async () => {
    const src = new Float32Array([1, 2, 3]);
    const t = tensor(src);
    src[0] = 100;
    expectExact(t, [1, 2, 3], 'float32', 'values are copied at creation');
    if (readsSync()) {
      const read = t.dataSync();
      read[1] = 100;
      expectExact(t, [1, 2, 3], 'float32', 'dataSync returns a copy');
    } else {
      // A backend that reads only asynchronously refuses dataSync and says what to use.
      expectThrows(() => t.dataSync(), NotAvailableError, ['await t.data()']);
    }
    const d = await t.data();
    check(d instanceof Float32Array && d.length === 3 && d[2] === 3, `data() gave ${String(d)}`);
  }),
  c('tensor from booleans: 1 and 0, int32 when all are booleans (a mask, as comparisons give)', () => {
    expectExact(
      tensor([
        [true, false],
        [false, true],
      ]),
      [
        [1, 0],
        [0, 1],
      ],
      'int32',
      'all booleans',
    );
    expectExact(tensor(true), 1, 'int32', 'one boolean');
    expectExact(tensor([true, 2.5]), [1, 2.5], 'float32', 'booleans among numbers');
    expectExact(tensor([false, true], { dtype: 'float32' }), [0, 1], 'float32', 'booleans as float32');
  }),
  c('tensor with copy: false takes a typed array of its dtype as it is; other data is converted as usual', () => {
    expectExact(
      tensor(new Float32Array([1, 2, 3, 4]), { shape: [2, 2], copy: false }),
      [
        [1, 2],
        [3, 4],
      ],
      'float32',
      'Float32Array, copy: false',
    );
    expectExact(tensor(new Int32Array([5, -6]), { copy: false }), [5, -6], 'int32', 'Int32Array, copy: false');
    expectExact(
      tensor(new Float32Array([1.5, -2.5]), { dtype: 'int32', copy: false }),
      [1, -2],
      'int32',
      'Float32Array to int32, copy: false',
    );
    expectExact(tensor([[1, 2]], { copy: false }), [[1, 2]], 'float32', 'nested array, copy: false');
    const t = tensor(new Float32Array([3, 4]), { copy: false, requiresGrad: true });
    check(t.requiresGrad, 'copy: false keeps the other options');
  }),
  c('zeros ones full zerosLike onesLike', () => {
    expectExact(
      zeros([2, 2]),
      [
        [0, 0],
        [0, 0],
      ],
      'float32',
    );
    expectExact(ones([3]), [1, 1, 1], 'float32');
    expectExact(full([2, 1], 7.5), [[7.5], [7.5]], 'float32');
    expectExact(full([2], 3, { dtype: 'int32' }), [3, 3], 'int32');
    const like = tensor([[1, 2]], { dtype: 'int32' });
    expectExact(zerosLike(like), [[0, 0]], 'int32');
    expectExact(onesLike(like), [[1, 1]], 'int32');
    expectMeta(zeros([0, 3]), [0, 3], 'float32');
    check(ones([2], { requiresGrad: true }).requiresGrad, 'ones honours requiresGrad');
  }),
  c('arange eye linspace', () => {
    expectExact(arange(5), [0, 1, 2, 3, 4], 'int32');
    expectExact(arange(2, 8, 2), [2, 4, 6], 'int32');
    expectExact(arange(3, 0, -1), [3, 2, 1], 'int32');
    expectClose(arange(0, 1, 0.25), [0, 0.25, 0.5, 0.75], tol);
    check(arange(0, 1, 0.25).dtype === 'float32', 'fractional arange is float32');
    expectExact(arange(0), [], 'int32');
    expectExact(
      eye(3),
      [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ],
      'float32',
    );
    expectExact(
      eye(2, 3),
      [
        [1, 0, 0],
        [0, 1, 0],
      ],
      'float32',
    );
    expectClose(linspace(0, 1, 5), [0, 0.25, 0.5, 0.75, 1], tol);
  }),
  c('rand randn uniform randint are seeded by manualSeed', async () => {
    manualSeed(42);
    const a = await rand([1000]).data();
    manualSeed(42);
    const b = await rand([1000]).data();
    check(
      a.every((v, i) => v === b[i]),
      'the same seed must give the same draws',
    );
    const sa = stats(a);
    check(sa.min >= 0 && sa.max < 1, `rand outside [0,1): [${sa.min}, ${sa.max}]`);
    check(Math.abs(sa.mean - 0.5) < 0.05, `rand mean ${sa.mean} far from 0.5`);
    manualSeed(1);
    const n = await randn([4000]).data();
    const sn = stats(n);
    check(Math.abs(sn.mean) < 0.08 && Math.abs(sn.std - 1) < 0.08, `randn mean ${sn.mean} std ${sn.std}`);
    manualSeed(2);
    const u = await uniform([500], -2, 3).data();
    const su = stats(u);
    check(su.min >= -2 && su.max < 3, `uniform outside [-2,3): [${su.min}, ${su.max}]`);
    manualSeed(3);
    const r = randint(2, 5, [300]);
    expectMeta(r, [300], 'int32');
    const rv = await r.data();
    check(
      rv.every((v) => v >= 2 && v < 5),
      'randint outside [2,5)',
    );
    check(
      [2, 3, 4].every((k) => rv.includes(k)),
      'randint should hit every value of [2,5) in 300 draws',
    );
    manualSeed(7);
    const first = await randn([3]).data();
    manualSeed(8);
    const other = await randn([3]).data();
    check(!first.every((v, i) => v === other[i]), 'different seeds must give different draws');
  }),
];
