// The GPT, an Embedding and a LayerNorm exported to ONNX run in ONNX Runtime (onnxruntime-node, CPU) and give bp's outputs.
import '@bp/autograd';
import { Embedding, GPT, LayerNorm, Linear, Sequential } from '@bp/layers';
import { type Tensor, manualSeed, randint } from '@bp/tensor';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { exportOnnx, importOnnx } from './index.js';
import { decodeModel, encodeModel } from './proto/onnx.js';

async function runIds(bytes: Uint8Array, ids: Tensor): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes);
  const feeds = {
    input: new ort.Tensor(
      'int64',
      BigInt64Array.from(ids.dataSync(), (v) => BigInt(v)),
      ids.shape,
    ),
  };
  const out = (await session.run(feeds)).output;
  return { data: out.data as Float32Array, dims: out.dims };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('a GPT in ONNX Runtime', () => {
  for (const [name, config, opset] of [
    ['tied weights, opset 17 (GELU as its erf formula)', { vocabSize: 27, blockSize: 16, nLayer: 2, nHead: 4, nEmbd: 32 }, 17],
    [
      'a separate head and no biases, opset 20 (the Gelu op)',
      { vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16, tieWeights: false, bias: false },
      20,
    ],
  ] as const) {
    it(`gives bp's logits within 1e-5 (${name}), with the causal mask: a later token changes no earlier logit`, async () => {
      manualSeed(11);
      const model = new GPT(config);
      // Larger weights than the initialisation, so that attention is far from uniform and the mask matters.
      for (const p of model.parameters()) p.assign(p.mul(3));
      model.eval();
      const T = config.blockSize;
      const ids = randint(0, config.vocabSize, [5, T]);
      const bytes = exportOnnx(model, { opset });
      const proto = decodeModel(bytes, 'gpt.onnx');
      expect(proto.graph!.input![0].type!.tensor_type!.elem_type).toBe(7); // int64 ids
      const ops = new Set(proto.graph!.node!.map((n) => n.op_type));
      for (const op of ['Gather', 'LayerNormalization', 'MatMul', 'Softmax']) expect(ops.has(op), op).toBe(true);
      expect(ops.has('Gelu')).toBe(opset >= 20);
      const names = proto.graph!.initializer!.map((t) => t.name);
      expect(names).toContain('wte.weight');
      expect(names).toContain('h.0.ln_1.weight');
      expect(names).toContain('h.0.mlp.c_fc.weight');
      const want = model.forward(ids).dataSync();
      const got = await runIds(bytes, ids);
      expect(got.dims).toEqual([5, T, config.vocabSize]);
      expect(maxAbsDiff(got.data, want)).toBeLessThanOrEqual(1e-5);
      // Changing the last token leaves the logits of every earlier position as they were.
      const changed = Int32Array.from(ids.dataSync());
      for (let b = 0; b < 5; b++) changed[b * T + T - 1] = (changed[b * T + T - 1] + 1) % config.vocabSize;
      const { tensor } = await import('@bp/tensor');
      const other = await runIds(bytes, tensor(changed, { shape: [5, T] }));
      const V = config.vocabSize;
      let earlier = 0;
      let last = 0;
      for (let b = 0; b < 5; b++) {
        for (let t = 0; t < T; t++) {
          for (let v = 0; v < V; v++) {
            const i = (b * T + t) * V + v;
            if (t < T - 1) earlier = Math.max(earlier, Math.abs(other.data[i] - got.data[i]));
            else last = Math.max(last, Math.abs(other.data[i] - got.data[i]));
          }
        }
      }
      expect(earlier).toBe(0);
      expect(last).toBeGreaterThan(1e-3);
      // Round trip: the file's architecture metadata rebuilds the GPT with the same weights.
      const back = importOnnx(bytes, { source: 'gpt.onnx' });
      expect(back.at(0).layerType).toBe('GPT');
      expect(Array.from(back.forward(ids).dataSync())).toEqual(Array.from(want));
    });
  }

  it('exports a shorter context than blockSize when inputShape says so', async () => {
    manualSeed(12);
    const model = new GPT({ vocabSize: 9, blockSize: 12, nLayer: 1, nHead: 2, nEmbd: 8 }).eval();
    const ids = randint(0, 9, [3, 5]);
    const bytes = exportOnnx(model, { inputShape: [5] });
    const got = await runIds(bytes, ids);
    expect(got.dims).toEqual([3, 5, 9]);
    expect(maxAbsDiff(got.data, model.forward(ids).dataSync())).toBeLessThanOrEqual(1e-5);
    // The whole position table goes in the file (the first 5 rows sliced), so the GPT imports back.
    const back = importOnnx(bytes);
    expect(maxAbsDiff(back.forward(ids).dataSync(), model.forward(ids).dataSync())).toBe(0);
    expect(() => exportOnnx(model, { inputShape: [13] })).toThrow(/longer than blockSize 12/);
    expect(() => exportOnnx(model, { normalize: { mean: 0, std: 1 } })).toThrow(
      /normalize does not apply to a model that reads token ids \(GPT\)/,
    );
  });
});

