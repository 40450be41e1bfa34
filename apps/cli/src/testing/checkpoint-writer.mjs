// A process that rewrites one checkpoint as fast as it can, for the fault
// tests to SIGKILL at random moments. Checkpoint i has progress.epoch = i and
// every model weight (plus 4 MB of ballast) equal to i, so a reader can tell a whole checkpoint from
// a torn one. Usage: node checkpoint-writer.mjs TEMPLATE_DIR OUT_DIR
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('../../bin/source-condition.mjs', import.meta.url);
const { readCheckpoint, writeCheckpoint } = await import('../checkpoint.ts');
const { full } = await import('@bp/tensor');

const [template, out] = process.argv.slice(2);
const cp = await readCheckpoint(template);
for (let i = 1; ; i++) {
  const model = Object.fromEntries(Object.entries(cp.model).map(([k, t]) => [k, t.dtype === 'float32' ? full(t.shape, i) : t]));
  // 4 MB more, so that a kill often lands in the middle of writing or syncing.
  model.ballast = full([1 << 20], i);
  await writeCheckpoint(out, { ...cp, model, progress: { ...cp.progress, epoch: i } });
  process.stdout.write(`${i}\n`);
}
