// Takes the lock of a run directory when told to, for the tests of taking over a stale lock.
// Usage: node lock-taker.mjs DIR HOLD_MS. Prints "ready" once loaded, waits for a line on
// standard input, then tries lockRunDir(DIR): prints "held START END" (milliseconds since the
// epoch) after holding it for HOLD_MS, or "refused MESSAGE".
import { register } from 'node:module';
import { once } from 'node:events';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('../../bin/source-condition.mjs', import.meta.url);
const { lockRunDir } = await import('../run-dir.ts');

const [dir, holdMs] = process.argv.slice(2);
process.stdout.write('ready\n');
await once(process.stdin, 'data');
try {
  const lock = await lockRunDir(dir);
  const start = Date.now();
  await new Promise((resolve) => setTimeout(resolve, Number(holdMs)));
  process.stdout.write(`held ${start} ${Date.now()}\n`);
  lock.releaseSync();
} catch (e) {
  process.stdout.write(`refused ${e.constructor.name} ${e.message}\n`);
}
process.exit(0);
