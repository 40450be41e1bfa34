/**
 * Test helpers that drive the real `bp` binary as a child process, the way
 * users run it, and write small MNIST-format IDX files for it to train on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The launcher users run (`bin/bp.mjs`). */
export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'bp.mjs');

/** What a finished run of the binary produced. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** An environment without colour or CI hints, so output is the plain, piped form. */
export function plainEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.FORCE_COLOR;
  return env;
}

/** Starts `bp args...`; collect its output with {@link finish}. */
export function start(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: opts.env ?? plainEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Waits for `child` to exit and returns its status and output. */
export function finish(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs `bp args...` to completion. */
export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return finish(start(args, opts));
}

/** A fresh temporary directory. */
export function tempDir(prefix = 'bp-cli-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

function idxImages(images: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(16 + images.length * 784);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0x00000803);
  v.setUint32(4, images.length);
  v.setUint32(8, 28);
  v.setUint32(12, 28);
  images.forEach((img, i) => out.set(img, 16 + i * 784));
  return out;
}

function idxLabels(labels: number[]): Uint8Array {
  const out = new Uint8Array(8 + labels.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0x00000801);
  v.setUint32(4, labels.length);
  out.set(labels, 8);
  return out;
}

/**
 * A 28x28 image of class `k` (0-9): a bright horizontal bar whose row is set
 * by the class, thickened and shifted a little by `variant`, so a small
 * network can learn the classes in one or two epochs.
 */
export function barImage(k: number, variant: number): Uint8Array {
  const img = new Uint8Array(784);
  const row = 3 + 2 * k + (variant % 2);
  const from = 4 + (variant % 5);
  for (let c = from; c < from + 16; c++) {
    img[row * 28 + c] = 255;
    img[(row + 1) * 28 + c] = 128;
  }
  return img;
}

/** Writes the four MNIST IDX files (raw) with `nTrain` and `nTest` bar images into a new temp directory. */
export async function writeTinyMnist(nTrain = 300, nTest = 100): Promise<string> {
  const dir = await tempDir('bp-mnist-');
  const make = (n: number, offset: number) => {
    const images: Uint8Array[] = [];
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const k = (i * 7 + offset) % 10;
      images.push(barImage(k, i + offset));
      labels.push(k);
    }
    return { images, labels };
  };
  const train = make(nTrain, 0);
  const test = make(nTest, 3);
  await writeFile(join(dir, 'train-images-idx3-ubyte'), idxImages(train.images));
  await writeFile(join(dir, 'train-labels-idx1-ubyte'), idxLabels(train.labels));
  await writeFile(join(dir, 't10k-images-idx3-ubyte'), idxImages(test.images));
  await writeFile(join(dir, 't10k-labels-idx1-ubyte'), idxLabels(test.labels));
  return dir;
}
