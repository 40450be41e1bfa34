// Bundles the TypeScript benchmark against the workspace sources (the `@bp/source`
// condition) with esbuild, then runs it with the flags given to `pnpm bench`.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const outfile = fileURLToPath(new URL('../dist/bench.mjs', import.meta.url));
await build({
  entryPoints: [`${here}main.ts`],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['@bp/source'],
  // Loaded at run time by the browser section (src/browser-bench.ts), which skips itself without them.
  external: ['esbuild', 'playwright-core'],
  // tfjs' emscripten glue expects CommonJS globals; the wasm files are located with setWasmPaths.
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; import { dirname as __dn } from 'node:path'; import { fileURLToPath as __fu } from 'node:url'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);",
  },
  logLevel: 'warning',
});
const r = spawnSync(process.execPath, [outfile, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
