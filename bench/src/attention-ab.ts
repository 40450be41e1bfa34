/**
 * Before/after measurement of self-attention's one projection: the character-level GPT of
 * `pnpm bench` (gpt-setup.ts: 2 blocks, width 64, batch 32 x 16 characters) on the CPU backend,
 * its `MultiheadAttention` projecting q, k and v in one linear op read in place by the packed
 * attention kernel (`'packed'`), or in three linear ops on `in_proj_weight`'s row blocks as before
 * (`'three'`, `setSelfAttentionPacking('never')`). Both run inside one training run, switching
 * every `block` steps (the first step after a switch is not counted) and flipping which comes
 * first each round; prints the median step time of each and their ratio as JSON. Usage (from bench/):
 *   npx tsx --conditions=@bp/source src/attention-ab.ts [rounds=2] [steps=400] [block=4]
 */
import '@bp/autograd';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainGPT } from '@bp/gpt';
import { getBackend } from '@bp/tensor';
import { setSelfAttentionPacking } from '@bp/tensor/internal';
import { HYPER, prepare } from './gpt-setup.js';
import { median } from './workload.js';

const rounds = Number(process.argv[2] ?? 2);
const steps = Number(process.argv[3] ?? 400);
const block = Number(process.argv[4] ?? 4);
for (const [name, v] of [
  ['rounds', rounds],
  ['steps', steps],
  ['block', block],
] as const) {
  if (!(Number.isInteger(v) && v > 0)) throw new Error(`attention-ab: ${name} must be a positive integer, got ${process.argv.join(' ')}`);
}
const backend = getBackend();
// Worker threads start in the background; give them a moment.
for (let i = 0; i < 100 && Number(backend.info?.().threads ?? 1) < 2; i++) await new Promise((r) => setTimeout(r, 20));
const modes = { three: 'never', packed: 'auto' } as const;
const times: Record<keyof typeof modes, number[]> = { three: [], packed: [] };
const dir = mkdtempSync(join(tmpdir(), 'bp-attention-ab-'));
try {
  for (let r = 0; r < rounds; r++) {
    const order: (keyof typeof modes)[] = r % 2 === 0 ? ['three', 'packed'] : ['packed', 'three'];
    const { ds, gpt } = prepare(dir);
    let cur = order[0];
    setSelfAttentionPacking(modes[cur]);
    let last = performance.now();
    trainGPT(gpt, ds.train, null, {
      steps,
      ...HYPER,
      onStep: (s) => {
        // Past the warm-up, and not the first step in a setting.
        if (s.step >= 20 && s.step % block !== 0) times[cur].push(performance.now() - last);
        const next = order[Math.floor((s.step + 1) / block) % 2];
        if (next !== cur) setSelfAttentionPacking(modes[(cur = next)]);
        last = performance.now();
      },
    });
  }
} finally {
  setSelfAttentionPacking('auto');
  rmSync(dir, { recursive: true, force: true });
}
const [three, packed] = [median(times.three), median(times.packed)];
process.stdout.write(
  JSON.stringify(
    {
      machine: `${cpus()[0]?.model ?? '?'}, ${backend.info?.().threads} threads`,
      steps,
      rounds,
      gptStepMs: { three: Math.round(three * 100) / 100, packed: Math.round(packed * 100) / 100 },
      packedOverThree: Math.round((packed / three) * 1000) / 1000,
      stepsCounted: { three: times.three.length, packed: times.packed.length },
    },
    null,
    2,
  ) + '\n',
);
