#!/usr/bin/env node
// Runs the first ```ts example of the root README and of every published
// package's README against the packages' TypeScript sources, and compares what it prints with
// the example's own comments: a line `console.log(expr); // 4` must print `4`
// (whitespace ignored, so `[[7, 10], [15, 22]]` matches Node's
// `[ [ 7, 10 ], [ 15, 22 ] ]`), and the expected lines must appear in order.
// An example that users copy and that silently drifted from the API is worse
// than none.
//
// Each example is bundled with esbuild from the packages' sources (so no build
// is needed); imports of anything but @bp/* stay external and resolve from the
// README's own package, where the bundle is written.
//
// Usage: node scripts/readme-check.mjs [package-dir ...]   (default: all)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TIMEOUT_MS = 60_000;

/**
 * Published packages only: a private package's README (an internal test suite,
 * say) documents tools for the repository, not code users copy.
 */
function isPublished(dir) {
  const manifest = path.join(dir, 'package.json');
  return fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).private !== true;
}

/** [README path, folder whose node_modules resolve its imports]. */
function targets() {
  const requested = process.argv.slice(2);
  const dirs = requested.length
    ? requested.map((d) => path.resolve(d))
    : [
        root,
        ...fs
          .readdirSync(path.join(root, 'packages'))
          .map((d) => path.join(root, 'packages', d))
          .filter(isPublished),
      ];
  return dirs.filter((d) => fs.existsSync(path.join(d, 'README.md'))).map((d) => [path.join(d, 'README.md'), d]);
}

/** The first ```ts block of a markdown file, or null. */
function firstExample(markdown) {
  const m = /```ts\n([\s\S]*?)```/.exec(markdown);
  return m ? m[1] : null;
}

/** Expected printed lines: the trailing comment of each `console.log(...)` line. */
function expectations(code) {
  return code
    .split('\n')
    .map((line) => /^\s*console\.log\(.*\);\s*\/\/\s*(.+)$/.exec(line))
    .filter(Boolean)
    .map((m) => m[1].trim());
}

const squash = (s) => s.replace(/\s+/g, '');

/**
 * Resolves `@bp/<name>[/sub]` to that package's source through the
 * `@bp/source` condition of its exports map, whichever README imports it (a
 * package's README may use packages it does not depend on, and itself by
 * name); every other bare import stays external and Node resolves it at run
 * time from the README's package, where the bundle is written.
 */
const sourcesAndExternals = {
  name: 'bp-sources',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      const m = /^@bp\/([^/]+)(\/.*)?$/.exec(args.path);
      if (!m) return { path: args.path, external: true };
      const pkgDir = path.join(root, 'packages', m[1]);
      const manifest = path.join(pkgDir, 'package.json');
      if (!fs.existsSync(manifest)) return { errors: [{ text: `no package ${args.path} under packages/` }] };
      const entry = JSON.parse(fs.readFileSync(manifest, 'utf8')).exports?.[`.${m[2] ?? ''}`];
      const source = typeof entry === 'object' && entry !== null ? entry['@bp/source'] : undefined;
      if (!source) return { errors: [{ text: `${args.path} has no @bp/source export in packages/${m[1]}/package.json` }] };
      const file = path.resolve(pkgDir, source);
      if (!fs.existsSync(file)) return { errors: [{ text: `${args.path}: ${path.relative(root, file)} does not exist` }] };
      return { path: file };
    });
  },
};

let failed = 0;
for (const [readme, resolveDir] of targets()) {
  const name = path.relative(root, readme);
  const code = firstExample(fs.readFileSync(readme, 'utf8'));
  if (code === null) {
    console.log(`  FAIL ${name}: no \`\`\`ts example`);
    failed++;
    continue;
  }
  const outDir = path.join(resolveDir, 'node_modules', '.cache', 'readme-check');
  const outfile = path.join(outDir, 'example.mjs');
  let problem = null;
  try {
    await esbuild.build({
      stdin: { contents: code, resolveDir, sourcefile: name, loader: 'ts' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['@bp/source'],
      plugins: [sourcesAndExternals],
      outfile,
      logLevel: 'silent',
    });
    const run = spawnSync(process.execPath, [outfile], { encoding: 'utf8', timeout: TIMEOUT_MS, cwd: resolveDir });
    if (run.status !== 0) {
      problem = `exited ${run.status ?? run.signal}: ${(run.stderr || '').trim().split('\n').slice(0, 6).join('\n        ')}`;
    } else {
      const printed = run.stdout.split('\n').map(squash);
      let at = 0;
      for (const want of expectations(code)) {
        const i = printed.indexOf(squash(want), at);
        if (i < 0) {
          problem = `expected it to print \`${want}\`; it printed:\n        ${run.stdout.trim().split('\n').join('\n        ')}`;
          break;
        }
        at = i + 1;
      }
    }
  } catch (e) {
    problem = `does not bundle: ${(e.errors ?? []).map((x) => x.text).join('; ') || e.message}`;
  }
  if (problem) failed++;
  console.log(`${problem ? '  FAIL' : '  ok  '} ${name}${problem ? `: ${problem}` : ''}`);
}

if (failed) {
  console.error(`readme-check: FAIL: ${failed} README example(s) above do not run as documented`);
  process.exit(1);
}
console.log('readme-check: PASS: every README example runs and prints what its comments say');
