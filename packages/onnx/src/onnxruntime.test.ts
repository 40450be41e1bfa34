// Exported models run in ONNX Runtime (onnxruntime-node, CPU) and give bp's outputs on real MNIST test images.
import { loadMnist } from '@bp/datasets';
import type { Module } from '@bp/layers';
import { type Tensor, manualSeed, randn } from '@bp/tensor';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { everyLayer, mnistCnn, mnistMlp, newerLayers } from './__fixtures__/models.js';
import { exportOnnx, importOnnx } from './index.js';
import { AttributeType, decodeModel, encodeModel } from './proto/onnx.js';

const MEAN = 0.1307;
const STD = 0.3081;
let images: Tensor;

beforeAll(async () => {
  const test = await loadMnist({ split: 'test' });
  images = test.images.slice([0, 0, 0, 0], [64, 1, 28, 28]);
});

async function runOrt(
  bytes: Uint8Array,
  x: Tensor,
  input = 'input',
  output = 'output',
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes);
  const feeds = { [input]: new ort.Tensor('float32', Float32Array.from(x.dataSync()), x.shape) };
  const result = await session.run(feeds);
  const out = result[output];
  return { data: out.data as Float32Array, dims: out.dims };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const models: [string, () => Module][] = [
  ['MLP', mnistMlp],
  ['CNN', mnistCnn],
];

describe.each(models)('the MNIST %s in ONNX Runtime', (name, build) => {
  it("gives bp's logits within 1e-5 on 64 MNIST test images, for any batch size", async () => {
    manualSeed(7);
    const model = build().eval();
    const bytes = exportOnnx(model, { inputShape: [1, 28, 28] });
    const want = model.forward(images).dataSync();
    const got = await runOrt(bytes, images);
    expect(got.dims).toEqual([64, 10]);
    expect(maxAbsDiff(got.data, want)).toBeLessThanOrEqual(1e-5);
    // The batch axis is dynamic: the same file takes one image.
    const one = await runOrt(bytes, images.slice([5, 0, 0, 0], [1, 1, 28, 28]));
    expect(one.dims).toEqual([1, 10]);
    expect(maxAbsDiff(one.data, want.slice(50, 60))).toBeLessThanOrEqual(1e-5);
  });

  it('takes pixels in [0, 1] with the normalization inside the graph', async () => {
    manualSeed(8);
    const model = build().eval();
    const bytes = exportOnnx(model, {
      inputShape: [1, 28, 28],
      normalize: { mean: MEAN, std: STD },
      inputName: 'pixels',
      outputName: 'logits',
    });
    const want = model.forward(images.sub(MEAN).div(STD)).dataSync();
    const got = await runOrt(bytes, images, 'pixels', 'logits');
    expect(maxAbsDiff(got.data, want)).toBeLessThanOrEqual(1e-5);
    const session = await ort.InferenceSession.create(bytes);
    expect(session.inputNames).toEqual(['pixels']);
    expect(session.outputNames).toEqual(['logits']);
  });

  it('round-trips export -> import with identical outputs and state-dict names', async () => {
    manualSeed(9);
    const model = build().eval();
    const back = importOnnx(exportOnnx(model, { inputShape: [1, 28, 28] }));
    expect(Object.keys(back.stateDict())).toEqual(Object.keys(model.stateDict()));
    expect(Array.from(back.forward(images).dataSync())).toEqual(Array.from(model.forward(images).dataSync()));
    // With the normalization: a Normalize layer in front, the same numbers as normalizing first.
    const withNorm = importOnnx(exportOnnx(model, { inputShape: [1, 28, 28], normalize: { mean: MEAN, std: STD } }));
    expect(withNorm.at(0).layerType).toBe('Normalize');
    expect(Array.from(withNorm.forward(images).dataSync())).toEqual(Array.from(model.forward(images.sub(MEAN).div(STD)).dataSync()));
  });
});

