import { ArgumentError, type Tensor, randomInt, randomPermutation, tensor } from '@bp/tensor';
import { CharTokenizer } from './tokenizer.js';

/** A corpus split into token streams. */
export interface CharDataset {
  /** Characters to ids. */
  tokenizer: CharTokenizer;
  /** Training tokens. */
  train: Int32Array;
  /** Validation tokens. */
  val: Int32Array;
}

/**
 * A names list (one per line) as a character dataset: the names are
 * shuffled with the generator seeded by `manualSeed`, the last
 * `valFraction` held out, and each split becomes one stream of names each
 * ended by `\n` (the model learns where a name ends).
 */
export function namesDataset(names: string[], valFraction = 0.1): CharDataset {
  if (!Array.isArray(names) || names.length < 2)
    throw new ArgumentError('namesDataset', `needs at least 2 names, got ${Array.isArray(names) ? names.length : typeof names}`);
  if (!(valFraction > 0 && valFraction < 1)) throw new ArgumentError('namesDataset', `valFraction must be in (0, 1), got ${valFraction}`);
  // A newline ends each name in the streams: an empty name, or one holding a newline, would not be one name.
  const bad = names.findIndex((n) => typeof n !== 'string' || n === '' || n.includes('\n'));
  if (bad >= 0) {
    throw new ArgumentError(
      'namesDataset',
      `name ${bad} (${JSON.stringify(names[bad])}) must be a non-empty string without a newline (the newline ends each name)`,
    );
  }
  const order = randomPermutation(names.length);
  const shuffled = Array.from(order, (i) => names[i]);
  const nVal = Math.max(1, Math.round(names.length * valFraction));
  const trainText = shuffled
    .slice(0, names.length - nVal)
    .map((n) => `${n}\n`)
    .join('');
  const valText = shuffled
    .slice(names.length - nVal)
    .map((n) => `${n}\n`)
    .join('');
  if (names.length - nVal < 1) {
    throw new ArgumentError(
      'namesDataset',
      `valFraction ${valFraction} holds out all ${names.length} names, which leaves no training tokens; use a smaller valFraction or more names`,
    );
  }
  const tokenizer = CharTokenizer.fromText(trainText + valText);
  return { tokenizer, train: tokenizer.encode(trainText), val: tokenizer.encode(valText) };
}

/**
 * A plain text as a character dataset: the first `1 - valFraction` of it
 * for training, the rest for validation (nanoGPT's shakespeare_char split).
 */
export function textDataset(text: string, valFraction = 0.1): CharDataset {
  if (typeof text !== 'string' || text.length < 2) throw new ArgumentError('textDataset', 'needs a text of at least 2 characters');
  if (!(valFraction > 0 && valFraction < 1)) throw new ArgumentError('textDataset', `valFraction must be in (0, 1), got ${valFraction}`);
  const tokenizer = CharTokenizer.fromText(text);
  const ids = tokenizer.encode(text);
  const n = Math.floor(ids.length * (1 - valFraction));
  if (n < 1) {
    throw new ArgumentError(
      'textDataset',
      `valFraction ${valFraction} of a text of ${ids.length} characters leaves no training tokens; use a smaller valFraction or a longer text`,
    );
  }
  if (n >= ids.length) {
    throw new ArgumentError(
      'textDataset',
      `valFraction ${valFraction} of a text of ${ids.length} characters leaves no validation tokens; use a larger valFraction or a longer text`,
    );
  }
  return { tokenizer, train: ids.slice(0, n), val: ids.slice(n) };
}

/** One batch of contexts and next-token targets. */
export interface Batch {
  /** int32 `[batchSize, blockSize]`. */
  x: Tensor;
  /** int32 `[batchSize, blockSize]`: `x` shifted by one. */
  y: Tensor;
  /** Where each row starts in the stream (what a twin needs to replay the data order). */
  offsets: number[];
}

/** What `v` is, for an error message: its constructor's name, `null`, or its type. */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  if (typeof v === 'string') return `a string (${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}...` : v)})`;
  return `${typeof v} ${String(v)}`;
}

/** Refuses a token stream that is not an Int32Array (a Float32Array would truncate fractional ids silently). */
export function checkTokens(op: string, name: string, data: unknown): asserts data is Int32Array {
  if (!(data instanceof Int32Array)) throw new ArgumentError(op, `${name} must be an Int32Array of token ids, got ${describe(data)}`);
}

/** The batch whose rows start at `offsets` in `data`. */
export function batchAt(data: Int32Array, blockSize: number, offsets: number[]): Batch {
  checkTokens('batchAt', 'data', data);
  if (!(typeof blockSize === 'number' && Number.isInteger(blockSize) && blockSize >= 1)) {
    throw new ArgumentError('batchAt', `blockSize must be an integer >= 1, got ${describe(blockSize)}`);
  }
  const given: unknown = offsets;
  if (!Array.isArray(given) && !(ArrayBuffer.isView(given) && !(given instanceof DataView))) {
    throw new ArgumentError('batchAt', `offsets must be an array of integers, got ${describe(offsets)}`);
  }
  const B = offsets.length;
  const x = new Int32Array(B * blockSize);
  const y = new Int32Array(B * blockSize);
  const list: number[] = Array.from(offsets as ArrayLike<number>);
  list.forEach((o, b) => {
    if (!Number.isInteger(o)) throw new ArgumentError('batchAt', `offset ${b} must be an integer, got ${describe(o)}`);
    if (o < 0 || o + blockSize + 1 > data.length) {
      throw new ArgumentError('batchAt', `offset ${o} leaves no room for ${blockSize + 1} tokens in a stream of ${data.length}`);
    }
    x.set(data.subarray(o, o + blockSize), b * blockSize);
    y.set(data.subarray(o + 1, o + blockSize + 1), b * blockSize);
  });
  return { x: tensor(x, { shape: [B, blockSize] }), y: tensor(y, { shape: [B, blockSize] }), offsets: list };
}

/** A batch of `batchSize` random windows of `data` (offsets from the `manualSeed` generator). */
export function sampleBatch(data: Int32Array, blockSize: number, batchSize: number): Batch {
  checkTokens('sampleBatch', 'data', data);
  if (!Number.isInteger(blockSize) || blockSize < 1 || !Number.isInteger(batchSize) || batchSize < 1) {
    throw new ArgumentError('sampleBatch', `blockSize and batchSize must be positive integers, got ${blockSize} and ${batchSize}`);
  }
  const room = data.length - blockSize;
  if (room < 1) throw new ArgumentError('sampleBatch', `a stream of ${data.length} tokens is too short for blockSize ${blockSize}`);
  const offsets = Array.from({ length: batchSize }, () => randomInt(room));
  return batchAt(data, blockSize, offsets);
}
