/**
 * Generates what the site needs before `vitepress build` (or `dev`):
 * - public/data/mnist/: the MNIST subset for the browser examples
 *   (scripts/mnist-subset.ts, skipped when the files are already there);
 * - public/data/names.txt: the names the GPT guide trains on (scripts/names-data.ts);
 * - api/: the API reference, markdown written by TypeDoc from the TSDoc of
 *   every package's src/index.ts (a page per package and one per class),
 *   plus api/sidebar.json for the config; its `@example` blocks that run as
 *   they are become runnable examples (scripts/api-examples.ts);
 * - .vitepress/prerendered.json: every example's output, the reference's
 *   included, run once in Node (scripts/prerender.ts), which the pages show
 *   until the reader runs them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name) => join(root, 'node_modules', '.bin', name);
const t0 = Date.now();

const mnistDir = join(root, 'public', 'data', 'mnist');
const mnistFiles = ['train-2000-images.idx', 'train-2000-labels.idx', 'test-500-images.idx', 'test-500-labels.idx'];
if (mnistFiles.every((f) => existsSync(join(mnistDir, f)))) {
  console.log('prepare: MNIST subset already in public/data/mnist');
} else {
  execFileSync(bin('tsx'), ['--conditions=@bp/source', join(root, 'scripts', 'mnist-subset.ts'), mnistDir], {
    stdio: 'inherit',
    cwd: root,
  });
}

if (existsSync(join(root, 'public', 'data', 'names.txt'))) {
  console.log('prepare: names already in public/data/names.txt');
} else {
  execFileSync(bin('tsx'), ['--conditions=@bp/source', join(root, 'scripts', 'names-data.ts'), join(root, 'public', 'data')], {
    stdio: 'inherit',
    cwd: root,
  });
}

rmSync(join(root, 'api'), { recursive: true, force: true });
execFileSync(bin('typedoc'), ['--options', join(root, 'typedoc.json')], { stdio: 'inherit', cwd: root });

// One page per package (its functions, interfaces, types and constants) and one per class
// (TypeDoc's "members" strategy with classes in their own files); the sidebar nests the classes.
const pkgs = readdirSync(join(root, 'api', '@bp')).filter((f) => existsSync(join(root, 'api', '@bp', f, 'index.md')));
const order = ['tensor', 'autograd', 'layers', 'losses', 'optim', 'datasets', 'onnx', 'backend-gpu'];
pkgs.sort((a, b) => order.indexOf(a) - order.indexOf(b));
const sidebar = pkgs.map((p) => {
  const classDir = join(root, 'api', '@bp', p, 'classes');
  const classes = existsSync(classDir)
    ? readdirSync(classDir)
        .filter((f) => f.endsWith('.md'))
        .map((f) => f.slice(0, -3))
        .sort()
    : [];
  return {
    text: `@bp/${p}`,
    link: `/api/@bp/${p}/`,
    collapsed: p !== 'tensor',
    items: classes.map((c) => ({ text: c, link: `/api/@bp/${p}/classes/${c}` })),
  };
});
writeFileSync(join(root, 'api', 'sidebar.json'), JSON.stringify(sidebar, null, 2) + '\n');
console.log(`prepare: API reference for ${pkgs.length} packages, ${((Date.now() - t0) / 1000).toFixed(1)} s`);

// The reference's @example blocks that run as they are become runnable examples; then every example is pre-rendered.
execFileSync(bin('tsx'), ['--conditions=@bp/source', join(root, 'scripts', 'api-examples.ts')], { stdio: 'inherit', cwd: root });
execFileSync(bin('tsx'), ['--conditions=@bp/source', join(root, 'scripts', 'prerender.ts')], { stdio: 'inherit', cwd: root });
