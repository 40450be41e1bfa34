#!/usr/bin/env node
// Installs @bp/tensor and @bp/autograd the way users get them, from the
// tarballs `pnpm pack` makes, into an empty folder with plain npm and nothing
// else, then runs the autograd seed example from ESM and from CommonJS. Then,
// in a second empty folder, @bp/tensor and @bp/layers alone: a model saved
// (after compile by name) from the workspace's builds loads there and predicts
// the same numbers, from ESM and CommonJS, without @bp/autograd, @bp/optim or
// @bp/losses installed, and compile by name and fit say which import is
// missing. This
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
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');
const PACKAGES = ['tensor', 'autograd', 'layers'];
/** Each app: the packages installed into it from their tarballs, and nothing else. */
const APPS = { autograd: ['tensor', 'autograd'], inference: ['tensor', 'layers'] };

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-pack-'));
const tarDir = path.join(work, 'tarballs');
const app = path.join(work, 'app');
const inferenceApp = path.join(work, 'inference-app');
fs.mkdirSync(tarDir);
fs.mkdirSync(app);
fs.mkdirSync(inferenceApp);

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

/** Every packed tarball, once packed. */
let allTarballs = [];

/** Installs the tarballs of `pkgs` (file names `bp-<name>-<version>.tgz`) into `dir` with plain npm. */
function install(dir, pkgs) {
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'bp-pack-check', private: true }, null, 2));
  const tarballs = pkgs.map((p) => allTarballs.find((t) => path.basename(t).startsWith(`bp-${p}-`)));
  // No lockfile, audit or funding calls: the tarballs have no registry
  // dependencies, so the install must succeed from them alone.
  run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error', ...tarballs], dir);
}

/**
 * A model compiled by name and saved with the workspace's builds loads in an
 * app with only @bp/tensor and @bp/layers installed, and predicts the same
 * numbers from ESM and CommonJS; compile by name and fit there name the
 * import they miss.
 */
