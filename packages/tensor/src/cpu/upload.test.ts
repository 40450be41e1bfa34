import { describe, expect, it } from 'vitest';
import { setBackend } from '../backend/registry.js';
import { tensor } from '../ops/creation.js';

describe('tensor(typedArray, { copy: false }) on the CPU backend', () => {
  it('uses the array itself as storage, so no second copy of a dataset is made; the default copies', async () => {
    await setBackend('cpu');
    const shared = new Float32Array([1, 2, 3, 4]);
    const t = tensor(shared, { shape: [2, 2], copy: false });
    shared[0] = 10;
    expect(Array.from(t.dataSync())).toEqual([10, 2, 3, 4]);
    const copied = new Float32Array([1, 2]);
    const u = tensor(copied);
    copied[0] = 10;
    expect(Array.from(u.dataSync())).toEqual([1, 2]);
    // Another dtype than the array's: converted into new storage, whatever copy says.
    const floats = new Float32Array([1.5, 2.5]);
    const v = tensor(floats, { dtype: 'int32', copy: false });
    floats[0] = 9;
    expect(Array.from(v.dataSync())).toEqual([1, 2]);
  });
});