describe('Embedding and LayerNorm in a Sequential', () => {
  it("export as Gather and LayerNormalization and give bp's outputs within 1e-5", async () => {
    manualSeed(13);
    const model = new Sequential([new Embedding(20, 6), new LayerNorm(6, { eps: 1e-3 }), new Linear(6, 4)]);
    for (const p of model.parameters()) p.assign(p.add(p.mul(0.5)));
    model.eval();
    const ids = randint(0, 20, [4, 7]);
    const bytes = exportOnnx(model, { inputShape: [7] });
    const got = await runIds(bytes, ids);
    expect(got.dims).toEqual([4, 7, 4]);
    expect(maxAbsDiff(got.data, model.forward(ids).dataSync())).toBeLessThanOrEqual(1e-5);
    const ops = decodeModel(bytes, 'seq.onnx').graph!.node!.map((n) => n.op_type);
    expect(ops.slice(0, 2)).toEqual(['Gather', 'LayerNormalization']);
    // And back: importOnnx reads Gather as an Embedding and LayerNormalization as a LayerNorm.
    const back = importOnnx(bytes, { source: 'seq.onnx' });
    expect(back.layers.map((l) => l.layerType)).toEqual(['Embedding', 'LayerNorm', 'Linear']);
    expect(Object.keys(back.stateDict())).toEqual(Object.keys(model.stateDict()));
    expect(maxAbsDiff(back.forward(ids).dataSync(), model.forward(ids).dataSync())).toBe(0);
    expect((back.layers[1] as LayerNorm).eps).toBeCloseTo(1e-3, 9);
  });

  it("a whole GPT is not a chain of layers: without bp's architecture metadata importOnnx refuses it, naming the node", () => {
    manualSeed(14);
    const proto = decodeModel(exportOnnx(new GPT({ vocabSize: 7, blockSize: 4, nLayer: 1, nHead: 2, nEmbd: 8 })), 'gpt.onnx');
    expect(proto.metadata_props?.map((p) => p.key)).toEqual(['bp.architecture']);
    proto.metadata_props = [];
    expect(() => importOnnx(encodeModel(proto), { source: 'gpt.onnx' })).toThrow(
      /gpt\.onnx: node "\/Add_positions" \("Add"\) is not supported/,
    );
    // The metadata never stands in for a graph that says something else.
    const edited = decodeModel(exportOnnx(new GPT({ vocabSize: 7, blockSize: 4, nLayer: 1, nHead: 2, nEmbd: 8 })), 'gpt.onnx');
    const softmax = edited.graph!.node!.find((n) => n.op_type === 'Softmax')!;
    softmax.op_type = 'LogSoftmax';
    expect(() => importOnnx(encodeModel(edited), { source: 'gpt.onnx' })).toThrow(/gpt\.onnx: its graph is not the one bp writes/);
    // Metadata that is not a bp architecture is refused as such.
    proto.metadata_props = [{ key: 'bp.architecture', value: '{"type":"constructor"}' }];
    expect(() => importOnnx(encodeModel(proto), { source: 'gpt.onnx' })).toThrow(
      /gpt\.onnx: its bp\.architecture metadata does not describe a bp model/,
    );
  });
});