async function checkInference() {
  const dist = (pkg) => pathToFileURL(path.join(root, 'packages', pkg, 'dist', 'index.js')).href;
  const tensorPkg = await import(dist('tensor'));
  const layersPkg = await import(dist('layers'));
  await import(dist('optim'));
  await import(dist('losses'));
  tensorPkg.manualSeed(7);
  const model = new layersPkg.Sequential([
    new layersPkg.Dense(8, { inputShape: [4], activation: 'relu' }),
    new layersPkg.Dense(3, { activation: 'softmax' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['sparse_categorical_accuracy'] });
  const x = [
    [0.5, -1, 2, 0],
    [1, 1, -0.25, 3],
  ];
  const want = JSON.stringify(Array.from(model.predict(tensorPkg.tensor(x)).dataSync()));
  const modelDir = path.join(inferenceApp, 'model');
  await layersPkg.save(model, modelDir);

  install(inferenceApp, APPS.inference);
  const installed = fs.readdirSync(path.join(inferenceApp, 'node_modules', '@bp')).sort();
  expect(
    JSON.stringify(installed) === JSON.stringify([...APPS.inference].sort()),
    `inference app: node_modules/@bp holds only ${APPS.inference.join(', ')} (found ${installed.join(', ')})`,
  );
  const manifest = JSON.parse(fs.readFileSync(path.join(inferenceApp, 'node_modules', '@bp', 'layers', 'package.json'), 'utf8'));
  expect(
    !JSON.stringify(manifest.dependencies ?? {}).includes('@bp/'),
    `@bp/layers has no @bp/* dependencies, only peers (${JSON.stringify(manifest.dependencies ?? {})})`,
  );
  const ranges = JSON.stringify([manifest.dependencies, manifest.peerDependencies, manifest.optionalDependencies]);
  expect(
    !ranges.includes('workspace:'),
    `@bp/layers@${manifest.version}: no workspace: ranges in the published manifest (peers ${JSON.stringify(manifest.peerDependencies)})`,
  );

  const predictBody = `
const model = await load('model');
const y = model.predict(tensor(${JSON.stringify(x)}));
console.log(JSON.stringify(Array.from(y.dataSync())));`;
  fs.writeFileSync(
    path.join(inferenceApp, 'predict.mjs'),
    `import { tensor } from '@bp/tensor';\nimport { load } from '@bp/layers';\n${predictBody}`,
  );
  fs.writeFileSync(
    path.join(inferenceApp, 'predict.cjs'),
    `const { tensor } = require('@bp/tensor');\nconst { load } = require('@bp/layers');\n(async () => {${predictBody}\n})();`,
  );
  for (const file of ['predict.mjs', 'predict.cjs']) {
    let got;
    try {
      got = run(process.execPath, [file], inferenceApp).trim();
    } catch (e) {
      got = `threw: ${String(e.stderr || e.message)
        .trim()
        .split('\n')
        .slice(0, 5)
        .join(' | ')}`;
    }
    expect(
      got === want,
      `${file === 'predict.mjs' ? 'ESM' : 'CJS'}: load(model) and predict with @bp/tensor + @bp/layers alone give the workspace's outputs${got === want ? '' : `: ${got} (want ${want})`}`,
    );
  }

  fs.writeFileSync(
    path.join(inferenceApp, 'train.mjs'),
    `import { tensor } from '@bp/tensor';
import { load } from '@bp/layers';
const model = await load('model');
const messages = [];
try { model.compile({ optimizer: 'adam', loss: (p) => p.sum() }); } catch (e) { messages.push(e.message); }
try { model.compile({ optimizer: { step() {}, zeroGrad() {} }, loss: 'mse' }); } catch (e) { messages.push(e.message); }
model.compile({ optimizer: { step() {}, zeroGrad() {} }, loss: (p) => p.sum() });
await model.fit(tensor([[1, 2, 3, 4]]), tensor([0], { dtype: 'int32' })).catch((e) => messages.push(e.message));
console.log(JSON.stringify(messages));`,
  );
  let messages;
  try {
    messages = JSON.parse(run(process.execPath, ['train.mjs'], inferenceApp));
  } catch (e) {
    messages = [
      `threw: ${String(e.stderr || e.message)
        .trim()
        .split('\n')
        .slice(0, 5)
        .join(' | ')}`,
    ];
  }
  const wanted = [
    /compile: .*add `import '@bp\/optim'`/,
    /compile: .*add `import '@bp\/losses'`/,
    /fit: training needs @bp\/autograd: add `import '@bp\/autograd'`/,
  ];
  expect(
    messages.length === 3 && wanted.every((re, i) => re.test(messages[i])),
    `without @bp/optim, @bp/losses, @bp/autograd: compile by name and fit name the import to add (${messages.join(' | ')})`,
  );
}

try {
  for (const pkg of PACKAGES) {
    const dir = path.join(root, 'packages', pkg);
    if (!fs.existsSync(path.join(dir, 'dist', 'index.js'))) {
      throw new Error(`packages/${pkg}/dist is missing; run \`pnpm build\` first`);
    }
    run('pnpm', ['pack', '--pack-destination', tarDir], dir);
  }
  allTarballs = fs
    .readdirSync(tarDir)
    .filter((f) => f.endsWith('.tgz'))
    .map((f) => path.join(tarDir, f));
  expect(
    allTarballs.length === PACKAGES.length,
    `pnpm pack made ${PACKAGES.length} tarballs (${allTarballs.map((t) => path.basename(t)).join(', ')})`,
  );
  install(app, APPS.autograd);

  for (const pkg of APPS.autograd) {
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
      out = `threw: ${String(e.stderr || e.message)
        .trim()
        .split('\n')
        .slice(0, 5)
        .join(' | ')}`;
    }
    expect(out === '4', `${file === 'example.mjs' ? 'ESM import' : 'CJS require'}: x = 2, x.pow(2).backward(), x.grad = ${out} (want 4)`);
  }

  // An ESM import of @bp/tensor and a CommonJS require of @bp/autograd load two copies of @bp/tensor:
  // backward() must say so rather than only ask for @bp/autograd, which is there.
  fs.writeFileSync(
    path.join(app, 'mixed.mjs'),
    `import { createRequire } from 'node:module';
import { tensor } from '@bp/tensor';
createRequire(import.meta.url)('@bp/autograd');
try {
  tensor(2, { requiresGrad: true }).pow(2).backward();
  console.log('no error');
} catch (e) {
  console.log(e.message);
}
`,
  );
  const mixed = run(process.execPath, ['mixed.mjs'], app).trim();
  expect(
    /Two copies of @bp\/tensor are loaded .*load @bp\/tensor and @bp\/autograd the same way/.test(mixed),
    `ESM import + CJS require: backward() names the two copies of @bp/tensor (${mixed})`,
  );

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

  await checkInference();
} catch (e) {
  failures.push(e.stderr ? `${e.message}\n${e.stderr}` : e.message);
  console.log(`  FAIL ${failures.at(-1)}`);
} finally {
  if (!keep) fs.rmSync(work, { recursive: true, force: true });
}

if (failures.length === 0) {
  console.log(
    'pack-check: PASS: @bp/tensor + @bp/autograd install alone from their tarballs and compute grad 4 in ESM and CJS; ' +
      `@bp/tensor + @bp/layers alone load a saved model and predict${keep ? ` (kept ${work})` : ''}`,
  );
} else {
  console.error(`pack-check: FAIL: ${failures.length} problem(s) above${keep ? ` (kept ${work})` : ''}`);
  process.exit(1);
}
