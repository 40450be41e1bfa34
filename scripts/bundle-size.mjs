#!/usr/bin/env node
// Bundles the autograd seed example for the browser, once with bp and once
// with TensorFlow.js, and prints both sizes as JSON. With --check it fails when
// bp's gzipped bundle is over the budget, and names the heaviest inputs so the
// fix starts from facts.
//
// The bp bundle is built from the packages' dist (what users install), so run
// `pnpm build` first; the entries live in bench/size/ because that is where
// the TensorFlow.js packages are installed.
//
// Each bundle is then loaded into headless Chromium (when one is found:
// $CHROMIUM_PATH or /usr/bin/chromium) and must print the gradient 4, so the
// numbers are for code that works in a browser, not merely code that bundles.
//
// Usage: node scripts/bundle-size.mjs [--check] [--out DIR]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sizeDir = path.join(root, 'bench', 'size');
/**
 * Gzipped budget for the bp example, in bytes (67 KB). Every op is a Tensor method, so
 * every op and its gradient rule is reachable from any program: the budget bounds the
 * whole library, about three quarters of TensorFlow.js' 88 KB for the same example. (It was 45 KB
 * until the WebAssembly GELU, layer-norm, transpose and batched-product kernels and their
 * TypeScript counterparts added about 5 KB, 49 KB until the float32 GELU and softmax
 * kernels added about 0.9 KB, and 50 KB until the kernels of the softmax family's gradients
 * and log-sum-exp, the fused probability NLL, the side-by-side linear gradients and ReLU with
 * max pooling in one kernel added about 1.9 KB, and 52 KB until gradient clipping's fused
 * kernels, GELU on two threads, layer norm's four running sums and the weight gradient finished
 * on a worker (its kernel, the pool's detach and join, the backend's wait-on-use) added about
 * 1.4 KB, and 54 KB until the fused attention kernels, forward and backward, in both module
 * variants (plain and fused multiply-add), their TypeScript driver and the backward pass's
 * joining of slice gradients added about 1.9 KB.) GELU's forward kernel computing its derivative
 * for the backward pass, beside a GELU-only kernel for inference, added 0.8 KB, and (at 57 KB)
 * convolution, ReLU and pooling as one op (the op, its gradient rule, the backend's driver and
 * `Sequential`'s matching of the three layers) about 0.6 KB more; then (at 58 KB) the unpool
 * kernel, and im2col and col2im copying and adding a 'same' convolution's rows as blocks, 0.9 KB;
 * then (at 59 KB, after 0.3 KB for packed self-attention) the SIMD kernels of exp, sigmoid, tanh,
 * log, expm1 and log1p with their float32 definitions, coefficient table and two-thread split, 2.9 KB;
 * then (at 62 KB) the Adam kernel's two exact paths for moments near zero, which keep float32
 * arithmetic off subnormal values (an assist of a hundred cycles or more per operation on many Intel
 * processors: Adam 25.7 -> 3.4 ns a value there), 0.5 KB, and the same for scaling by a number,
 * dividing, square roots and squares (SGD's momentum, RMSprop's averages), 0.4 KB; then (at 63 KB)
 * PyTorch's behaviour on edge cases (the `where` method's argument order, `concat` and `stack` as
 * methods, NaN bounds of `clamp`, zero-dimensional index-select and softmax, one image `[c, h, w]`
 * through convolutions and poolings, the errors of `arange`, integer `pow`, scalar `concat` and a
 * `grad` inside another), 0.6 KB; then (at 64 KB) packing B eight panels at a time in the product
 * kernel, 0.25 KB, and `grad` differentiating toward its arguments only with the second round of
 * argument checks (gradient seeds, the `grad` setter, `gradcheck`'s tolerances, `einsum`'s size-1
 * broadcasting, `conv1d`'s own errors, the WebAssembly memory limit), about 1 KB; then (at 65 KB)
 * Adam's large parameters in the threads' shared memory (the kernel's split task, the slab there,
 * products reading a weight in place), `backward` checking only the values each gradient reads,
 * and numbers meeting an int32 tensor checked against its range, together about 1.3 KB.
 */
const BUDGET = 67 * 1024;

const args = process.argv.slice(2);
const check = args.includes('--check');
const outIdx = args.indexOf('--out');
const outDir = outIdx >= 0 ? path.resolve(args[outIdx + 1]) : fs.mkdtempSync(path.join(os.tmpdir(), 'bp-size-'));

for (const pkg of ['tensor', 'autograd']) {
  const dist = path.join(root, 'packages', pkg, 'dist', 'index.js');
  if (!fs.existsSync(dist)) {
    console.error(`bundle-size: FAIL: ${path.relative(root, dist)} is missing; run \`pnpm build\` first`);
    process.exit(1);
  }
}

