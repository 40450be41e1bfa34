// Bad input names itself: an unsupported layer and its path, an unsupported op and its node, a broken file.
import { Module, Sequential, Linear, ReLU, Flatten, BatchNorm1d, Conv2d, MaxPool2d, Embedding, GPT } from '@bp/layers';
import { ArgumentError, FormatError, type Tensor, manualSeed, zeros } from '@bp/tensor';
import { describe, expect, it, vi } from 'vitest';
import { mnistMlp } from './__fixtures__/models.js';
import { exportOnnx, importOnnx } from './index.js';
import { type ModelProto, decodeModel, encodeModel, modelProto } from './proto/onnx.js';

class Mystery extends Module {
  override get layerType(): string {
    return 'Mystery';
  }
  override forward(x: Tensor): Tensor {
    return x;
  }
}

function edit(bytes: Uint8Array, change: (m: ModelProto) => void): Uint8Array {
  const m = decodeModel(bytes, 't.onnx');
  change(m);
  return encodeModel(m);
}

describe('exportOnnx refuses', () => {
  it('a layer without an exporter, naming its type and path', () => {
    const model = new Sequential([new Flatten(), new Sequential([new Linear(4, 3), new Mystery()])]);
    expect(() => exportOnnx(model, { inputShape: [4] })).toThrow(ArgumentError);
    expect(() => exportOnnx(model, { inputShape: [4] })).toThrow(
      /^exportOnnx: layer Mystery at '1\.1' has no ONNX exporter; supported: Sequential, AvgPool2d, BatchNorm1d, /,
    );
  });

  it("a subclass of a built-in layer with a forward of its own, which the built-in's exporter would misrepresent", () => {
    class Doubled extends Linear {
      override forward(x: Tensor): Tensor {
        return super.forward(x).mul(2);
      }
    }
    class Scaled extends Sequential {
      override forward(x: Tensor): Tensor {
        return super.forward(x).mul(3);
      }
    }
    expect(() => exportOnnx(new Sequential([new Flatten(), new Doubled(4, 3), new ReLU()]), { inputShape: [4] })).toThrow(
      "exportOnnx: layer Doubled at '1' extends Linear with a forward of its own, so the Linear exporter would not export what it computes; " +
        'give it a layerType of its own and register an exporter for it with registerOnnxExporter',
    );
    expect(() => exportOnnx(new Scaled([new Linear(4, 3)]), { inputShape: [4] })).toThrow(
      /^exportOnnx: layer Scaled at the model itself extends Sequential with a forward of its own/,
    );
    // A subclass that only fixes its constructor's arguments computes what Linear does, and exports.
    class FourToThree extends Linear {
      constructor() {
        super(4, 3);
      }
    }
    expect(exportOnnx(new Sequential([new FourToThree()]), { inputShape: [4] }).length).toBeGreaterThan(0);
  });

  it('a missing or batched inputShape, an unknown opset, BatchNorm without running statistics', () => {
    expect(() => exportOnnx(mnistMlp(), {})).toThrow('exportOnnx: inputShape must be the shape of one example without the batch axis');
    expect(() => exportOnnx(mnistMlp(), { inputShape: [1, 28, 28], opset: 11 })).toThrow(
      'exportOnnx: opset 11 is not supported; use one of 17, 18, 19, 20, 21',
    );
    expect(() => exportOnnx(mnistMlp(), { inputShape: [1, 27, 28] })).toThrow(
      /^exportOnnx: layer Linear at '1' cannot take input \[1,756\]/,
    );
    const bn = new Sequential([new Linear(3, 2), new BatchNorm1d(2, { trackRunningStats: false })]);
    expect(() => exportOnnx(bn, { inputShape: [3] })).toThrow("exportOnnx: BatchNorm1d at '1' has no running statistics");
  });

  it('a misspelt option by name, and a docString that is not a string', () => {
    expect(() => exportOnnx(mnistMlp(), { inputShape: [1, 28, 28], opsett: 18 } as never)).toThrow(/^exportOnnx: .*opsett.*opset/);
    expect(() => exportOnnx(mnistMlp(), { inputShape: [1, 28, 28], docString: 5 as never })).toThrow(
      'exportOnnx: docString must be a string, got number',
    );
  });

  it('leaves the model in the mode it was in', () => {
    const model = mnistMlp();
    exportOnnx(model, { inputShape: [784] });
    expect(model.training).toBe(true);
    expect(model.layers.every((l) => l.training)).toBe(true);
  });
});

