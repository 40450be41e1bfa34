// Fuzzes the model loader: safetensors bytes and model.json text, mutated thousands of times.
// Every input is loaded or refused with a FormatError naming the file, fast, and never makes
// the loader allocate more than the file holds. `node scripts/reliability/fuzz.mjs --cases N`
// runs the same suites longer.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { fuzz, fuzzCaseCount, mutatedBytes, mutatedText, recordFuzzReport, type Mutant } from '@bp/conformance/fuzz';
import { FormatError, manualSeed, tensor } from '@bp/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureMlp } from '../__fixtures__/mlp.js';
import { BatchNorm1d } from '../layers/batch-norm1d.js';
import { Conv2d } from '../layers/conv2d.js';
import { Dense } from '../layers/dense.js';
import { Flatten } from '../layers/flatten.js';
import { MaxPool2d } from '../layers/max-pool2d.js';
import { ReLU } from '../layers/activations.js';
import { Sequential } from '../sequential.js';
import { fromMemory, toMemory } from './memory.js';
import { load } from './save.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

const CASES = fuzzCaseCount(3000);

manualSeed(5);
const mlp = toMemory(fixtureMlp());
const cnnModel = new Sequential([
  new Conv2d(1, 2, 3, { padding: 1 }),
  new ReLU(),
  new MaxPool2d(2),
  new Flatten(),
  new Dense(4, { activation: 'relu' }),
  new BatchNorm1d(4),
  new Dense(3),
]);
cnnModel.build([1, 4, 4]);
const cnn = toMemory(cnnModel);
const small = encodeSafetensors(
  {
    w: tensor([
      [1, 2],
      [3, 4],
    ]),
    b: tensor([1], { dtype: 'int32' }),
    n: tensor([5], { dtype: 'int32' }),
  },
  { metadata: { format: 'pt' }, int64: ['n'] },
);
const empty = encodeSafetensors({});
const weightSeeds = [mlp.weights, cnn.weights, small, empty];

function headerLength(bytes: Uint8Array): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
}

/** A file whose JSON header was edited and whose length field was then set to match, so checks past the length run. */
const headerEdits: fc.Arbitrary<Mutant<Uint8Array>> = fc.integer({ min: 0, max: weightSeeds.length - 1 }).chain((s) => {
  const seed = weightSeeds[s];
  const n = headerLength(seed);
  const text = new TextDecoder().decode(seed.subarray(8, 8 + n));
  return mutatedText([text]).map((m) => {
    const json = new TextEncoder().encode(m.value);
    const out = new Uint8Array(8 + json.length + seed.length - 8 - n);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    out.set(seed.subarray(8 + n), 8 + json.length);
    return { value: out, edits: [`weights seed ${s} header`, ...m.edits] };
  });
});

const isFormatErrorOf = (file: string) => (e: unknown) => e instanceof FormatError && e.message.startsWith(`${file}: `);

