// One-off generator for the package manifests' shared shape (kept for reference).
import fs from 'node:fs';
const pkgs = {
  tensor: { desc: 'N-d tensors, broadcasting ops, the backend interface and the default CPU backend.', deps: {}, peer: false },
  autograd: { desc: 'Reverse-mode automatic differentiation for @bp/tensor: backward(), noGrad, gradcheck.', deps: {}, peer: true, sideEffects: true },
  layers: { desc: 'Modules (Linear, Conv2d, ...), Sequential and a Keras-style compile/fit/evaluate.', deps: { '@bp/autograd': 'workspace:^', '@bp/losses': 'workspace:^', '@bp/optim': 'workspace:^' }, peer: true },
  losses: { desc: 'Loss functions: MSE, cross-entropy and friends, numerically stable.', deps: {}, peer: true },
  optim: { desc: 'Optimizers (SGD, Adam, AdamW, RMSprop, Adagrad), schedulers and gradient clipping.', deps: {}, peer: true },
  datasets: { desc: 'MNIST from the original IDX files, synthetic datasets and a DataLoader.', deps: {}, peer: true },
  'backend-gpu': { desc: 'A gpu.js backend for @bp/tensor: the same ops on the GPU.', deps: {}, peer: true },
};
for (const [dir, p] of Object.entries(pkgs)) {
  const file = `packages/${dir}/package.json`;
  const old = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  const json = {
    name: `@bp/${dir}`,
    version: old.version ?? '0.1.0',
    description: p.desc,
    license: 'MIT',
    type: 'module',
    sideEffects: p.sideEffects ?? false,
    engines: { node: '>=20' },
    files: ['dist', 'src', '!src/**/*.test.ts', '!src/**/__fixtures__'],
    main: './dist/index.cjs',
    module: './dist/index.js',
    types: './dist/index.d.ts',
    exports: {
      '.': {
        '@bp/source': './src/index.ts',
        import: { types: './dist/index.d.ts', default: './dist/index.js' },
        require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
      },
      './package.json': './package.json',
      ...(old.exports ? Object.fromEntries(Object.entries(old.exports).filter(([k]) => k !== '.' && k !== './package.json')) : {}),
    },
    scripts: {
      build: 'tsup',
      typecheck: 'tsc -p tsconfig.json',
      test: 'vitest run',
      lint: 'publint --strict && attw --pack . --profile node16',
      ...(old.scripts ?? {}),
    },
    ...(p.peer ? { peerDependencies: { '@bp/tensor': 'workspace:^' } } : {}),
    dependencies: { ...p.deps, ...(old.dependencies ?? {}) },
    devDependencies: { ...(p.peer ? { '@bp/tensor': 'workspace:^' } : {}), ...(old.devDependencies ?? {}) },
  };
  if (!Object.keys(json.dependencies).length) delete json.dependencies;
  if (!Object.keys(json.devDependencies).length) delete json.devDependencies;
  fs.writeFileSync(file, JSON.stringify(json, null, 2) + '\n');
  if (!fs.existsSync(`packages/${dir}/tsconfig.json`))
    fs.writeFileSync(`packages/${dir}/tsconfig.json`, JSON.stringify({ extends: '../../tsconfig.base.json', include: ['src', 'test'] }, null, 2) + '\n');
  if (!fs.existsSync(`packages/${dir}/tsup.config.ts`))
    fs.writeFileSync(`packages/${dir}/tsup.config.ts`, `import { defineConfig } from 'tsup';\n\nexport default defineConfig({\n  entry: ['src/index.ts'],\n  format: ['esm', 'cjs'],\n  dts: true,\n  sourcemap: true,\n  clean: true,\n  target: 'es2022',\n});\n`);
  if (!fs.existsSync(`packages/${dir}/vitest.config.ts`))
    fs.writeFileSync(`packages/${dir}/vitest.config.ts`, `export { default } from '../../vitest.shared';\n`);
}
