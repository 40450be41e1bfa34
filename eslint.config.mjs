// ESLint for the whole repository (flat config): typescript-eslint's recommended rules, with the
// type-checked ones where a project's tsconfig covers the file. Prettier owns formatting.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.turbo/**',
      'apps/docs/api/**',
      'apps/docs/.vitepress/cache/**',
      'apps/docs/.vitepress/dist/**',
      'apps/docs/public/**',
      'packages/tensor/src/cpu/wasm/kernels-wasm.ts',
      'packages/tensor/src/cpu/wasm/peak-wasm.ts',
      'packages/onnx/src/proto/**',
      'bench/size/**',
      '**/*.vue',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node, ...globals.browser },
    },
    rules: {
      // Unused arguments named with a leading underscore document an interface's shape.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Tests of terminal escaping assert on control characters with regular expressions.
    files: ['**/*.test.ts'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    // Type-aware rules where they catch real bugs in async code (a promise nobody awaits, an
    // await on a non-promise), on the packages' and the CLI's sources.
    files: ['packages/*/src/**/*.ts', 'apps/cli/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
);