describe('every exportable layer', () => {
  it.each([17, 21])('matches bp in ONNX Runtime at opset %i and round-trips', async (opset) => {
    const model = everyLayer();
    const x = images.slice([0, 0, 0, 0], [16, 1, 28, 28]);
    const want = model.forward(x).dataSync();
    const bytes = exportOnnx(model, { inputShape: [1, 28, 28], opset });
    const got = await runOrt(bytes, x);
    expect(got.dims).toEqual([16, 5]);
    expect(maxAbsDiff(got.data, want)).toBeLessThanOrEqual(1e-5);
    const back = importOnnx(bytes);
    expect(maxAbsDiff(back.forward(x).dataSync(), want)).toBeLessThanOrEqual(1e-6);
  });

  it('exports grouped, dilated and "same" convolutions and dilated ceil-mode max pooling', async () => {
    manualSeed(5);
    const { Sequential, Conv2d, MaxPool2d, ReLU } = await import('@bp/layers');
    const model = new Sequential([
      new Conv2d(1, 4, 3, { padding: 'same' }),
      new ReLU(),
      new Conv2d(4, 6, 3, { groups: 2, dilation: 2, padding: 1 }),
      new MaxPool2d(3, 2, { dilation: 2, ceilMode: true }),
      new Conv2d(6, 4, 2, { padding: 'same', dilation: 3 }),
    ]);
    model.eval();
    const x = images.slice([0, 0, 0, 0], [4, 1, 28, 28]);
    const want = model.forward(x);
    const bytes = exportOnnx(model, { inputShape: [1, 28, 28] });
    const got = await runOrt(bytes, x);
    expect(got.dims).toEqual(want.shape);
    expect(maxAbsDiff(got.data, want.dataSync())).toBeLessThanOrEqual(1e-5);
    // Explicit pads come back for 'same'; the values are the same.
    const back = importOnnx(bytes);
    expect(maxAbsDiff(back.forward(x).dataSync(), want.dataSync())).toBeLessThanOrEqual(1e-6);
  });

  it('exports a Linear on [n, t, features] as MatMul + Add, which imports back as a Linear', async () => {
    manualSeed(4);
    const model = everyLayer().layers[7];
    const { Sequential } = await import('@bp/layers');
    const seq = new Sequential([model]);
    const x = randn([3, 4, 18]);
    const bytes = exportOnnx(seq, { inputShape: [4, 18] });
    const got = await runOrt(bytes, x);
    expect(got.dims).toEqual([3, 4, 12]);
    expect(maxAbsDiff(got.data, seq.forward(x).dataSync())).toBeLessThanOrEqual(1e-5);
    const back = importOnnx(bytes);
    expect(back.at(0).layerType).toBe('Linear');
    expect(maxAbsDiff(back.forward(x).dataSync(), seq.forward(x).dataSync())).toBeLessThanOrEqual(1e-6);
  });
});

