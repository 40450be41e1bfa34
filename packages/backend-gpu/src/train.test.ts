import '@bp/autograd';
import { describe, expect, it } from 'vitest';
import { gpu } from './index.js';
import { NODE_MODES } from '../test/modes.js';
import { trainCheck } from '../test/train-check.js';

describe('training an MLP gives the CPU backend’s losses', () => {
  for (const mode of NODE_MODES) {
    it(`${mode} mode`, async () => {
      const b = gpu({ mode });
      try {
        const { cpu, other } = await trainCheck(b);
        expect(other).toHaveLength(cpu.length);
        expect(cpu[cpu.length - 1]).toBeLessThan(cpu[0]);
      } finally {
        b.destroy();
      }
    });
  }
});