describe('model file fuzzing', () => {
  it(`decodeSafetensors accepts or refuses ${CASES} mutated files with a FormatError naming the file`, async () => {
    const report = fuzz({
      inputs: fc.oneof(mutatedBytes(weightSeeds, { hot: 96, u64At: 0 }), headerEdits),
      parse: (bytes) => {
        const { tensors } = decodeSafetensors(bytes, { source: 'w.safetensors' });
        // Accepted: the tensors hold no more values than the file has bytes for.
        const values = Object.values(tensors).reduce((n, t) => n + t.size, 0);
        expect(values * 4).toBeLessThanOrEqual(bytes.length);
      },
      expected: isFormatErrorOf('w.safetensors'),
      cases: CASES,
      seed: 1123,
    });
    await recordFuzzReport('decodeSafetensors', report);
    expect(report.rejected).toBeGreaterThan(CASES / 2);
    expect(report.accepted).toBeGreaterThan(0);
  });

  it(`fromMemory loads or refuses ${CASES} models with a mutated model.json or mutated weights`, async () => {
    const jsonSeeds = [mlp, cnn].map((a) => JSON.stringify(a.modelJson, null, 2));
    const inputs = fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 1 }), mutatedText(jsonSeeds)).map(([w, m]) => ({
        value: { modelJson: m.value, weights: [mlp, cnn][w].weights },
        edits: [`model.json (weights ${w})`, ...m.edits],
      })),
      fc
        .tuple(fc.integer({ min: 0, max: 1 }), fc.oneof(mutatedBytes([mlp.weights, cnn.weights], { hot: 96, u64At: 0 }), headerEdits))
        .map(([j, m]) => ({ value: { modelJson: jsonSeeds[j], weights: m.value }, edits: [`weights (model.json ${j})`, ...m.edits] })),
    );
    const report = fuzz({
      inputs,
      parse: (artifacts) => {
        let model;
        try {
          model = fromMemory(artifacts);
        } catch (e) {
          // The weights file is known by the name model.json gives it (a mutation may have renamed it).
          let weightsName: unknown = 'model.safetensors';
          try {
            weightsName = JSON.parse(artifacts.modelJson).weights || weightsName;
          } catch {
            /* unparseable: refused as model.json */
          }
          if (e instanceof FormatError && e.op === weightsName) throw new FormatError('model.safetensors', e.message);
          throw e;
        }
        // Loaded: every parameter value came from the weights file, none was invented.
        const values = Object.values(model.stateDict()).reduce((n, t) => n + t.size, 0);
        expect(values * 4).toBeLessThanOrEqual(artifacts.weights.length);
      },
      expected: (e) => isFormatErrorOf('model.json')(e) || isFormatErrorOf('model.safetensors')(e),
      cases: CASES,
      seed: 4242,
    });
    await recordFuzzReport('fromMemory', report);
    expect(report.rejected).toBeGreaterThan(CASES / 2);
    expect(report.accepted).toBeGreaterThan(0);
  });

  it('refuses a model.json that asks for far more values than the weights hold, before allocating them', () => {
    const json = JSON.stringify(mlp.modelJson).replace('"outFeatures":5', '"outFeatures":1000000000');
    expect(json).toContain('1000000000');
    const t0 = performance.now();
    expect(() => fromMemory({ modelJson: json, weights: mlp.weights })).toThrow(
      /^model\.json: layers\[0\] \(Linear\) brings the model to at least 4000000000 parameter values, but model\.safetensors holds \d+$/,
    );
    expect(performance.now() - t0).toBeLessThan(100);
    const wide = JSON.stringify(cnn.modelJson).replace('"inputShape":[1,4,4]', '"inputShape":[1,4,1000000000]');
    expect(wide).toContain('1000000000');
    expect(() => fromMemory({ modelJson: wide, weights: cnn.weights })).toThrow(
      'model.json: model: inputShape [1,4,1000000000] has 4000000000 values per sample, more than the 16777216 a loaded model may declare',
    );
  });

  describe('load from a directory', () => {
    const root = mkdtempSync(join(tmpdir(), 'bp-layers-fuzz-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    it('refuses files truncated at every length with an error naming the file', async () => {
      const json = JSON.stringify(mlp.modelJson);
      const dir = join(root, 'cut');
      mkdirSync(dir);
      // Every cut of the weights (and every 7th of model.json): the loader sees what a crash mid-write would leave.
      for (let n = 0; n < mlp.weights.length; n++) {
        writeFileSync(join(dir, 'model.json'), json);
        writeFileSync(join(dir, 'model.safetensors'), mlp.weights.subarray(0, n));
        await expect(load(dir)).rejects.toThrow(/model\.safetensors: /);
      }
      for (let n = 0; n < json.length; n += 7) {
        writeFileSync(join(dir, 'model.json'), json.slice(0, n));
        writeFileSync(join(dir, 'model.safetensors'), mlp.weights);
        await expect(load(dir)).rejects.toThrow(/model\.json: /);
      }
    });
  });
});
