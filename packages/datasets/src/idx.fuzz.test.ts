// Fuzzes the IDX parser and the MNIST builder with mutated files: each input is accepted or
// refused with a FormatError naming the file, fast, with output no larger than the input
// justifies. `node scripts/reliability/fuzz.mjs --cases N` runs the same suites longer.
import fc from 'fast-check';
import { fuzz, fuzzCaseCount, mutatedBytes, recordFuzzReport } from '@bp/conformance/fuzz';
import { FormatError } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { idxBytes, imagePixels } from './__fixtures__/idx-files.js';
import { parseIdx } from './idx.js';
import { mnistFromIdx } from './mnist.js';

const CASES = fuzzCaseCount(3000);

const images = idxBytes([3, 28, 28], imagePixels(3));
const labels = idxBytes([3], [7, 0, 9]);
const seeds = [images, labels, idxBytes([2, 3, 2], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]), idxBytes([1], [1])];

const SIZES = [0, 1, 2, 3, 27, 28, 29, 255, 256, 0x7fffffff, 0x80000000, 0xffffffff];
const size = fc.oneof(fc.constantFrom(...SIZES), fc.integer({ min: 0, max: 0xffffffff }));

/** Files written from a header of random fields (type byte, rank, dimensions) and a random amount of data. */
function headerFile(type: fc.Arbitrary<number>, rank: fc.Arbitrary<number>, dim: fc.Arbitrary<number>) {
  return fc
    .tuple(
      type,
      rank.chain((r) => fc.array(dim, { minLength: r, maxLength: r })),
      fc.integer({ min: 0, max: 3000 }),
      fc.integer({ min: 0, max: 255 }),
    )
    .map(([t, dims, extra, fill]) => {
      const count = dims.reduce((p, d) => p * d, 1);
      // Usually exactly the data the header promises (when that is small), otherwise a random amount.
      const n = count <= 3000 && extra % 3 !== 0 ? count : extra;
      const bytes = idxBytes(dims, new Uint8Array(n).fill(fill), (t << 8) | dims.length);
      return { value: bytes, edits: [`header type ${t} dims [${dims.join(',')}], ${n} data bytes of ${fill}`] };
    });
}
const structured = headerFile(fc.constantFrom(0x08, 0x08, 0x09, 0x0d, 0x00, 0xff), fc.integer({ min: 0, max: 5 }), size);
const structuredImages = headerFile(
  fc.constantFrom(0x08, 0x08, 0x08, 0x09),
  fc.constantFrom(3, 3, 3, 1, 2, 4),
  fc.oneof(fc.constantFrom(28, 28, 3, 2), size),
);
const structuredLabels = headerFile(
  fc.constantFrom(0x08, 0x08, 0x08, 0x09),
  fc.constantFrom(1, 1, 1, 2, 3),
  fc.oneof(fc.constantFrom(3, 3, 2, 4), size),
);

function refusedWith(name: string) {
  return (e: unknown) => e instanceof FormatError && e.message.startsWith(`${name}: `);
}

describe('IDX fuzzing', () => {
  it(`parseIdx accepts or refuses ${CASES} mutated files with a FormatError naming the file`, async () => {
    const report = fuzz({
      inputs: fc.oneof(mutatedBytes(seeds, { hot: 16 }), structured),
      parse: (bytes) => {
        const a = parseIdx(bytes, 'fuzz.idx');
        // Accepted: the header and the values account for every byte, and the data is a view (no copy).
        expect(4 + 4 * a.shape.length + a.data.length).toBe(bytes.length);
        expect(a.data.length).toBe(a.shape.reduce((p, d) => p * d, 1));
        expect(a.data.buffer).toBe(bytes.buffer);
      },
      expected: refusedWith('fuzz.idx'),
      cases: CASES,
      seed: 20251123,
    });
    await recordFuzzReport('parseIdx', report);
    expect(report.cases).toBe(CASES);
    expect(report.rejected).toBeGreaterThan(CASES / 2);
    expect(report.accepted).toBeGreaterThan(0);
  });

  it(`mnistFromIdx accepts or refuses ${CASES} mutated image/label pairs, naming the bad file`, async () => {
    const pairs = fc
      .tuple(
        fc.boolean(),
        fc.oneof(mutatedBytes([images], { hot: 16 }), structuredImages),
        fc.oneof(mutatedBytes([labels], { hot: 8 }), structuredLabels),
      )
      .map(([which, img, lab]) => ({
        value: which ? { images: img.value, labels } : { images, labels: lab.value },
        edits: [which ? 'images' : 'labels', ...(which ? img.edits : lab.edits)],
      }));
    const report = fuzz({
      inputs: pairs,
      parse: ({ images: i, labels: l }) => {
        const d = mnistFromIdx(i, l, { imagesName: 'imgs', labelsName: 'lbls' });
        // Accepted: one float per pixel byte, one label per label byte, never more.
        expect(d.images.size).toBeLessThanOrEqual(i.length);
        expect(d.labels.size).toBeLessThanOrEqual(l.length);
        expect(d.images.shape.slice(1)).toEqual([1, 28, 28]);
        expect(Math.max(...d.labels.dataSync())).toBeLessThan(10);
      },
      expected: (e) => refusedWith('imgs')(e) || refusedWith('lbls')(e),
      cases: CASES,
      seed: 7,
    });
    await recordFuzzReport('mnistFromIdx', report);
    expect(report.rejected).toBeGreaterThan(CASES / 2);
    expect(report.accepted).toBeGreaterThan(0);
  });
});
