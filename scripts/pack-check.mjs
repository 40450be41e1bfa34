#!/usr/bin/env node
// Installs @bp/tensor and @bp/autograd the way users get them, from the
// tarballs `pnpm pack` makes, into an empty folder with plain npm and nothing
// else, then runs the autograd seed example from ESM and from CommonJS. This
// catches what workspace links hide: files missing from `files`, broken
// exports maps, `workspace:` ranges left in a manifest, a dependency that only
// resolves inside the monorepo, and gpu.js (the optional GPU backend's heavy
// dependency) leaking into the core install.
//
// Needs the packages built (`pnpm build`). Usage: node scripts/pack-check.mjs [--keep]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');
const PACKAGES = ['tensor', 'autograd'];

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-pack-'));
const tarDir = path.join(work, 'tarballs');
const app = path.join(work, 'app');
fs.mkdirSync(tarDir);
fs.mkdirSync(app);

const failures = [];
/** Records a failed expectation; the run goes on so one report lists them all. */
function expect(ok, message) {
  if (!ok) failures.push(message);
  console.log(`${ok ? '  ok  ' : '  FAIL'} ${message}`);
}

/** Runs a command and returns its stdout; its stderr passes through on failure. */
function run(cmd, args, cwd) {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

try {
  for (const pkg of PACKAGES) {
    const dir = path.join(root, 'packages', pkg);
    if (!fs.existsSync(path.join(dir, 'dist', 'index.js'))) {
      throw new Error(`packages/${pkg}/dist is missing; run \`pnpm build\` first`);
    }
    run('pnpm', ['pack', '--pack-destination', tarDir], dir);
  }
  const tarballs = fs.readdirSync(tarDir).filter((f) => f.endsWith('.tgz')).map((f) => path.join(tarDir, f));
  expect(tarballs.length === PACKAGES.length, `pnpm pack made ${PACKAGES.length} tarballs (${tarballs.map((t) => path.basename(t)).join(', ')})`);

  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'bp-pack-check', private: true }, null, 2));
  // No lockfile, audit or funding calls: the tarballs have no registry
  // dependencies, so the install must succeed from them alone.
  run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error', ...tarballs], app);

  for (const pkg of PACKAGES) {
    const manifest = JSON.parse(fs.readFileSync(path.join(app, 'node_modules', '@bp', pkg, 'package.json'), 'utf8'));
    const ranges = JSON.stringify([manifest.dependencies, manifest.peerDependencies, manifest.optionalDependencies]);
    expect(!ranges.includes('workspace:'), `@bp/${pkg}@${manifest.version}: no workspace: ranges in the published manifest`);
    const files = ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts'];
    const missing = files.filter((f) => !fs.existsSync(path.join(app, 'node_modules', '@bp', pkg, f)));
    expect(missing.length === 0, `@bp/${pkg}: ships ${files.join(', ')}${missing.length ? ` (missing ${missing.join(', ')})` : ''}`);
  }

  const esm = `import { tensor } from '@bp/tensor';
import '@bp/autograd';
const x = tensor(2, { requiresGrad: true });
x.pow(2).backward();
console.log(x.grad.item());
`;
  const cjs = `const { tensor } = require('@bp/tensor');
require('@bp/autograd');
const x = tensor(2, { requiresGrad: true });
x.pow(2).backward();
console.log(x.grad.item());
`;
  fs.writeFileSync(path.join(app, 'example.mjs'), esm);
  fs.writeFileSync(path.join(app, 'example.cjs'), cjs);
  for (const file of ['example.mjs', 'example.cjs']) {
    let out;
    try {
      out = run(process.execPath, [file], app).trim();
    } catch (e) {
      out = `threw: ${String(e.stderr || e.message).trim().split('\n').slice(0, 5).join(' | ')}`;
    }
    expect(out === '4', `${file === 'example.mjs' ? 'ESM import' : 'CJS require'}: x = 2, x.pow(2).backward(), x.grad = ${out} (want 4)`);
  }

  /** Every folder named gpu.js anywhere under node_modules. */
  const gpuJs = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      if (e.name === 'gpu.js') gpuJs.push(path.relative(app, p));
      else walk(p);
    }
  };
  walk(path.join(app, 'node_modules'));
  expect(gpuJs.length === 0, `no gpu.js under node_modules${gpuJs.length ? ` (found ${gpuJs.join(', ')})` : ''}`);
} catch (e) {
  failures.push(e.stderr ? `${e.message}\n${e.stderr}` : e.message);
  console.log(`  FAIL ${failures.at(-1)}`);
} finally {
  if (!keep) fs.rmSync(work, { recursive: true, force: true });
}

if (failures.length === 0) {
  console.log(`pack-check: PASS: @bp/tensor + @bp/autograd install alone from their tarballs and compute grad 4 in ESM and CJS${keep ? ` (kept ${work})` : ''}`);
} else {
  console.error(`pack-check: FAIL: ${failures.length} problem(s) above${keep ? ` (kept ${work})` : ''}`);
  process.exit(1);
}