describe("PyTorch's spellings and the eval forms of BatchNorm2d and Dropout(1)", () => {
  it('imports Add(bias, x) after a MatMul and Mul(x, sigmoid) as written by torch.onnx.export', async () => {
    manualSeed(5);
    const { Sequential, Linear, SiLU } = await import('@bp/layers');
    const seq = new Sequential([new Linear(6, 5), new SiLU(), new Linear(5, 3)]);
    const x = randn([2, 4, 6]);
    const want = seq.forward(x).dataSync();
    // bp writes Add(x, bias) and Mul(sigmoid, x); torch writes the operands the other way round.
    const m = decodeModel(exportOnnx(seq, { inputShape: [4, 6] }), 't.onnx');
    for (const node of m.graph!.node!) if (node.op_type === 'Add' || node.op_type === 'Mul') node.input!.reverse();
    const bytes = encodeModel(m);
    expect(maxAbsDiff((await runOrt(bytes, x)).data, want)).toBeLessThanOrEqual(1e-5);
    const back = importOnnx(bytes);
    expect(back.layers.map((l) => l.layerType)).toEqual(['Linear', 'SiLU', 'Linear']);
    expect(maxAbsDiff(back.forward(x).dataSync(), want)).toBeLessThanOrEqual(1e-6);
  });

  it('imports (x - mean) / std with each constant in a Constant node right before its Sub and Div, as torch.onnx.export writes it', async () => {
    manualSeed(7);
    const { Sequential, Linear } = await import('@bp/layers');
    const seq = new Sequential([new Linear(5, 4)]);
    const x = randn([3, 5]);
    const m = decodeModel(exportOnnx(seq, { inputShape: [5], normalize: { mean: 0.5, std: 0.25 } }), 't.onnx');
    const graph = m.graph!;
    const nodes: NonNullable<typeof graph.node> = [];
    for (const node of graph.node!) {
      if (node.op_type === 'Sub' || node.op_type === 'Div') {
        // The initializer it reads becomes a Constant node placed just before it.
        const k = graph.initializer!.findIndex((t) => t.name === node.input![1]);
        const [t] = graph.initializer!.splice(k, 1);
        nodes.push({
          name: `${node.name}_c`,
          op_type: 'Constant',
          input: [],
          output: [t.name!],
          attribute: [{ name: 'value', type: AttributeType.TENSOR, t }],
        });
      }
      nodes.push(node);
    }
    graph.node = nodes;
    expect(nodes.map((n) => n.op_type).slice(0, 4)).toEqual(['Constant', 'Sub', 'Constant', 'Div']);
    const bytes = encodeModel(m);
    const want = seq.forward(x.sub(0.5).div(0.25)).dataSync();
    expect(maxAbsDiff((await runOrt(bytes, x)).data, want)).toBeLessThanOrEqual(1e-5);
    const back = importOnnx(bytes);
    expect(back.layers.map((l) => l.layerType)).toEqual(['Normalize', 'Linear']);
    expect(maxAbsDiff(back.forward(x).dataSync(), want)).toBeLessThanOrEqual(1e-6);
  });

  it('exports BatchNorm2d and Dropout(1), which ONNX Runtime runs, and imports BatchNormalization on images as BatchNorm2d', async () => {
    manualSeed(6);
    const { Sequential, Conv2d, BatchNorm2d, Dropout } = await import('@bp/layers');
    const seq = new Sequential([new Conv2d(2, 3, 3), new BatchNorm2d(3), new Dropout(1)]);
    seq.forward(randn([4, 2, 6, 6])); // running statistics away from 0 and 1
    seq.eval();
    const x = randn([2, 2, 6, 6]);
    const want = seq.forward(x).dataSync();
    const bytes = exportOnnx(seq, { inputShape: [2, 6, 6] });
    const got = await runOrt(bytes, x);
    expect(got.dims).toEqual([2, 3, 4, 4]);
    expect(maxAbsDiff(got.data, want)).toBeLessThanOrEqual(1e-5);
    const back = importOnnx(bytes);
    expect(back.layers.map((l) => l.layerType)).toEqual(['Conv2d', 'BatchNorm2d', 'Dropout']);
    expect(maxAbsDiff(back.forward(x).dataSync(), want)).toBeLessThanOrEqual(1e-6);
  });
});

describe('the newer layers (AvgPool2d, GELU, SiLU; dilation, groups, ceil mode, same padding)', () => {
  it.each([17, 20])('match bp in ONNX Runtime at opset %i', async (opset) => {
    const model = newerLayers();
    const x = images.slice([0, 0, 0, 0], [16, 1, 28, 28]);
    const want = model.forward(x).dataSync();
    const got = await runOrt(exportOnnx(model, { inputShape: [1, 28, 28], opset }), x);
    expect(got.dims).toEqual([16, 10]);
    expect(maxAbsDiff(got.data, want)).toBeLessThanOrEqual(1e-5);
  });

  it('round-trip at opset 20 (Gelu is an ONNX op from there), layer for layer', () => {
    const model = newerLayers();
    const x = images.slice([0, 0, 0, 0], [16, 1, 28, 28]);
    const back = importOnnx(exportOnnx(model, { inputShape: [1, 28, 28], opset: 20 }));
    expect(back.layers.map((l) => l.layerType)).toEqual(model.layers.map((l) => l.layerType));
    // 'same' padding that is equal on both sides comes back as its numbers (here dilation 2, kernel 3: 2 each side).
    const configs = model.layers.map((l) => JSON.stringify(l.getConfig()).replace('"padding":"same"', '"padding":[2,2]'));
    expect(back.layers.map((l) => JSON.stringify(l.getConfig()))).toEqual(configs);
    expect(Array.from(back.forward(x).dataSync())).toEqual(Array.from(model.forward(x).dataSync()));
  });

  it('at opset 17 GELU is written as its formula, which importOnnx refuses by node name', () => {
    const bytes = exportOnnx(newerLayers(), { inputShape: [1, 28, 28], opset: 17 });
    expect(() => importOnnx(bytes, { source: 'gelu17.onnx' })).toThrow(/gelu17\.onnx: node "\/1\/Div" \("Div"\)/);
  });
});
