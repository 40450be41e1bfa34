// Bundles bench/matmul.ts against the workspace sources (the `@bp/source`
// condition) and runs it: `pnpm --filter @bp/backend-gpu bench`.
// BENCH_SIZES=256,512 and BENCH_REPS=5 narrow or widen the run.
import { build } from 'esbuild';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Inside the package's node_modules, so the bundle resolves gpu.js like the package does.
const dir = fileURLToPath(new URL(`../node_modules/.cache/bench-${process.pid}`, import.meta.url));
mkdirSync(dir, { recursive: true });
const outfile = join(dir, 'matmul.mjs');
try {
  await build({
    entryPoints: [fileURLToPath(new URL('./matmul.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@bp/source'],
    // gpu.js stays a runtime import so Node loads its Node build (with headless-gl support).
    external: ['gpu.js'],
    outfile,
    logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  await import(pathToFileURL(outfile).href);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
