import { ArgumentError, BpError, FormatError, NotAvailableError } from '@bp/tensor';
import type { Module } from '../module.js';
import type { Sequential } from '../sequential.js';
import { type ModelJson, fromMemory, modelArtifacts } from './memory.js';
import { jsonErrorWhere } from './safetensors.js';

type NodeFs = typeof import('node:fs/promises');
type NodePath = typeof import('node:path');

/**
 * Imports a Node built-in at run time. The specifier is a variable on purpose:
 * bundlers (esbuild, Vite, Rollup, webpack) only follow literal `import('...')`
 * calls, so a browser bundle of @bp/layers never tries to include Node's `fs`
 * (browsers use toMemory/fromMemory instead).
 */
function importNode<T>(specifier: string): Promise<T> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier) as Promise<T>;
}

async function nodeModules(): Promise<{ fs: NodeFs; path: NodePath }> {
  if (typeof process === 'undefined' || !process.versions?.node) {
    throw new NotAvailableError('save/load', 'files need Node; in a browser use toMemory(model) and fromMemory({ modelJson, weights })');
  }
  const [fs, path] = await Promise.all([importNode<NodeFs>('node:fs/promises'), importNode<NodePath>('node:path')]);
  return { fs, path };
}

/**
 * Writes `bytes` to `file` atomically: a temporary file in the same
 * directory, flushed to disk, then renamed over the target, so a crash never
 * leaves a half-written file under the real name.
 */
export async function writeFileAtomic(file: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = await stageFile(file, bytes);
  await commitFile(tmp, file);
  await syncDirectory(file);
}

/**
 * The first half of {@link writeFileAtomic}: `bytes` written and flushed to a temporary file beside
 * `file`, whose path is returned for {@link commitFile}. A failure removes the temporary file.
 */
