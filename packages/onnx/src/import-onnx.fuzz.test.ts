// Fuzzes the importer: exported models mutated thousands of times. Every input is imported or
// refused with a FormatError naming the file, fast, and an accepted model holds no more weight
// values than the file has bytes for. `node scripts/reliability/fuzz.mjs --cases N` runs it longer.
import { fuzz, fuzzCaseCount, mutatedBytes, recordFuzzReport } from '@bp/conformance/fuzz';
import { BatchNorm1d, Conv2d, Dense, Dropout, Flatten, MaxPool2d, ReLU, Sequential, Softmax } from '@bp/layers';
import { FormatError, manualSeed, zeros } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { exportOnnx, importOnnx } from './index.js';

const CASES = fuzzCaseCount(2000);

manualSeed(6);
const cnn = new Sequential([
  new Conv2d(1, 2, 3, { padding: 1 }),
  new ReLU(),
  new MaxPool2d(2),
  new Flatten(),
  new Dense(4, { activation: 'relu' }),
  new BatchNorm1d(4),
  new Dropout(0.25),
  new Dense(3),
  new Softmax(),
]);
cnn.build([1, 4, 4]);
const seeds = [
  exportOnnx(cnn, { inputShape: [1, 4, 4], normalize: { mean: 0.5, std: 0.25 } }),
  exportOnnx(new Sequential([new Flatten({ startDim: 2 }), new Dense(2, { inputShape: [3, 4] })]), { inputShape: [3, 4], opset: 21 }),
];

describe('ONNX file fuzzing', () => {
  it(`importOnnx accepts or refuses ${CASES} mutated files with a FormatError naming the file`, async () => {
    const report = fuzz({
      inputs: mutatedBytes(seeds, { hot: 64 }),
      parse: (bytes) => {
        const model = importOnnx(bytes, { source: 'fuzz.onnx' });
        const values = Object.values(model.stateDict()).reduce((n, t) => n + t.size, 0);
        expect(values * 4).toBeLessThanOrEqual(bytes.length);
      },
      expected: (e) => e instanceof FormatError && e.message.startsWith('fuzz.onnx: '),
      cases: CASES,
      seed: 2718,
    });
    await recordFuzzReport('importOnnx', report);
    expect(report.rejected).toBeGreaterThan(CASES / 4);
    expect(report.accepted).toBeGreaterThan(0);
  });

  it('the unmutated seeds import and run', () => {
    expect(importOnnx(seeds[0]).forward(zeros([2, 1, 4, 4])).shape).toEqual([2, 3]);
    expect(importOnnx(seeds[1]).forward(zeros([2, 3, 4])).shape).toEqual([2, 3, 2]);
  });
});
