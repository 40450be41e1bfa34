// Fuzzes what `bp train --resume` reads: a checkpoint's bytes and the JSON state in its
// metadata, mutated thousands of times, then restored the way resume restores it (weights,
// optimizer state, random generator). Each input resumes or is refused with a BpError that
// names the file or the entry; nothing crashes with a TypeError deep inside.
import fc from 'fast-check';
import { decodeSafetensors, encodeSafetensors } from '@bp/layers';
import { fuzz, fuzzCaseCount, mutatedBytes, mutatedText, recordFuzzReport } from '@bp/conformance/fuzz';
import { getOptimizer, type Optimizer } from '@bp/optim';
import { BpError, FormatError, getRandomState, manualSeed, setRandomState, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { checkOrder, decodeCheckpoint, encodeCheckpoint } from './checkpoint.js';
import { buildModel, modelFromArchitecture } from './models.js';
import type { Json } from './state-pack.js';
import { resolveSettings } from './settings.js';
import { startProgress } from './trainer.js';

const CASES = fuzzCaseCount(2000);

manualSeed(1);
const settings = resolveSettings('xor', { model: 'mlp', seed: 1, loss: 'cross-entropy', backend: 'cpu' });
const model = await buildModel(settings.model, 'xor', [2], 2);
const optimizer = getOptimizer(settings.optimizer, model.parameters(), { lr: settings.lr }) as Optimizer;
model
  .forward(
    tensor([
      [0, 1],
      [1, 0],
    ]),
  )
  .sum()
  .backward();
optimizer.step();
const progress = { ...startProgress(), epoch: 1, step: 1, order: Int32Array.from([2, 0, 3, 1]) };
const good = encodeCheckpoint({ settings, progress, random: getRandomState(), model: model.stateDict(), optimizer: optimizer.stateDict() });
const { tensors, metadata } = decodeSafetensors(good);

// A run of a model file keeps the architecture in its checkpoint; resume builds from it.
const architecture: Json = {
  type: 'Sequential',
  config: {
    layers: [
      { type: 'Linear', config: { inFeatures: 2, outFeatures: 4 } },
      { type: 'Tanh' },
      { type: 'Linear', config: { inFeatures: 4, outFeatures: 2 } },
    ],
  },
};
const fileModel = modelFromArchitecture(architecture, 'spec.json', [2]);
const fileOptimizer = getOptimizer('sgd', fileModel.parameters(), { lr: 0.1 }) as Optimizer;
const withArchitecture = encodeCheckpoint({
  settings: { ...settings, model: '/runs/spec.json' },
  progress: startProgress(),
  random: getRandomState(),
  model: fileModel.stateDict(),
  optimizer: fileOptimizer.stateDict(),
  architecture,
});
const archParts = decodeSafetensors(withArchitecture);
const architectureEdits = mutatedText([archParts.metadata.state]).map((m) => ({
  value: encodeSafetensors(archParts.tensors, { metadata: { ...archParts.metadata, state: m.value } }),
  edits: ['state', ...m.edits],
}));

/** The checkpoint with its JSON state edited and re-encoded, so the edit reaches the state checks. */
const stateEdits = mutatedText([metadata.state]).map((m) => ({
  value: encodeSafetensors(tensors, { metadata: { ...metadata, state: m.value } }),
  edits: ['state', ...m.edits],
}));

describe('checkpoint validation', () => {
  it('names the first bad entry of the saved state', () => {
    const edit = (f: (state: Record<string, Record<string, unknown>>) => void) => {
      const state = JSON.parse(metadata.state);
      f(state);
      return encodeSafetensors(tensors, { metadata: { ...metadata, state: JSON.stringify(state) } });
    };
    const bad = (f: Parameters<typeof edit>[0]) => () => decodeCheckpoint(edit(f), 'run/checkpoint.safetensors');
    expect(bad((s) => delete s.random.s)).toThrow(
      "run/checkpoint.safetensors: checkpoint state 'random.s' must be four 32-bit generator words, got nothing",
    );
    expect(bad((s) => (s.settings.epochs = -3))).toThrow("checkpoint state 'settings.epochs' must be a positive integer, got -3");
    expect(bad((s) => (s.settings.dataset = 'cifar'))).toThrow(/'settings\.dataset' must be one of xor, spirals/);
    expect(bad((s) => (s.progress.step = 1.5))).toThrow("'progress.step' must be a non-negative integer, got 1.5");
    expect(() => decodeCheckpoint(good, 'ok')).not.toThrow();
  });

  it('refuses a saved epoch order that is not a permutation of the training set', () => {
    expect(() => checkOrder('cp', Int32Array.from([2, 0, 3, 1]), 4)).not.toThrow();
    expect(() => checkOrder('cp', Int32Array.from([2, 0, 3, 1]), 5)).toThrow(
      'cp: progress.order is not a permutation of the 5 training examples (it has 4 entries)',
    );
    expect(() => checkOrder('cp', Int32Array.from([2, 0, 2, 1]), 4)).toThrow(FormatError);
    expect(() => checkOrder('cp', Int32Array.from([2, 0, 4, 1]), 4)).toThrow(FormatError);
  });
});

describe('checkpoint fuzzing', () => {
  it(`resume builds or refuses ${CASES} checkpoints whose stored architecture was mutated, with a BpError`, async () => {
    const random = getRandomState();
    const report = fuzz({
      inputs: fc.oneof(architectureEdits, mutatedBytes([withArchitecture], { hot: 128, u64At: 0 })),
      parse: (bytes) => {
        const cp = decodeCheckpoint(bytes, 'checkpoint.safetensors');
        const model = cp.architecture ? modelFromArchitecture(cp.architecture, 'checkpoint.safetensors', [2]) : fileModel;
        model.loadStateDict(cp.model);
      },
      expected: (e) => e instanceof BpError,
      cases: CASES,
      seed: 16,
    });
    setRandomState(random);
    await recordFuzzReport('checkpoint-architecture', report);
    expect(report.rejected).toBeGreaterThan(CASES / 4);
    expect(report.accepted).toBeGreaterThan(0);
  });

  it(`resume accepts or refuses ${CASES} mutated checkpoints with a BpError`, async () => {
    const random = getRandomState();
    const report = fuzz({
      inputs: fc.oneof(mutatedBytes([good], { hot: 128, u64At: 0 }), stateEdits, stateEdits),
      parse: (bytes) => {
        const cp = decodeCheckpoint(bytes, 'checkpoint.safetensors');
        // What resume does with it, in its order.
        model.loadStateDict(cp.model);
        optimizer.loadStateDict(cp.optimizer);
        setRandomState(cp.random);
      },
      expected: (e) => e instanceof BpError,
      cases: CASES,
      seed: 99,
    });
    setRandomState(random);
    await recordFuzzReport('checkpoint', report);
    expect(report.rejected).toBeGreaterThan(CASES / 2);
    expect(report.accepted).toBeGreaterThan(0);
  });
});
