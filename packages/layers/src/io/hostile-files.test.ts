// Model files from anyone: special files in place of the weights, names that are
// JavaScript's own keys, duplicate names, non-finite weights, absurd nesting.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@bp/losses';
import '@bp/optim';
import { ArgumentError, FormatError, tensor } from '@bp/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchNorm1d } from '../layers/batch-norm1d.js';
import { Linear } from '../layers/linear.js';
import { Sequential } from '../sequential.js';
import { fromMemory, toMemory } from './memory.js';
import { load, readRegularFile, save } from './save.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

const root = mkdtempSync(join(tmpdir(), 'bp-hostile-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

/** A saved 2-3 Linear model whose weights file is then replaced by `replace(path)`. */
async function savedModel(replace?: (weights: string) => void): Promise<string> {
  const dir = join(root, `m${counter++}`);
  await save(new Sequential([new Linear(2, 3)]), dir);
  if (replace) {
    const weights = join(dir, 'model.safetensors');
    rmSync(weights);
    replace(weights);
  }
  return dir;
}

/** safetensors bytes with `header` (JSON text) and `data`. */
function rawFile(header: string, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('load() reads regular files only, bounded by their size', () => {
  it.skipIf(!existsSync('/dev/zero'))('a weights file that links to /dev/zero or /dev/urandom is refused at once', async () => {
    for (const device of ['/dev/zero', '/dev/urandom']) {
      const dir = await savedModel((w) => symlinkSync(device, w));
      const before = process.memoryUsage().rss;
      await expect(load(dir)).rejects.toThrow(/model\.safetensors: is a device, not a regular weights file/);
      expect(process.memoryUsage().rss - before).toBeLessThan(64 * 2 ** 20);
    }
  });

  it('a FIFO named model.json is refused without waiting for a writer', async () => {
    const dir = await savedModel();
    rmSync(join(dir, 'model.json'));
    execFileSync('mkfifo', [join(dir, 'model.json')]);
    await expect(load(dir)).rejects.toThrow(/model\.json: is a named pipe \(FIFO\), not a regular model\.json/);
  });

  it('a directory in place of the weights is refused by name', async () => {
    const dir = await savedModel((w) => mkdirSync(w));
    await expect(load(dir)).rejects.toThrow(/model\.safetensors: is a directory, not a regular weights file/);
  });

  it('a link to a text file is refused without echoing its bytes', async () => {
    const secret = join(root, 'secret.txt');
    writeFileSync(secret, 'root:x:0:0:root:/root:/bin/bash\n');
    const dir = await savedModel((w) => symlinkSync(secret, w));
    const err = await load(dir).catch((e: Error) => e);
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(/header length in bytes 0\.\.8 runs past the end of the 32-byte file/);
    // Neither the text nor its first 8 bytes read as a number appear.
    const asNumber = new DataView(readFileSync(secret).buffer).getBigUint64(0, true).toString();
    expect((err as Error).message).not.toContain('root');
    expect((err as Error).message).not.toContain(asNumber);
  });

  it('a model.json that is not JSON is refused without quoting it', async () => {
    const dir = await savedModel();
    writeFileSync(join(dir, 'model.json'), 'root:x:0:0:root:/root:/bin/bash\n');
    const err = await load(dir).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/model\.json: not valid JSON \((malformed|it ends)/);
    expect((err as Error).message).not.toContain('root');
  });

  it('readRegularFile refuses a file larger than maxBytes, and reads a normal one whole', async () => {
    const file = join(root, 'ten.bin');
    writeFileSync(file, new Uint8Array(10).fill(7));
    expect(Array.from(await readRegularFile(file))).toEqual(new Array(10).fill(7));
    await expect(readRegularFile(file, { maxBytes: 9, what: 'test file' })).rejects.toThrow(
      /is 10 bytes, more than the 9 a test file may have/,
    );
  });

  it('a file of 2 GiB or more is read in pieces Node accepts, and one larger than a buffer can hold is refused by name', async () => {
    const { constants } = await import('node:buffer');
    const fsp = createRequire(import.meta.url)('node:fs/promises') as typeof import('node:fs/promises');
    // Sparse files: no disk space, and the reads below are only recorded, so no memory is touched either.
    const big = join(root, 'big.safetensors');
    writeFileSync(big, '');
    truncateSync(big, 2.5 * 2 ** 30);
    const lengths: number[] = [];
    const open = fsp.open;
    fsp.open = (async (...args: Parameters<typeof open>) => {
      const handle = await open(...args);
      if (args[0] === big) {
        handle.read = (async (buffer: Uint8Array, _offset: number, length: number) => {
          lengths.push(length);
          return { bytesRead: length, buffer };
        }) as typeof handle.read;
      }
      return handle;
    }) as typeof open;
    syncBuiltinESMExports();
    try {
      expect((await readRegularFile(big)).length).toBe(2.5 * 2 ** 30);
    } finally {
      fsp.open = open;
      syncBuiltinESMExports();
    }
    expect(lengths.length).toBeGreaterThan(1);
    expect(Math.max(...lengths)).toBeLessThan(2 ** 31);
    truncateSync(big, constants.MAX_LENGTH + 1);
    await expect(readRegularFile(big, { what: 'weights file' })).rejects.toThrow(
      `${big}: is ${constants.MAX_LENGTH + 1} bytes, more than the ${constants.MAX_LENGTH} this JavaScript runtime can hold in memory at once`,
    );
    rmSync(big);
  });
});

describe('layers sized by their input are bounded by the weights too', () => {
  it('a lazy Linear or Dense in a 100-byte model.json is refused before it allocates', () => {
    for (const layer of [
      { type: 'Linear', config: { inFeatures: null, outFeatures: 30000 } },
      { type: 'Dense', config: { units: 30000 } },
    ]) {
      const modelJson = JSON.stringify({
        format: 'bp-model',
        formatVersion: 1,
        model: { type: 'Sequential', config: { inputShape: [30000], layers: [layer] } },
        weights: 'model.safetensors',
      });
      const t0 = performance.now();
      expect(() => fromMemory({ modelJson, weights: encodeSafetensors({}) })).toThrow(
        /^model\.safetensors: a (Linear|Dense) sized by its input needs 900030000 parameter values, but model\.safetensors holds only \d+ more$/,
      );
      expect(performance.now() - t0).toBeLessThan(1000);
    }
    // Nor may a window's settings blow up what the build pass computes.
    const dilated = JSON.stringify({
      format: 'bp-model',
      formatVersion: 1,
      model: {
        type: 'Sequential',
        config: {
          inputShape: [1, 1, 1],
          layers: [{ type: 'ConvTranspose2d', config: { inChannels: 1, outChannels: 1, kernelSize: 2, dilation: 30000, bias: false } }],
        },
      },
      weights: 'model.safetensors',
    });
    const t0 = performance.now();
    expect(() =>
      fromMemory({
        modelJson: dilated,
        weights: encodeSafetensors({
          '0.weight': tensor([
            [
              [
                [1, 1],
                [1, 1],
              ],
            ],
          ]),
        }),
      }),
    ).toThrow(/^model\.json: layers\[0\] \(ConvTranspose2d\): dilation 30000 is larger than the 1024 a loaded model may declare$/);
    expect(performance.now() - t0).toBeLessThan(1000);
    // A real lazy model still loads: its weights are in the file.
    const model = new Sequential([new Linear(null, 3)]);
    model.build([4]);
    const back = fromMemory(toMemory(model));
    expect(back.stateDict()['0.weight'].shape).toEqual([3, 4]);
  });
});

describe('values a model cannot hold', () => {
  it('a negative running variance or batch count is refused by name', () => {
    const model = new Sequential([new Linear(3, 2), new BatchNorm1d(2)]);
    const { modelJson, weights } = toMemory(model);
    for (const [name, value] of [
      ['1.running_var', tensor([1, -1])],
      ['1.num_batches_tracked', tensor(-7, { dtype: 'int32' })],
    ] as const) {
      const { tensors } = decodeSafetensors(weights);
      const forged = encodeSafetensors({ ...tensors, [name]: value });
      expect(() => fromMemory({ modelJson, weights: forged })).toThrow(
        new RegExp(
          `^model\\.safetensors: tensor '${name.replace('.', '\\.')}' holds (-1 at index 1: a variance cannot be negative|a negative count)$`,
        ),
      );
    }
  });
});

describe('names are own keys only', () => {
  it("a tensor named '__proto__' is an own entry, not the record's prototype", () => {
    const bytes = rawFile('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(new Float32Array([2.5]).buffer));
    const { tensors } = decodeSafetensors(bytes);
    expect(Object.getPrototypeOf(tensors)).toBe(Object.prototype);
    expect(Object.keys(tensors)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(tensors, '__proto__')?.value.item()).toBe(2.5);
  });

  it("a weights file with a tensor named '__proto__' or 'constructor' does not load into a model", () => {
    const { modelJson } = toMemory(new Sequential([new Linear(1, 1)]));
    for (const name of ['__proto__', 'constructor']) {
      const header = `{"0.bias":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"0.weight":{"dtype":"F32","shape":[1,1],"data_offsets":[4,8]},"${name}":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`;
      const weights = rawFile(header, new Uint8Array(new Float32Array([1, 2, 3]).buffer));
      expect(() => fromMemory({ modelJson, weights })).toThrow(new RegExp(`tensor '${name}' does not belong to the model`));
    }
  });

  it('duplicate tensor names are refused, as the safetensors reference does', () => {
    const header = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    expect(() => decodeSafetensors(rawFile(header, new Uint8Array(8)))).toThrow(/names 'a' twice/);
    // A repeated key inside an entry, or a name that only contains quotes, is not a duplicate name.
    const ok = rawFile(
      '{"a\\"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"c":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
      new Uint8Array(8),
    );
    expect(Object.keys(decodeSafetensors(ok).tensors)).toEqual(['a"b', 'c']);
  });

  it("compile({ loss: 'toString' }) and a trainingConfig loss 'constructor' are refused up front", () => {
    expect(() => new Sequential([new Linear(1, 1)]).compile({ optimizer: 'sgd', loss: 'toString' })).toThrow(ArgumentError);
    const { modelJson, weights } = toMemory(new Sequential([new Linear(1, 1)]));
    for (const loss of ['constructor', 'toString', '__proto__']) {
      const json = { ...modelJson, trainingConfig: { optimizer: 'sgd', loss, metrics: [] } };
      expect(() => fromMemory({ modelJson: json, weights })).toThrow(/model\.json: trainingConfig: .*unknown loss/);
    }
  });
});

describe('values that cannot be weights', () => {
  it('NaN or infinite weights are refused, naming the tensor and index', () => {
    const model = new Sequential([new Linear(2, 1)]);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const { modelJson } = toMemory(model);
      const weights = encodeSafetensors({ '0.weight': tensor([[1, bad]]), '0.bias': tensor([0]) });
      expect(() => fromMemory({ modelJson, weights })).toThrow(new RegExp(`tensor '0\\.weight' holds ${bad} at index 1`));
    }
  });

  it('F64 values beyond the float32 range are refused instead of becoming ±Infinity', () => {
    const data = new Uint8Array(new Float64Array([1, -1e39]).buffer);
    expect(() => decodeSafetensors(rawFile('{"w":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}', data))).toThrow(
      /tensor 'w': F64 value -1e\+39 at file byte \d+ is beyond the float32 range/,
    );
    const fine = new Uint8Array(new Float64Array([1, 3e38]).buffer);
    expect(decodeSafetensors(rawFile('{"w":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}', fine)).tensors.w.dataSync()[1]).toBeCloseTo(
      3e38,
      -32,
    );
  });

  it('2,000 nested Sequentials are refused with a FormatError, not a stack overflow', () => {
    // Written as text: JSON.stringify itself overflows the stack on such an object.
    const inner = '{"type":"Linear","config":{"inFeatures":1,"outFeatures":1}}';
    const model = '{"type":"Sequential","config":{"layers":['.repeat(2000) + inner + ']}}'.repeat(2000);
    const modelJson = `{"format":"bp-model","formatVersion":1,"model":${model},"weights":"model.safetensors"}`;
    const weights = encodeSafetensors({ w: tensor([1]) });
    expect(() => fromMemory({ modelJson, weights })).toThrow(/nested more than 64 levels deep/);
  });

  it('names read from a file reach messages with control characters escaped', () => {
    const header = '{"\\u001b[2J\\u009b31m":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}}';
    const err = (() => {
      try {
        decodeSafetensors(rawFile(header, new Uint8Array(1)));
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).toContain("tensor '\\u001b[2J\\u009b31m'");
    expect(err?.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });
});
