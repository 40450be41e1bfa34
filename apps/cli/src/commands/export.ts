/**
 * `bp export`: a trained model in a form other tools read. `--format onnx`
 * writes an ONNX graph (dynamic batch, input `input`, output `output`, the
 * logits) for ONNX Runtime; `--format safetensors` writes the state dict
 * with PyTorch's names and dtypes and prints the PyTorch code that loads it.
 */
import { lstat, realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { type Module, Sequential, encodeSafetensors, writeFileAtomic } from '@bp/layers';
import { BpError, fmtShape } from '@bp/tensor';
import { loadModelDir } from '../model-dir.js';
import { out as c } from '../style.js';
import { torchModelCode } from '../torch-code.js';
import { RUN_FILES, writeFailureReason } from '../run-dir.js';
import { UsageError } from '../usage-error.js';

/** Formats `bp export --format` writes. */
export const EXPORT_FORMATS = ['onnx', 'safetensors'] as const;

/** Flags of `bp export`. */
export interface ExportFlags {
  format: (typeof EXPORT_FORMATS)[number];
  output?: string;
  opset?: number;
  json?: boolean;
  /** Replace an existing `--output` file. */
  overwrite?: boolean;
}

/** The state dict as safetensors bytes that PyTorch's `load_state_dict` takes (integer buffers as int64). */
export function pytorchWeights(model: Sequential): Uint8Array {
  const sd = model.stateDict();
  const int64 = Object.keys(sd).filter((k) => sd[k].dtype === 'int32');
  return encodeSafetensors(sd, { metadata: { format: 'pt', producer: 'bp' }, int64 });
}

/** The Python that rebuilds the model in PyTorch and loads `file` into it. */
export function pythonSnippet(model: Sequential, file: string, inputShape: number[] | null): string {
  const shape = inputShape ? `1, ${inputShape.join(', ')}` : '1, ...';
  return [
    'import torch',
    'from torch import nn',
    'from safetensors.torch import load_file  # pip install safetensors',
    '',
    torchModelCode(model),
    `model.load_state_dict(load_file(${JSON.stringify(file)}))`,
    'model.eval()',
    `print(model(torch.rand(${shape})))`,
  ].join('\n');
}

/**
 * The PyTorch code that loads the export, or, for a model bp writes no PyTorch module for (a GPT,
 * a layer with no PyTorch equivalent), a note saying so: the weights are written either way.
 */
function pythonSnippetOrNote(model: Module, file: string, inputShape: number[] | null): { code: string | null; note: string } {
  if (model instanceof Sequential) {
    try {
      return { code: pythonSnippet(model, file, inputShape), note: '' };
    } catch (e) {
      if (!(e instanceof BpError)) throw e;
      return { code: null, note: `No PyTorch code printed: ${e.message.replace(/^export: /, '')}.` };
    }
  }
  return {
    code: null,
    note:
      `No PyTorch code printed for a ${model.layerType}: the state dict keeps PyTorch's names and dtypes ` +
      `(load_file from safetensors.torch reads it), and the module that takes it must be written by hand.`,
  };
}

/** The file an export writes in the run's directory when no --output is given. */
function defaultOutput(flags: ExportFlags): string {
  return flags.format === 'onnx' ? 'model.onnx' : 'weights.safetensors';
}

/**
 * Refuses an output that would replace one of the run's own files, or (given with `--output`) any
 * existing file unless `--overwrite`: an export never destroys what bp did not write for it.
 */
async function checkOutput(runDir: string, output: string, flags: ExportFlags): Promise<void> {
  // Compared through symlinks: a run reached by a link (runs/latest) or an --output in a linked
  // folder names the very same files, which --overwrite must not replace either.
  const target = await physicalPath(output);
  const run = await physicalPath(runDir, true);
  const own = RUN_FILES.find((f) => join(run, f) === target);
  if (own) throw new UsageError(`--output ${output} is the run's own ${own}; choose another file`);
  let found: Awaited<ReturnType<typeof lstat>> | null = null;
  try {
    found = await lstat(output);
  } catch {
    found = null;
  }
  // Not even with --overwrite: a directory is never replaced by a file.
  if (found?.isDirectory()) {
    throw new UsageError(
      `${flags.output === undefined ? 'the output' : '--output'} ${output} is a directory; give a file path, e.g. --output ${join(output, basename(defaultOutput(flags)))}`,
    );
  }
  if (flags.output === undefined || flags.overwrite) return;
  if (found !== null) throw new UsageError(`--output ${output} exists; pass --overwrite to replace it, or choose another file`);
}

/**
 * Where `path` is on disk: its folder with every symlink resolved (as far as it exists), and its
 * own name as given, since a rename replaces a link at that name rather than the file it points
 * to. With `whole`, the last name is resolved too (`path` is a directory to look into).
 */
async function physicalPath(path: string, whole = false): Promise<string> {
  const absolute = resolve(path);
  const [folder, name] = whole ? [absolute, ''] : [dirname(absolute), basename(absolute)];
  const real = await realpath(folder).catch(() => folder);
  return name === '' ? real : join(real, name);
}

/** Runs `bp export`; returns the exit status. */
export async function runExport(runDir: string, flags: ExportFlags): Promise<number> {
  if (flags.opset !== undefined && flags.format !== 'onnx') throw new UsageError('--opset applies to --format onnx only');
  if (flags.opset !== undefined && (flags.opset < 17 || flags.opset > 21))
    throw new UsageError(`--opset must be 17 to 21, got ${flags.opset}`);
  const { model, run } = await loadModelDir(runDir);
  const inputShape = run?.inputShape ?? model.inputShape ?? null;
  const output = flags.output ?? join(runDir, defaultOutput(flags));
  await checkOutput(runDir, output, flags);
  let bytes: Uint8Array;
  let snippet: { code: string | null; note: string } | null = null;
  if (flags.format === 'onnx') {
    if (!inputShape) {
      throw new BpError(
        'export',
        `${runDir} records no input shape (no run.json, and the model declares no inputShape), so the ONNX input cannot be sized`,
      );
    }
    const { exportOnnx, DEFAULT_OPSET } = await import('@bp/onnx');
    bytes = exportOnnx(model, { inputShape, opset: flags.opset ?? DEFAULT_OPSET });
  } else {
    bytes = pytorchWeights(model);
    snippet = pythonSnippetOrNote(model, output, inputShape);
  }
  try {
    await writeFileAtomic(output, bytes);
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new BpError(
      'export',
      `cannot write ${output}: ${missing ? `the directory ${dirname(output)} does not exist` : writeFailureReason(e)}`,
    );
  }
  if (flags.json) {
    const result: Record<string, unknown> = { model: runDir, format: flags.format, output, bytes: bytes.length };
    if (flags.format === 'onnx')
      Object.assign(result, {
        opset: flags.opset ?? 17 /* DEFAULT_OPSET */,
        input: 'input',
        inputShape: ['batch', ...inputShape!],
        outputName: 'output',
      });
    if (snippet?.code) result.python = snippet.code;
    else if (snippet) result.note = snippet.note;
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  }
  process.stdout.write(
    `${c.bold(`bp export ${runDir}`)} ${c.dim(`(${flags.format}, ${bytes.length.toLocaleString('en-US')} bytes)`)}\nwrote ${output}\n`,
  );
  if (flags.format === 'onnx') {
    const inputType = model.layerType === 'GPT' ? 'int64 character ids' : 'float32';
    process.stdout.write(
      `input 'input' ${fmtShape(['batch' as unknown as number, ...inputShape!])} ${inputType}, output 'output' (logits); run it with onnxruntime-node or onnxruntime-web\n`,
    );
  } else if (snippet?.code) {
    process.stdout.write(`\nLoad it in PyTorch:\n\n${snippet.code}\n`);
  } else {
    process.stdout.write(`\n${snippet?.note ?? ''}\n`);
  }
  return 0;
}