async function stageFile(file: string, bytes: Uint8Array | string): Promise<string> {
  const { fs, path } = await nodeModules();
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`,
  );
  const handle = await fs.open(tmp, 'w');
  try {
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  return tmp;
}

/** Renames the temporary file `tmp` that {@link stageFile} wrote over `file` (removing it if that fails). */
async function commitFile(tmp: string, file: string): Promise<void> {
  const { fs } = await nodeModules();
  try {
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/** Persists the renames in the directory of `file`; not every platform can open a directory, which is fine. */
async function syncDirectory(file: string): Promise<void> {
  const { fs, path } = await nodeModules();
  try {
    const d = await fs.open(path.dirname(file), 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    /* best effort */
  }
}

/** The most bytes {@link readRegularFile} asks one `read` for. */
const MAX_READ_BYTES = 1 << 30;

/** Options of {@link readRegularFile}. */
export interface ReadRegularFileOptions {
  /** Refuse files larger than this many bytes (default: no limit beyond the file's own size). */
  maxBytes?: number;
  /** What the file is, for error messages (default `file`). */
  what?: string;
}

function kindOf(stat: {
  isDirectory(): boolean;
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
}): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a named pipe (FIFO)';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Reads a file that may come from anyone (a downloaded model folder): only a
 * regular file is read (a symlink is followed, but a directory, FIFO, socket
 * or device such as `/dev/zero` is refused without waiting on it), and never
 * more than the size `fstat` reported when it was opened, so a file that
 * grows or never ends cannot exhaust memory. Errors name the path, never the
 * contents. Missing files throw Node's own `ENOENT` error, for the caller to word.
 */
export async function readRegularFile(file: string, opts: ReadRegularFileOptions = {}): Promise<Uint8Array> {
  const { fs } = await nodeModules();
  const { constants } = await importNode<typeof import('node:fs')>('node:fs');
  const what = opts.what ?? 'file';
  // O_NONBLOCK: opening a FIFO for reading must not wait for a writer.
  const handle = await fs.open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new FormatError(file, `is ${kindOf(stat)}, not a regular ${what}`);
    const size = stat.size;
    if (opts.maxBytes !== undefined && size > opts.maxBytes) {
      throw new FormatError(file, `is ${size} bytes, more than the ${opts.maxBytes} a ${what} may have`);
    }
    const { constants: buffers } = await importNode<typeof import('node:buffer')>('node:buffer');
    if (size > buffers.MAX_LENGTH) {
      throw new FormatError(
        file,
        `is ${size} bytes, more than the ${buffers.MAX_LENGTH} this JavaScript runtime can hold in memory at once`,
      );
    }
    let out: Uint8Array;
    try {
      out = new Uint8Array(size);
    } catch {
      throw new FormatError(file, `is ${size} bytes, more than there is memory for`);
    }
    let got = 0;
    while (got < size) {
      // Node refuses (aborting the process) a single read of 2 GiB or more.
      const { bytesRead } = await handle.read(out, got, Math.min(size - got, MAX_READ_BYTES), got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === size ? out : out.subarray(0, got);
  } finally {
    await handle.close();
  }
}

/**
 * Saves a model into the directory `dir` (created if needed):
 * `model.json` (the architecture and format version) and `model.safetensors`
 * (the state dict, readable by PyTorch's `safetensors.torch.load_file`).
 * Node only; in browsers use `toMemory`.
 */
export async function save(model: Module, dir: string): Promise<void> {
  if (typeof dir !== 'string' || dir === '') throw new ArgumentError('save', 'needs a directory path');
  const { fs, path } = await nodeModules();
  // Encoded, and the weights checked, before the disk is touched: a refused model leaves an earlier save intact.
  const { modelJson, weights } = modelArtifacts(model, 'save');
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (e) {
    // A file where the directory should be, no permission: nothing written, and say which path.
    throw new ArgumentError(
      'save',
      `cannot create the directory ${dir}: ${(e as Error).message} (save takes a directory and writes model.json and the weights into it)`,
    );
  }
  const targets = [path.join(dir, modelJson.weights), path.join(dir, 'model.json')];
  // Checked before writing either file: a directory in the place of model.json must not be found only after the weights were replaced.
  for (const file of targets) {
    const stat = await fs.stat(file).catch(() => null);
    if (stat?.isDirectory()) throw new ArgumentError('save', `cannot write ${file}: it is a directory; move or remove it`);
  }
  // Both files are written in full before either replaces the file of an earlier save: a full disk
  // while writing model.json must not leave the new weights beside the old model.json (a model of
  // the same shapes would then load without error, with weights trained for another architecture).
  const contents: [string, Uint8Array | string][] = [
    [targets[0], weights],
    [targets[1], `${JSON.stringify(modelJson, null, 2)}\n`],
  ];
  const staged: string[] = [];
  try {
    for (const [file, bytes] of contents) staged.push(await forSave(file, () => stageFile(file, bytes)));
  } catch (e) {
    for (const tmp of staged) await fs.rm(tmp, { force: true });
    throw e;
  }
  // Weights first: model.json names them, so it must never point to a file that is not complete.
  for (const [i, [file]] of contents.entries()) await forSave(file, () => commitFile(staged[i], file));
  await syncDirectory(targets[1]);
}

/**
 * A step of writing `file` for `save`: a failure (a directory where the file should be, a full
 * disk, no permission) becomes an `ArgumentError` naming the path, as a failed `mkdir` does,
 * rather than Node's message about the temporary file. The file already there is untouched.
 */
async function forSave<T>(file: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof BpError) throw e;
    const code = (e as { code?: unknown } | null)?.code;
    const why = code === 'EISDIR' ? 'it is a directory; move or remove it' : e instanceof Error ? e.message : String(e);
    throw new ArgumentError('save', `cannot write ${file}: ${why}`);
  }
}

/** The largest model.json {@link load} reads (an architecture is a few kilobytes). */
const MAX_MODEL_JSON_BYTES = 16 * 1024 * 1024;

function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new FormatError(file, 'is not UTF-8 text');
  }
}

/**
 * Loads a model saved with {@link save} from the directory `dir`. Corrupted
 * or mismatched files are refused with a `FormatError` naming the file and
 * the tensor or byte offset. Node only; in browsers use `fromMemory`.
 * The result is typed as a `Sequential`, what `save` usually writes; pass
 * the type of a custom model as `load<MyModel>(dir)`.
 */
export async function load<M extends Module = Sequential>(dir: string): Promise<M> {
  if (typeof dir !== 'string' || dir === '') throw new ArgumentError('load', 'needs a directory path');
  const { path } = await nodeModules();
  const jsonPath = path.join(dir, 'model.json');
  let text: string;
  try {
    text = decodeUtf8(await readRegularFile(jsonPath, { maxBytes: MAX_MODEL_JSON_BYTES, what: 'model.json' }), jsonPath);
  } catch (e) {
    if (e instanceof FormatError) throw e;
    const hint = /\.json$/i.test(dir) ? ` (load takes the directory that save wrote, not ${path.basename(dir)} itself)` : '';
    throw new FormatError('load', `cannot read ${jsonPath}: ${(e as Error).message}${hint}`);
  }
  let modelJson: ModelJson;
  try {
    modelJson = JSON.parse(text) as ModelJson;
  } catch (e) {
    throw new FormatError(jsonPath, `not valid JSON (${jsonErrorWhere(e)})`);
  }
  const weightsName = typeof modelJson?.weights === 'string' ? modelJson.weights : 'model.safetensors';
  if (path.basename(weightsName) !== weightsName) {
    throw new FormatError(jsonPath, `weights must name a file beside model.json, got ${JSON.stringify(weightsName)}`);
  }
  const weightsPath = path.join(dir, weightsName);
  let weights: Uint8Array;
  try {
    weights = await readRegularFile(weightsPath, { what: 'weights file' });
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError('load', `cannot read ${weightsPath}: ${(e as Error).message}`);
  }
  try {
    return fromMemory<M>({ modelJson, weights });
  } catch (e) {
    // fromMemory knows the files only by name; name them by path, as every other error here does.
    if (e instanceof FormatError && (e.op === 'model.json' || e.op === weightsName)) {
      throw new FormatError(e.op === 'model.json' ? jsonPath : weightsPath, e.message.slice(e.op.length + 2));
    }
    throw e;
  }
}
