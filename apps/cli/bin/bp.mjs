#!/usr/bin/env node
// Runs the CLI straight from its TypeScript source, so a fresh clone works
// right after `pnpm install` with no build step. tsx compiles each module on
// first import (and caches the result); the `@bp/source` export condition
// makes the workspace packages resolve to their `src` as well.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./source-condition.mjs', import.meta.url);
const { main } = await import('../src/main.ts');
const code = await main(process.argv.slice(2));
// Exit explicitly (a backend may hold the event loop open), once both streams have flushed.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