/**
 * Bundles one entry the way a browser app would (minified ESM, browser
 * conditions, production mode) and measures it.
 */
async function measure(name, entry) {
  const outfile = path.join(outDir, `${name}.mjs`);
  const result = await esbuild.build({
    entryPoints: [path.join(sizeDir, entry)],
    absWorkingDir: sizeDir,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    define: { 'process.env.NODE_ENV': '"production"' },
    metafile: true,
    outfile,
    logLevel: 'error',
  });
  const code = fs.readFileSync(outfile);
  fs.writeFileSync(path.join(outDir, `${name}.meta.json`), JSON.stringify(result.metafile));
  return {
    outfile,
    minified: code.length,
    gzipped: zlib.gzipSync(code, { level: 9 }).length,
    inputs: result.metafile.outputs[Object.keys(result.metafile.outputs).find((k) => k.endsWith('.mjs'))].inputs,
  };
}

/** The inputs that contribute most bytes to the minified output, grouped by package. */
function heaviest(inputs, n = 10) {
  const byPackage = new Map();
  for (const [file, { bytesInOutput }] of Object.entries(inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file) ?? /packages\/([^/]+)\//.exec(file);
    const key = m ? m[1] : file;
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
  }
  const files = Object.entries(inputs)
    .map(([file, { bytesInOutput }]) => ({ file: file.replace(/^(\.\.\/)+/, ''), bytes: bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, n);
  return { byPackage: Object.fromEntries([...byPackage].sort((a, b) => b[1] - a[1])), files };
}

/** Path of a Chromium to run the bundles in, or null when there is none. */
function findChromium() {
  for (const p of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (p && fs.existsSync(p)) return p;
  }
  return null;
}

/**
 * Loads each bundle as a module script in a blank page and returns what it
 * logged first (or the error it threw), keyed by bundle name.
 */
async function runInBrowser(executablePath, bundles) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  const printed = {};
  try {
    for (const [name, file] of Object.entries(bundles)) {
      const page = await browser.newPage();
      const first = new Promise((resolve) => {
        page.on('console', (m) => resolve(m.text()));
        page.on('pageerror', (e) => resolve(`error: ${e.message}`));
      });
      await page.setContent('<!doctype html><html><head></head><body></body></html>');
      await page.addScriptTag({ content: fs.readFileSync(file, 'utf8'), type: 'module' });
      printed[name] = await Promise.race([first, new Promise((r) => setTimeout(() => r('timeout: printed nothing in 10 s'), 10_000))]);
      await page.close();
    }
  } finally {
    await browser.close();
  }
  return printed;
}

const bp = await measure('bp', 'bp-grad.js');
const tfjs = await measure('tfjs', 'tfjs-grad.js');
const chromiumPath = findChromium();
const printed = chromiumPath ? await runInBrowser(chromiumPath, { bp: bp.outfile, tfjs: tfjs.outfile }) : null;
const report = {
  example: 'x = 2; y = x^2; dy/dx = 4 (browser bundle, esbuild --minify, gzip -9)',
  bp: { minifiedBytes: bp.minified, gzippedBytes: bp.gzipped },
  tfjs: { minifiedBytes: tfjs.minified, gzippedBytes: tfjs.gzipped, packages: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu'] },
  ratio: {
    minified: Number((tfjs.minified / bp.minified).toFixed(2)),
    gzipped: Number((tfjs.gzipped / bp.gzipped).toFixed(2)),
  },
  budget: { gzippedBytes: BUDGET, ok: bp.gzipped <= BUDGET },
  browserCheck: printed
    ? { chromium: chromiumPath, printed, ok: Number(printed.bp) === 4 && Number(printed.tfjs) === 4 }
    : { chromium: null, ok: null, note: 'no Chromium found (set CHROMIUM_PATH); bundles were not run' },
  bpHeaviest: heaviest(bp.inputs),
  outDir,
};
console.log(JSON.stringify(report, null, 2));

if (check) {
  const kb = (b) => `${(b / 1024).toFixed(1)} KB`;
  if (report.browserCheck.ok === false) {
    console.error(`bundle-size: FAIL: a bundle did not print the gradient 4 in Chromium: ${JSON.stringify(printed)}`);
    process.exit(1);
  }
  if (report.budget.ok) {
    console.log(
      `bundle-size: PASS: bp ${kb(bp.gzipped)} gzipped (budget ${kb(BUDGET)}), TensorFlow.js ${kb(tfjs.gzipped)} (${report.ratio.gzipped}x)`,
    );
  } else {
    console.error(`bundle-size: FAIL: bp ${kb(bp.gzipped)} gzipped is over the ${kb(BUDGET)} budget; heaviest inputs above (bpHeaviest)`);
    process.exit(1);
  }
}
