// Bundles a benchmark script (default bench/matmul.ts) against the workspace
// sources (the `@bp/source` condition) and runs it with the remaining
// arguments: `pnpm --filter @bp/backend-gpu bench`, or
// `node bench/bench.mjs bench/mnist-mlp.ts --epochs 1`.
// BENCH_SIZES=256,512, BENCH_REPS=5 and BENCH_MLP_STEPS=1875 narrow or widen the matmul run.
import { build } from 'esbuild';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Inside the package's node_modules, so the bundle resolves gpu.js like the package does.
const dir = fileURLToPath(new URL(`../node_modules/.cache/bench-${process.pid}`, import.meta.url));
mkdirSync(dir, { recursive: true });
const script = process.argv[2]?.endsWith('.ts')
  ? resolve(process.argv.splice(2, 1)[0])
  : fileURLToPath(new URL('./matmul.ts', import.meta.url));
const outfile = join(dir, 'bench.mjs');
try {
  await build({
    entryPoints: [script],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@bp/source'],
    // gpu.js stays a runtime import so Node loads its Node build (with headless-gl support).
    external: ['gpu.js', 'playwright-core', 'esbuild'],
    outfile,
    logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  await import(pathToFileURL(outfile).href);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