describe('importOnnx refuses', () => {
  manualSeed(1);
  const good = exportOnnx(new Sequential([new Linear(4, 3), new ReLU(), new Linear(3, 2)]), { inputShape: [4] });

  it('an op it has no layer for, naming the node and op type', () => {
    const bytes = edit(good, (m) => {
      m.graph!.node![1].op_type = 'Elu';
    });
    expect(() => importOnnx(bytes, { source: 'net.onnx' })).toThrow(
      /^net\.onnx: node "\/1\/Relu" \("Elu"\) is not supported; bp imports these op types: AveragePool, BatchNormalization, Conv, /,
    );
  });

  it('a graph that is not a chain, ops of other domains, external data, other opsets', () => {
    const branch = edit(good, (m) => {
      m.graph!.node![2].input![0] = 'input';
    });
    expect(() => importOnnx(branch)).toThrow('model.onnx: node "/2/Gemm" ("Gemm") does not read the output of the layer before it');
    const domain = edit(good, (m) => {
      m.graph!.node![1].domain = 'com.example';
    });
    expect(() => importOnnx(domain)).toThrow('model.onnx: node "/1/Relu" ("Relu") is in domain "com.example"');
    const external = edit(good, (m) => {
      m.graph!.initializer![0].data_location = 1;
    });
    expect(() => importOnnx(external)).toThrow('model.onnx: initializer "0.weight" keeps its data in an external file');
    const old = edit(good, (m) => {
      m.opset_import![0].version = 9;
    });
    expect(() => importOnnx(old)).toThrow('model.onnx: uses opset 9 of the ONNX domain; bp reads opsets 13 to 23');
  });

  it('weights whose bytes do not match their dims, a computed weight, unsupported attributes', () => {
    const short = edit(good, (m) => {
      m.graph!.initializer![0].dims = [3, 5];
    });
    expect(() => importOnnx(short)).toThrow(
      'model.onnx: initializer "0.weight" has dims [3, 5] (15 values) but holds 48 bytes of raw data',
    );
    const computed = edit(good, (m) => {
      m.graph!.node![0].input![1] = 'input';
    });
    expect(() => importOnnx(computed)).toThrow(
      'model.onnx: node "/0/Gemm" ("Gemm"): input 1 ("input") must be a constant (a weight), but it is computed by the graph',
    );
    const alpha = edit(good, (m) => {
      m.graph!.node![0].attribute!.push({ name: 'alpha', type: 1, f: 2 });
    });
    expect(() => importOnnx(alpha)).toThrow('model.onnx: node "/0/Gemm" ("Gemm") uses transA, alpha or beta');
  });

  it('empty, truncated and non-ONNX bytes, naming the file', () => {
    expect(() => importOnnx(new Uint8Array(0), { source: 'a.onnx' })).toThrow('a.onnx: is empty');
    expect(() => importOnnx(good.subarray(0, good.length - 7), { source: 'a.onnx' })).toThrow(FormatError);
    expect(() => importOnnx(good.subarray(0, good.length - 7), { source: 'a.onnx' })).toThrow(
      /^a\.onnx: is not a valid ONNX model \(protobuf decoding failed: /,
    );
    expect(() => importOnnx(new TextEncoder().encode('{"not": "onnx"}'), { source: 'b.onnx' })).toThrow(/^b\.onnx: /);
    expect(() => importOnnx('model.onnx' as unknown as Uint8Array)).toThrow(
      "importOnnx: expected the file's bytes as a Uint8Array, got string",
    );
  });

  it('a few megabytes of tiny messages or integers, refused before decoding them into gigabytes of objects', () => {
    const varint = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...varint(Math.floor(n / 128))]);
    const field = (key: number, payload: Uint8Array): Uint8Array => Uint8Array.from([key, ...varint(payload.length), ...payload]);
    // ModelProto.graph (field 7) holding 1.1 million empty NodeProtos (field 1, length 0): 2 bytes each.
    const nodes = new Uint8Array(2_200_000);
    for (let i = 0; i < nodes.length; i += 2) nodes[i] = 0x0a;
    // ModelProto.graph.initializer (field 5) with 5 million one-byte int64_data values (field 7, packed).
    const ints = field(0x3a, field(0x2a, field(0x3a, new Uint8Array(5_000_000).fill(1))));
    // Counted, not timed: protobuf's decoder is never called on them.
    const decode = vi.spyOn(modelProto(), 'decode');
    try {
      for (const bytes of [field(0x3a, nodes), ints]) {
        expect(() => importOnnx(bytes, { source: 'a.onnx' })).toThrow(
          /^a\.onnx: holds more protobuf messages and integers than any model bp reads \(over 1048576 messages, or 4194304 integers\); it was not decoded$/,
        );
      }
      expect(decode).not.toHaveBeenCalled();
      // The same spy sees a file that is decoded.
      importOnnx(exportOnnx(mnistMlp(), { inputShape: [1, 28, 28] }));
      expect(decode).toHaveBeenCalledTimes(1);
    } finally {
      decode.mockRestore();
    }
    // A length that runs past its message, or an over-long varint, is malformed, before anything is decoded.
    expect(() => importOnnx(Uint8Array.from([0x3a, 0x05, 0x0a, 0x00]), { source: 'a.onnx' })).toThrow(
      'a.onnx: is not a valid ONNX model (protobuf decoding failed: malformed data at byte 0)',
    );
    expect(() => importOnnx(Uint8Array.from([0x3a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), { source: 'a.onnx' })).toThrow(
      'a.onnx: is not a valid ONNX model (protobuf decoding failed: malformed data at byte 0)',
    );
  });

  it('an architecture in the metadata far larger than the file, at once and before building it', () => {
    // A file of a few hundred bytes whose metadata declares a GPT of 650M parameters (or an
    // Embedding, a LayerNorm): refused from the file's size, not after allocating gigabytes.
    for (const arch of [
      { type: 'GPT', config: { vocabSize: 50000, blockSize: 1024, nLayer: 48, nHead: 8, nEmbd: 1024 } },
      { type: 'Embedding', config: { numEmbeddings: 20000, embeddingDim: 1000 } },
      { type: 'LayerNorm', config: { normalizedShape: [5000, 1000] } },
    ]) {
      const bytes = edit(good, (m) => {
        m.graph!.node![1].op_type = 'Elu';
        m.metadata_props = [{ key: 'bp.architecture', value: JSON.stringify(arch) }];
      });
      const t0 = performance.now();
      expect(() => importOnnx(bytes, { source: 'forged.onnx' })).toThrow(
        /^forged\.onnx: the model has at least \d+ parameter values, (more than the 100000000 allowed|but the file's \d+ bytes cannot hold them)/,
      );
      expect(performance.now() - t0).toBeLessThan(2000);
    }
  });

  it("a GPT file whose initializer holds the parameter's count of values under other dims, naming both", () => {
    manualSeed(0);
    const gpt = exportOnnx(new GPT({ vocabSize: 5, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 8 }), { inputShape: [4] });
    expect(importOnnx(gpt).at(0)).toBeInstanceOf(GPT);
    const reshaped = edit(gpt, (m) => {
      const wte = m.graph!.initializer!.find((t) => t.name === 'wte.weight')!;
      wte.dims = [1, 40];
    });
    expect(() => importOnnx(reshaped, { source: 'g.onnx' })).toThrow(FormatError);
    expect(() => importOnnx(reshaped, { source: 'g.onnx' })).toThrow(
      /^g\.onnx: initializer "wte\.weight" has dims \[1, 40\] but the parameter of its bp\.architecture metadata has shape \[5,8\]/,
    );
  });

  it('a Sub + Div whose constants ONNX broadcasts along the last axis, not the channels', () => {
    const model = new Sequential([new Flatten(), new Linear(48, 2)]);
    const bytes = exportOnnx(model, { inputShape: [3, 4, 4], normalize: { mean: [0.1, 0.2, 0.3], std: [1, 2, 3] } });
    expect(importOnnx(bytes).at(0).layerType).toBe('Normalize');
    // [3] instead of [3, 1, 1]: on [n, 3, 4, 4] it would broadcast along the width.
    const along = edit(bytes, (m) => {
      for (const t of m.graph!.initializer!) if (t.name!.endsWith('/mean') || t.name!.endsWith('/std')) t.dims = [3];
    });
    expect(() => importOnnx(along)).toThrow(
      /has the subtracted constant of shape \[3\] on an input of rank 4; bp reads one value or one per channel/,
    );
  });

  it("reads PyTorch's x.view(-1, n) as a Flatten when n is the rest of one example, and refuses other reshapes", () => {
    const model = new Sequential([new Flatten(), new Linear(12, 2)]);
    const bytes = exportOnnx(model, { inputShape: [3, 4] });
    // The Flatten node rewritten as torch writes a view: Reshape(x, [-1, n]).
    const withShape = (dims: number[]) =>
      edit(bytes, (m) => {
        const node = m.graph!.node!.find((n) => n.op_type === 'Flatten')!;
        node.op_type = 'Reshape';
        node.attribute = [];
        node.input = [node.input![0], 'view_shape'];
        m.graph!.initializer!.push({
          name: 'view_shape',
          dims: [2],
          data_type: 7,
          raw_data: new Uint8Array(new BigInt64Array(dims.map(BigInt)).buffer),
        });
      });
    const back = importOnnx(withShape([-1, 12]));
    expect(back.layers.map((l) => l.layerType)).toEqual(['Flatten', 'Linear']);
    expect(() => importOnnx(withShape([-1, 6]))).toThrow(/reshapes to something other than a constant \[0, \.\.\.\]/);
  });

  it('options that are not an object, and an opset given as a string', () => {
    expect(() => importOnnx(good, null as never)).toThrow('importOnnx: options must be an object, got null');
    expect(() => exportOnnx(mnistMlp(), { inputShape: [784], opset: '17' as never })).toThrow('exportOnnx: opset "17" is not supported');
  });

  it('quotes names from the file escaped and cut short', () => {
    const bytes = edit(good, (m) => {
      m.graph!.node![1].op_type = `Evil\n\u001b[31m${'x'.repeat(200)}`;
    });
    let message = '';
    try {
      importOnnx(bytes);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('("Evil\\n\\u001b[31mxxxx');
    expect(message).not.toContain('\n');
    expect(message).not.toContain('x'.repeat(61));
  });
});

describe('importOnnx refuses what load refuses', () => {
  manualSeed(2);
  const mlp = exportOnnx(new Sequential([new Linear(4, 3), new BatchNorm1d(3), new ReLU(), new Linear(3, 2)]), { inputShape: [4] });
  const cnn = exportOnnx(new Sequential([new Conv2d(1, 2, 3, { padding: 1 }), new ReLU(), new MaxPool2d(2), new Flatten()]), {
    inputShape: [1, 4, 4],
  });
  // Sets value `index` of an initializer (on a copy: decoded raw_data shares the file's bytes).
  const withValue = (name: string, index: number, value: number) =>
    edit(mlp, (m) => {
      const t = m.graph!.initializer!.find((x) => x.name === name)!;
      t.raw_data = t.raw_data!.slice();
      new DataView(t.raw_data.buffer).setFloat32(index * 4, value, true);
    });
  const withInts = (op: string, name: string, ints: number[]) =>
    edit(cnn, (m) => {
      const node = m.graph!.node!.find((n) => n.op_type === op)!;
      node.attribute = node.attribute!.filter((a) => a.name !== name).concat({ name, type: 7, ints });
    });
  // Refused at once, with a FormatError whose message matches.
  const refuses = (bytes: Uint8Array, message: string) => {
    const t0 = performance.now();
    expect(() => importOnnx(bytes, { source: 'bad.onnx' })).toThrow(FormatError);
    expect(() => importOnnx(bytes, { source: 'bad.onnx' })).toThrow(message);
    expect(performance.now() - t0).toBeLessThan(1000);
  };

  it('the untouched files import and predict finite values', () => {
    expect(
      Array.from(
        importOnnx(mlp)
          .predict(zeros([1, 4]))
          .dataSync(),
      ).every(Number.isFinite),
    ).toBe(true);
    expect(importOnnx(cnn).predict(zeros([1, 1, 4, 4])).shape).toEqual([1, 8]);
  });

  it('a NaN or infinite weight, naming the node, the initializer and the index', () => {
    refuses(
      withValue('0.weight', 5, NaN),
      'bad.onnx: node "/0/Gemm" ("Gemm"): initializer "0.weight" holds NaN at index 5: a model with non-finite weights cannot give meaningful results',
    );
    refuses(withValue('3.bias', 1, Infinity), 'node "/3/Gemm" ("Gemm"): initializer "3.bias" holds Infinity at index 1');
    refuses(withValue('1.running_mean', 0, -Infinity), 'initializer "1.running_mean" holds -Infinity at index 0');
  });

  it('a negative running variance', () => {
    refuses(
      withValue('1.running_var', 2, -0.5),
      'bad.onnx: node "/1/BatchNormalization" ("BatchNormalization"): initializer "1.running_var" holds -0.5 at index 2: a variance cannot be negative',
    );
  });

  it('window settings past 1024, naming the node, the attribute and the value', () => {
    for (const p of [4000, 30000, 1e9]) {
      refuses(
        withInts('Conv', 'pads', [p, p, p, p]),
        `bad.onnx: node "/0/Conv" ("Conv") has pads [${p}, ${p}, ${p}, ${p}]: ${p} is larger than the 1024 bp reads`,
      );
    }
    refuses(withInts('Conv', 'kernel_shape', [30000, 3]), 'node "/0/Conv" ("Conv") has kernel_shape [30000, 3]: 30000 is larger than');
    refuses(withInts('Conv', 'dilations', [1, 30000]), 'node "/0/Conv" ("Conv") has dilations [1, 30000]: 30000 is larger than');
    refuses(
      withInts('MaxPool', 'kernel_shape', [1e9, 1e9]),
      'node "/2/MaxPool" ("MaxPool") has kernel_shape [1000000000, 1000000000]: 1000000000 is larger than the 1024 bp reads',
    );
    refuses(withInts('MaxPool', 'strides', [2, 5000]), 'node "/2/MaxPool" ("MaxPool") has strides [2, 5000]: 5000 is larger than');
    // 1024 itself is allowed, as load allows it.
    expect(importOnnx(withInts('Conv', 'pads', [1024, 1024, 1024, 1024])).layers.length).toBe(4);
  });

  it('follows shapes while importing without computing more than the file justifies', () => {
    // 2^24 ids declared in the graph input, into a 1000-wide table: 64 GB if looked up.
    const bytes = edit(exportOnnx(new Sequential([new Embedding(10, 1000)]), { inputShape: [4] }), (m) => {
      m.graph!.input![0].type!.tensor_type!.shape!.dim![1].dim_value = 2 ** 24;
    });
    const t0 = performance.now();
    expect(importOnnx(bytes).at(0).layerType).toBe('Embedding');
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
