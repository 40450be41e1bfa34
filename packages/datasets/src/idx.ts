import { FormatError } from '@bp/tensor';

/** The contents of an IDX file: its dimensions and its values, row-major. */
export interface IdxArray {
  /** The IDX magic number, e.g. `0x00000803` for a 3-d array of unsigned bytes. */
  magic: number;
  /** Dimensions as stored in the header, outermost first. */
  shape: number[];
  /** The values, a view into the input bytes (no copy). */
  data: Uint8Array;
}

/** IDX type code of unsigned bytes, the only element type MNIST-style files use. */
const UBYTE = 0x08;
const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

/** True when `bytes` starts with the gzip signature (1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Parses an IDX file (the format of the original MNIST distribution) from its
 * raw bytes. Works anywhere: it needs no file system, so a browser can feed it
 * bytes from `fetch`. Only unsigned-byte arrays are supported.
 *
 * Checks, each failing with a {@link FormatError} naming `name`: the two zero
 * bytes and the element type of the magic number, that the header fits, and
 * that the byte length is exactly header + product of the dimensions.
 *
 * @param bytes the file contents, already decompressed
 * @param name the file name, used in error messages
 *
 * @example
 * const labels = parseIdx(new Uint8Array(await (await fetch(url)).arrayBuffer()), 't10k-labels-idx1-ubyte');
 * labels.shape; // [10000]
 */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  if (!(bytes instanceof Uint8Array)) {
    throw new FormatError(name, `expected the file contents as a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  }
  if (isGzip(bytes)) {
    throw new FormatError(name, 'is gzip-compressed; decompress it first (loadMnist does this for .gz files)');
  }
  if (bytes.length < 4) {
    throw new FormatError(name, `is ${bytes.length} bytes long, too short for the 4-byte IDX magic number`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new FormatError(name, `bad magic number ${hex(magic)}: an IDX file starts with two zero bytes`);
  }
  const type = bytes[2];
  if (type !== UBYTE) {
    const what = TYPE_NAMES[type] ?? 'an unknown type';
    throw new FormatError(
      name,
      `bad magic number ${hex(magic)}: element type 0x${type.toString(16).padStart(2, '0')} (${what}); only unsigned bytes (0x08) are supported`,
    );
  }
  const rank = bytes[3];
  if (rank === 0) throw new FormatError(name, `bad magic number ${hex(magic)}: zero dimensions`);
  const header = 4 + 4 * rank;
  if (bytes.length < header) {
    throw new FormatError(name, `is ${bytes.length} bytes long, too short for the ${header}-byte header of a ${rank}-d IDX array`);
  }
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = header + count;
  if (bytes.length !== expected) {
    throw new FormatError(
      name,
      `expected ${expected} bytes (${header}-byte header + ${shape.join('x')} values) but the file has ${bytes.length}` +
        (bytes.length < expected ? ' (truncated?)' : ''),
    );
  }
  return { magic, shape, data: bytes.subarray(header) };
}
